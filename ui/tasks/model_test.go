package tasks

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/task"
	"github.com/fndeck/fndeck/ui/common"
)

// fakeRunner is a stand-in for the runner with the same one-slot Changed.
type fakeRunner struct {
	mu        sync.Mutex
	rows      []task.Info
	changed   chan struct{}
	cancelled []task.ID
	retryErr  error
}

func newFakeRunner(rows ...task.Info) *fakeRunner {
	return &fakeRunner{rows: rows, changed: make(chan struct{}, 1)}
}

func (f *fakeRunner) Tasks() []task.Info {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]task.Info(nil), f.rows...)
}
func (f *fakeRunner) Changed() <-chan struct{} { return f.changed }
func (f *fakeRunner) Cancel(id task.ID) {
	f.mu.Lock()
	f.cancelled = append(f.cancelled, id)
	f.mu.Unlock()
}
func (f *fakeRunner) Retry(id task.ID) (task.ID, error) {
	if f.retryErr != nil {
		return 0, f.retryErr
	}
	f.mu.Lock()
	nid := id + 100 // the retry of 2 is 102
	f.rows = append(f.rows, task.Info{ID: nid, Kind: "build", Target: "web", State: task.Queued})
	f.mu.Unlock()
	f.signal()
	return nid, nil
}
func (f *fakeRunner) set(rows ...task.Info) {
	f.mu.Lock()
	f.rows = rows
	f.mu.Unlock()
	f.signal()
}
func (f *fakeRunner) signal() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func row(id string, st task.State) task.Info {
	n, _ := strconv.Atoi(id)
	r := task.Info{ID: task.ID(n), Kind: "build", Target: "img-" + id, State: st, Queued: t0}
	if st != task.Queued {
		r.Started = t0
	}
	if st == task.Succeeded || st == task.Failed || st == task.Cancelled {
		r.Finished = t0.Add(12 * time.Second)
	}
	return r
}

// exec runs a Cmd tree (Batch included) with a hang guard, skipping the
// pane's blocking read and ticks, and returns the messages produced.
func exec(t *testing.T, cmd tea.Cmd) []tea.Msg {
	t.Helper()
	if cmd == nil {
		return nil
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-ch:
	case <-time.After(200 * time.Millisecond):
		return nil // a blocking read or a tick: not run here
	}
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, exec(t, c)...)
		}
		return out
	}
	if msg == nil {
		return nil
	}
	return []tea.Msg{msg}
}

func newPane(src TaskSource) *Model {
	m := New(Options{Theme: common.NewTheme(true, true), Source: src, Now: func() time.Time { return t0.Add(3500 * time.Millisecond) }, Throttle: -1, Tick: time.Hour})
	m.SetSize(100, 12)
	return m
}

func press(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	}
	return tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
}

