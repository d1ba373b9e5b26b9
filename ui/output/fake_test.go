package output

import (
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/task"
	"github.com/fndeck/fndeck/ui/common"
)

// fakeSource is a tiny ring buffer with the same contract as actions.Buffer:
// a one-slot notify channel written without blocking after each write.
type fakeSource struct {
	mu     sync.Mutex
	cap    int
	lines  []task.Line
	next   uint64 // seq of the next line to be written
	closed bool
	notify chan struct{}
	calls  int // Since calls, to prove a burst is read in one go
}

func newFakeSource(capacity int) *fakeSource {
	return &fakeSource{cap: capacity, notify: make(chan struct{}, 1)}
}

func (s *fakeSource) Write(texts ...string) {
	s.mu.Lock()
	for _, t := range texts {
		s.lines = append(s.lines, task.Line{Seq: s.next, Time: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), Text: t})
		s.next++
	}
	if s.cap > 0 && len(s.lines) > s.cap {
		s.lines = append([]task.Line(nil), s.lines[len(s.lines)-s.cap:]...)
	}
	s.mu.Unlock()
	s.poke()
}

// WriteLines appends whole lines (log events), numbering them.
func (s *fakeSource) WriteLines(ls ...task.Line) {
	s.mu.Lock()
	for _, l := range ls {
		l.Seq = s.next
		s.lines = append(s.lines, l)
		s.next++
	}
	s.mu.Unlock()
	s.poke()
}

func (s *fakeSource) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.poke()
}

func (s *fakeSource) poke() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *fakeSource) Since(seq uint64) ([]task.Line, uint64, uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.lines) == 0 {
		return nil, seq, 0, s.closed
	}
	first := s.lines[0].Seq
	var dropped uint64
	if seq < first {
		dropped = first - seq
		seq = first
	}
	out := append([]task.Line(nil), s.lines[seq-first:]...)
	return out, s.next, dropped, s.closed
}

func (s *fakeSource) Notify() <-chan struct{} { return s.notify }

func press(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

func keys(t testing.TB, m *Model, ks ...string) {
	t.Helper()
	for _, k := range ks {
		if _, cmd := m.Update(press(k)); cmd != nil {
			if msg := runCmd(t, cmd); msg != nil {
				m.Update(msg)
			}
		}
	}
}

func typeText(t testing.TB, m *Model, s string) {
	t.Helper()
	for _, r := range s {
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// runCmd runs a Cmd with a hang guard.
func runCmd(t testing.TB, cmd tea.Cmd) tea.Msg {
	t.Helper()
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	select {
	case msg := <-ch:
		return msg
	case <-time.After(30 * time.Second):
		t.Fatal("command did not return within 30s")
		return nil
	}
}

// pump feeds the pane's pending read until it has caught up with src.
func pump(t testing.TB, m *Model, cmd tea.Cmd) tea.Cmd {
	t.Helper()
	for cmd != nil {
		msg := runCmd(t, cmd)
		var next tea.Cmd
		_, next = m.Update(msg)
		cmd = next
		if om, ok := msg.(outputMsg); ok && !om.done {
			return cmd // one message per read; the caller decides whether to wait again
		}
	}
	return nil
}

func plain(s string) string { return ansi.Strip(s) }

func theme() common.Theme { return common.NewTheme(true, true) }

func viewLines(m *Model) []string {
	return strings.Split(plain(m.View()), "\n")
}

// logLines turns function log events into task lines as a log tail's task
// stores them (actions' taskOutput.Log, without the redaction).
func logLines(ls ...cloud.LogLine) []task.Line {
	out := make([]task.Line, len(ls))
	for i, l := range ls {
		out[i] = task.Line{Seq: uint64(i), Time: l.Time, Text: l.Message,
			Log: &task.LogFields{Address: l.Address, Stream: l.Stream, Severity: l.Severity, JSON: string(l.JSON), Notice: l.Notice}}
	}
	return out
}
