// Package wire is the protocol between fndeck and its cloud helper
// (fndeck-cloud): newline-delimited JSON messages over the helper's stdin and
// stdout, multiplexed by call id. It imports only the standard library and
// cloud/, so neither side's SDK leaks into the other through it.
package wire

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/fndeck/fndeck/cloud"
)

// Version is bumped on any incompatible change; the helper refuses an Init
// with another version so a stale binary fails with a clear message.
// Version 2: the helper answers Init with Hello.
const Version = 2

// Message types. Parent → helper: Init (first, once), Call, Cancel.
// Helper → parent: the streamed kinds, then exactly one Result per call.
const (
	TInit     = "init"
	TCall     = "call"
	TCancel   = "cancel"
	TGroup    = "group"    // Data: GroupResult (List)
	TLine     = "line"     // Data: string (Deploy, Rollback sink)
	TProgress = "progress" // Data: cloud.Progress
	TChunk    = "chunk"    // Data: []byte (Invoke)
	TLogs     = "logs"     // Data: []LogLine, a batch (Logs)
	TResult   = "result"   // Data: the method's result, or Err
	// THello is the helper's answer to Init, its first message (ID 0):
	// Data: Hello.
	THello = "hello"
)

// Hello is the helper's handshake: its protocol, its build, what it can do,
// or why it cannot start (Err: a protocol mismatch, an unusable option).
type Hello struct {
	Protocol     int      `json:"protocol"`
	Build        string   `json:"build,omitempty"`
	Capabilities []string `json:"capabilities,omitempty"`
	Err          string   `json:"err,omitempty"`
}

// Methods a Call names.
const (
	MList     = "list"
	MDescribe = "describe"
	MDeploy   = "deploy"
	MRollback = "rollback"
	MInvoke   = "invoke"
	MLogs     = "logs"
	MAuth     = "auth"
	// MStack finds a deployed CloudFormation stack's resource (AWS).
	MStack = "stack"
	// MHealth runs the backend's environment checks (fndeck doctor);
	// result: []cloud.HealthCheck.
	MHealth = "health"
	// MLoginMFA assumes a profile's role with an MFA code and caches the
	// credentials (args LoginMFAArgs; result cloud.LoginResult).
	MLoginMFA = "login-mfa"
	// MInflight reports how many calls the helper is running (diagnostics
	// and tests: a cancelled call must end in the helper too).
	MInflight = "inflight"
	// MFlood emits Data.N synthetic log lines through the Logs batching
	// path; it measures the pipe itself (BenchmarkLogStream).
	MFlood = "flood"
)

// Msg is one line of the protocol.
type Msg struct {
	ID   uint64          `json:"id,omitempty"`
	T    string          `json:"t"`
	P    cloud.Provider  `json:"p,omitempty"`
	M    string          `json:"m,omitempty"`
	Data json.RawMessage `json:"d,omitempty"`
	Err  *Error          `json:"e,omitempty"`
}

// Init configures the helper: the same options main.go used to pass to
// aws.New and gcp.New, plus the docker endpoint for the helper's own engine.
type Init struct {
	Version int `json:"version"`
	// Build is fndeck's version, for the helper's mismatch message.
	Build      string            `json:"build,omitempty"`
	DockerHost string            `json:"docker_host"`
	Rewrite    map[string]string `json:"rewrite,omitempty"`
	AWS        AWSOptions        `json:"aws"`
	GCP        GCPOptions        `json:"gcp"`
}

// AWSOptions are the serialisable fields of aws.Options.
type AWSOptions struct {
	Profiles    []string `json:"profiles,omitempty"`
	Regions     []string `json:"regions,omitempty"`
	LiveTail    bool     `json:"live_tail,omitempty"`
	DescribeAll bool     `json:"describe_all,omitempty"`
}

// GCPOptions are the serialisable fields of gcp.Options.
type GCPOptions struct {
	Projects        []string `json:"projects,omitempty"`
	Regions         []string `json:"regions,omitempty"`
	RunEndpoint     string   `json:"run_endpoint,omitempty"`
	LoggingEndpoint string   `json:"logging_endpoint,omitempty"`
}

// Call arguments.
type (
	ListArgs     struct{ Filter cloud.ListFilter }
	DescribeArgs struct{ Target cloud.Address }
	DeployArgs   struct{ Req cloud.DeployRequest }
	StackArgs    struct{ Ref cloud.StackResource }
	RollbackArgs struct {
		Target cloud.Address
		To     cloud.DeployResult
	}
	InvokeArgs struct {
		Req    cloud.InvokeRequest
		Stream bool // the caller wants chunks
	}
	LogsArgs struct{ Req cloud.LogRequest }
	AuthArgs struct{ Host string }
	// LoginMFAArgs carries the code across: it is a one-time secret, never logged.
	LoginMFAArgs struct{ Profile, Code string }
	FloodArgs    struct{ N int }
)

// AuthResult is AuthFor's answer plus the provider's LoginHint for the host,
// so the parent can answer LoginHint without another round trip.
type AuthResult struct {
	Auth cloud.RegistryAuth `json:"auth"`
	OK   bool               `json:"ok"`
	Hint string             `json:"hint,omitempty"`
}

// Function carries cloud.Function with the fields its JSON form omits.
type Function struct {
	cloud.Function
	Partial bool `json:"partial,omitempty"`
}

