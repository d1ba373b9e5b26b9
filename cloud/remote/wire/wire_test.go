package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/fndeck/fndeck/cloud"
)

// roundTrip sends err through JSON as the helper and fndeck do.
func roundTrip(t *testing.T, err error) error {
	t.Helper()
	b, merr := json.Marshal(EncodeError(err))
	if merr != nil {
		t.Fatal(merr)
	}
	var e *Error
	if uerr := json.Unmarshal(b, &e); uerr != nil {
		t.Fatal(uerr)
	}
	return e.Decode()
}

func TestEveryKindSurvivesThePipe(t *testing.T) {
	all := []error{cloud.ErrNotFound, cloud.ErrUnauthenticated, cloud.ErrPermission, cloud.ErrThrottled, cloud.ErrUnreachable,
		cloud.ErrInvalid, cloud.ErrConflict, cloud.ErrNeedsConfirmation, cloud.ErrNothingToDo, context.Canceled, context.DeadlineExceeded}
	for _, k := range all {
		orig := fmt.Errorf("listing functions in us-east-1: %w", k)
		got := roundTrip(t, orig)
		if got.Error() != orig.Error() {
			t.Errorf("%v: text %q, want %q", k, got, orig)
		}
		for _, other := range all {
			if errors.Is(got, other) != errors.Is(orig, other) {
				t.Errorf("%v: errors.Is(%v) = %v after the pipe, %v before", k, other, errors.Is(got, other), errors.Is(orig, other))
			}
		}
	}
	if roundTrip(t, nil) != nil {
		t.Error("nil error came back non-nil")
	}
}

func TestHintSurvivesThePipe(t *testing.T) {
	orig := fmt.Errorf("deploying: %w", cloud.WithHint(fmt.Errorf("token expired: %w", cloud.ErrUnauthenticated), "aws sso login --profile prod"))
	got := roundTrip(t, orig)
	var h *cloud.HintError
	if !errors.As(got, &h) || cloud.Hint(got) != "aws sso login --profile prod" {
		t.Fatalf("hint lost: %v (%q)", got, cloud.Hint(got))
	}
	if got.Error() != orig.Error() || !errors.Is(got, cloud.ErrUnauthenticated) {
		t.Errorf("got %q (unauthenticated %v), want %q", got, errors.Is(got, cloud.ErrUnauthenticated), orig)
	}
	// An empty hint is still a HintError on both sides.
	if got := roundTrip(t, cloud.WithHint(errors.New("x"), "")); !errors.As(got, &h) {
		t.Error("an empty hint's HintError was lost")
	}
}

func TestValuesKeepTheFieldsTheirJSONOmits(t *testing.T) {
	var back Function
	b, _ := json.Marshal(FromFunction(cloud.Function{Name: "f", Partial: true}))
	if err := json.Unmarshal(b, &back); err != nil || !back.ToFunction().Partial || back.ToFunction().Name != "f" {
		t.Errorf("function: %s -> %+v, %v", b, back, err)
	}
	var line LogLine
	b, _ = json.Marshal(FromLogLine(cloud.LogLine{Message: "m", ID: "ev-1"}))
	if err := json.Unmarshal(b, &line); err != nil || line.ToLogLine().ID != "ev-1" || line.ToLogLine().Message != "m" {
		t.Errorf("log line: %s -> %+v, %v", b, line, err)
	}
	var res InvokeResult
	b, _ = json.Marshal(FromInvokeResult(cloud.InvokeResult{Body: []byte("raw\x00body"), Report: &cloud.Report{RequestID: "r-1", DurationMS: 2}}))
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	r := res.ToInvokeResult()
	if string(r.Body) != "raw\x00body" || r.Report == nil || r.Report.RequestID != "r-1" || r.Report.DurationMS != 2 {
		t.Errorf("invoke result: %s -> %+v", b, r)
	}
}
