package workflow

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/task"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/functions"
	"github.com/fndeck/fndeck/ui/output"
	"github.com/fndeck/fndeck/ui/tasks"
)

// recRunner records submitted tasks and runs each at once, in order.
type recRunner struct {
	mu     sync.Mutex
	titles []string
}

func (r *recRunner) Submit(kind task.Kind, target, title string, run func(ctx context.Context, out cloud.Sink) error) task.ID {
	r.mu.Lock()
	r.titles = append(r.titles, title)
	r.mu.Unlock()
	go run(context.Background(), cloud.DiscardSink{})
	return 1
}
func (r *recRunner) Output(task.ID) output.Source { return nil }
func (r *recRunner) LogFile(task.ID) string       { return "" }
func (r *recRunner) Cancel(task.ID)               {}
func (r *recRunner) submitted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.titles)
}

// localBackend is a local target that serves old:v1 and records deploys.
type localBackend struct {
	mu       sync.Mutex
	deployed []string
}

func (b *localBackend) Describe(ctx context.Context, a cloud.Address) (cloud.Function, error) {
	return cloud.Function{Address: a.String(), ImageURI: "old:v1"}, nil
}
func (b *localBackend) Deploy(ctx context.Context, req cloud.DeployRequest, out cloud.Sink) (cloud.DeployResult, error) {
	b.mu.Lock()
	b.deployed = append(b.deployed, req.Image)
	b.mu.Unlock()
	return cloud.DeployResult{Target: req.Target.String(), OldImage: "old:v1", NewImage: req.Image}, nil
}
func (b *localBackend) Rollback(ctx context.Context, a cloud.Address, to cloud.DeployResult, out cloud.Sink) (cloud.DeployResult, error) {
	return to, nil
}

// drain runs cmd and every command it leads to (as Bubble Tea would),
// passing messages to the flow, and returns the messages for the root.
func drain(t *testing.T, f *Flow, cmd tea.Cmd) []tea.Msg {
	t.Helper()
	var out []tea.Msg
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		done := make(chan tea.Msg, 1)
		go func() { done <- c() }()
		var msg tea.Msg
		select {
		case msg = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("a command hung")
		}
		switch m := msg.(type) {
		case tea.BatchMsg:
			queue = append(queue, m...)
		case nil:
		default:
			out = append(out, msg)
			queue = append(queue, f.Handle(msg))
		}
	}
	return out
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

func newFlow(r *recRunner, be *localBackend) *Flow {
	return New(Deps{
		Ctx:      context.Background(),
		Runner:   r,
		Backends: func(p cloud.Provider) any { return be },
		Deploy: func(ctx context.Context, d cloud.Deployer, req cloud.DeployRequest, out cloud.Sink) (cloud.DeployResult, error) {
			return d.Deploy(ctx, req, out)
		},
		Rollback: func(ctx context.Context, rb cloud.RollBacker, a cloud.Address, out cloud.Sink) (cloud.DeployResult, error) {
			return rb.Rollback(ctx, a, cloud.DeployResult{NewImage: "old:v0"}, out)
		},
		PreviewRollback: func(ctx context.Context, a cloud.Address) (cloud.DeployResult, bool, error) {
			return cloud.DeployResult{NewImage: "old:v0"}, true, nil
		},
	})
}

