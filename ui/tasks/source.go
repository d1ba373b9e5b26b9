// Package tasks is the Tasks pane: a live table of background tasks (build,
// push, deploy, invoke, …) fed by the task runner through a small interface.
package tasks

import (
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/fndeck/fndeck/cloud"
)

// State is a task's lifecycle state, spelled as actions spells it.
type State string

// Task states.
const (
	Queued    State = "queued"
	Running   State = "running"
	Succeeded State = "succeeded"
	Failed    State = "failed"
	Cancelled State = "cancelled"
)

// TaskRow is a copy of one task's state as the pane shows it. It mirrors
// actions.TaskInfo (IDs as strings) so this package does not import actions.
type TaskRow struct {
	ID     string
	Kind   string // build, push, deploy, invoke, …
	Target string
	Title  string
	State  State

	Queued, Started, Finished time.Time

	Err      string
	Progress []cloud.Progress // latest per bar (e.g. per layer)
	LastLine string           // raw, sanitized here
	Summary  string
	LogFile  string
}

// TaskSource is what the pane needs from the runner; *actions.Runner
// satisfies it through a small adapter.
type TaskSource interface {
	// Tasks returns copies in submit order.
	Tasks() []TaskRow
	// Changed is a one-slot channel signalled on any state or progress change.
	Changed() <-chan struct{}
	Cancel(id string)
	// Retry resubmits a finished task and returns the new task's ID.
	Retry(id string) (string, error)
}

// changedMsg says the runner changed; the pane re-reads Tasks().
type changedMsg struct{}

// tickMsg advances the shared spinner and running elapsed times.
type tickMsg struct{}

// retriedMsg reports a retry's outcome.
type retriedMsg struct {
	from, id string
	err      error
}

// waitChanged is the pane's one pending read on the runner. After a signal
// it waits throttle before reporting, so a burst of progress updates costs
// one refresh (k9s flushes at most every 50 ms the same way).
func waitChanged(src TaskSource, throttle time.Duration) tea.Cmd {
	return func() tea.Msg {
		<-src.Changed()
		if throttle > 0 {
			t := time.NewTimer(throttle)
			<-t.C
		}
		return changedMsg{}
	}
}
