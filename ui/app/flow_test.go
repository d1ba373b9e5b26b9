package app

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/fndeck/fndeck/actions"
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/task"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/output"
	"github.com/fndeck/fndeck/ui/tasks"
	"github.com/fndeck/fndeck/ui/workflow"
)

// The root app with the real task runner, the real Tasks and output panes
// and the real workflows; only the image builder is a fake (a cloud
// interface), one that streams output until it is cancelled.

// streamingBuilder writes numbered lines as fast as the sink takes them,
// with a tiny pause every 100 lines, until its context ends.
type streamingBuilder struct {
	lines atomic.Int64
	mu    sync.Mutex
	ctxs  map[string]context.Context
}

func (b *streamingBuilder) Build(ctx context.Context, opts cloud.BuildOptions, out cloud.Sink) (cloud.BuildResult, error) {
	b.mu.Lock()
	b.ctxs[opts.Tags[0]] = ctx
	b.mu.Unlock()
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return cloud.BuildResult{}, err
		}
		out.Line(fmt.Sprintf("%s line %d", strings.Split(opts.Tags[0], ":")[0], i))
		b.lines.Add(1)
		if i%100 == 99 {
			time.Sleep(time.Millisecond)
		}
	}
}

// runnerTasks wires the runner to the workflows as main.go does.
type runnerTasks struct{ r *actions.Runner }

func (t runnerTasks) Submit(kind task.Kind, target, title string, run func(ctx context.Context, out cloud.Sink) error) task.ID {
	return t.r.Submit(actions.Spec{Kind: kind, Target: target, Title: title,
		Run: func(ctx context.Context, out actions.Output) error { return run(ctx, out) }})
}
func (t runnerTasks) Output(id task.ID) output.Source {
	if b := t.r.Output(id); b != nil {
		return b
	}
	return nil
}
func (t runnerTasks) LogFile(task.ID) string { return "" }
func (t runnerTasks) Cancel(id task.ID)      { t.r.Cancel(id) }

var (
	runningBuild   = regexp.MustCompile(`running\s+build`)
	cancelledBuild = regexp.MustCompile(`cancelled\s+build`)
)

// TestThreeStreamingTasksKeepKeysAnswered: three builds started from the
// keyboard (b, pick the function, accept the tag) stream output at once;
// meanwhile every key is answered — focus moves, the Tasks cursor moves and
// the output pane follows the selected task with its lines advancing —
// quitting asks, and `c` cancels each build.
func TestThreeStreamingTasksKeepKeysAnswered(t *testing.T) {
	runner, err := actions.NewRunner(actions.RunnerOptions{Context: t.Context(), Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(runner.Close)
	src := runnerTasks{r: runner}
	theme := common.NewTheme(true, true)
	out := output.New(output.Options{Theme: theme})
	taskPane := tasks.New(tasks.Options{Theme: theme, Source: runner})
	b := &streamingBuilder{ctxs: map[string]context.Context{}}
	names := []string{"alpha", "bravo", "charlie"}
	var builds []workflow.BuildTarget
	for _, n := range names {
		builds = append(builds, workflow.BuildTarget{Function: n, Options: cloud.BuildOptions{ContextDir: t.TempDir()}})
	}
	flow := workflow.New(workflow.Deps{
		Ctx: t.Context(), Theme: theme, Runner: src, Builder: b,
		Backends: func(cloud.Provider) any { return nil },
		Builds:   builds, Output: out, SelectedTask: taskPane.Selected,
	})
	h := start(t, Options{Tasks: taskPane, Output: out, RunningTasks: runner.Running, Handle: flow.Handle}, 160, 44)
	h.waitText("thumbnailer:v3")

	for i, n := range names {
		h.press("1", "b")
		h.waitText("Which function of fndeck.yaml?")
		for range len("alpha") { // the offered value is the first function
			h.press("backspace")
		}
		h.typeText(n)
		h.press("enter")
		h.waitText("Tag the image as")
		h.press("enter")
		h.wait(fmt.Sprintf("%d builds running", i+1), func(s string) bool {
			return len(runningBuild.FindAllString(s, -1)) == i+1
		})
		// Starting a task focuses the Tasks pane (a command, so it lands
		// a moment after the task shows); wait for it before pressing 1.
		h.wait("tasks focused", func(string) bool { return focusedOf(h) == PaneTasks })
	}
	if n := runner.Running(); n != 3 {
		t.Fatalf("%d tasks running, want 3", n)
	}

	// While the three stream, keys are answered: focus round trips…
	for _, k := range []string{"2", "4", "1", "3", "tab", "shift+tab"} {
		want := map[string]int{"1": 0, "2": 1, "3": 2, "4": 3, "tab": 3, "shift+tab": 2}[k]
		h.press(k)
		h.wait("focus after "+k, func(string) bool { return focusedOf(h) == want })
	}
	// …and moving the Tasks cursor switches the output pane to that task,
	// whose numbered lines keep advancing on screen.
	lineRe := regexp.MustCompile(`(alpha|bravo|charlie) line (\d+)`)
	lastOf := func(s, name string) int {
		best := -1
		for _, m := range lineRe.FindAllStringSubmatch(s, -1) {
			if m[1] == name {
				n, _ := strconv.Atoi(m[2])
				best = max(best, n)
			}
		}
		return best
	}
	h.press("3", "g")
	for i, n := range names {
		if i > 0 {
			h.press("j")
		}
		h.wait("output of "+n, func(s string) bool { return strings.Contains(s, "task "+strconv.Itoa(i+1)) && lastOf(s, n) >= 0 })
		first := lastOf(h.screen(), n)
		h.wait(n+" advancing", func(s string) bool { return lastOf(s, n) > first })
	}

	// Quit asks while they run; n keeps going.
	h.press("q")
	h.waitText("3 task(s) still running")
	h.press("n")
	h.waitGone("3 task(s) still running")

	// c cancels each selected build; every one ends cancelled.
	h.press("3", "g")
	for i := range names {
		if i > 0 {
			h.press("j")
		}
		h.press("c")
	}
	h.wait("three cancelled", func(s string) bool { return len(cancelledBuild.FindAllString(s, -1)) == 3 })
	if n := runner.Running(); n != 0 {
		t.Fatalf("%d tasks still running after cancelling all", n)
	}
	b.mu.Lock()
	for tag, ctx := range b.ctxs {
		if ctx.Err() == nil {
			t.Errorf("build %s's context was not cancelled", tag)
		}
	}
	b.mu.Unlock()
	if b.lines.Load() < 3000 {
		t.Errorf("only %d lines streamed: the test did not load the UI", b.lines.Load())
	}
	t.Logf("%d lines streamed while keys were answered", b.lines.Load())
}

// ctrl+c works with a prompt open: the prompt goes, quit asks while tasks
// run, and ctrl+c on that question quits at once.
func TestCtrlCFromAPromptAsksThenQuits(t *testing.T) {
	h := start(t, Options{Listers: sampleListers(), RunningTasks: func() int { return 1 }}, 140, 34)
	h.waitText("thumbnailer:v3")
	h.tm.Send(common.PromptRequestMsg{Title: "Push x", Label: "Push as"})
	h.waitText("Push as")
	h.press("ctrl+c")
	h.waitText("1 task(s) still running")
	h.waitGone("Push as")
	h.press("ctrl+c")
	h.tm.WaitFinished(t, teatest.WithFinalTimeout(30*time.Second))
}