// A deploy asks first, showing old → new, and nothing is submitted until
// the dialog's Yes runs; then the deploy runs once and the Functions pane
// is told to reload and the Tasks pane to select the new task.
func TestDeployRunsOnlyWhenConfirmed(t *testing.T) {
	r, be := &recRunner{}, &localBackend{}
	f := newFlow(r, be)
	msgs := drain(t, f, f.Handle(common.DeployRequestMsg{Image: "new:v2", Target: "local:fn"}))
	confirm, ok := find[common.ConfirmRequestMsg](msgs)
	if !ok {
		t.Fatalf("no confirmation asked: %#v", msgs)
	}
	if !slices.Contains(confirm.Body, "old image: old:v1") || !slices.Contains(confirm.Body, "new image: new:v2") {
		t.Errorf("confirmation does not show old → new: %q", confirm.Body)
	}
	if confirm.Title != "Deploy to local:fn?" {
		t.Errorf("title %q", confirm.Title)
	}
	for _, l := range confirm.Body {
		if strings.Contains(l, "registry") {
			t.Errorf("a local deploy mentions a registry: %q", l)
		}
	}
	if s := r.submitted(); len(s) != 0 {
		t.Fatalf("tasks submitted before the user confirmed: %q", s)
	}
	msgs = drain(t, f, confirm.Yes)
	if s := r.submitted(); len(s) != 1 || s[0] != "deploy new:v2 → local:fn" {
		t.Fatalf("after yes, submitted %q; want the one deploy", s)
	}
	if _, ok := find[functions.ReloadMsg](msgs); !ok {
		t.Errorf("no Functions reload after the deploy: %#v", msgs)
	}
	if sel, ok := find[tasks.SelectMsg](msgs); !ok || sel.ID != 1 {
		t.Errorf("the new task is not selected: %#v", msgs)
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	if len(be.deployed) != 1 || be.deployed[0] != "new:v2" {
		t.Errorf("backend deployed %q", be.deployed)
	}
}

// A rollback asks first, naming what it restores; declining runs nothing.
func TestRollbackRunsOnlyWhenConfirmed(t *testing.T) {
	r, be := &recRunner{}, &localBackend{}
	f := newFlow(r, be)
	msgs := drain(t, f, f.Handle(common.RollbackRequestMsg{Address: "local:fn"}))
	confirm, ok := find[common.ConfirmRequestMsg](msgs)
	if !ok {
		t.Fatalf("no confirmation asked: %#v", msgs)
	}
	if !slices.Contains(confirm.Body, "back to: old:v0") {
		t.Errorf("confirmation does not say what it restores: %q", confirm.Body)
	}
	if s := r.submitted(); len(s) != 0 {
		t.Fatalf("rollback submitted before the user confirmed: %q", s)
	}
	drain(t, f, confirm.Yes)
	if s := r.submitted(); len(s) != 1 || s[0] != "rollback local:fn" {
		t.Fatalf("after yes, submitted %q", s)
	}
}

// Without a project file, build asks for the context; the tag offered keeps
// the selected image's repository.
func TestBuildWithoutProjectAsksForContext(t *testing.T) {
	r := &recRunner{}
	f := New(Deps{Ctx: context.Background(), Runner: r, Builder: builderFunc(nil),
		Now: func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) }})
	msgs := drain(t, f, f.Handle(common.BuildRequestMsg{Image: "registry.example/app:v1"}))
	p, ok := find[common.PromptRequestMsg](msgs)
	if !ok || p.Label != "Build context (a directory with a Dockerfile)" {
		t.Fatalf("no context prompt: %#v", msgs)
	}
	msgs = drain(t, f, p.OnSubmit(t.TempDir()))
	tag, ok := find[common.PromptRequestMsg](msgs)
	if !ok || tag.Value != "registry.example/app:20261125-100000" {
		t.Fatalf("tag prompt offers %q, want registry.example/app:20261125-100000", tag.Value)
	}
	if s := r.submitted(); len(s) != 0 {
		t.Fatalf("submitted before the tag was entered: %q", s)
	}
	msgs = drain(t, f, f.Handle(common.BuildRequestMsg{}))
	p, _ = find[common.PromptRequestMsg](msgs)
	msgs = drain(t, f, p.OnSubmit("/no/such/dir"))
	if e, ok := find[common.ErrorMsg](msgs); !ok || e.Err == nil {
		t.Errorf("a missing context is not refused: %#v", msgs)
	}
}

type builderFunc func(ctx context.Context, opts cloud.BuildOptions, out cloud.Sink) (cloud.BuildResult, error)

func (b builderFunc) Build(ctx context.Context, opts cloud.BuildOptions, out cloud.Sink) (cloud.BuildResult, error) {
	return b(ctx, opts, out)
}

// tailBackend emits one line and then follows until cancelled.
type tailBackend struct{}

func (tailBackend) Logs(ctx context.Context, req cloud.LogRequest, emit func(cloud.LogLine)) error {
	emit(cloud.LogLine{Time: time.Now(), Message: "START RequestId: r1"})
	<-ctx.Done()
	return ctx.Err()
}

