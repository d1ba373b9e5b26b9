package aws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
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
	var missing config.SharedConfigProfileNotExistError
	var mfa config.AssumeRoleTokenProviderNotSetError
	switch {
	case errors.As(err, &mfa):
		// A role with mfa_serial: the SDK needs a code and fndeck has none.
		name := effectiveProfile(profile)
		return wrap(fmt.Errorf("%s assumes a role with MFA (mfa_serial) and needs a code: %w", profileLabel(name), err),
			cloud.ErrUnauthenticated, "fndeck login aws --profile "+cmpOr(name, "default")+" --mfa-code CODE")
	case errors.As(err, &missing):
		// A profile named in fndeck's config or in AWS_PROFILE that no shared
		// config file defines: the user has to create it (or fix the name).
		name := missing.Profile
		if name == "" {
			name = effectiveProfile(profile)
		}
		return wrap(err, cloud.ErrUnauthenticated, missingProfileHint(profile, name))
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
		return wrap(err, cloud.ErrUnreachable, unreachableHint(err, profile))
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

// profileFlag is the --profile flag for an aws CLI hint: the configured
// profile, else the one AWS_PROFILE / AWS_DEFAULT_PROFILE picks for the
// default chain, else none.
func profileFlag(profile string) string {
	if p := effectiveProfile(profile); p != "" {
		return " --profile " + p
	}
	return ""
}

// effectiveProfile is the shared config profile the SDK loads for a
// configured profile name: the name itself, or for the default chain ("")
// AWS_PROFILE, then AWS_DEFAULT_PROFILE (the SDK's order), else "".
func effectiveProfile(profile string) string {
	if profile != "" {
		return profile
	}
	p, _ := profileFromEnv()
	return p
}

// profileFromEnv returns the profile the SDK's default chain selects from
// the environment and the variable that named it.
func profileFromEnv() (profile, envVar string) {
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
		if v := os.Getenv(k); v != "" {
			return v, k
		}
	}
	return "", ""
}

// missingProfileHint tells how to create the missing profile name; when the
// default chain picked it from the environment it also names the variable,
// since unsetting it is the other way out.
func missingProfileHint(configured, name string) string {
	h := "aws configure --profile " + name + " (or aws configure sso --profile " + name + ")"
	if configured == "" {
		if _, env := profileFromEnv(); env != "" {
			h += ", or unset " + env
		}
	}
	return h
}

// unreachableHint names where the endpoint that could not be reached came
// from, following the SDK's precedence: AWS_ENDPOINT_URL_<SERVICE>, then
// AWS_ENDPOINT_URL, then the profile's shared config (endpoint_url or its
// services section); a host under amazonaws.com is AWS's own endpoint.
func unreachableHint(err error, profile string) string {
	label := profileLabel(profile)
	if !ignoreConfiguredEndpoints() {
		var op *smithy.OperationError
		if errors.As(err, &op) && op.ServiceID != "" {
			k := "AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(op.ServiceID), " ", "_")
			if os.Getenv(k) != "" {
				return "check the network and the endpoint in " + k
			}
		}
		if os.Getenv("AWS_ENDPOINT_URL") != "" {
			return "check the network and the endpoint in AWS_ENDPOINT_URL"
		}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Hostname() != "" {
			h := strings.ToLower(u.Hostname())
			if h == "amazonaws.com" || strings.HasSuffix(h, ".amazonaws.com") || strings.HasSuffix(h, ".amazonaws.com.cn") || strings.HasSuffix(h, ".api.aws") {
				return "check the network: AWS's endpoint " + u.Host + " could not be reached"
			}
			if !ignoreConfiguredEndpoints() {
				return "check the network and the endpoint_url configured for " + label + " in the shared config file (" + u.Host + ")"
			}
		}
	}
	return "check the network and the endpoint configured for " + label + " (endpoint_url in the shared config file, or AWS_ENDPOINT_URL)"
}

// ignoreConfiguredEndpoints mirrors AWS_IGNORE_CONFIGURED_ENDPOINT_URLS,
// under which the SDK uses neither the env nor the shared config endpoints.
func ignoreConfiguredEndpoints() bool {
	return strings.EqualFold(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true")
}

// errorf is fmt.Errorf followed by classify, for call sites that wrap SDK errors.
func errorf(profile, format string, args ...any) error {
	return classify(fmt.Errorf(format, args...), profile)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
