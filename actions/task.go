package actions

import (
	"context"
	"io"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/task"
)

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
	// Log adds one function log event with its structured fields (a log
	// tail's output), redacted, to the ring and the file.
	Log(l cloud.LogLine)
}

// Spec describes a task. It is a value: the runner keeps it to retry.
type Spec struct {
	Kind task.Kind
	// Target is what the task acts on (an image ref or an address key); at
	// most one task per non-empty target runs at a time, in submit order.
	Target string
	Title  string
	// Args are shown to the user (never put a secret here).
	Args map[string]string
	// After lists tasks that must succeed first. If one fails or is
	// cancelled, this task is skipped (failed or cancelled, saying which).
	After []task.ID
	// Run does the work. It must return when ctx is cancelled.
	Run func(ctx context.Context, out Output) error
}

// admissible returns the queued tasks that may start now, in the order to
// start them. queued must be in submit order (it is sorted by ID to be sure).
// Rules: at most limit tasks run (limit <= 0: no limit); at most one running
// task per non-empty target, and a target is claimed by its oldest queued
// task so later tasks on it never overtake; a task waits while any task in
// its After list is still queued or running (the runner settles tasks whose
// dependencies failed before asking). Otherwise first come, first served.
func admissible(queued, running []task.Info, limit int) []task.ID {
	slots := len(queued)
	if limit > 0 {
		slots = limit - len(running)
	}
	if slots <= 0 || len(queued) == 0 {
		return nil
	}
	pending := make(map[task.ID]bool, len(queued)+len(running))
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
	order := make([]task.Info, len(queued))
	copy(order, queued)
	sortByID(order)
	var out []task.ID
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

func sortByID(ts []task.Info) {
	// Insertion sort: the input is nearly always already in order.
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].ID < ts[j-1].ID; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}
