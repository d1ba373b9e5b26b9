// Over 600 lines, on purpose for now: the runner's admission, task lifecycle,
// output files and capture rotation share one lock and one set of task
// states; splitting them is issue 19's part 4, due once no branch edits them.

package actions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/redact"
	"github.com/fndeck/fndeck/internal/task"
)

// DefaultLimit is how many tasks run at once when RunnerOptions.Limit is unset.
const DefaultLimit = 4

// LogRetention is how long task output files are kept.
const LogRetention = 7 * 24 * time.Hour

// RunnerOptions configures a Runner.
type RunnerOptions struct {
	// Context is the parent of every task's context (main's context, so an
	// interrupt cancels everything). Nil means the runner makes its own root,
	// ended by Close.
	Context context.Context
	// Limit is how many tasks run at once; <= 0 means DefaultLimit.
	Limit int
	// StateDir is fndeck's state directory; task output files go to
	// StateDir/tasks. Empty means no files (tests, UI demos).
	StateDir string
	// BufferLines and BufferBytes bound each task's output ring (0 = default).
	BufferLines, BufferBytes int
	// CaptureBytes bounds each task's output file (logs.capture_bytes);
	// <= 0 means DefaultCaptureBytes. Past it the oldest segment is
	// rotated out and the lines lost are counted in the file and output.
	CaptureBytes int64
	// Now is the clock for task timestamps (default time.Now).
	Now func() time.Time
	// KeepFinished is how many finished tasks (with their output rings)
	// stay listed; older ones are forgotten so a long session does not
	// keep every ring. <= 0 means DefaultKeepFinished. A finished task a
	// queued task still depends on is kept.
	KeepFinished int
}

// DefaultCaptureBytes is RunnerOptions.CaptureBytes' default (1 GiB).
const DefaultCaptureBytes = 1 << 30

// DefaultKeepFinished is RunnerOptions.KeepFinished's default.
const DefaultKeepFinished = 200

// Runner admits, runs and tracks tasks. All methods are safe for concurrent use.
type Runner struct {
	opts    RunnerOptions
	now     func() time.Time
	ctx     context.Context
	cancel  context.CancelFunc
	taskDir string
	// captureBytes bounds one task's output file.
	captureBytes int64

	mu      sync.Mutex
	tasks   map[task.ID]*job
	order   []*job
	nextID  task.ID
	closed  bool
	changed chan struct{}
	wg      sync.WaitGroup

	// secrets are redacted from every task's output (values known to the
	// whole program, e.g. registry passwords from the docker config).
	secrets *redact.Redactor

	pruned chan struct{} // closed when the start-up prune of old output is done
}

type job struct {
	info      task.Info
	spec      Spec
	buf       *Buffer
	red       *redact.Redactor
	out       *taskOutput
	cancel    context.CancelFunc
	cancelled bool // cancelled by us (Cancel or Close), not by the task itself
	done      chan struct{}
	progIdx   map[string]int
}