// seqRunner hands out increasing IDs and runs each task with a context the
// test can cancel.
type seqRunner struct {
	recRunner
	ctx context.Context
	n   int
}

func (r *seqRunner) Submit(kind task.Kind, target, title string, run func(ctx context.Context, out cloud.Sink) error) task.ID {
	r.mu.Lock()
	r.n++
	id := task.ID(r.n)
	r.titles = append(r.titles, title)
	r.mu.Unlock()
	go run(r.ctx, cloud.DiscardSink{})
	return id
}
func (r *seqRunner) Output(id task.ID) output.Source { return emptySource{} }

type emptySource struct{}

func (emptySource) Since(seq uint64) ([]task.Line, uint64, uint64, bool) { return nil, seq, 0, false }
func (emptySource) Notify() <-chan struct{}                              { return nil }

// `l` on a function already tailed shows that tail instead of starting a
// second one, and selecting the tail's task shows the tail, not the task's
// own output.
func TestLogsReuseTheLiveTailAndItsTaskShowsIt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &seqRunner{ctx: ctx}
	out := output.New(output.Options{})
	out.SetSize(80, 20)
	f := New(Deps{Ctx: ctx, Runner: r, Output: out, Backends: func(cloud.Provider) any { return tailBackend{} }})
	f.Handle(common.LogsRequestMsg{Address: "local:fn"})
	if got := out.Title(); !strings.Contains(got, "logs local:fn (task 1)") {
		t.Fatalf("output pane title %q", got)
	}
	f.Handle(common.ShowTaskOutputMsg{ID: 9}) // another task
	f.Handle(common.LogsRequestMsg{Address: "local:fn"})
	if s := r.submitted(); len(s) != 1 {
		t.Fatalf("a second l started another tail: %q", s)
	}
	if got := out.Title(); !strings.Contains(got, "logs local:fn (task 1)") {
		t.Fatalf("the second l does not show the live tail: %q", got)
	}
	f.Handle(common.ShowTaskOutputMsg{ID: 9})
	if got := out.Title(); strings.Contains(got, "logs") {
		t.Fatalf("task 9 not shown: %q", got)
	}
	f.Handle(common.ShowTaskOutputMsg{ID: 1})
	if got := out.Title(); !strings.Contains(got, "logs local:fn (task 1)") {
		t.Fatalf("selecting the tail's task does not show the tail: %q", got)
	}
}

// keepRunner keeps each task's closure so the test can run it again, as
// the runner's Retry does.
type keepRunner struct {
	mu   sync.Mutex
	runs []func(ctx context.Context, out cloud.Sink) error
}

func (r *keepRunner) Submit(kind task.Kind, target, title string, run func(ctx context.Context, out cloud.Sink) error) task.ID {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, run)
	return task.ID(len(r.runs))
}
func (r *keepRunner) Output(task.ID) output.Source { return nil }
func (r *keepRunner) LogFile(task.ID) string       { return "" }
func (r *keepRunner) Cancel(task.ID)               {}
func (r *keepRunner) run(t *testing.T, i int, ctx context.Context) []string {
	t.Helper()
	r.mu.Lock()
	run := r.runs[i]
	r.mu.Unlock()
	var sink lineSink
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("task %d panicked when run again: %v", i+1, p)
			}
		}()
		_ = run(ctx, &sink)
	}()
	return sink.lines
}

type lineSink struct{ lines []string }

func (s *lineSink) Line(l string)           { s.lines = append(s.lines, l) }
func (s *lineSink) Progress(cloud.Progress) {}

type echoInvoker struct{}

func (echoInvoker) Invoke(ctx context.Context, req cloud.InvokeRequest, chunk func([]byte)) (cloud.InvokeResult, error) {
	chunk(req.Payload)
	return cloud.InvokeResult{StatusCode: 200, Response: req.Payload}, nil
}

