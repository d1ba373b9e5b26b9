// Package task holds the value types of a background task — its ID, kind,
// state, a copy of its state (Info), its headless JSON shape (Event) and an
// output line — shared by the runner (actions) and the panes (ui), so
// neither mirrors the other and nothing converts between copies. It links no
// SDK and no Bubble Tea.
package task

import (
	"fmt"
	"strconv"
	"time"

	"github.com/fndeck/fndeck/cloud"
)

// ID identifies a task within one runner. IDs start at 1 and follow submit
// order; 0 is no task.
type ID uint64

// String is the ID in decimal, as the tasks pane shows it.
func (id ID) String() string { return strconv.FormatUint(uint64(id), 10) }

// ParseID reads an ID written by String.
func ParseID(s string) (ID, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("task id %q: %w", s, err)
	}
	return ID(n), nil
}

// Kind says what a task does.
type Kind string

// The kinds fndeck submits; others are allowed.
const (
	KindBuild    Kind = "build"
	KindPush     Kind = "push"
	KindDeploy   Kind = "deploy"
	KindInvoke   Kind = "invoke"
	KindLogs     Kind = "logs"
	KindRollback Kind = "rollback"
	KindRemove   Kind = "remove"
)

// State is where a task is in its life.
type State string

// Task states. Succeeded, Failed and Cancelled are final.
const (
	Queued    State = "queued"
	Running   State = "running"
	Succeeded State = "succeeded"
	Failed    State = "failed"
	Cancelled State = "cancelled"
)

// Final reports whether the state is one a task never leaves.
func (s State) Final() bool { return s == Succeeded || s == Failed || s == Cancelled }

// Info is a copy of a task's state, safe to keep and read anywhere.
type Info struct {
	ID     ID
	Kind   Kind
	Target string
	Title  string
	Args   map[string]string
	After  []ID
	// RetryOf is the task this one retries, 0 when none.
	RetryOf ID
	State   State
	// When the task entered each state; zero when it has not.
	Queued   time.Time
	Started  time.Time
	Finished time.Time
	// Err is the failure or cancel reason, redacted.
	Err string
	// Progress holds the latest update per bar ID, in order of first appearance.
	Progress []cloud.Progress
	// LastLine is the last output line (redacted, raw: sanitize to show it).
	LastLine string
	// Summary is what the task reported as its result.
	Summary string
	// LogFile is the full output file's path; "" until the task starts or
	// when the runner has no state dir.
	LogFile string
}

// Elapsed is how long the task ran (until now when still running).
func (t Info) Elapsed(now time.Time) time.Duration {
	switch {
	case t.Started.IsZero():
		return 0
	case t.Finished.IsZero():
		return now.Sub(t.Started)
	}
	return t.Finished.Sub(t.Started)
}

// Event is the headless JSON shape of a task (PRODUCT.md "task event").
type Event struct {
	ID       ID         `json:"id"`
	Kind     Kind       `json:"kind"`
	Target   string     `json:"target"`
	State    State      `json:"state"`
	Started  *time.Time `json:"started,omitempty"`
	Finished *time.Time `json:"finished,omitempty"`
	Error    string     `json:"error,omitempty"`
	Summary  string     `json:"summary,omitempty"`
}

// Event returns the task's headless JSON shape.
func (t Info) Event() Event {
	e := Event{ID: t.ID, Kind: t.Kind, Target: t.Target, State: t.State, Error: t.Err, Summary: t.Summary}
	if !t.Started.IsZero() {
		s := t.Started
		e.Started = &s
	}
	if !t.Finished.IsZero() {
		f := t.Finished
		e.Finished = &f
	}
	return e
}

// Line is one line of a task's output. Text is raw (unsanitized: sanitize
// it to show it) and never holds '\n', except the message of a log event
// (Log set), which stays one line (one Seq) and shows as its lines.
type Line struct {
	Seq uint64
	// Time is when the line was written, or a log event's own timestamp.
	Time time.Time
	Text string
	// Log, when set, marks a function log event and carries its structured
	// fields; nil for plain task output. It is never changed once stored,
	// so copies of a Line may share it.
	Log *LogFields
}

// LogFields are a function log event's structured fields, kept whole from
// the backend to the pane (raw text from outside: sanitize to show).
type LogFields struct {
	// Address is the function the event came from (cloud.Address form).
	Address  string
	Stream   string
	Severity string
	// JSON is the event's structured payload, "" when it had none.
	JSON string
	// Notice marks a line fndeck emits about the stream (waiting,
	// reconnecting, sampling, lines lost at the source).
	Notice bool
}