// NewRunner makes a runner. With a StateDir it creates StateDir/tasks (0700)
// and deletes task output files older than seven days.
func NewRunner(opts RunnerOptions) (*Runner, error) {
	if opts.Limit <= 0 {
		opts.Limit = DefaultLimit
	}
	if opts.KeepFinished <= 0 {
		opts.KeepFinished = DefaultKeepFinished
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	parent := opts.Context
	if parent == nil {
		// The runner outlives any one call; Close ends this root.
		parent = context.Background()
	}
	if opts.CaptureBytes <= 0 {
		opts.CaptureBytes = DefaultCaptureBytes
	}
	r := &Runner{
		captureBytes: opts.CaptureBytes,
		opts:         opts,
		now:          now,
		tasks:        map[task.ID]*job{},
		changed:      make(chan struct{}, 1),
		secrets:      redact.New(),
	}
	if opts.StateDir != "" {
		r.taskDir = filepath.Join(opts.StateDir, "tasks")
		if err := os.MkdirAll(r.taskDir, 0o700); err != nil {
			return nil, fmt.Errorf("creating task output directory: %w", err)
		}
		// Old output files go in the background: a week of tasks is
		// hundreds of files to stat, and the TUI's first frame is budgeted
		// in milliseconds. A file that cannot go now goes on a later start.
		dir, cutoff := r.taskDir, now().Add(-LogRetention)
		r.pruned = make(chan struct{})
		go func() {
			defer close(r.pruned)
			if err := pruneTaskLogs(dir, cutoff); err != nil {
				slog.Debug("pruning old task output", "dir", dir, "err", err)
			}
		}()
	}
	r.ctx, r.cancel = context.WithCancel(parent)
	return r, nil
}

// pruneTaskLogs removes *.log files last written before cutoff.
func pruneTaskLogs(dir string, cutoff time.Time) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading task output directory %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".log") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if fi.ModTime().Before(cutoff) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("pruning old task output: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// Changed returns a one-slot channel that receives whenever any task changes
// state, progress, summary or last line. Call Tasks after it fires.
func (r *Runner) Changed() <-chan struct{} { return r.changed }

func (r *Runner) notify() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// Submit queues a task and returns its ID. After Close, the task is
// cancelled at once; a Spec without Run fails at once.
func (r *Runner) Submit(s Spec) task.ID {
	r.mu.Lock()
	id := r.submitLocked(s, 0)
	r.mu.Unlock()
	r.notify()
	return id
}

func (r *Runner) submitLocked(s Spec, retryOf task.ID) task.ID {
	r.nextID++
	t := &job{
		spec: s,
		buf:  NewBuffer(r.opts.BufferLines, r.opts.BufferBytes),
		red:  r.secrets.Child(),
		done: make(chan struct{}),
		info: task.Info{
			ID:      r.nextID,
			Kind:    s.Kind,
			Target:  s.Target,
			Title:   s.Title,
			Args:    maps.Clone(s.Args),
			After:   slices.Clone(s.After),
			RetryOf: retryOf,
			State:   task.Queued,
			Queued:  r.now(),
		},
	}
	r.tasks[t.info.ID] = t
	r.order = append(r.order, t)
	switch {
	case r.closed:
		r.finishLocked(t, task.Cancelled, "runner closed")
	case s.Run == nil:
		r.finishLocked(t, task.Failed, "task has nothing to run")
	default:
		r.scheduleLocked()
	}
	return t.info.ID
}

// scheduleLocked settles queued tasks whose dependencies ended badly, then
// starts what admissible allows.
func (r *Runner) scheduleLocked() {
	if r.closed {
		return
	}
	for changed := true; changed; {
		changed = false
		for _, t := range r.order {
			if t.info.State != task.Queued {
				continue
			}
			for _, d := range t.info.After {
				dt, ok := r.tasks[d]
				switch {
				case !ok:
					r.finishLocked(t, task.Failed, fmt.Sprintf("skipped: depends on unknown task #%d", d))
				case dt.info.State == task.Failed:
					r.finishLocked(t, task.Failed, fmt.Sprintf("skipped: %s #%d failed", dt.info.Kind, d))
				case dt.info.State == task.Cancelled:
					r.finishLocked(t, task.Cancelled, fmt.Sprintf("skipped: %s #%d was cancelled", dt.info.Kind, d))
				default:
					continue
				}
				changed = true
				break
			}
		}
	}
	var queued, running []task.Info
	for _, t := range r.order {
		switch t.info.State {
		case task.Queued:
			queued = append(queued, t.info)
		case task.Running:
			running = append(running, t.info)
		}
	}
	for _, id := range admissible(queued, running, r.opts.Limit) {
		r.startLocked(r.tasks[id])
	}
	r.forgetLocked()
}

// forgetLocked drops the tasks that finished longest ago beyond KeepFinished.
func (r *Runner) forgetLocked() {
	var finished []*job
	for _, t := range r.order {
		if t.info.State.Final() {
			finished = append(finished, t)
		}
	}
	over := len(finished) - r.opts.KeepFinished
	if over <= 0 {
		return
	}
	needed := map[task.ID]bool{}
	for _, t := range r.order {
		if t.info.State == task.Queued {
			for _, d := range t.info.After {
				needed[d] = true
			}
		}
	}
	slices.SortStableFunc(finished, func(a, b *job) int {
		if c := a.info.Finished.Compare(b.info.Finished); c != 0 {
			return c
		}
		return int(a.info.ID) - int(b.info.ID)
	})
	for _, t := range finished {
		if over == 0 {
			break
		}
		if !needed[t.info.ID] {
			delete(r.tasks, t.info.ID)
			over--
		}
	}
	kept := r.order[:0]
	for _, t := range r.order {
		if _, ok := r.tasks[t.info.ID]; ok {
			kept = append(kept, t)
		}
	}
	clear(r.order[len(kept):])
	r.order = kept
}

// Secret registers a value to redact from every task's output, error and
// summary from now on.
func (r *Runner) Secret(value string) { r.secrets.Add(value) }

func (r *Runner) startLocked(t *job) {
	ctx, cancel := context.WithCancel(r.ctx)
	t.cancel = cancel
	t.info.State = task.Running
	t.info.Started = r.now()
	out := &taskOutput{r: r, t: t}
	t.out = out
	if r.taskDir != "" {
		f, path, err := createTaskLog(r.taskDir, t.info)
		if err != nil {
			t.buf.AddLine(fmt.Sprintf("fndeck: task output is not saved to a file: %v", err))
		} else {
			out.file, out.path = f, path
			t.info.LogFile = path
			fmt.Fprintf(f, "# fndeck task #%d %s %s started %s\n", t.info.ID, t.info.Kind,
				t.red.Redact(t.info.Target), t.info.Started.UTC().Format(time.RFC3339))
		}
	}
	r.wg.Add(1)
	go r.run(ctx, t, out)
}

// createTaskLog creates <dir>/<start-time>-<id>-<kind>.log exclusively (two
// fndeck processes both number their tasks from 1).
func createTaskLog(dir string, info task.Info) (*os.File, string, error) {
	kind := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			return c
		}
		return '_'
	}, strings.ToLower(string(info.Kind)))
	base := fmt.Sprintf("%s-%d-%s", info.Started.UTC().Format("20060102T150405Z"), info.ID, kind)
	for i := 1; i < 100; i++ {
		name := base + ".log"
		if i > 1 {
			name = fmt.Sprintf("%s.%d.log", base, i)
		}
		path := filepath.Join(dir, name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("creating task output file: %w", err)
		}
		return f, path, nil
	}
	return nil, "", fmt.Errorf("creating task output file %s: too many files with that name", base)
}

