package actions

import (
	"context"
	"io"
	"time"

	"github.com/fndeck/fndeck/cloud"
)

// ID identifies a task within one Runner. IDs start at 1 and follow submit order.
type ID uint64

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

// Output is what a task's Run writes to. Lines and writes go to the task's
// ring buffer and its log file, secrets redacted; progress goes to the task's
// TaskInfo.Progress. Safe for concurrent use.
type Output interface {
	cloud.Sink
	io.Writer
	// Secret registers a value (a token, a password) to redact from this
	// task's output, file, error and summary from now on.
	Secret(value string)
	// Summary sets the one-line result shown in the tasks pane ("pushed sha256:…").
	Summary(s string)
}

// Spec describes a task. It is a value: the runner keeps it to retry.
type Spec struct {
	Kind Kind
	// Target is what the task acts on (an image ref or an address key); at
	// most one task per non-empty target runs at a time, in submit order.
	Target string
	Title  string
	// Args are shown to the user (never put a secret here).
	Args map[string]string
	// After lists tasks that must succeed first. If one fails or is
	// cancelled, this task is skipped (failed or cancelled, saying which).
	After []ID
	// Run does the work. It must return when ctx is cancelled.
	Run func(ctx context.Context, out Output) error
}

// TaskInfo is a copy of a task's state, safe to keep and read anywhere.
type TaskInfo struct {
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
	// Summary is what the task reported as its result via Output.Summary.
	Summary string
	// LogFile is the full output file's path; "" until the task starts or
	// when the runner has no state dir.
	LogFile string
}

// Elapsed is how long the task ran (until now when still running).
func (t TaskInfo) Elapsed(now time.Time) time.Duration {
	switch {
	case t.Started.IsZero():
		return 0
	case t.Finished.IsZero():
		return now.Sub(t.Started)
	}
	return t.Finished.Sub(t.Started)
}

// TaskEvent is the headless JSON shape of a task (PRODUCT.md "task event").
type TaskEvent struct {
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
func (t TaskInfo) Event() TaskEvent {
	e := TaskEvent{ID: t.ID, Kind: t.Kind, Target: t.Target, State: t.State, Error: t.Err, Summary: t.Summary}
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

// admissible returns the queued tasks that may start now, in the order to
// start them. queued must be in submit order (it is sorted by ID to be sure).
// Rules: at most limit tasks run (limit <= 0: no limit); at most one running
// task per non-empty target, and a target is claimed by its oldest queued
// task so later tasks on it never overtake; a task waits while any task in
// its After list is still queued or running (the runner settles tasks whose
// dependencies failed before asking). Otherwise first come, first served.
func admissible(queued, running []TaskInfo, limit int) []ID {
	slots := len(queued)
	if limit > 0 {
		slots = limit - len(running)
	}
	if slots <= 0 || len(queued) == 0 {
		return nil
	}
	pending := make(map[ID]bool, len(queued)+len(running))
	claimed := make(map[string]bool, len(running))
	for _, t := range running {
		pending[t.ID] = true
		if t.Target != "" {
			claimed[t.Target] = true
		}
	}
	for _, t := range queued {
		pending[t.ID] = true
	}
	order := make([]TaskInfo, len(queued))
	copy(order, queued)
	sortByID(order)
	var out []ID
	for _, t := range order {
		if len(out) == slots {
			break
		}
		blocked := t.Target != "" && claimed[t.Target]
		for _, d := range t.After {
			if pending[d] {
				blocked = true
			}
		}
		if t.Target != "" {
			claimed[t.Target] = true
		}
		if !blocked {
			out = append(out, t.ID)
		}
	}
	return out
}

func sortByID(ts []TaskInfo) {
	// Insertion sort: the input is nearly always already in order.
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].ID < ts[j-1].ID; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}
