package aws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/fndeck/fndeck/cloud"
)

// classify maps an SDK error to cloud's sentinels and attaches a hint, so the
// UI shows "aws sso login --profile X" rather than a raw SDK string. The
// original message stays in the chain.
func classify(err error, profile string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var already *sentinelError
	if errors.As(err, &already) {
		return err
	}
	msg := strings.ToLower(err.Error())
	var api smithy.APIError
	code := ""
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	switch {
	case strings.Contains(msg, "sso") && (strings.Contains(msg, "expired") || strings.Contains(msg, "token") || strings.Contains(msg, "refresh")):
		return wrap(err, cloud.ErrUnauthenticated, "aws sso login"+profileFlag(profile))
	case code == "ExpiredToken" || code == "ExpiredTokenException" || code == "UnrecognizedClientException" ||
		code == "InvalidClientTokenId" || code == "InvalidSignatureException" || code == "SignatureDoesNotMatch" ||
		code == "IncompleteSignature" || code == "MissingAuthenticationToken":
		return wrap(err, cloud.ErrUnauthenticated, "aws configure"+profileFlag(profile)+" (or refresh the profile's credentials)")
	case strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "get credentials") ||
		strings.Contains(msg, "no valid credential") || strings.Contains(msg, "anonymous credentials") ||
		strings.Contains(msg, "failed to refresh cached credentials"):
		return wrap(err, cloud.ErrUnauthenticated, "aws configure"+profileFlag(profile))
	case strings.HasPrefix(code, "AccessDenied") || code == "UnauthorizedOperation" || code == "AuthorizationError" || code == "KMSAccessDeniedException":
		return wrap(err, cloud.ErrPermission, "the identity of "+profileLabel(profile)+" lacks an IAM permission; check its policies")
	case code == "ThrottlingException" || code == "TooManyRequestsException" || code == "Throttling" ||
		code == "RequestLimitExceeded" || code == "ProvisionedThroughputExceededException":
		return wrap(err, cloud.ErrThrottled, "AWS is throttling requests; retry in a moment or lower the concurrency")
	case code == "ResourceNotFoundException" || code == "RepositoryNotFoundException" || code == "NotFoundException":
		return wrap(err, cloud.ErrNotFound, "")
	case code == "ResourceConflictException" || code == "ResourceInUseException":
		return wrap(err, cloud.ErrConflict, "another update is in progress; retry when it finishes")
	case code == "InvalidParameterValueException" || code == "ValidationException" || code == "InvalidRequestContentException":
		return wrap(err, cloud.ErrInvalid, "")
	}
	var rse *smithyhttp.RequestSendError
	var ne net.Error
	if errors.As(err, &rse) || errors.As(err, &ne) || strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") {
		return wrap(err, cloud.ErrUnreachable, "check the network and the endpoint (AWS_ENDPOINT_URL)")
	}
	return err
}

// sentinelError joins an SDK error with one of cloud's sentinels, so
// errors.Is(err, cloud.ErrThrottled) holds while the message stays the SDK's.
type sentinelError struct {
	err      error
	sentinel error
}

func (e *sentinelError) Error() string   { return e.err.Error() }
func (e *sentinelError) Unwrap() []error { return []error{e.sentinel, e.err} }

func wrap(err, sentinel error, hint string) error {
	e := error(&sentinelError{err: err, sentinel: sentinel})
	if hint != "" {
		e = cloud.WithHint(e, hint)
	}
	return e
}

func profileFlag(profile string) string {
	if profile == "" {
		return ""
	}
	return " --profile " + profile
}

// errorf is fmt.Errorf followed by classify, for call sites that wrap SDK errors.
func errorf(profile, format string, args ...any) error {
	return classify(fmt.Errorf(format, args...), profile)
}