func (r *Runner) run(ctx context.Context, t *job, out *taskOutput) {
	defer r.wg.Done()
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
				// The stack goes to the output and file so the bug can be reported.
				out.Line(fmt.Sprintf("fndeck: task panicked: %v", p))
				out.Write(debug.Stack())
			}
		}()
		return t.spec.Run(ctx, out)
	}()
	out.close()
	r.mu.Lock()
	switch {
	case err == nil:
		r.finishLocked(t, task.Succeeded, "")
	case t.cancelled:
		msg := "cancelled"
		if !errors.Is(err, context.Canceled) {
			msg += ": " + err.Error()
		}
		r.finishLocked(t, task.Cancelled, msg)
	default:
		r.finishLocked(t, task.Failed, err.Error())
	}
	t.cancel()
	r.scheduleLocked()
	r.mu.Unlock()
	r.notify()
}

// finishLocked moves t to a final state. The task's output must be closed
// (or never opened) already: taskOutput's lock is taken before r.mu, never after.
func (r *Runner) finishLocked(t *job, s task.State, errText string) {
	t.info.State = s
	t.info.Finished = r.now()
	t.info.Err = t.red.Redact(errText)
	if t.out == nil && errText != "" {
		t.buf.AddLine("fndeck: " + t.info.Err)
	}
	t.buf.Close()
	close(t.done)
}

