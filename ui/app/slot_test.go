package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fndeck/fndeck/actions"
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/task"
	"github.com/fndeck/fndeck/internal/testsupport/fake"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/output"
	"github.com/fndeck/fndeck/ui/tasks"
	"github.com/fndeck/fndeck/ui/workflow"
)

// gatedBuilder prints "num N" for each N the test sends, until its context
// ends or the channel closes.
type gatedBuilder struct{ nums chan int }

func (b *gatedBuilder) Build(ctx context.Context, _ cloud.BuildOptions, out cloud.Sink) (cloud.BuildResult, error) {
	for {
		select {
		case n, ok := <-b.nums:
			if !ok {
				return cloud.BuildResult{}, nil
			}
			out.Line(fmt.Sprintf("num %04d", n))
		case <-ctx.Done():
			return cloud.BuildResult{}, ctx.Err()
		}
	}
}

// tailLister is a local function source that invokes (an echo) and whose
// logs come from a fake.Tailer.
type tailLister struct {
	*fake.Lister
	tail *fake.Tailer
}

func (x tailLister) Logs(ctx context.Context, req cloud.LogRequest, emit func(cloud.LogLine)) error {
	return x.tail.Logs(ctx, req, emit)
}

// slotRig is the root app with the real runner (output files on), the real
// Tasks and output panes and the real workflows.
type slotRig struct {
	h      *harness
	runner *actions.Runner
}

func newSlotRig(t *testing.T, be tailLister, builder cloud.Builder) *slotRig {
	t.Helper()
	runner, err := actions.NewRunner(actions.RunnerOptions{Context: t.Context(), StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(runner.Close)
	theme := common.NewTheme(true, true)
	out := output.New(output.Options{Theme: theme})
	taskPane := tasks.New(tasks.Options{Theme: theme, Source: runner})
	flow := workflow.New(workflow.Deps{
		Ctx: t.Context(), Theme: theme, Runner: runnerTasks{r: runner}, Builder: builder,
		Backends: func(p cloud.Provider) any {
			if p == cloud.Local {
				return be
			}
			return nil
		},
		Builds: []workflow.BuildTarget{{Function: "numbers", Options: cloud.BuildOptions{ContextDir: t.TempDir()}}},
		Output: out, SelectedTask: taskPane.Selected,
	})
	h := start(t, Options{Listers: []cloud.Lister{be.Lister}, Tasks: taskPane, Output: out, RunningTasks: runner.Running, Handle: flow.Handle}, 160, 44)
	h.waitText("echo")
	return &slotRig{h: h, runner: runner}
}

var numRe = regexp.MustCompile(`(?:num|event) (\d{4})`)

// numbers are the numbered lines in text, in order.
func numbers(text string) []int {
	var out []int
	for _, m := range numRe.FindAllStringSubmatch(text, -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

func checkOnceInOrder(t *testing.T, what string, got []int, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("%s holds %d numbered lines, want %d: %v", what, len(got), n, got)
	}
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("%s: line %d is number %d, want %d (lost or repeated lines): %v", what, i, v, i+1, got)
		}
	}
}

// swapAndCome back drives issue 13's scenario once the task shows numbers
// 1..3: the invoke pane takes the output slot, numbers 4..total arrive
// meanwhile (in bursts, so the parked pane's reads complete while it is
// off screen), then `3`, Enter shows the task again; `s` saves what the
// pane holds, and every number must be there once, in order.
func (r *slotRig) swapAndComeBack(t *testing.T, id task.ID, emit func(from, to int), total int) {
	t.Helper()
	h := r.h
	emit(1, 3)
	h.waitText(fmt.Sprintf("%04d", 3))
	h.tm.Send(common.InvokeRequestMsg{Address: "local:echo"})
	h.waitText("Invoke · local:echo")
	buf := r.runner.Output(id)
	for from := 4; from <= total; from += 50 {
		emit(from, min(from+49, total))
		time.Sleep(20 * time.Millisecond)
	}
	h.wait("every line in the task's buffer", func(string) bool {
		_, next, _, _ := buf.Since(^uint64(0))
		return next >= uint64(total)
	})
	time.Sleep(100 * time.Millisecond) // the parked pane's last read lands
	if !strings.Contains(h.screen(), "Invoke · local:echo") {
		t.Fatalf("the invoke pane left the output slot:\n%s", h.screen())
	}
	h.press("3", "enter")
	h.waitText(fmt.Sprintf("%04d", total))
	path := filepath.Join(t.TempDir(), "pane.txt")
	h.press("s", "ctrl+u")
	h.typeText(path)
	h.press("enter")
	h.waitText("saved ")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkOnceInOrder(t, "the output pane", numbers(string(b)), total)
}

// TestTaskOutputSurvivesTheInvokePane: a build streams numbered lines while
// the invoke pane holds the output slot; back on the task, every number is
// there once, in order.
func TestTaskOutputSurvivesTheInvokePane(t *testing.T) {
	be := tailLister{Lister: fakeEcho(), tail: fake.NewTailer()}
	b := &gatedBuilder{nums: make(chan int, 1024)}
	defer close(b.nums)
	r := newSlotRig(t, be, b)
	r.h.tm.Send(common.BuildRequestMsg{})
	r.h.waitText("Tag the image as")
	r.h.press("enter")
	r.h.wait("the build runs", func(s string) bool { return runningBuild.MatchString(s) })
	r.swapAndComeBack(t, 1, func(from, to int) {
		for n := from; n <= to; n++ {
			b.nums <- n
		}
	}, 300)
}

// TestLogTailSurvivesTheInvokePane is issue 13's report: follow a function
// with `l`, the invoke pane takes the output slot, events arrive, and back
// on the tail's task every event is shown once, in order — and the task's
// output file holds them all, with their fields.
func TestLogTailSurvivesTheInvokePane(t *testing.T) {
	be := tailLister{Lister: fakeEcho(), tail: fake.NewTailer()}
	r := newSlotRig(t, be, nil)
	r.h.tm.Send(common.LogsRequestMsg{Address: "local:echo"})
	r.h.waitText("following local:echo")
	at := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	const total = 300
	r.swapAndComeBack(t, 1, func(from, to int) {
		for n := from; n <= to; n++ {
			be.tail.Emit(cloud.LogLine{Time: at.Add(time.Duration(n) * time.Millisecond), Severity: "INFO", Stream: "s1", Message: fmt.Sprintf("event %04d", n)})
		}
	}, total)
	info, ok := r.runner.Get(1)
	if !ok || info.LogFile == "" {
		t.Fatalf("no output file for the tail's task: %+v", info)
	}
	b, err := os.ReadFile(info.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	checkOnceInOrder(t, "the tail's output file", numbers(string(b)), total)
	if !strings.Contains(string(b), "2026-11-26T03:00:00.001Z INFO s1 event 0001\n") {
		t.Fatalf("the output file lacks the event's fields:\n%.400s", b)
	}
}

func fakeEcho() *fake.Lister {
	return &fake.Lister{Prov: cloud.Local, Results: []cloud.GroupResult{{
		Group:     cloud.Group{Provider: cloud.Local, Scope: "docker"},
		Functions: []cloud.Function{{Address: "local:echo", Provider: cloud.Local, Name: "echo", Mode: "lambda", ImageURI: "echo:latest"}},
	}}}
}
