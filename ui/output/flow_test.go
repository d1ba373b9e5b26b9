package output

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/fndeck/fndeck/internal/task"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/tasks"
)

// flowRunner feeds the Tasks pane: three running tasks whose last lines and
// progress change while their sources stream.
type flowRunner struct {
	mu      sync.Mutex
	rows    []task.Info
	changed chan struct{}
}

func (r *flowRunner) Tasks() []task.Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]task.Info, len(r.rows))
	copy(out, r.rows)
	return out
}
func (r *flowRunner) Changed() <-chan struct{}          { return r.changed }
func (r *flowRunner) Cancel(task.ID)                    {}
func (r *flowRunner) Retry(id task.ID) (task.ID, error) { return id, nil }
func (r *flowRunner) setLast(i int, line string) {
	r.mu.Lock()
	r.rows[i].LastLine = line
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// flowRoot is a tiny stand-in for ui/app: the Tasks pane above the output
// pane, tab switches focus, the output follows the selected task.
type flowRoot struct {
	tasks   *tasks.Model
	out     *Model
	sources map[task.ID]*fakeSource
	focus   int // 0 tasks, 1 output
	w, h    int
	view    atomic.Pointer[string]
}

func (r *flowRoot) Init() tea.Cmd { return r.tasks.Init() }

func (r *flowRoot) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		r.w, r.h = msg.Width, msg.Height
		r.tasks.SetSize(r.w, 8)
		r.out.SetSize(r.w, r.h-9)
		return r, nil
	case common.SelectedTaskMsg:
		// Cmds run concurrently, so an older selection can arrive after a
		// newer one; only the task still under the cursor counts.
		if msg.ID != r.tasks.Selected() {
			return r, nil
		}
		return r, r.out.SetSource(msg.ID.String(), r.sources[msg.ID], msg.ID.String())
	case common.ShowTaskOutputMsg:
		r.focus = 1
		r.tasks.SetFocused(false)
		r.out.SetFocused(true)
		return r, r.out.SetSource(msg.ID.String(), r.sources[msg.ID], msg.ID.String())
	case tea.KeyPressMsg:
		if msg.String() == "tab" && !r.out.Capturing() {
			r.focus = 1 - r.focus
			r.tasks.SetFocused(r.focus == 0)
			r.out.SetFocused(r.focus == 1)
			return r, nil
		}
		if msg.String() == "ctrl+c" {
			return r, tea.Quit
		}
		var cmd tea.Cmd
		if r.focus == 0 {
			_, cmd = r.tasks.Update(msg)
		} else {
			_, cmd = r.out.Update(msg)
		}
		return r, cmd
	}
	_, c1 := r.tasks.Update(msg)
	_, c2 := r.out.Update(msg)
	return r, tea.Batch(c1, c2)
}

func (r *flowRoot) View() tea.View {
	s := r.tasks.View() + "\n" + r.out.Title() + "\n" + r.out.View()
	r.view.Store(&s)
	return tea.NewView(s)
}

// waitView polls the rendered frame (the program's own View output) until
// cond holds; the bound only guards against a hang.
func waitView(t *testing.T, r *flowRoot, what string, cond func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if v := r.view.Load(); v != nil && cond(*v) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	v := r.view.Load()
	t.Fatalf("timed out waiting for %s; last frame:\n%s", what, *v)
}