// Cancel cancels a task: a queued one becomes cancelled at once (its
// dependents are skipped); a running one has its context cancelled and
// becomes cancelled when its Run returns. Final tasks are left alone.
func (r *Runner) Cancel(id task.ID) {
	r.mu.Lock()
	t, ok := r.tasks[id]
	if ok {
		switch t.info.State {
		case task.Queued:
			r.finishLocked(t, task.Cancelled, "cancelled before it started")
			r.scheduleLocked()
		case task.Running:
			t.cancelled = true
			t.cancel()
		}
	}
	r.mu.Unlock()
	r.notify()
}

// Retry submits a new task with the same spec as a finished one. Its After
// list is the same: retrying a task whose dependency failed skips it again,
// so retry the dependency first.
func (r *Runner) Retry(id task.ID) (task.ID, error) {
	r.mu.Lock()
	t, ok := r.tasks[id]
	if !ok {
		r.mu.Unlock()
		return 0, fmt.Errorf("retrying task #%d: no such task", id)
	}
	if !t.info.State.Final() {
		r.mu.Unlock()
		return 0, fmt.Errorf("retrying task #%d: it is still %s", id, t.info.State)
	}
	nid := r.submitLocked(t.spec, id)
	r.mu.Unlock()
	r.notify()
	return nid, nil
}

func (t *job) snapshot() task.Info {
	info := t.info
	info.Progress = slices.Clone(t.info.Progress)
	return info
}

// Get returns a copy of one task's state.
func (r *Runner) Get(id task.ID) (task.Info, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.tasks[id]
	if !ok {
		return task.Info{}, false
	}
	return t.snapshot(), true
}

// Tasks returns copies of every task's state in submit order.
func (r *Runner) Tasks() []task.Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]task.Info, len(r.order))
	for i, t := range r.order {
		out[i] = t.snapshot()
	}
	return out
}

// Output returns a task's output buffer, nil for an unknown ID. The buffer
// exists from Submit and is closed when the task ends.
func (r *Runner) Output(id task.ID) *Buffer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.tasks[id]; ok {
		return t.buf
	}
	return nil
}

// Wait blocks until the task is final or ctx ends.
func (r *Runner) Wait(ctx context.Context, id task.ID) (task.Info, error) {
	r.mu.Lock()
	t, ok := r.tasks[id]
	r.mu.Unlock()
	if !ok {
		return task.Info{}, fmt.Errorf("waiting for task #%d: no such task", id)
	}
	select {
	case <-t.done:
	case <-ctx.Done():
		return task.Info{}, fmt.Errorf("waiting for task #%d: %w", id, ctx.Err())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return t.snapshot(), nil
}

// Running returns how many tasks are running.
func (r *Runner) Running() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, t := range r.order {
		if t.info.State == task.Running {
			n++
		}
	}
	return n
}

// Close cancels every queued and running task and waits for running ones to
// return. Tasks submitted afterwards are cancelled at once.
func (r *Runner) Close() {
	r.mu.Lock()
	r.closed = true
	for _, t := range r.order {
		switch t.info.State {
		case task.Queued:
			r.finishLocked(t, task.Cancelled, "runner closed")
		case task.Running:
			t.cancelled = true
			t.cancel()
		}
	}
	r.mu.Unlock()
	r.notify()
	r.wg.Wait()
	if r.pruned != nil {
		<-r.pruned
	}
	r.cancel()
}

