// Package output is the output/log pane: it shows one stream at a time (a
// task's output, an invocation, a log tail), pulls it with one pending read,
// keeps a bounded ring of display lines and renders only the visible rows.
package output

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/fndeck/fndeck/internal/task"
)

// Source is a stream of output lines the pane pulls from; *actions.Buffer
// is one. Line text is raw text from outside, sanitized here before display.
type Source interface {
	// Since returns the lines written at or after seq, the offset to ask for
	// next, how many lines between seq and the first returned one were lost
	// (overwritten in the producer's ring), and whether the stream is closed.
	Since(seq uint64) (lines []task.Line, next uint64, dropped uint64, done bool)
	// Notify returns a one-slot channel that receives after each write and
	// on close; the pane blocks on it in its single pending read.
	Notify() <-chan struct{}
}

// outputMsg carries everything a Source produced since the pane's offset.
// A burst of any size arrives as one message.
type outputMsg struct {
	id      string
	gen     uint64
	lines   []task.Line
	next    uint64
	dropped uint64
	done    bool
}

// waitOutput is the pane's one pending read: after delay (which bounds how
// often a chatty source re-renders the pane, as k9s flushes at most every
// 50 ms) it returns at once when the source has something past seq,
// otherwise blocks on Notify. stop is closed when the pane switches
// sources, so an abandoned read does not leak.
func waitOutput(id string, gen uint64, src Source, seq uint64, stop <-chan struct{}, delay time.Duration) tea.Cmd {
	return func() tea.Msg {
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-stop:
				t.Stop()
				return nil
			}
		}
		for {
			lines, next, dropped, done := src.Since(seq)
			if len(lines) > 0 || dropped > 0 || done || next != seq {
				return outputMsg{id: id, gen: gen, lines: lines, next: next, dropped: dropped, done: done}
			}
			// A stale token in the one-slot channel only costs one extra
			// empty Since; a write after our Since leaves a token, so no
			// wake-up is lost.
			select {
			case <-src.Notify():
			case <-stop:
				return nil
			}
		}
	}
}
