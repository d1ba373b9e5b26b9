package workflow

import (
	"context"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/task"
)

// logSink is what a log tail's task output offers beyond cloud.Sink: one
// log event with its structured fields (actions' task output has it).
type logSink interface{ Log(l cloud.LogLine) }

// logEmitter returns how a tail writes one event to its task's output: with
// its fields when the output keeps them, else as a formatted text line.
func logEmitter(out cloud.Sink) func(cloud.LogLine) {
	if ls, ok := out.(logSink); ok {
		return ls.Log
	}
	return func(l cloud.LogLine) {
		msg := l.Message
		if msg == "" {
			msg = string(l.JSON)
		}
		out.Line(l.Time.Format("15:04:05.000") + " " + l.Severity + " " + msg)
	}
}

// startLogs follows a function's logs in a task of its own. The tail goes
// the way every stream goes: backend → the task's output (its ring buffer
// and output file, redacted) → the output pane, which pulls it by sequence
// number like any task's output, so nothing is lost while another view
// holds the output slot, and a retry (R in Tasks) shows the same way.
func (f *Flow) startLogs(address string) tea.Cmd {
	addr, err := cloud.ParseAddress(address)
	if err != nil {
		return fail(err)
	}
	lt, ok := f.d.Backends(addr.Provider).(cloud.LogTailer)
	if !ok {
		return fail(fmt.Errorf("logs: the %s provider is not configured or has no logs", addr.Provider))
	}
	if f.d.Output == nil {
		return fail(fmt.Errorf("logs: no output pane"))
	}
	key := addr.String()
	f.mu.Lock()
	if live, ok := f.tails[key]; ok {
		// Already following this function: show that tail again rather
		// than start a second one.
		f.mu.Unlock()
		return f.showTask(live.id, true)
	}
	lt2 := &logTail{}
	f.tails[key] = lt2
	f.mu.Unlock()
	// Recent context, then from now: the last LogTail events whatever
	// their age, so a function last called an hour ago still opens on its
	// latest lines.
	tail := f.d.LogTail
	id := f.d.Runner.Submit(task.KindLogs, "", "logs "+key, func(ctx context.Context, out cloud.Sink) error {
		defer func() {
			f.mu.Lock()
			if f.tails[key] == lt2 { // a retry (R) runs this again: harmless
				delete(f.tails, key)
			}
			f.mu.Unlock()
		}()
		out.Line(fmt.Sprintf("following %s: the last %d events, then from now (cancel this task to stop)", addr, tail))
		err := lt.Logs(ctx, cloud.LogRequest{Target: addr, Tail: tail, Follow: true}, logEmitter(out))
		if err != nil && ctx.Err() != nil {
			return nil // cancelled by the user: the tail simply stops
		}
		return err
	})
	f.mu.Lock()
	lt2.id = id
	f.titles[id] = "logs " + key + " (task " + id.String() + ")"
	f.mu.Unlock()
	return f.showTask(id, true)
}

// logTail is one live follow, by address in Flow.tails.
type logTail struct{ id task.ID }