// maxPartialLine is the longest line a task's Write holds while waiting for
// its newline; longer ones are broken there (the file still gets every byte).
const maxPartialLine = 8 << 20

// taskOutput is the Output handed to a task's Run.
type taskOutput struct {
	r *Runner
	t *job

	mu      sync.Mutex
	partial []byte
	file    *os.File
	path    string
	fileErr bool
	closed  bool
	// the file's segments (see writeFileLocked)
	segBytes  int64
	segLines  uint64
	prevLines uint64
	lost      uint64
	chunk     []byte // reused file write batch
}

var _ Output = (*taskOutput)(nil)

// Line adds one line (a text holding newlines becomes several lines).
func (o *taskOutput) Line(text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	text = strings.TrimSuffix(text, "\n")
	if strings.IndexByte(text, '\n') < 0 {
		o.emitLocked([]string{text})
		return
	}
	o.emitLocked(strings.Split(text, "\n"))
}

// Write splits p into lines; a trailing partial line waits for its newline
// (or the end of the task) so a secret split across writes is still redacted.
func (o *taskOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return 0, ErrBufferClosed
	}
	n := len(p)
	var lines []string
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			break
		}
		if len(o.partial) > 0 {
			o.partial = append(o.partial, p[:i]...)
			lines = append(lines, string(o.partial))
			o.partial = o.partial[:0]
		} else {
			lines = append(lines, string(p[:i]))
		}
		p = p[i+1:]
	}
	o.partial = append(o.partial, p...)
	if len(o.partial) > maxPartialLine {
		// An endless line (binary output, a runaway writer) is broken up
		// rather than held in memory without bound.
		lines = append(lines, string(o.partial))
		o.partial = o.partial[:0]
	}
	if len(lines) > 0 {
		o.emitLocked(lines)
	}
	return n, nil
}

// emitLocked redacts lines and sends them to the ring and the file.
func (o *taskOutput) emitLocked(lines []string) {
	o.chunk = o.chunk[:0]
	last := ""
	for _, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		l = o.t.red.Redact(l)
		o.t.buf.AddLine(l)
		o.chunk = append(o.chunk, l...)
		o.chunk = append(o.chunk, '\n')
		last = l
	}
	o.writeFileLocked(o.chunk, len(lines))
	if cap(o.chunk) > 1<<20 {
		o.chunk = nil // do not keep a huge line's batch alive
	}
	r := o.r
	r.mu.Lock()
	o.t.info.LastLine = last
	r.mu.Unlock()
	r.notify()
}

// Log adds one function log event, its structured fields kept (time,
// stream, severity, JSON payload, address) so the pane renders them; the
// message and payload are redacted, and the task's output file gets the
// event as text: "TIME SEVERITY STREAM message", a multi-line message's
// further lines indented by a tab.
func (o *taskOutput) Log(l cloud.LogLine) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	red := o.t.red
	msg := red.Redact(strings.TrimRight(l.Message, "\r\n"))
	fields := &task.LogFields{Address: l.Address, Stream: red.Redact(l.Stream), Severity: l.Severity, Notice: l.Notice}
	if len(l.JSON) > 0 {
		fields.JSON = red.Redact(string(l.JSON))
	}
	o.t.buf.AddEvent(task.Line{Time: l.Time, Text: msg, Log: fields})
	if o.file != nil && !o.fileErr {
		c := o.chunk[:0]
		if !l.Time.IsZero() {
			c = l.Time.UTC().AppendFormat(c, "2006-01-02T15:04:05.000Z07:00")
			c = append(c, ' ')
		}
		if l.Notice {
			c = append(c, "fndeck: "...)
		}
		if fields.Severity != "" {
			c = append(c, fields.Severity...)
			c = append(c, ' ')
		}
		if fields.Stream != "" {
			c = append(c, fields.Stream...)
			c = append(c, ' ')
		}
		text := msg
		if text == "" {
			text = fields.JSON
		}
		for i, part := range strings.Split(text, "\n") {
			if i > 0 {
				c = append(c, '\n', '\t')
			}
			c = append(c, strings.TrimSuffix(part, "\r")...)
		}
		c = append(c, '\n')
		o.writeFileLocked(c, 1)
		o.chunk = c
		if cap(o.chunk) > 1<<20 {
			o.chunk = nil
		}
	}
	last := msg
	if i := strings.IndexByte(last, '\n'); i >= 0 {
		last = last[:i]
	}
	r := o.r
	r.mu.Lock()
	o.t.info.LastLine = last
	r.mu.Unlock()
	r.notify()
}