func find[T any](msgs []tea.Msg) (T, bool) {
	for _, m := range msgs {
		if v, ok := m.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func TestCursorFollowsTaskAndSelectionMsgs(t *testing.T) {
	src := newFakeRunner(row("1", task.Succeeded), row("2", task.Running), row("3", task.Queued))
	m := newPane(src)
	msgs := exec(t, m.Init())
	if sel, ok := find[common.SelectedTaskMsg](msgs); !ok || sel.ID != 1 {
		t.Fatalf("initial selection msg %+v", msgs)
	}
	_, cmd := m.Update(press("j"))
	if sel, ok := find[common.SelectedTaskMsg](exec(t, cmd)); !ok || sel.ID != 2 {
		t.Fatal("moving the cursor must emit SelectedTaskMsg{2}")
	}
	// A new task is submitted before the selected one's position changes
	// (another removed): the cursor stays on task 2.
	src.set(row("0", task.Queued), row("2", task.Running), row("3", task.Queued))
	_, cmd = m.Update(changedMsg{})
	if _, ok := find[common.SelectedTaskMsg](exec(t, cmd)); ok {
		t.Fatal("the selected task did not change, no message expected")
	}
	if m.Selected() != 2 || m.cursor != 1 {
		t.Fatalf("cursor on %q (%d), want task 2", m.Selected(), m.cursor)
	}
	_, cmd = m.Update(press("enter"))
	if show, ok := find[common.ShowTaskOutputMsg](exec(t, cmd)); !ok || show.ID != 2 {
		t.Fatal("enter must emit ShowTaskOutputMsg{2}")
	}
	// The selected task disappears: the cursor stays in range and moves on.
	src.set(row("7", task.Queued))
	_, cmd = m.Update(changedMsg{})
	if sel, ok := find[common.SelectedTaskMsg](exec(t, cmd)); !ok || sel.ID != 7 {
		t.Fatal("selection must move to a remaining task")
	}
}

func TestCancelAndRetry(t *testing.T) {
	src := newFakeRunner(row("1", task.Running), row("2", task.Failed))
	m := newPane(src)
	exec(t, m.Init())
	_, cmd := m.Update(press("c"))
	exec(t, cmd)
	if !reflect.DeepEqual(src.cancelled, []task.ID{1}) {
		t.Fatalf("cancelled %v", src.cancelled)
	}
	_, cmd = m.Update(press("R"))
	if st, ok := find[common.StatusMsg](exec(t, cmd)); !ok || st.Text == "" {
		t.Fatal("retrying a running task must explain why not")
	}
	m.Update(press("j"))
	_, cmd = m.Update(press("c"))
	exec(t, cmd)
	if len(src.cancelled) != 1 {
		t.Fatal("cancel of a failed task reached the runner")
	}
	_, cmd = m.Update(press("R"))
	msgs := exec(t, cmd)
	rm, ok := find[retriedMsg](msgs)
	if !ok || rm.id != 102 {
		t.Fatalf("retry msgs %+v", msgs)
	}
	_, cmd = m.Update(rm)
	msgs = exec(t, cmd)
	if m.Selected() != 102 {
		t.Fatalf("cursor on %q, want the retried task", m.Selected())
	}
	if _, ok := find[common.StatusMsg](msgs); !ok {
		t.Fatal("retry must report in the status line")
	}
	src.retryErr = errors.New("spec gone")
	m.Update(press("k"))
	_, cmd = m.Update(press("R"))
	rm, _ = find[retriedMsg](exec(t, cmd))
	_, cmd = m.Update(rm)
	if em, ok := find[common.ErrorMsg](exec(t, cmd)); !ok || em.Err.Error() != "retrying task 2: spec gone" {
		t.Fatalf("retry error %+v", em)
	}
}

func TestTickOnlyWhileRunning(t *testing.T) {
	src := newFakeRunner(row("1", task.Succeeded))
	m := newPane(src)
	m.Init()
	if m.ticking {
		t.Fatal("ticking while idle")
	}
	src.set(row("1", task.Succeeded), row("2", task.Running))
	m.Update(changedMsg{})
	if !m.ticking {
		t.Fatal("no tick while a task runs")
	}
	// A second change while ticking must not start a second timer.
	_, cmd := m.Update(changedMsg{})
	if n := countTicks(cmd); n != 0 {
		t.Fatalf("%d extra ticks started", n)
	}
	_, cmd = m.Update(tickMsg{})
	if cmd == nil || m.frame != 1 {
		t.Fatal("tick not re-armed while running")
	}
	src.set(row("1", task.Succeeded), row("2", task.Succeeded))
	m.Update(changedMsg{})
	_, cmd = m.Update(tickMsg{})
	if cmd != nil || m.ticking {
		t.Fatal("tick kept running with nothing running")
	}
}

// countTicks counts tea.Tick commands in a batch without waiting for them:
// the pane's tick is an hour here, so a tick is any command still pending
// after the batch's immediate ones returned, minus the pending read.
func countTicks(cmd tea.Cmd) int {
	if cmd == nil {
		return 0
	}
	msg := cmd()
	b, ok := msg.(tea.BatchMsg)
	if !ok {
		return 0
	}
	n := 0
	for _, c := range b {
		if c == nil {
			continue
		}
		done := make(chan tea.Msg, 1)
		go func() { done <- c() }()
		select {
		case m := <-done:
			if _, ok := m.(tickMsg); ok {
				n++
			}
		case <-time.After(100 * time.Millisecond):
			n++ // blocked: the runner read or a tick
		}
	}
	return n - 1 // one of the blocked ones is the runner read
}

func TestProgressSummary(t *testing.T) {
	for _, tc := range []struct {
		in   []cloud.Progress
		want string
	}{
		{nil, ""},
		{[]cloud.Progress{{ID: "a", Status: "Pushed", Current: 10, Total: 10}, {ID: "b", Status: "Pushing", Current: 5, Total: 10}}, "1/2 layers 75%"},
		{[]cloud.Progress{{ID: "a", Status: "Layer already exists"}, {ID: "b", Status: "Waiting"}, {ID: "c", Status: "Mounted from x/y"}}, "2/3 layers"},
		{[]cloud.Progress{{ID: "a", Status: "Pushing", Current: 20, Total: 10}}, "1/1 layers 100%"},
	} {
		if got := progressSummary(tc.in); got != tc.want {
			t.Errorf("progressSummary(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for d, want := range map[time.Duration]string{3500 * time.Millisecond: "3.5s", 42 * time.Second: "42s", 125 * time.Second: "2m05s", 3*time.Hour + 4*time.Minute: "3h04m"} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestGoldenTasks(t *testing.T) {
	push := row("2", task.Running)
	push.Kind = "push"
	push.LastLine = "pushing \x1b[31mlayers\x1b[0m"
	push.Progress = []cloud.Progress{
		{ID: "sha256:aaaaaaaaaaaaaaaa", Status: "Pushed", Current: 100, Total: 100},
		{ID: "sha256:bbbbbbbbbbbbbbbb", Status: "Pushing", Current: 512 * 1024, Total: 2 * 1024 * 1024},
		{ID: "sha256:cccccccccccccccc", Status: "Waiting"},
	}
	failed := row("3", task.Failed)
	failed.Kind = "deploy"
	failed.Target = "lambda:us-east-1/api"
	failed.Err = "updating function: access denied"
	src := newFakeRunner(row("1", task.Succeeded), push, failed, row("4", task.Queued), row("5", task.Cancelled))
	m := newPane(src)
	m.SetFocused(true)
	exec(t, m.Init())
	m.Update(press("j"))
	golden.RequireEqual(t, m.View())
	for _, l := range splitLines(m.View()) {
		if w := ansi.StringWidth(l); w != 100 {
			t.Fatalf("row width %d: %q", w, l)
		}
	}
}

func TestGoldenTasksFailedSelected(t *testing.T) {
	failed := row("3", task.Failed)
	failed.Kind = "deploy"
	failed.Target = "lambda:us-east-1/api"
	failed.Err = "updating function: access denied"
	m := newPane(newFakeRunner(row("1", task.Succeeded), failed))
	exec(t, m.Init())
	m.Update(press("j"))
	golden.RequireEqual(t, m.View())
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func BenchmarkTasksView(b *testing.B) {
	var rows []task.Info
	for i := 0; i < 200; i++ {
		r := row(fmt.Sprint(i), task.Running)
		r.Progress = []cloud.Progress{{ID: "a", Status: "Pushing", Current: int64(i), Total: 1000}}
		rows = append(rows, r)
	}
	m := newPane(newFakeRunner(rows...))
	m.SetSize(160, 40)
	m.refresh()
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

func TestSummaryAndTitleShown(t *testing.T) {
	ok := row("1", task.Succeeded)
	ok.LastLine, ok.Summary = "layer 7 pushed", "pushed web:dev sha256:abc"
	noTarget := row("2", task.Queued)
	noTarget.Target, noTarget.Title = "", "prune old images"
	m := newPane(newFakeRunner(ok, noTarget))
	exec(t, m.Init())
	v := ansi.Strip(m.View())
	if !strings.Contains(v, "pushed web:dev sha256:abc") || strings.Contains(v, "layer 7 pushed") {
		t.Fatalf("summary not preferred:\n%s", v)
	}
	if !strings.Contains(v, "prune old images") {
		t.Fatalf("title not used for a task without target:\n%s", v)
	}
}
