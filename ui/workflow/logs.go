package workflow

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/task"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/output"
)

// logFeed hands a log tail's lines from the tail goroutine to the UI. The
// producer never blocks: when the UI falls behind, the oldest pending lines
// are dropped and counted, so the pane stays close to real time.
type logFeed struct {
	id     string
	title  string // the output pane's title for the tail
	addr   string
	taskID task.ID
	mu     sync.Mutex
	lines  []cloud.LogLine
	limit  int
	drops  uint64
	done   bool
	notify chan struct{}
	// full is set while a batch's worth of lines waits for the UI: a
	// backend that can drop at the source (cloud.WithLogBusy) then counts
	// lines instead of decoding them for this feed to throw away.
	full atomic.Bool
}

// logPaceLines is how many pending lines make a feed report itself full:
// more than a screen can show per batch (at 20 batches/s, 40,000 lines/s
// reach the pane), few enough that a flood is dropped before it costs the
// UI anything.
const logPaceLines = 2000

func newLogFeed(id string, limit int) *logFeed {
	return &logFeed{id: id, limit: limit, notify: make(chan struct{}, 1)}
}

func (l *logFeed) push(line cloud.LogLine) {
	l.mu.Lock()
	if len(l.lines) >= l.limit {
		// drop the older half at once: amortised O(1) per line
		n := len(l.lines) / 2
		l.drops += uint64(n)
		l.lines = append(l.lines[:0], l.lines[n:]...)
	}
	l.lines = append(l.lines, line)
	if len(l.lines) >= logPaceLines {
		l.full.Store(true)
	}
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

func (l *logFeed) close() {
	l.mu.Lock()
	l.done = true
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// take returns the pending lines (with a notice of drops first) and whether
// the tail ended.
func (l *logFeed) take(now time.Time) ([]cloud.LogLine, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = make([]cloud.LogLine, 0, min(len(out), 1024))
	l.full.Store(false)
	if l.drops > 0 {
		notice := cloud.LogLine{Time: now, Notice: true, Message: fmt.Sprintf("%d log lines dropped: they came faster than the screen can show (the tail continues from now)", l.drops)}
		out = append([]cloud.LogLine{notice}, out...)
		l.drops = 0
	}
	return out, l.done
}

// logNextMsg says a feed has lines for Handle to pass to the output pane.
type logNextMsg struct{ feed *logFeed }

// flushEvery is the least time between two batches of log lines: a flood
// arrives as a few large messages rather than one per line.
const flushEvery = 50 * time.Millisecond

func waitLogs(feed *logFeed) tea.Cmd {
	return func() tea.Msg {
		<-feed.notify
		time.Sleep(flushEvery) // gather the burst; only runs while lines arrive
		return logNextMsg{feed: feed}
	}
}

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
	f.mu.Lock()
	for _, live := range f.tails {
		if live.addr == addr.String() {
			// Already tailing this function: show that tail again
			// rather than start a second one.
			f.mu.Unlock()
			f.d.Output.ShowLogs(live.id, live.title)
			return common.MsgCmd(common.ShowOutputMsg{Pane: f.d.Output})
		}
	}
	f.seq++
	id := fmt.Sprintf("logs:%s#%d", addr, f.seq)
	feed := newLogFeed(id, f.d.LogBufferLines)
	feed.addr = addr.String()
	f.tails[id] = feed
	f.mu.Unlock()
	// Recent context, then from now: the last LogTail events whatever
	// their age, so a function last called an hour ago still opens on its
	// latest lines, and a pane opened on a flooding one never replays it.
	tail := f.d.LogTail
	var runs atomic.Int32
	taskID := f.d.Runner.Submit(task.KindLogs, "", "logs "+addr.String(), func(ctx context.Context, out cloud.Sink) error {
		emit := feed.push
		if runs.Add(1) == 1 {
			defer feed.close()
			ctx = cloud.WithLogBusy(ctx, feed.full.Load)
		} else {
			// A retry (R in Tasks): the feed's reader is gone, so the
			// lines go to the task's own output.
			emit = func(l cloud.LogLine) { out.Line(l.Time.Format("15:04:05.000") + " " + l.Message) }
		}
		out.Line(fmt.Sprintf("following %s: the last %d events, then from now (cancel this task to stop)", addr, tail))
		err := lt.Logs(ctx, cloud.LogRequest{Target: addr, Tail: tail, Follow: true}, emit)
		if err != nil && ctx.Err() != nil {
			return nil // cancelled by the user: the tail simply stops
		}
		return err
	})
	feed.title = "logs " + addr.String() + " (task " + taskID.String() + ")"
	f.mu.Lock()
	if f.tails[id] == feed { // not already ended
		feed.taskID = taskID
		f.logTasks[taskID] = feed
	}
	f.mu.Unlock()
	f.d.Output.ShowLogs(id, feed.title)
	return tea.Batch(waitLogs(feed), common.MsgCmd(common.ShowOutputMsg{Pane: f.d.Output}))
}

func (f *Flow) nextLogs(msg logNextMsg) tea.Cmd {
	lines, done := msg.feed.take(f.d.Now())
	var cmds []tea.Cmd
	if len(lines) > 0 {
		cmds = append(cmds, common.MsgCmd(output.LogLinesMsg{ID: msg.feed.id, Lines: lines}))
	}
	if done {
		f.mu.Lock()
		delete(f.tails, msg.feed.id)
		delete(f.logTasks, msg.feed.taskID)
		f.mu.Unlock()
		cmds = append(cmds, common.MsgCmd(output.LogLinesMsg{ID: msg.feed.id, Lines: []cloud.LogLine{{Time: f.d.Now(), Notice: true, Message: "log tail ended"}}}))
	} else {
		cmds = append(cmds, waitLogs(msg.feed))
	}
	return tea.Batch(cmds...)
}