// writeFileLocked appends p (n lines) to the output file. Past half of
// capture bytes the file becomes the previous segment (PATH minus .log plus
// .prev.log), replacing the one before, whose lines are counted as lost: the
// capture keeps the newest capture bytes or so, in two files.
func (o *taskOutput) writeFileLocked(p []byte, n int) {
	if o.file == nil || o.fileErr {
		return
	}
	if _, err := o.file.Write(p); err != nil {
		o.fileErr = true
		o.t.buf.AddLine(fmt.Sprintf("fndeck: writing task output file: %v (the file is incomplete)", err))
		return
	}
	o.segBytes += int64(len(p))
	o.segLines += uint64(n)
	if o.segBytes < o.r.captureBytes/2 {
		return
	}
	path := o.path
	prev := strings.TrimSuffix(path, ".log") + ".prev.log"
	lost := o.prevLines
	err := o.file.Close()
	if err == nil {
		err = os.Rename(path, prev)
	}
	if err == nil {
		o.file, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	}
	if err != nil {
		o.file, o.fileErr = nil, true
		o.t.buf.AddLine(fmt.Sprintf("fndeck: rotating task output file: %v (the file is incomplete)", err))
		return
	}
	o.lost += lost
	o.prevLines, o.segLines = o.segLines, 0
	head := fmt.Sprintf("# fndeck task #%d continued: earlier output in %s", o.t.info.ID, filepath.Base(prev))
	if o.lost > 0 {
		head += fmt.Sprintf("; the oldest %d lines were rotated out (logs.capture_bytes %d)", o.lost, o.r.captureBytes)
		o.t.buf.AddLine(fmt.Sprintf("fndeck: the output file reached logs.capture_bytes: the oldest %d lines are no longer kept", o.lost))
	}
	head += "\n"
	_, _ = o.file.WriteString(head)
	o.segBytes = int64(len(head))
}

// Progress records the latest update of one bar.
func (o *taskOutput) Progress(p cloud.Progress) {
	r := o.r
	r.mu.Lock()
	t := o.t
	if t.progIdx == nil {
		t.progIdx = map[string]int{}
	}
	if i, ok := t.progIdx[p.ID]; ok {
		t.info.Progress[i] = p
	} else {
		t.progIdx[p.ID] = len(t.info.Progress)
		t.info.Progress = append(t.info.Progress, p)
	}
	r.mu.Unlock()
	r.notify()
}

// Secret registers a value to redact from now on.
func (o *taskOutput) Secret(value string) { o.t.red.Add(value) }

// Summary sets the task's one-line result.
func (o *taskOutput) Summary(s string) {
	s = o.t.red.Redact(s)
	o.r.mu.Lock()
	o.t.info.Summary = s
	o.r.mu.Unlock()
	o.r.notify()
}

// close flushes a partial line and closes the file; later writes are refused.
func (o *taskOutput) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	if len(o.partial) > 0 {
		o.emitLocked([]string{string(o.partial)})
		o.partial = nil
	}
	o.closed = true
	if o.file != nil {
		if err := o.file.Close(); err != nil && !o.fileErr {
			o.t.buf.AddLine(fmt.Sprintf("fndeck: closing task output file: %v", err))
		}
	}
}