func TestFlowThreeStreamsKeysAnswered(t *testing.T) {
	runner := &flowRunner{changed: make(chan struct{}, 1)}
	sources := map[task.ID]*fakeSource{}
	for i := 1; i <= 3; i++ {
		id := task.ID(i)
		runner.rows = append(runner.rows, task.Info{ID: id, Kind: "build", Target: fmt.Sprintf("imgt%d", i), State: task.Running, Started: time.Now()})
		sources[id] = newFakeSource(0)
	}
	// A finished task whose last line is hostile: clipboard write (OSC 52)
	// and clear screen. It stays on screen in the table all along.
	runner.rows = append(runner.rows, task.Info{ID: 4, Kind: "push", Target: "imgt4", State: task.Failed,
		LastLine: "evil \x1b]52;c;c2VjcmV0\x07\x1b[2J\x1b[3J done"})
	sources[4] = newFakeSource(0)
	th := theme()
	root := &flowRoot{
		tasks:   tasks.New(tasks.Options{Theme: th, Source: runner}),
		out:     New(Options{Theme: th, BufferLines: 5000}),
		sources: sources,
	}
	root.tasks.SetFocused(true)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 1; i <= 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			src := sources[task.ID(i)]
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				// Bursts of 50 lines keep all three streams busy.
				batch := make([]string, 50)
				for j := range batch {
					batch[j] = fmt.Sprintf("src-%d line %d", i, n*50+j)
				}
				src.Write(batch...)
				runner.setLast(i-1, batch[49])
				time.Sleep(2 * time.Millisecond)
			}
		}(i)
	}
	defer func() { close(stop); wg.Wait() }()

	tm := teatest.NewTestModel(t, root, teatest.WithInitialTermSize(100, 30))
	t.Cleanup(func() { _ = tm.Quit() })

	waitView(t, root, "task 1 output", func(v string) bool { return strings.Contains(v, "src-1 line") })
	waitView(t, root, "all three tasks' last lines", func(v string) bool {
		return strings.Contains(v, "src-1 line") && strings.Contains(v, "src-2 line") && strings.Contains(v, "src-3 line")
	})
	// Keys keep being answered while all three stream: move to task 2, the
	// output pane follows it.
	tm.Send(tea.KeyPressMsg{Code: 'j', Text: "j"})
	waitView(t, root, "output of task 2", func(v string) bool {
		return strings.Contains(v, "Output · 2 (") && strings.Count(lastLines(v, 20), "src-2 line") > 5
	})
	tm.Send(tea.KeyPressMsg{Code: 'j', Text: "j"})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitView(t, root, "output of task 3, focused", func(v string) bool {
		return strings.Contains(v, "Output · 3 (") && strings.Count(lastLines(v, 20), "src-3 line") > 5
	})
	// In the output pane: wrap on, then search; both answer mid-stream.
	tm.Type("w")
	waitView(t, root, "wrap mode", func(v string) bool { return strings.Contains(lastLines(v, 1), "wrap") })
	tm.Type("/src-3 line 7")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitView(t, root, "search jumped, follow off", func(v string) bool {
		last := lastLines(v, 1)
		return strings.Contains(last, "/src-3 line 7") && !strings.Contains(last, "FOLLOW")
	})
	tm.Type("n")
	tm.Type("G")
	waitView(t, root, "follow back on", func(v string) bool { return strings.Contains(lastLines(v, 1), "FOLLOW") })
	// Save while streaming.
	dir := t.TempDir()
	path := filepath.Join(dir, "saved.log")
	tm.Type("s")
	tm.Send(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
	tm.Type(path)
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	savedRe := regexp.MustCompile(`saved [0-9,]+ lines`)
	waitView(t, root, "saved status", func(v string) bool { return savedRe.MatchString(lastLines(v, 1)) })
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The pane's ring holds the last 5,000 lines: the file is a run of
	// consecutive task-3 lines.
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) < 2 || len(lines) > 5000 {
		t.Fatalf("saved %d lines", len(lines))
	}
	var first int
	if _, err := fmt.Sscanf(lines[0], "src-3 line %d", &first); err != nil {
		t.Fatalf("first saved line %q", lines[0])
	}
	for i, l := range lines {
		if want := fmt.Sprintf("src-3 line %d", first+i); l != want {
			t.Fatalf("saved line %d = %q, want %q", i, l, want)
		}
	}
	// The frame the panes produced holds the hostile line's text but none
	// of its escapes (the renderer would drop some itself; this checks ours).
	frame := *root.view.Load()
	if !strings.Contains(frame, "evil") {
		t.Fatal("the hostile line is not in the frame")
	}
	for _, bad := range []string{"\x1b]52", "c2VjcmV0", "\x1b[2J", "\x1b[3J", "\x07"} {
		if strings.Contains(frame, bad) {
			t.Fatalf("frame contains %q", bad)
		}
	}
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	out, err := io.ReadAll(tm.FinalOutput(t, teatest.WithFinalTimeout(30*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	// The hostile line was on screen but nothing of its escapes reached
	// the terminal.
	if !bytes.Contains(out, []byte("evil")) {
		t.Fatal("the hostile line never rendered")
	}
	for _, bad := range []string{"\x1b]52", "c2VjcmV0", "\x1b[3J"} {
		if bytes.Contains(out, []byte(bad)) {
			t.Fatalf("terminal output contains %q", bad)
		}
	}
}

func lastLines(v string, n int) string {
	ls := strings.Split(v, "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}
