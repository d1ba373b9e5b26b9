package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/redact"
	"github.com/fndeck/fndeck/internal/task"
)

const hangBound = 30 * time.Second

func newTestRunner(t *testing.T, opts RunnerOptions) *Runner {
	t.Helper()
	if opts.StateDir == "" {
		opts.StateDir = t.TempDir()
	}
	opts.Context = t.Context()
	r, err := NewRunner(opts)
	if err != nil {
		t.Fatalf("NewRunner: %v", err)
	}
	t.Cleanup(r.Close)
	return r
}

// waitUntil waits on Changed until cond holds, failing after a generous bound.
func waitUntil(t *testing.T, r *Runner, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(hangBound)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-r.Changed():
		case <-deadline.C:
			t.Fatalf("timed out waiting until %s; tasks: %+v", what, r.Tasks())
		}
	}
}

func wait(t *testing.T, r *Runner, id task.ID) task.Info {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hangBound)
	defer cancel()
	info, err := r.Wait(ctx, id)
	if err != nil {
		t.Fatalf("Wait(%d): %v", id, err)
	}
	return info
}

// gated returns a Run that blocks until gate closes (or ctx ends) and counts
// how many such runs are active at once.
func gated(gate <-chan struct{}, active, maxActive *atomic.Int32) func(context.Context, Output) error {
	return func(ctx context.Context, out Output) error {
		n := active.Add(1)
		defer active.Add(-1)
		for {
			m := maxActive.Load()
			if n <= m || maxActive.CompareAndSwap(m, n) {
				break
			}
		}
		out.Line("started") // wakes waitUntil
		select {
		case <-gate:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func TestRunnerLimit(t *testing.T) {
	r := newTestRunner(t, RunnerOptions{Limit: 2})
	gate := make(chan struct{})
	var active, maxActive atomic.Int32
	var ids []task.ID
	for i := range 5 {
		ids = append(ids, r.Submit(Spec{Kind: task.KindInvoke, Target: fmt.Sprint("t", i), Run: gated(gate, &active, &maxActive)}))
	}
	waitUntil(t, r, "two tasks run", func() bool { return active.Load() == 2 })
	if info, _ := r.Get(ids[2]); info.State != task.Queued {
		t.Fatalf("third task is %s, want queued while two run", info.State)
	}
	close(gate)
	for _, id := range ids {
		if info := wait(t, r, id); info.State != task.Succeeded {
			t.Fatalf("task %d: %s %s", id, info.State, info.Err)
		}
	}
	if m := maxActive.Load(); m != 2 {
		t.Fatalf("max concurrent runs = %d, want 2", m)
	}
}

func TestRunnerSerializesPerTarget(t *testing.T) {
	r := newTestRunner(t, RunnerOptions{Limit: 4})
	gate := make(chan struct{})
	var active, maxActive atomic.Int32
	first := r.Submit(Spec{Kind: task.KindDeploy, Target: "lambda:eu-west-1/fn", Run: gated(gate, &active, &maxActive)})
	second := r.Submit(Spec{Kind: task.KindInvoke, Target: "lambda:eu-west-1/fn", Run: gated(gate, &active, &maxActive)})
	other := r.Submit(Spec{Kind: task.KindInvoke, Target: "local:other", Run: func(context.Context, Output) error { return nil }})
	if info := wait(t, r, other); info.State != task.Succeeded {
		t.Fatalf("other target: %s", info.State)
	}
	if info, _ := r.Get(second); info.State != task.Queued {
		t.Fatalf("second task on the same target is %s, want queued", info.State)
	}
	close(gate)
	a, b := wait(t, r, first), wait(t, r, second)
	if b.Started.Before(a.Finished) {
		t.Fatalf("second started %v before first finished %v", b.Started, a.Finished)
	}
	if maxActive.Load() != 1 {
		t.Fatalf("%d runs on one target at once", maxActive.Load())
	}
}

func TestRunnerDependencies(t *testing.T) {
	r := newTestRunner(t, RunnerOptions{Limit: 4})
	var order []string
	var mu sync.Mutex
	step := func(name string, err error) func(context.Context, Output) error {
		return func(context.Context, Output) error {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			return err
		}
	}
	build := r.Submit(Spec{Kind: task.KindBuild, Target: "app:dev", Run: step("build", nil)})
	push := r.Submit(Spec{Kind: task.KindPush, Target: "registry/app:dev", After: []task.ID{build}, Run: step("push", nil)})
	if info := wait(t, r, push); info.State != task.Succeeded {
		t.Fatalf("push: %s %s", info.State, info.Err)
	}
	if strings.Join(order, ",") != "build,push" {
		t.Fatalf("order = %v", order)
	}

	// A failing build skips the push and, through it, the deploy.
	order = nil
	build = r.Submit(Spec{Kind: task.KindBuild, Target: "app:dev", Run: step("build", errors.New("RUN make: exit 2"))})
	push = r.Submit(Spec{Kind: task.KindPush, Target: "registry/app:dev", After: []task.ID{build}, Run: step("push", nil)})
	deploy := r.Submit(Spec{Kind: task.KindDeploy, Target: "local:app", After: []task.ID{push}, Run: step("deploy", nil)})
	if info := wait(t, r, build); info.State != task.Failed || info.Err != "RUN make: exit 2" {
		t.Fatalf("build: %s %q", info.State, info.Err)
	}
	p, d := wait(t, r, push), wait(t, r, deploy)
	if p.State != task.Failed || p.Err != fmt.Sprintf("skipped: build #%d failed", build) || !p.Started.IsZero() {
		t.Fatalf("push: %s %q started=%v", p.State, p.Err, p.Started)
	}
	if d.State != task.Failed || d.Err != fmt.Sprintf("skipped: push #%d failed", push) {
		t.Fatalf("deploy: %s %q", d.State, d.Err)
	}
	if strings.Join(order, ",") != "build" {
		t.Fatalf("skipped tasks ran: %v", order)
	}
	lines, _, _, done := r.Output(push).Since(0)
	if !done || len(lines) != 1 || !strings.Contains(lines[0].Text, "skipped") {
		t.Fatalf("skipped task output: %+v done=%v", lines, done)
	}

	// Unknown dependency.
	bad := r.Submit(Spec{Kind: task.KindPush, After: []task.ID{999}, Run: step("x", nil)})
	if info := wait(t, r, bad); info.State != task.Failed || !strings.Contains(info.Err, "unknown task #999") {
		t.Fatalf("unknown dep: %s %q", info.State, info.Err)
	}
}

func TestRunnerCancel(t *testing.T) {
	r := newTestRunner(t, RunnerOptions{Limit: 1})
	started := make(chan struct{})
	running := r.Submit(Spec{Kind: task.KindLogs, Target: "local:fn", Run: func(ctx context.Context, out Output) error {
		close(started)
		<-ctx.Done()
		return fmt.Errorf("tailing: %w", ctx.Err())
	}})
	queued := r.Submit(Spec{Kind: task.KindBuild, Target: "img", Run: func(context.Context, Output) error { return nil }})
	dependent := r.Submit(Spec{Kind: task.KindPush, Target: "img2", After: []task.ID{queued}, Run: func(context.Context, Output) error { return nil }})
	<-started
	r.Cancel(queued)
	if info := wait(t, r, queued); info.State != task.Cancelled || !info.Started.IsZero() {
		t.Fatalf("queued task after cancel: %s started=%v", info.State, info.Started)
	}
	if info := wait(t, r, dependent); info.State != task.Cancelled || !strings.Contains(info.Err, "was cancelled") {
		t.Fatalf("dependent of cancelled: %s %q", info.State, info.Err)
	}
	r.Cancel(running)
	info := wait(t, r, running)
	if info.State != task.Cancelled || info.Err != "cancelled" {
		t.Fatalf("running task after cancel: %s %q", info.State, info.Err)
	}
	// A task failing on its own context is failed, not cancelled.
	own := r.Submit(Spec{Kind: task.KindInvoke, Run: func(ctx context.Context, out Output) error {
		c, cancel := context.WithCancel(ctx)
		cancel()
		return c.Err()
	}})
	if info := wait(t, r, own); info.State != task.Failed {
		t.Fatalf("task cancelling its own ctx: %s", info.State)
	}
}

func TestRunnerRetry(t *testing.T) {
	r := newTestRunner(t, RunnerOptions{})
	var runs atomic.Int32
	id := r.Submit(Spec{Kind: task.KindPush, Target: "repo:tag", Title: "push repo:tag", Args: map[string]string{"to": "x"}, Run: func(context.Context, Output) error {
		if runs.Add(1) == 1 {
			return errors.New("registry unreachable")
		}
		return nil
	}})
	if _, err := r.Retry(12345); err == nil {
		t.Fatal("Retry of an unknown task: no error")
	}
	if info := wait(t, r, id); info.State != task.Failed {
		t.Fatalf("first run: %s", info.State)
	}
	nid, err := r.Retry(id)
	if err != nil {
		t.Fatal(err)
	}
	info := wait(t, r, nid)
	if nid == id || info.State != task.Succeeded || info.RetryOf != id || info.Title != "push repo:tag" || info.Args["to"] != "x" {
		t.Fatalf("retry: %+v", info)
	}
	gate := make(chan struct{})
	defer close(gate)
	busy := r.Submit(Spec{Kind: task.KindLogs, Run: func(ctx context.Context, _ Output) error {
		select {
		case <-gate:
		case <-ctx.Done():
		}
		return nil
	}})
	if _, err := r.Retry(busy); err == nil || !strings.Contains(err.Error(), "still") {
		t.Fatalf("Retry of an unfinished task: %v", err)
	}
}

func TestRunnerRecoversPanic(t *testing.T) {
	r := newTestRunner(t, RunnerOptions{})
	id := r.Submit(Spec{Kind: task.KindBuild, Run: func(context.Context, Output) error {
		var m map[string]int
		m["x"] = 1 // a real bug: nil map write
		return nil
	}})
	info := wait(t, r, id)
	if info.State != task.Failed || !strings.Contains(info.Err, "panic: assignment to entry in nil map") {
		t.Fatalf("panicking task: %s %q", info.State, info.Err)
	}
	lines, _, _, _ := r.Output(id).Since(0)
	if len(lines) < 2 || !strings.Contains(lines[0].Text, "task panicked") {
		t.Fatalf("panic output: %v", texts(lines))
	}
	// The runner is still usable.
	ok := r.Submit(Spec{Kind: task.KindBuild, Run: func(context.Context, Output) error { return nil }})
	if info := wait(t, r, ok); info.State != task.Succeeded {
		t.Fatalf("after panic: %s", info.State)
	}
}

func TestRunnerTimestampsAndEvent(t *testing.T) {
	var clock atomic.Int64
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return base.Add(time.Duration(clock.Add(1)) * time.Second) }
	r := newTestRunner(t, RunnerOptions{Now: now})
	id := r.Submit(Spec{Kind: task.KindDeploy, Target: "local:fn", Run: func(_ context.Context, out Output) error {
		out.Summary("deployed app@sha256:abc")
		return nil
	}})
	info := wait(t, r, id)
	if info.Queued.IsZero() || !info.Started.After(info.Queued) || !info.Finished.After(info.Started) {
		t.Fatalf("timestamps: queued %v started %v finished %v", info.Queued, info.Started, info.Finished)
	}
	if info.Elapsed(time.Time{}) <= 0 {
		t.Fatalf("elapsed = %v", info.Elapsed(time.Time{}))
	}
	b, err := json.Marshal(info.Event())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "kind", "target", "state", "started", "finished"} {
		if _, ok := m[k]; !ok {
			t.Errorf("event %s lacks %q", b, k)
		}
	}
	if m["state"] != "succeeded" || m["kind"] != "deploy" || m["summary"] != "deployed app@sha256:abc" {
		t.Fatalf("event = %s", b)
	}
	if _, ok := m["error"]; ok {
		t.Fatalf("successful task event carries an error: %s", b)
	}
	if want := info.Queued.Add(time.Second).Format(time.RFC3339); m["started"] != want {
		t.Fatalf("started = %v, want %s", m["started"], want)
	}
}

func TestRunnerProgressAndLastLine(t *testing.T) {
	r := newTestRunner(t, RunnerOptions{})
	id := r.Submit(Spec{Kind: task.KindPush, Run: func(_ context.Context, out Output) error {
		out.Progress(cloud.Progress{ID: "sha256:a", Status: "Pushing", Current: 10, Total: 100})
		out.Progress(cloud.Progress{ID: "sha256:b", Status: "Pushing", Current: 1, Total: 50})
		out.Progress(cloud.Progress{ID: "sha256:a", Status: "Pushed", Current: 100, Total: 100})
		out.Line("first")
		fmt.Fprint(out, "second\nthird")
		return nil
	}})
	info := wait(t, r, id)
	if len(info.Progress) != 2 || info.Progress[0].ID != "sha256:a" || info.Progress[0].Status != "Pushed" || info.Progress[1].Current != 1 {
		t.Fatalf("progress = %+v", info.Progress)
	}
	if info.LastLine != "third" {
		t.Fatalf("last line = %q (the partial line is flushed at the end)", info.LastLine)
	}
}

func TestRunnerFileKeepsWhatTheRingDropped(t *testing.T) {
	dir := t.TempDir()
	r := newTestRunner(t, RunnerOptions{StateDir: dir, BufferLines: 10})
	huge := strings.Repeat("z", 2<<20)
	id := r.Submit(Spec{Kind: task.KindLogs, Target: "local:fn", Run: func(_ context.Context, out Output) error {
		for i := range 1000 {
			fmt.Fprintf(out, "line %d\n", i)
		}
		out.Line(huge)
		return nil
	}})
	info := wait(t, r, id)
	if info.State != task.Succeeded || info.LogFile == "" {
		t.Fatalf("task: %s logfile=%q", info.State, info.LogFile)
	}
	buf := r.Output(id)
	if buf.Len() != 10 || buf.Dropped() != 991 {
		t.Fatalf("ring len=%d dropped=%d", buf.Len(), buf.Dropped())
	}
	if filepath.Dir(info.LogFile) != filepath.Join(dir, "tasks") {
		t.Fatalf("log file in %s", info.LogFile)
	}
	name := filepath.Base(info.LogFile)
	if want := fmt.Sprintf("-%d-logs.log", id); !strings.HasSuffix(name, want) || !strings.HasPrefix(name, info.Started.UTC().Format("20060102T")) {
		t.Fatalf("log file name %q", name)
	}
	fi, err := os.Stat(info.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("log file mode %v", fi.Mode())
	}
	if di, _ := os.Stat(filepath.Dir(info.LogFile)); di.Mode().Perm() != 0o700 {
		t.Fatalf("tasks dir mode %v", di.Mode())
	}
	b, err := os.ReadFile(info.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 1002 || !strings.HasPrefix(lines[0], "# fndeck task") {
		t.Fatalf("file has %d lines, want header + 1001", len(lines))
	}
	for i := range 1000 {
		if lines[i+1] != fmt.Sprintf("line %d", i) {
			t.Fatalf("file line %d = %q", i+1, lines[i+1])
		}
	}
	if lines[1001] != huge {
		t.Fatalf("file cut the huge line to %d bytes", len(lines[1001]))
	}
}

func TestRunnerRedactsSecrets(t *testing.T) {
	r := newTestRunner(t, RunnerOptions{})
	const token = "ecr-token-5f2b9c"
	id := r.Submit(Spec{Kind: task.KindPush, Target: "123.dkr.ecr.eu-west-1.amazonaws.com/app", Run: func(_ context.Context, out Output) error {
		out.Secret(token)
		out.Line("logging in with " + token)
		// A secret split across two writes is still caught.
		fmt.Fprint(out, "auth header uses ecr-tok")
		fmt.Fprint(out, "en-5f2b9c\nDB_PASSWORD=hunter22\n")
		out.Summary("pushed with " + token)
		return fmt.Errorf("login failed for token %s", token)
	}})
	info := wait(t, r, id)
	if info.State != task.Failed {
		t.Fatalf("state %s", info.State)
	}
	for what, s := range map[string]string{"error": info.Err, "summary": info.Summary} {
		if strings.Contains(s, token) || !strings.Contains(s, redact.Redacted) {
			t.Errorf("%s not redacted: %q", what, s)
		}
	}
	b, err := os.ReadFile(info.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	lines, _, _, _ := r.Output(id).Since(0)
	ring := strings.Join(texts(lines), "\n")
	for what, s := range map[string]string{"file": string(b), "ring": ring} {
		if strings.Contains(s, "5f2b9c") || strings.Contains(s, "hunter22") {
			t.Errorf("%s holds a secret:\n%s", what, s)
		}
		if strings.Count(s, redact.Redacted) != 3 {
			t.Errorf("%s: want 3 redactions:\n%s", what, s)
		}
	}
}

func TestRunnerCloseCancelsEverything(t *testing.T) {
	opts := RunnerOptions{StateDir: t.TempDir(), Limit: 1, Context: t.Context()}
	r, err := NewRunner(opts)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	running := r.Submit(Spec{Kind: task.KindLogs, Run: func(ctx context.Context, _ Output) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}})
	queued := r.Submit(Spec{Kind: task.KindBuild, Run: func(context.Context, Output) error { return nil }})
	<-started
	closed := make(chan struct{})
	go func() { r.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(hangBound):
		t.Fatal("Close did not return")
	}
	for _, id := range []task.ID{running, queued} {
		if info, _ := r.Get(id); info.State != task.Cancelled {
			t.Fatalf("task %d after Close: %s", id, info.State)
		}
	}
	late := r.Submit(Spec{Kind: task.KindBuild, Run: func(context.Context, Output) error { return nil }})
	if info, _ := r.Get(late); info.State != task.Cancelled || info.Err != "runner closed" {
		t.Fatalf("submit after Close: %s %q", info.State, info.Err)
	}
	if r.Running() != 0 {
		t.Fatalf("running after close: %d", r.Running())
	}
}

func TestRunnerPrunesOldLogs(t *testing.T) {
	dir := t.TempDir()
	tasks := filepath.Join(dir, "tasks")
	os.MkdirAll(tasks, 0o700)
	now := time.Now()
	files := map[string]time.Time{
		"old.log":    now.Add(-8 * 24 * time.Hour),
		"recent.log": now.Add(-6 * 24 * time.Hour),
		"old.txt":    now.Add(-30 * 24 * time.Hour), // not ours
	}
	for name, mt := range files {
		p := filepath.Join(tasks, name)
		if err := os.WriteFile(p, []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, mt, mt)
	}
	r := newTestRunner(t, RunnerOptions{StateDir: dir})
	r.Close() // the prune runs beside the start; Close waits for it
	for name, keep := range map[string]bool{"old.log": false, "recent.log": true, "old.txt": true} {
		_, err := os.Stat(filepath.Join(tasks, name))
		if exists := err == nil; exists != keep {
			t.Errorf("%s exists=%v, want %v", name, exists, keep)
		}
	}
}

func TestRunnerTasksAreCopies(t *testing.T) {
	r := newTestRunner(t, RunnerOptions{})
	gate := make(chan struct{})
	id := r.Submit(Spec{Kind: task.KindPush, Run: func(ctx context.Context, out Output) error {
		out.Progress(cloud.Progress{ID: "l1", Current: 1})
		select {
		case <-gate:
		case <-ctx.Done():
		}
		out.Progress(cloud.Progress{ID: "l1", Current: 2})
		return nil
	}})
	waitUntil(t, r, "progress shows", func() bool { i, _ := r.Get(id); return len(i.Progress) == 1 })
	snap := r.Tasks()
	close(gate)
	wait(t, r, id)
	if snap[0].Progress[0].Current != 1 || snap[0].State != task.Running {
		t.Fatalf("snapshot changed under the caller: %+v", snap[0])
	}
}

func TestRunnerWideSecretAndForgetting(t *testing.T) {
	r := newTestRunner(t, RunnerOptions{KeepFinished: 3, Limit: 2}) // invokes run one by one
	r.Secret("registry-pass-77")
	gate := make(chan struct{})
	build := r.Submit(Spec{Kind: task.KindBuild, Target: "img", Run: func(ctx context.Context, out Output) error {
		select {
		case <-gate:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}})
	push := r.Submit(Spec{Kind: task.KindPush, Target: "img", After: []task.ID{build}, Run: func(_ context.Context, out Output) error {
		out.Line("login registry-pass-77")
		return nil
	}})
	var ids []task.ID
	for range 5 {
		ids = append(ids, r.Submit(Spec{Kind: task.KindInvoke, Run: func(context.Context, Output) error { return nil }}))
	}
	// Finished tasks may be forgotten at once, so Wait could miss them.
	waitUntil(t, r, "the invokes finish", func() bool {
		for _, id := range ids {
			if info, ok := r.Get(id); ok && !info.State.Final() {
				return false
			}
		}
		return true
	})
	close(gate)
	if info := wait(t, r, push); info.State != task.Succeeded || info.LastLine != "login "+redact.Redacted {
		t.Fatalf("push: %s last line %q", info.State, info.LastLine)
	}
	var left []task.ID
	for _, ti := range r.Tasks() {
		left = append(left, ti.ID)
	}
	// Three finished tasks stay: the last invoke, then build and push,
	// which finished last (forgetting goes by finish time, not submit order).
	if !slices.Equal(left, []task.ID{build, push, ids[4]}) || r.Output(ids[0]) != nil {
		t.Fatalf("tasks left %v, want %v", left, []task.ID{build, push, ids[4]})
	}
	if _, ok := r.Get(ids[0]); ok {
		t.Fatal("oldest finished task still listed")
	}
}

func TestRunnerBreaksEndlessLine(t *testing.T) {
	r := newTestRunner(t, RunnerOptions{})
	chunk := []byte(strings.Repeat("q", 1<<20))
	id := r.Submit(Spec{Kind: task.KindLogs, Run: func(_ context.Context, out Output) error {
		for range 20 { // 20 MiB without a newline
			out.Write(chunk)
		}
		return nil
	}})
	info := wait(t, r, id)
	fi, err := os.Stat(info.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(info.LogFile)
	body := string(b[strings.IndexByte(string(b), '\n')+1:])
	if strings.Count(body, "q") != 20<<20 || strings.Count(body, "\n") < 2 || fi.Size() < 20<<20 {
		t.Fatalf("file: %d bytes, %d newlines", fi.Size(), strings.Count(body, "\n"))
	}
}

// BenchmarkOutputWrite measures a task's whole output path: line split,
// redaction, ring and file.
func BenchmarkOutputWrite(b *testing.B) {
	r, err := NewRunner(RunnerOptions{StateDir: b.TempDir(), Context: b.Context()})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var chunk []byte
	for i := range 64 {
		chunk = fmt.Appendf(chunk, "Step %d/64 : RUN go build -o /app ./cmd/app && echo done path=/api/v1/items\n", i)
	}
	start := make(chan struct{})
	finished := make(chan struct{})
	id := r.Submit(Spec{Kind: task.KindBuild, Run: func(ctx context.Context, out Output) error {
		<-start
		for b.Loop() {
			out.Write(chunk)
		}
		close(finished)
		return nil
	}})
	b.ReportAllocs()
	b.ResetTimer()
	close(start)
	<-finished
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "lines/s")
	ctx, cancel := context.WithTimeout(b.Context(), hangBound)
	defer cancel()
	r.Wait(ctx, id)
}

// A log tail's events keep their fields in the ring (time, stream,
// severity, JSON payload, address) and reach the output file as text, both
// redacted; a multi-line event stays one line in the ring.
func TestRunnerLogEventsKeepFieldsAndReachTheFile(t *testing.T) {
	r := newTestRunner(t, RunnerOptions{})
	at := time.Date(2026, 11, 26, 3, 4, 5, 6_000_000, time.UTC)
	const token = "tok-77aa"
	id := r.Submit(Spec{Kind: task.KindLogs, Run: func(_ context.Context, out Output) error {
		out.Secret(token)
		out.Line("following")
		out.Log(cloud.LogLine{Time: at, Address: "lambda:us-east-1/fn", Stream: "2026/11/26/[$LATEST]ab", Severity: "ERROR",
			Message: "boom " + token + "\n  at handler", JSON: []byte(`{"token":"` + token + `"}`)})
		out.Log(cloud.LogLine{Time: at, Notice: true, Message: cloud.WaitingNotice})
		return nil
	}})
	info := wait(t, r, id)
	lines, _, _, _ := r.Output(id).Since(0)
	if len(lines) != 3 || lines[0].Log != nil {
		t.Fatalf("ring %+v", lines)
	}
	ev := lines[1]
	if ev.Log == nil || !ev.Time.Equal(at) || ev.Log.Severity != "ERROR" || ev.Log.Stream != "2026/11/26/[$LATEST]ab" ||
		ev.Log.Address != "lambda:us-east-1/fn" || ev.Text != "boom "+redact.Redacted+"\n  at handler" ||
		strings.Contains(ev.Log.JSON, token) || !strings.Contains(ev.Log.JSON, redact.Redacted) {
		t.Fatalf("event in the ring: %+v %+v", ev, ev.Log)
	}
	if n := lines[2]; n.Log == nil || !n.Log.Notice || n.Text != cloud.WaitingNotice {
		t.Fatalf("notice in the ring: %+v", n)
	}
	b, err := os.ReadFile(info.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	want := "following\n" +
		"2026-11-26T03:04:05.006Z ERROR 2026/11/26/[$LATEST]ab boom " + redact.Redacted + "\n\t  at handler\n" +
		"2026-11-26T03:04:05.006Z fndeck: " + cloud.WaitingNotice + "\n"
	if _, body, _ := strings.Cut(string(b), "\n"); body != want {
		t.Fatalf("file:\n%s\nwant:\n%s", body, want)
	}
}

// A task's output file is capped by CaptureBytes: past half of it the file
// becomes the previous segment, replacing the one before, and the lines
// rotated out are counted; the two files keep the newest lines, in order.
func TestRunnerCaptureRotatesTheOldestSegment(t *testing.T) {
	dir := t.TempDir()
	r := newTestRunner(t, RunnerOptions{StateDir: dir, CaptureBytes: 64 << 10})
	const n = 20_000 // "line 00000\n" is 11 bytes: 220 KB, about 7 segments of 32 KiB
	id := r.Submit(Spec{Kind: task.KindLogs, Run: func(_ context.Context, out Output) error {
		for i := range n {
			out.Line(fmt.Sprintf("line %05d", i))
		}
		return nil
	}})
	info := wait(t, r, id)
	prev := strings.TrimSuffix(info.LogFile, ".log") + ".prev.log"
	var kept []int
	var lostSaid string
	for _, p := range []string{prev, info.LogFile} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 64<<10 {
			t.Fatalf("%s is %d bytes, over the whole cap", p, len(b))
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			var k int
			if _, err := fmt.Sscanf(l, "line %d", &k); err == nil {
				kept = append(kept, k)
			} else if strings.Contains(l, "rotated out") {
				lostSaid = l
			}
		}
	}
	if len(kept) == 0 || kept[len(kept)-1] != n-1 {
		t.Fatalf("the newest line is not kept: %d lines, last %v", len(kept), kept[max(0, len(kept)-1):])
	}
	for i := 1; i < len(kept); i++ {
		if kept[i] != kept[i-1]+1 {
			t.Fatalf("kept lines not contiguous at %d: %d then %d", i, kept[i-1], kept[i])
		}
	}
	lost := kept[0] // lines 0..kept[0]-1 were rotated out
	if want := fmt.Sprintf("the oldest %d lines were rotated out", lost); !strings.Contains(lostSaid, want) {
		t.Fatalf("the file says %q, want %q", lostSaid, want)
	}
	if lost == 0 || len(kept) < 3000 {
		t.Fatalf("kept %d lines, lost %d: the cap was not used as two segments", len(kept), lost)
	}
}
