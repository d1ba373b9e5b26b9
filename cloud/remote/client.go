// Package remote runs fndeck's AWS and GCP backends in a helper process
// (fndeck-cloud) and gives the rest of fndeck ordinary cloud backends that
// talk to it. The TUI binary then links none of the cloud SDKs: their
// package inits cost ~40 ms of start-up and ~17 MB of resident memory.
//
// One helper serves every provider of one fndeck process. It starts on the
// first cloud call, never before; if it dies, the calls in flight fail with
// its stderr's last lines and the next call starts a new one.
package remote

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/remote/wire"
	"github.com/fndeck/fndeck/internal/redact"
)

// HelperName is the helper binary's file name.
const HelperName = "fndeck-cloud"

// BuildCommand is how to build fndeck with its helper (the README's command).
const BuildCommand = "CGO_ENABLED=0 go build -o bin/ . ./cloud/remote/fndeck-cloud"

// ErrNoHelper is returned (wrapped, with a hint) by every call when no
// helper binary can be found.
var ErrNoHelper = errors.New("cloud helper " + HelperName + " not found")

// ClientOptions configure the helper process.
type ClientOptions struct {
	// Init is sent to the helper as its first message (backend options).
	Init wire.Init
	// Version is fndeck's own version (main.version, "dev" by default);
	// a missing helper's hint names the `go install` line for it.
	Version string
	// HelperPath, when set, is used instead of the lookup: $FNDECK_CLOUD_HELPER,
	// fndeck-cloud next to the running executable, fndeck-cloud on $PATH.
	HelperPath string
	// Debug starts the helper with --debug (its debug log lines).
	Debug bool
	// Logger receives the helper's stderr, one record per line, at debug
	// level; nil means slog.Default() (fndeck's debug log).
	Logger *slog.Logger
	// CancelGrace is how long a cancelled call waits for the helper's answer
	// before returning ctx's error on its own (default 5 s).
	CancelGrace time.Duration
	// StartAfter, when set, holds every call until it is closed (or the
	// call's ctx ends). The TUI closes it once the first image list is on
	// screen: the helper's own start (~70 ms of CPU for the SDKs' package
	// inits) would otherwise compete with fndeck's start-up on the same cores.
	StartAfter <-chan struct{}
	// Build is fndeck's version, sent to the helper and compared with its
	// own: two release builds that differ are refused, naming both.
	Build string
	// HelloTimeout bounds the wait for the helper's handshake (default 30 s).
	HelloTimeout time.Duration
	// Now is the clock of the restart backoff (default time.Now).
	Now func() time.Time
}

// Client owns the helper process shared by the remote backends.
type Client struct {
	opts ClientOptions

	mu     sync.Mutex
	proc   *proc
	closed bool
	nextID uint64
	// A helper that fails to start is not started again before retryAt
	// (backoff doubling from a second to a minute); calls meanwhile fail
	// at once with startErr.
	startErr   error
	startFails int
	retryAt    time.Time
}

// NewClient returns a client; it starts nothing.
func NewClient(opts ClientOptions) *Client {
	opts.Init.Version = wire.Version
	opts.Init.Build = opts.Build
	if opts.HelloTimeout <= 0 {
		opts.HelloTimeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CancelGrace <= 0 {
		opts.CancelGrace = 5 * time.Second
	}
	return &Client{opts: opts}
}

// Close ends the helper: its stdin closes and it exits; after a grace period
// it is killed. Calls after Close fail.
func (c *Client) Close() error {
	c.mu.Lock()
	p := c.proc
	c.closed, c.proc = true, nil
	c.mu.Unlock()
	if p != nil {
		p.stop(2 * time.Second)
	}
	return nil
}

// PID returns the running helper's process id, or 0 (tests, diagnostics).
func (c *Client) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil || c.proc.exited() {
		return 0
	}
	return c.proc.cmd.Process.Pid
}