// FromFunction and ToFunction convert keeping every field.
func FromFunction(f cloud.Function) Function { return Function{Function: f, Partial: f.Partial} }

// ToFunction is FromFunction's inverse.
func (f Function) ToFunction() cloud.Function {
	out := f.Function
	out.Partial = f.Partial
	return out
}

// GroupResult is cloud.GroupResult with its error encoded.
type GroupResult struct {
	Group     cloud.Group `json:"group"`
	Functions []Function  `json:"functions,omitempty"`
	Err       *Error      `json:"err,omitempty"`
	Hint      string      `json:"hint,omitempty"`
}

// FromGroupResult encodes g.
func FromGroupResult(g cloud.GroupResult) GroupResult {
	out := GroupResult{Group: g.Group, Err: EncodeError(g.Err), Hint: g.Hint}
	if g.Functions != nil {
		out.Functions = make([]Function, len(g.Functions))
		for i, f := range g.Functions {
			out.Functions[i] = FromFunction(f)
		}
	}
	return out
}

// ToGroupResult decodes g.
func (g GroupResult) ToGroupResult() cloud.GroupResult {
	out := cloud.GroupResult{Group: g.Group, Err: g.Err.Decode(), Hint: g.Hint}
	if g.Functions != nil {
		out.Functions = make([]cloud.Function, len(g.Functions))
		for i, f := range g.Functions {
			out.Functions[i] = f.ToFunction()
		}
	}
	return out
}

// LogLine carries cloud.LogLine with the provider event ID its JSON omits.
type LogLine struct {
	cloud.LogLine
	ID string `json:"id,omitempty"`
}

// FromLogLine and ToLogLine convert keeping every field.
func FromLogLine(l cloud.LogLine) LogLine { return LogLine{LogLine: l, ID: l.ID} }

// ToLogLine is FromLogLine's inverse.
func (l LogLine) ToLogLine() cloud.LogLine {
	out := l.LogLine
	out.ID = l.ID
	return out
}

// InvokeResult carries cloud.InvokeResult with the fields its JSON omits.
type InvokeResult struct {
	cloud.InvokeResult
	Body            []byte      `json:"body,omitempty"`
	Headers         http.Header `json:"headers,omitempty"`
	ReportRequestID string      `json:"report_request_id,omitempty"`
}

// FromInvokeResult encodes r.
func FromInvokeResult(r cloud.InvokeResult) InvokeResult {
	out := InvokeResult{InvokeResult: r, Body: r.Body, Headers: r.Headers}
	if r.Report != nil {
		out.ReportRequestID = r.Report.RequestID
	}
	return out
}

// ToInvokeResult decodes r.
func (r InvokeResult) ToInvokeResult() cloud.InvokeResult {
	out := r.InvokeResult
	out.Body, out.Headers = r.Body, r.Headers
	if out.Report != nil {
		rep := *out.Report
		rep.RequestID = r.ReportRequestID
		out.Report = &rep
	}
	return out
}

// Error is an error on the wire: its text, the sentinels it matches and its
// hint, so errors.Is, errors.As(*cloud.HintError) and cloud.Hint answer on
// the parent's side as they would have in the helper.
type Error struct {
	Msg   string   `json:"msg"`
	Kinds []string `json:"kinds,omitempty"`
	Hint  *string  `json:"hint,omitempty"`
}

// kinds lists every error a caller may test with errors.Is.
var kinds = []struct {
	name string
	err  error
}{
	{"not_found", cloud.ErrNotFound},
	{"unauthenticated", cloud.ErrUnauthenticated},
	{"permission", cloud.ErrPermission},
	{"throttled", cloud.ErrThrottled},
	{"unreachable", cloud.ErrUnreachable},
	{"invalid", cloud.ErrInvalid},
	{"conflict", cloud.ErrConflict},
	{"needs_confirmation", cloud.ErrNeedsConfirmation},
	{"nothing_to_do", cloud.ErrNothingToDo},
	{"canceled", context.Canceled},
	{"deadline", context.DeadlineExceeded},
}

// EncodeError encodes err; nil stays nil.
func EncodeError(err error) *Error {
	if err == nil {
		return nil
	}
	e := &Error{Msg: err.Error()}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			e.Kinds = append(e.Kinds, k.name)
		}
	}
	var h *cloud.HintError
	if errors.As(err, &h) {
		hint := h.Hint
		e.Hint = &hint
	}
	return e
}

// Decode rebuilds the error: same text, same errors.Is answers, and a
// *cloud.HintError in the chain when the original had one. nil stays nil.
func (e *Error) Decode() error {
	if e == nil {
		return nil
	}
	r := &Remote{Msg: e.Msg}
	for _, name := range e.Kinds {
		for _, k := range kinds {
			if k.name == name {
				r.kinds = append(r.kinds, k.err)
			}
		}
	}
	if e.Hint != nil {
		return &cloud.HintError{Err: r, Hint: *e.Hint}
	}
	return r
}

// Remote is an error that crossed the pipe. Its text is the original's;
// Unwrap returns the sentinels the original matched.
type Remote struct {
	Msg   string
	kinds []error
}

func (e *Remote) Error() string { return e.Msg }

// Unwrap lets errors.Is find the original's sentinels.
func (e *Remote) Unwrap() []error { return e.kinds }
