// Package tasks is the Tasks pane: a live table of background tasks (build,
// push, deploy, invoke, …) fed by the task runner through a small interface.
package tasks

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/fndeck/fndeck/internal/task"
)

// TaskSource is what the pane needs from the runner; *actions.Runner is one.
type TaskSource interface {
	// Tasks returns copies in submit order.
	Tasks() []task.Info
	// Changed is a one-slot channel signalled on any state or progress change.
	Changed() <-chan struct{}
	Cancel(id task.ID)
	// Retry resubmits a finished task and returns the new task's ID.
	Retry(id task.ID) (task.ID, error)
}

// changedMsg says the runner changed; the pane re-reads Tasks().
type changedMsg struct{}

// tickMsg advances the shared spinner and running elapsed times.
type tickMsg struct{}

// retriedMsg reports a retry's outcome.
type retriedMsg struct {
	from, id task.ID
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