// FindHelper returns the helper binary's path: $FNDECK_CLOUD_HELPER, then
// fndeck-cloud next to the running executable, then on $PATH. version is
// fndeck's own (main.version): a missing helper's hint names the `go
// install` line for it (InstallHint).
func FindHelper(version string) (string, error) {
	if p := os.Getenv("FNDECK_CLOUD_HELPER"); p != "" {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			return "", cloud.WithHint(fmt.Errorf("%w at $FNDECK_CLOUD_HELPER=%s", ErrNoHelper, p), InstallHint(version))
		}
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), HelperName)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(HelperName); err == nil {
		return p, nil
	}
	return "", cloud.WithHint(fmt.Errorf("%w next to fndeck or on $PATH (AWS and GCP need it)", ErrNoHelper),
		InstallHint(version)+"; or set FNDECK_CLOUD_HELPER to its path")
}

// get returns the running helper, starting one if there is none or the last
// one exited.
func (c *Client) get() (*proc, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("cloud helper: fndeck is shutting down")
	}
	if c.proc != nil && !c.proc.exited() {
		return c.proc, nil
	}
	path := c.opts.HelperPath
	if path == "" {
		var err error
		if path, err = FindHelper(c.opts.Version); err != nil {
			return nil, err
		}
	}
	if c.startErr != nil {
		if wait := c.retryAt.Sub(c.opts.Now()); wait > 0 {
			return nil, &HelperError{Msg: fmt.Sprintf("%s (not restarted for %s)", c.startErr.Error(), wait.Round(time.Second))}
		}
	}
	p, err := startProc(path, c.opts)
	if err != nil {
		c.startFails++
		c.startErr = err
		c.retryAt = c.opts.Now().Add(startBackoff(c.startFails))
		return nil, err
	}
	c.startErr, c.startFails = nil, 0
	c.proc = p
	return p, nil
}

// startBackoff is the wait before the n-th restart of a helper that failed
// to start: 1 s, 2 s, 4 s … at most a minute.
func startBackoff(n int) time.Duration {
	d := time.Second << min(n-1, 6)
	return min(d, time.Minute)
}

// Hello starts the helper if it is not running and returns its handshake
// and path (fndeck doctor).
func (c *Client) Hello(ctx context.Context) (wire.Hello, string, error) {
	if c.opts.StartAfter != nil {
		select {
		case <-c.opts.StartAfter:
		case <-ctx.Done():
			return wire.Hello{}, "", ctx.Err()
		}
	}
	p, err := c.get()
	if err != nil {
		return wire.Hello{}, "", err
	}
	return p.info, p.path, nil
}

// call runs one method: it sends the call, hands every streamed message to
// onMsg in this goroutine, in order, and returns the result's data. A
// cancelled ctx sends a cancel and waits up to CancelGrace for the answer.
func (c *Client) call(ctx context.Context, provider cloud.Provider, method string, args any, onMsg func(*wire.Msg) error) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("encoding %s arguments: %w", method, err)
	}
	if c.opts.StartAfter != nil {
		select {
		case <-c.opts.StartAfter:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	p, err := c.get()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.mu.Unlock()
	q := p.register(id)
	defer p.unregister(id)
	if err := p.send(&wire.Msg{ID: id, T: wire.TCall, P: provider, M: method, Data: data}); err != nil {
		return nil, p.deathError(err)
	}
	var grace <-chan time.Time
	done := ctx.Done()
	var streamErr error // the first callback decoding failure, kept for the end
	for {
		for _, m := range q.take() {
			if m.T == wire.TResult {
				if m.Err != nil {
					// Data may still hold a partial result (a timed-out
					// invoke's elapsed time, a failed deploy's old image).
					return m.Data, m.Err.Decode()
				}
				if streamErr != nil {
					return nil, streamErr
				}
				return m.Data, nil
			}
			if err := onMsg(m); err != nil && streamErr == nil {
				streamErr = err
			}
		}
		select {
		case <-q.notify:
		case <-done:
			done = nil
			_ = p.send(&wire.Msg{ID: id, T: wire.TCancel})
			t := time.NewTimer(c.opts.CancelGrace)
			defer t.Stop()
			grace = t.C
		case <-grace:
			return nil, ctx.Err()
		case <-p.done:
			if q.pending() {
				continue // the answer came before the exit
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, p.deathError(nil)
		}
	}
}

// queue holds one call's messages until its goroutine takes them: the
// reader never blocks on a slow caller.
type queue struct {
	mu     sync.Mutex
	msgs   []*wire.Msg
	notify chan struct{}
}

func (q *queue) push(m *wire.Msg) {
	q.mu.Lock()
	q.msgs = append(q.msgs, m)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *queue) take() []*wire.Msg {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.msgs
	q.msgs = nil
	return out
}

func (q *queue) pending() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs) > 0
}