// Retrying a finished deploy or invoke (R in Tasks runs the same closure
// again) works instead of panicking on the first run's closed channels.
func TestTasksSurviveRetry(t *testing.T) {
	ctx := context.Background()
	r, be := &keepRunner{}, &localBackend{}
	f := New(Deps{
		Ctx: ctx, Runner: r,
		Backends: func(p cloud.Provider) any {
			return struct {
				*localBackend
				echoInvoker
			}{be, echoInvoker{}}
		},
		Deploy: func(ctx context.Context, d cloud.Deployer, req cloud.DeployRequest, out cloud.Sink) (cloud.DeployResult, error) {
			return d.Deploy(ctx, req, out)
		},
	})
	msgs := drain(t, f, f.Handle(common.DeployRequestMsg{Image: "new:v2", Target: "local:fn"}))
	confirm, _ := find[common.ConfirmRequestMsg](msgs)
	f.Handle(confirm.Yes()) // the laterMsg submits the deploy
	r.run(t, 0, ctx)
	r.run(t, 0, ctx) // the retry
	be.mu.Lock()
	if len(be.deployed) != 2 {
		t.Errorf("deployed %d times, want 2", len(be.deployed))
	}
	be.mu.Unlock()

	addr, _ := cloud.ParseAddress("local:fn")
	f.Handle(common.InvokeSendMsg{Address: addr, Payload: []byte(`{"a":1}`)})
	n := len(r.runs)
	r.run(t, n-1, ctx) // its events fit the channel's buffer: no listener needed
	lines := r.run(t, n-1, ctx)
	if !slices.Contains(lines, `response: {"a":1}`) {
		t.Errorf("the retried invoke's result is not in its output: %q", lines)
	}
}

// syncRunner runs each task at once and keeps its output lines.
type syncRunner struct {
	recRunner
	out lineSink
}

func (r *syncRunner) Submit(kind task.Kind, target, title string, run func(ctx context.Context, out cloud.Sink) error) task.ID {
	_ = run(context.Background(), &r.out)
	return 1
}

// A failed task ends its output with the error and, when the error says
// what to do, that too: the output pane is where a TUI user reads it.
func TestFailedTaskOutputEndsWithTheHint(t *testing.T) {
	r := &syncRunner{}
	f := New(Deps{
		Ctx:      context.Background(),
		Runner:   r,
		Backends: func(p cloud.Provider) any { return &localBackend{} },
		Deploy: func(ctx context.Context, d cloud.Deployer, req cloud.DeployRequest, out cloud.Sink) (cloud.DeployResult, error) {
			return cloud.DeployResult{}, cloud.WithHint(errors.New("deploying local:fn: no bridge network"), "set local.network: host")
		},
	})
	confirm, ok := find[common.ConfirmRequestMsg](drain(t, f, f.Handle(common.DeployRequestMsg{Image: "new:v2", Target: "local:fn"})))
	if !ok {
		t.Fatal("no confirmation asked")
	}
	drain(t, f, confirm.Yes)
	want := []string{"error: deploying local:fn: no bridge network", "hint: set local.network: host"}
	if got := r.out.lines; len(got) < 2 || !slices.Equal(got[len(got)-2:], want) {
		t.Fatalf("task output ends %q, want %q", got, want)
	}
}

// The deploy confirmation shows doctor's checks when there are some.
func TestDeployConfirmationShowsChecks(t *testing.T) {
	r, be := &recRunner{}, &localBackend{}
	f := newFlow(r, be)
	var asked []string
	f.d.Doctor = func(_ context.Context, req cloud.DeployRequest) []string {
		asked = append(asked, req.Image+" "+req.Target.String())
		return []string{"error   image platform is linux/arm64 but Cloud Run runs linux/amd64 only"}
	}
	confirm, ok := find[common.ConfirmRequestMsg](drain(t, f, f.Handle(common.DeployRequestMsg{Image: "new:v2", Target: "local:fn"})))
	if !ok {
		t.Fatal("no confirmation asked")
	}
	if !slices.Contains(confirm.Body, "checks:") || !slices.Contains(confirm.Body, "error   image platform is linux/arm64 but Cloud Run runs linux/amd64 only") {
		t.Errorf("confirmation body lacks the checks: %q", confirm.Body)
	}
	if len(asked) != 1 || asked[0] != "new:v2 local:fn" {
		t.Errorf("doctor asked %q", asked)
	}
}
