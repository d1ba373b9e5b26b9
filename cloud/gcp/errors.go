package gcp

import (
	"context"
	"errors"
	"fmt"

	"github.com/googleapis/gax-go/v2/apierror"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fndeck/fndeck/cloud"
)

// classify wraps a Google API error with fndeck's sentinel and a hint the
// user can act on. what says what was being done ("listing services in
// acme/europe-west1"); project names the project for hints. api is the
// service name for the "enable the API" hint (run.googleapis.com).
func classify(err error, what, project, api string) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		var ae *apierror.APIError
		if errors.As(err, &ae) && ae.GRPCStatus() != nil {
			st, ok = ae.GRPCStatus(), true
		}
	}
	if !ok {
		if errors.Is(err, context.DeadlineExceeded) {
			// The client's retries on Unavailable end this way.
			return fmt.Errorf("%s: %w: no answer in time: %w", what, cloud.ErrUnreachable, err)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	msg := st.Message()
	if serviceDisabled(err, st) {
		return cloud.WithHint(fmt.Errorf("%s: %w: api %s is not enabled: %s", what, cloud.ErrPermission, api, msg),
			fmt.Sprintf("gcloud services enable %s --project %s", api, project))
	}
	switch st.Code() {
	case codes.Unauthenticated:
		return cloud.WithHint(fmt.Errorf("%s: %w: %s", what, cloud.ErrUnauthenticated, msg), hintLogin)
	case codes.PermissionDenied:
		hint := fmt.Sprintf("ask for roles/run.viewer (roles/run.developer to deploy) on project %s", project)
		if api == loggingAPI {
			hint = fmt.Sprintf("ask for roles/logging.viewer on project %s", project)
		}
		return cloud.WithHint(fmt.Errorf("%s: %w: %s", what, cloud.ErrPermission, msg), hint)
	case codes.NotFound:
		return fmt.Errorf("%s: %w: %s", what, cloud.ErrNotFound, msg)
	case codes.Unavailable:
		return fmt.Errorf("%s: %w: %s", what, cloud.ErrUnreachable, msg)
	case codes.ResourceExhausted:
		return fmt.Errorf("%s: %w: %s", what, cloud.ErrThrottled, msg)
	case codes.InvalidArgument, codes.OutOfRange:
		return fmt.Errorf("%s: %w: %s", what, cloud.ErrInvalid, msg)
	case codes.AlreadyExists, codes.Aborted:
		return fmt.Errorf("%s: %w: %s", what, cloud.ErrConflict, msg)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s: %w: no answer in time: %s", what, cloud.ErrUnreachable, msg)
	case codes.Canceled:
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %s: %s", what, st.Code(), msg)
}

// serviceDisabled recognises "API not enabled": a PermissionDenied or
// FailedPrecondition carrying ErrorInfo reason SERVICE_DISABLED.
func serviceDisabled(err error, st *status.Status) bool {
	if st.Code() != codes.PermissionDenied && st.Code() != codes.FailedPrecondition {
		return false
	}
	var ae *apierror.APIError
	if errors.As(err, &ae) && ae.Reason() == "SERVICE_DISABLED" {
		return true
	}
	if ae, ok := apierror.FromError(err); ok && ae.Reason() == "SERVICE_DISABLED" {
		return true
	}
	return false
}