// proc is one helper process.
type proc struct {
	cmd  *exec.Cmd
	path string

	wmu   sync.Mutex
	stdin io.WriteCloser
	enc   *json.Encoder

	mu    sync.Mutex
	calls map[uint64]*queue

	done    chan struct{} // closed once the process has exited and its output is read
	exitErr error         // set before done closes
	tail    *tailBuf

	hello chan wire.Hello // the handshake, once
	info  wire.Hello      // set before startProc returns
}

func startProc(path string, opts ClientOptions) (*proc, error) {
	var args []string
	if opts.Debug {
		args = append(args, "--debug")
	}
	// Not CommandContext: the helper outlives the call that starts it.
	cmd := exec.Command(path, args...)
	setProcAttr(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("starting the cloud helper: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting the cloud helper: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("starting the cloud helper: %w", err)
	}
	p := &proc{cmd: cmd, path: path, stdin: stdin, enc: json.NewEncoder(stdin), calls: map[uint64]*queue{}, done: make(chan struct{}), tail: &tailBuf{max: 20}, hello: make(chan wire.Hello, 1)}
	// Linux sends Pdeathsig when the *thread* that started the child ends,
	// not the process; Go may end a thread a goroutine locked and left. So
	// the helper is started from a locked thread kept until it exits.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			<-p.done
		}
		runtime.UnlockOSThread()
	}()
	if err := <-started; err != nil {
		return nil, cloud.WithHint(fmt.Errorf("starting the cloud helper %s: %w", path, err), "re"+InstallHint(opts.Version))
	}
	opts.Logger.Debug("cloud helper started", "path", path, "pid", cmd.Process.Pid)
	stderrDone := make(chan struct{})
	go func() {
		defer close(stderrDone)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			// The helper's stderr may hold what looks like a secret: the
			// rules task output is redacted with hide it.
			line := redact.Patterns(sc.Text())
			p.tail.add(line)
			opts.Logger.Debug("fndeck-cloud: " + line)
		}
	}()
	go func() {
		readErr := p.read(stdout)
		<-stderrDone
		waitErr := cmd.Wait()
		p.exitErr = waitErr
		if waitErr == nil && readErr != nil {
			p.exitErr = readErr
		}
		opts.Logger.Debug("cloud helper exited", "pid", cmd.Process.Pid, "err", p.exitErr)
		close(p.done)
	}()
	init, err := json.Marshal(opts.Init)
	if err != nil {
		p.stop(0)
		return nil, fmt.Errorf("encoding the cloud helper's options: %w", err)
	}
	if err := p.send(&wire.Msg{T: wire.TInit, Data: init}); err != nil {
		return nil, p.deathError(err)
	}
	if err := p.handshake(opts); err != nil {
		return nil, err
	}
	opts.Logger.Debug("cloud helper ready", "build", p.info.Build, "protocol", p.info.Protocol, "capabilities", p.info.Capabilities)
	return p, nil
}

// handshake waits for the helper's Hello and checks it: a refusal, another
// protocol or another release build is an error naming both sides.
func (p *proc) handshake(opts ClientOptions) error {
	t := time.NewTimer(opts.HelloTimeout)
	defer t.Stop()
	var h wire.Hello
	select {
	case h = <-p.hello:
	case <-p.done:
		return p.deathError(nil)
	case <-t.C:
		p.stop(0)
		return &HelperError{Msg: fmt.Sprintf("cloud helper %s did not answer fndeck's first message within %s (a helper from before protocol %d?): rebuild both binaries with `%s`",
			p.path, opts.HelloTimeout, wire.Version, BuildCommand)}
	}
	mine := opts.Build
	if mine == "" {
		mine = "dev"
	}
	var why string
	switch {
	case h.Err != "":
		why = "cloud helper refused to start: " + redact.Patterns(h.Err)
	case h.Protocol != wire.Version:
		why = fmt.Sprintf("cloud helper %s (build %s) speaks protocol %d, fndeck %s speaks %d: rebuild both binaries with `%s`",
			p.path, h.Build, h.Protocol, mine, wire.Version, BuildCommand)
	case h.Build != "" && h.Build != "dev" && mine != "dev" && h.Build != mine:
		why = fmt.Sprintf("cloud helper %s is version %s but fndeck is %s: install both from the same build (`%s`)", p.path, h.Build, mine, BuildCommand)
	}
	if why != "" {
		p.stop(2 * time.Second)
		return &HelperError{Msg: why}
	}
	p.info = h
	return nil
}

// read hands each message to its call's queue until stdout ends.
func (p *proc) read(r io.Reader) error {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	for {
		m := new(wire.Msg)
		if err := dec.Decode(m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			// A garbled stream cannot be resynchronised: end the helper so
			// every call fails and the next one starts afresh.
			_ = p.cmd.Process.Kill()
			_, _ = io.Copy(io.Discard, r)
			return fmt.Errorf("reading the cloud helper's output: %w", err)
		}
		if m.T == wire.THello {
			var h wire.Hello
			if json.Unmarshal(m.Data, &h) != nil {
				h.Err = "an unreadable handshake"
			}
			select {
			case p.hello <- h:
			default:
			}
			continue
		}
		p.mu.Lock()
		q := p.calls[m.ID]
		p.mu.Unlock()
		if q != nil {
			q.push(m)
		}
	}
}

func (p *proc) register(id uint64) *queue {
	q := &queue{notify: make(chan struct{}, 1)}
	p.mu.Lock()
	p.calls[id] = q
	p.mu.Unlock()
	return q
}

func (p *proc) unregister(id uint64) {
	p.mu.Lock()
	delete(p.calls, id)
	p.mu.Unlock()
}

func (p *proc) send(m *wire.Msg) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return p.enc.Encode(m)
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop closes stdin (the helper exits on EOF) and kills it after grace.
func (p *proc) stop(grace time.Duration) {
	p.wmu.Lock()
	_ = p.stdin.Close()
	p.wmu.Unlock()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return
	case <-t.C:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// deathError explains a dead helper with its stderr's last lines. It waits
// (briefly) for the exit so the message has them.
func (p *proc) deathError(cause error) error {
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
	}
	why := strings.TrimSpace(p.tail.String())
	if why == "" {
		switch {
		case p.exitErr != nil:
			why = p.exitErr.Error()
		case cause != nil:
			why = cause.Error()
		default:
			why = "no message"
		}
	}
	return &HelperError{Msg: "cloud helper exited: " + why}
}

// HelperError is a call's failure because the helper process died (or
// could not start). It matches cloud.ErrUnreachable.
type HelperError struct{ Msg string }

func (e *HelperError) Error() string { return e.Msg }

// Unwrap makes a dead helper an unreachable backend for errors.Is.
func (e *HelperError) Unwrap() error { return cloud.ErrUnreachable }

// tailBuf keeps the last lines of the helper's stderr.
type tailBuf struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (t *tailBuf) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, s)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

func (t *tailBuf) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	// The last few lines say why; a whole goroutine dump would bury it.
	lines := t.lines
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "\n")
}
