// Over 600 lines, on purpose: any change to package shim regenerates both
// embedded shim binaries (12 MB of churn), so its split by concern (runtime
// API, invoke endpoint, front door) waits for issue 19's part 4.

// Package shim is the Lambda runtime shim fndeck puts inside a local
// container deployed "--as lambda". It is the container's entrypoint: it
// serves the Lambda Runtime API to the image's own entrypoint/cmd (which it
// starts, kills on timeout and restarts), and the RIE-compatible invoke
// endpoint (POST /2015-03-31/functions/function/invocations) to fndeck and to
// `aws lambda invoke --endpoint-url`. It writes START / END / REPORT lines in
// Lambda's format to the container's stdout, so `docker logs` reads like
// CloudWatch.
//
// Everything the shim needs comes from its argv, so a deploy from a headless
// fndeck that has since exited keeps working.
package shim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SubcommandName is the argv[1] fndeck's main dispatches to Main.
const SubcommandName = "__lambda-shim"

// HealthPath answers 200 once the invoke endpoint is up; fndeck polls it
// after starting a container.
const HealthPath = "/fndeck/v1/health"

// maxResponseBytes is Lambda's synchronous response limit (6 MB).
const maxResponseBytes = 6 * 1024 * 1024

// Config is what the shim is told on its command line.
type Config struct {
	InvokeAddr  string        // host:port of the invoke endpoint
	RuntimeAddr string        // host:port of the Runtime API (AWS_LAMBDA_RUNTIME_API)
	Function    string        // function name
	Region      string        // AWS_REGION inside the function
	MemoryMB    int           // the container's memory limit, reported as Memory Size
	Timeout     time.Duration // per-invocation timeout
	Handler     string        // _HANDLER (the image's CMD[0])
	Command     []string      // the runtime to start: the image's entrypoint + cmd

	// Mode is ModeLambda (the default: serve the Runtime API and invokes)
	// or ModeCloudRun (a transparent supervisor of the image's own server).
	Mode string
	// LogAddr is host:port of the log tap (TapPath); "" serves none.
	LogAddr string
	// HTTPAddr is host:port of the HTTP front door (a function URL, see
	// http.go); "" serves none.
	HTTPAddr string
	// LogToken, when set, is required from the tap's subscribers. Main
	// reads it from TokenEnv, never from argv (argv is public in ps).
	LogToken string
}

// Modes the shim runs in.
const (
	ModeLambda   = "lambda"
	ModeCloudRun = "cloudrun"
)

// Args renders c as the argv that Main parses (without the program name);
// the local backend uses it to build the container's entrypoint.
func (c Config) Args() []string {
	a := []string{
		SubcommandName,
		"--invoke-addr", c.InvokeAddr,
		"--runtime-addr", c.RuntimeAddr,
		"--function", c.Function,
		"--region", c.Region,
		"--memory", strconv.Itoa(c.MemoryMB),
		"--timeout", strconv.FormatFloat(c.Timeout.Seconds(), 'f', -1, 64),
	}
	if c.Mode != "" && c.Mode != ModeLambda {
		a = append(a, "--mode", c.Mode)
	}
	if c.LogAddr != "" {
		a = append(a, "--log-addr", c.LogAddr)
	}
	if c.HTTPAddr != "" {
		a = append(a, "--http-addr", c.HTTPAddr)
	}
	a = append(a, "--handler", c.Handler, "--")
	return append(a, c.Command...)
}

func parseArgs(args []string) (Config, error) {
	if len(args) > 0 && args[0] == SubcommandName {
		args = args[1:]
	}
	fs := flag.NewFlagSet("fndeck "+SubcommandName, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c Config
	var timeout float64
	fs.StringVar(&c.InvokeAddr, "invoke-addr", "127.0.0.1:8080", "invoke endpoint address")
	fs.StringVar(&c.RuntimeAddr, "runtime-addr", "127.0.0.1:9001", "runtime API address")
	fs.StringVar(&c.Function, "function", "function", "function name")
	fs.StringVar(&c.Region, "region", "us-east-1", "region reported to the function")
	fs.IntVar(&c.MemoryMB, "memory", 128, "memory size in MB")
	fs.Float64Var(&timeout, "timeout", 3, "timeout in seconds")
	fs.StringVar(&c.Handler, "handler", "", "handler (_HANDLER)")
	fs.StringVar(&c.Mode, "mode", "", "lambda (default) or cloudrun")
	fs.StringVar(&c.LogAddr, "log-addr", "", "log tap address")
	fs.StringVar(&c.HTTPAddr, "http-addr", "", "HTTP front door (function URL) address")
	if err := fs.Parse(args); err != nil {
		return Config{}, fmt.Errorf("reading shim arguments: %w", err)
	}
	if timeout <= 0 || math.IsNaN(timeout) {
		return Config{}, fmt.Errorf("reading shim arguments: --timeout must be positive, got %v", timeout)
	}
	if c.MemoryMB <= 0 {
		return Config{}, fmt.Errorf("reading shim arguments: --memory must be positive, got %d", c.MemoryMB)
	}
	if c.Mode != "" && c.Mode != ModeLambda && c.Mode != ModeCloudRun {
		return Config{}, fmt.Errorf("reading shim arguments: --mode must be lambda or cloudrun, got %q", c.Mode)
	}
	c.Timeout = time.Duration(timeout * float64(time.Second))
	c.Command = fs.Args()
	return c, nil
}

// Main runs the shim until SIGTERM/SIGINT and returns the exit code. args
// are the words after the program name; a leading "__lambda-shim" is
// skipped, so fndeck's hidden subcommand and the standalone fndeck-shim
// binary take the same argv (Config.Args).
func Main(args []string) int {
	if err := checkPlatform(); err != nil {
		fmt.Fprintln(os.Stderr, "fndeck shim:", err)
		return 1
	}
	cfg, err := parseArgs(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fndeck shim:", err)
		return 2
	}
	cfg.LogToken = os.Getenv(TokenEnv)
	if cfg.Mode == ModeCloudRun {
		return superviseMain(cfg)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := Run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fndeck shim:", err)
		return 1
	}
	return 0
}

// Run serves until ctx ends. The runtime's output goes through pipes to
// stdout/stderr and to the log tap (cfg.LogAddr); the shim's START/END/REPORT
// lines are written after what the runtime wrote before them.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	tap := NewTap(cfg.LogToken)
	out, err := newAppOutput(stdout, stderr, tap)
	if err != nil {
		return err
	}
	var stopTap func()
	defer func() {
		// The runtime is gone by now: pass on its last lines, then end the tap.
		out.closeWriters()
		out.wait(2 * time.Second)
		if stopTap != nil {
			stopTap()
		}
	}()
	s := &server{cfg: cfg, out: out, next: make(chan *invocation)}
	s.env = s.runtimeEnv(withoutEnv(os.Environ(), TokenEnv))

	rl, err := net.Listen("tcp", cfg.RuntimeAddr)
	if err != nil {
		return fmt.Errorf("listening for the runtime API on %s: %w", cfg.RuntimeAddr, err)
	}
	il, err := net.Listen("tcp", cfg.InvokeAddr)
	if err != nil {
		rl.Close()
		return fmt.Errorf("listening for invokes on %s: %w", cfg.InvokeAddr, err)
	}
	if cfg.LogAddr != "" {
		if stopTap, err = serveTap(ctx, cfg.LogAddr, tap); err != nil {
			// The function serves without a tap; fndeck falls back to the engine's logs.
			s.errorf("fndeck shim: %v\n", err)
		}
	}
	if cfg.HTTPAddr != "" {
		stopHTTP, err := s.listenHTTP()
		if err != nil {
			rl.Close()
			il.Close()
			return err
		}
		defer stopHTTP()
	}
	rsrv := &http.Server{Handler: http.HandlerFunc(s.serveRuntime), ReadHeaderTimeout: 10 * time.Second}
	isrv := &http.Server{Handler: http.HandlerFunc(s.serveInvoke), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- rsrv.Serve(rl) }()
	go func() { errc <- isrv.Serve(il) }()

	// Start the runtime now, like Lambda's init phase, so the first invoke
	// reports a realistic Init Duration without the shim's own start-up.
	s.mu.Lock()
	_, startErr := s.ensureRuntimeLocked()
	s.mu.Unlock()
	if startErr != nil {
		s.errorf("fndeck shim: %v\n", startErr)
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = isrv.Shutdown(shutdownCtx)
	_ = rsrv.Close()
	s.rtMu.Lock()
	if s.rt != nil {
		s.rt.kill()
	}
	s.rtMu.Unlock()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

type server struct {
	cfg Config
	out *appOutput
	env []string

	mu sync.Mutex // one invocation at a time, like one Lambda execution environment

	rtMu sync.Mutex
	rt   *runtimeProc

	curMu sync.Mutex
	cur   *invocation // the invocation the runtime is working on

	next chan *invocation
}

// result is what the runtime answered for one invocation.
type result struct {
	body    []byte
	isError bool
}

type invocation struct {
	id            string
	payload       []byte
	arn           string
	traceID       string
	clientContext string
	cognito       string
	timeout       time.Duration

	delivered chan time.Time // receives when the runtime picked the event up
	abandoned chan struct{}  // closed when invoke stops waiting for it
	done      chan result
}

type runtimeProc struct {
	cmd       *exec.Cmd
	started   time.Time
	exited    chan struct{}
	exitErr   error
	initErr   chan result
	firstNext time.Time // set once by the first /next call
	initShown bool
	mu        sync.Mutex
}

func (rp *runtimeProc) kill() {
	if rp.cmd.Process != nil {
		// The runtime runs in its own process group so its children die too.
		killGroup(rp.cmd.Process)
	}
	<-rp.exited
}

func (rp *runtimeProc) alive() bool {
	select {
	case <-rp.exited:
		return false
	default:
		return true
	}
}

// printf writes the shim's own lines to stdout and the tap, after what the
// runtime already wrote.
func (s *server) printf(format string, args ...any) {
	s.out.writeOwn(0, fmt.Sprintf(format, args...))
}

func (s *server) errorf(format string, args ...any) {
	s.out.writeOwn(1, fmt.Sprintf(format, args...))
}

// runtimeEnv is the process environment Lambda gives a runtime. Values the
// image set are kept unless Lambda itself owns the name.
func (s *server) runtimeEnv(base []string) []string {
	c := s.cfg
	set := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          c.RuntimeAddr,
		"AWS_LAMBDA_FUNCTION_NAME":        c.Function,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(c.MemoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_REGION":                      c.Region,
		"AWS_DEFAULT_REGION":              c.Region,
		"LAMBDA_TASK_ROOT":                "/var/task",
		"LAMBDA_RUNTIME_DIR":              "/var/runtime",
		"_HANDLER":                        c.Handler,
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + c.Function,
		"AWS_LAMBDA_LOG_STREAM_NAME":      time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + randHex(16),
		"TZ":                              ":UTC",
	}
	defaults := map[string]string{
		"PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"LANG": "en_US.UTF-8",
	}
	var env []string
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, own := set[k]; own {
			continue
		}
		delete(defaults, k)
		env = append(env, kv)
	}
	for k, v := range defaults {
		env = append(env, k+"="+v)
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

// withoutEnv returns env without the variable name.
func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != name {
			out = append(out, kv)
		}
	}
	return out
}

func envValue(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}

// resolveCommand picks what to run the way Lambda does: the image's
// entrypoint + cmd; failing that, a custom runtime's bootstrap in
// LAMBDA_RUNTIME_DIR or LAMBDA_TASK_ROOT (a provided.al2023 image with no
// entrypoint has CMD = the handler name, not a program).
func (s *server) resolveCommand() ([]string, error) {
	cmd := s.cfg.Command
	if len(cmd) > 0 {
		if p, err := lookPath(cmd[0], envValue(s.env, "PATH")); err == nil {
			return append([]string{p}, cmd[1:]...), nil
		}
	}
	for _, dir := range []string{envValue(s.env, "LAMBDA_RUNTIME_DIR"), envValue(s.env, "LAMBDA_TASK_ROOT")} {
		p := filepath.Join(dir, "bootstrap")
		if isExecutable(p) {
			return []string{p}, nil
		}
	}
	if len(cmd) == 0 {
		return nil, errors.New("the image has no entrypoint or cmd and no bootstrap in /var/runtime or /var/task")
	}
	return nil, fmt.Errorf("cannot run %q: not found, and no bootstrap in /var/runtime or /var/task", cmd[0])
}

func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		if isExecutable(name) {
			return name, nil
		}
		return "", fmt.Errorf("%s is not an executable file", name)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH", name)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// ensureRuntimeLocked returns the live runtime, starting a fresh one when
// there is none (first use, after a timeout kill, after a crash). s.mu held.
func (s *server) ensureRuntimeLocked() (*runtimeProc, error) {
	s.rtMu.Lock()
	defer s.rtMu.Unlock()
	if s.rt != nil && s.rt.alive() {
		return s.rt, nil
	}
	argv, err := s.resolveCommand()
	if err != nil {
		return nil, fmt.Errorf("starting the runtime: %w", err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = s.out.Stdout(), s.out.Stderr()
	ownProcessGroup(cmd)
	rp := &runtimeProc{cmd: cmd, exited: make(chan struct{}), initErr: make(chan result, 1)}
	rp.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the runtime %s: %w", argv[0], err)
	}
	go func() {
		rp.exitErr = cmd.Wait()
		if os.Getpid() == 1 {
			reapGroup(cmd.Process.Pid)
		}
		close(rp.exited)
	}()
	s.rt = rp
	return rp, nil
}

func (s *server) killRuntime(rp *runtimeProc) {
	rp.kill()
	s.rtMu.Lock()
	if s.rt == rp {
		s.rt = nil
	}
	s.rtMu.Unlock()
}

// ---------- invoke endpoint ----------

func writeJSONError(w http.ResponseWriter, status int, errType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", errType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}

func (s *server) serveInvoke(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == HealthPath {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	p := r.URL.Path
	if !strings.HasPrefix(p, prefix) || !strings.HasSuffix(p, suffix) || len(p) <= len(prefix)+len(suffix) {
		writeJSONError(w, http.StatusNotFound, "ResourceNotFoundException", "unknown path "+p)
		return
	}
	name := p[len(prefix) : len(p)-len(suffix)]
	if name != "function" && name != s.cfg.Function && !strings.HasSuffix(name, ":function:"+s.cfg.Function) {
		writeJSONError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	}
	if r.Method != http.MethodPost {
		writeJSONError(w, http.StatusMethodNotAllowed, "InvalidRequestContentException", "use POST")
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, maxResponseBytes+1))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "InvalidRequestContentException", "reading the payload: "+err.Error())
		return
	}
	if len(payload) > maxResponseBytes {
		writeJSONError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "request payload exceeds 6291456 bytes")
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	inv := s.newInvocation(payload)
	inv.cognito = r.Header.Get("X-Amz-Cognito-Identity")
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		if b, err := base64.StdEncoding.DecodeString(cc); err == nil {
			inv.clientContext = string(b)
		} else {
			writeJSONError(w, http.StatusBadRequest, "InvalidRequestContentException", "X-Amz-Client-Context is not base64")
			return
		}
	}
	switch r.Header.Get("X-Amz-Invocation-Type") {
	case "DryRun":
		w.Header().Set("X-Amzn-RequestId", inv.id)
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		// Asynchronous: accepted now, run in order after any invoke in flight.
		go s.invoke(context.WithoutCancel(r.Context()), inv)
		w.Header().Set("X-Amzn-RequestId", inv.id)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	res := s.invoke(r.Context(), inv)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", inv.id)
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if res.isError {
		// RIE leaves this header out; Lambda sets it, and fndeck reads it.
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.body)
}

// localAccount is the account ID a local function reports (in its ARN).
const localAccount = "000000000000"

func (s *server) newInvocation(payload []byte) *invocation {
	return &invocation{
		id:        newRequestID(),
		payload:   payload,
		arn:       fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", s.cfg.Region, localAccount, s.cfg.Function),
		traceID:   newTraceID(),
		timeout:   s.cfg.Timeout,
		delivered: make(chan time.Time, 1),
		abandoned: make(chan struct{}),
		done:      make(chan result, 1),
	}
}

func errorBody(errType, msg string) []byte {
	b, _ := json.Marshal(struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}{errType, msg})
	return b
}

// invoke runs one invocation through the runtime and writes the
// START/END/REPORT lines. It always returns a result: failures of the
// runtime are function errors, as on Lambda.
func (s *server) invoke(ctx context.Context, inv *invocation) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.ensureRuntimeLocked()
	if err != nil {
		s.printf("START RequestId: %s Version: $LATEST\n", inv.id)
		s.printf("%s\n", err)
		s.endReport(inv.id, 0, nil, "error")
		return result{body: errorBody("Runtime.InvalidEntrypoint", "RequestId: "+inv.id+" Error: "+err.Error()), isError: true}
	}
	s.curMu.Lock()
	s.cur = inv
	s.curMu.Unlock()
	defer func() {
		s.curMu.Lock()
		s.cur = nil
		s.curMu.Unlock()
	}()

	defer close(inv.abandoned)
	initFailed := func(res result) result {
		s.killRuntime(rp)
		s.printf("START RequestId: %s Version: $LATEST\n", inv.id)
		s.endReport(inv.id, 0, rp, "error")
		return res
	}
	// Init phase: wait until the runtime has taken the event. Lambda gives init 10 s.
	initTimer := time.NewTimer(10 * time.Second)
	defer initTimer.Stop()
	var start time.Time
	for sent := false; start.IsZero(); {
		send := s.next
		if sent {
			send = nil // handed over; a /next of a dead runtime hands it back
		}
		select {
		case send <- inv:
			sent = true
		case start = <-inv.delivered:
		case <-rp.exited:
			select {
			case res := <-rp.initErr: // the runtime reported why before exiting
				return initFailed(res)
			default:
			}
			msg := fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %v", inv.id, exitText(rp.exitErr))
			s.printf("%s\nRuntime.ExitError\n", msg)
			return initFailed(result{body: errorBody("Runtime.ExitError", msg), isError: true})
		case res := <-rp.initErr:
			return initFailed(res)
		case <-initTimer.C:
			msg := fmt.Sprintf("RequestId: %s Error: the runtime did not ask for work within 10 seconds", inv.id)
			s.printf("%s\n", msg)
			s.killRuntime(rp)
			s.printf("START RequestId: %s Version: $LATEST\n", inv.id)
			s.endReport(inv.id, 0, rp, "timeout")
			return result{body: errorBody("Runtime.InitTimeout", msg), isError: true}
		case <-ctx.Done():
			return result{body: errorBody("Client.Gone", "the caller went away"), isError: true}
		}
	}
	timer := time.NewTimer(time.Until(start.Add(inv.timeout)))
	defer timer.Stop()
	select {
	case res := <-inv.done:
		s.endReport(inv.id, time.Since(start), rp, "")
		return res
	case <-rp.exited:
		s.killRuntime(rp)
		msg := fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %v", inv.id, exitText(rp.exitErr))
		s.printf("%s\nRuntime.ExitError\n", msg)
		s.endReport(inv.id, time.Since(start), rp, "error")
		return result{body: errorBody("Runtime.ExitError", msg), isError: true}
	case <-timer.C:
		// Lambda freezes the environment on timeout and starts the next
		// invoke in a fresh runtime; the shim kills the process group.
		d := time.Since(start)
		s.killRuntime(rp)
		secs := fmt.Sprintf("%.2f", inv.timeout.Seconds())
		s.printf("%s %s Task timed out after %s seconds\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), inv.id, secs)
		s.endReport(inv.id, d, rp, "timeout")
		return result{body: errorBody("Sandbox.Timedout", fmt.Sprintf("RequestId: %s Error: Task timed out after %s seconds", inv.id, secs)), isError: true}
	}
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// endReport writes END and REPORT in Lambda's exact format. Init Duration
// appears on the first invoke a runtime serves; Status on failures.
func (s *server) endReport(id string, d time.Duration, rp *runtimeProc, status string) {
	ms := float64(d.Microseconds()) / 1000
	line := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB",
		id, ms, int64(math.Ceil(ms)), s.cfg.MemoryMB, maxMemoryUsedMB())
	if rp != nil {
		rp.mu.Lock()
		if !rp.initShown {
			rp.initShown = true
			first := rp.firstNext
			if first.IsZero() {
				first = time.Now()
			}
			line += fmt.Sprintf("\tInit Duration: %.2f ms", float64(first.Sub(rp.started).Microseconds())/1000)
		}
		rp.mu.Unlock()
	}
	if status != "" {
		line += "\tStatus: " + status
	}
	s.printf("END RequestId: %s\n%s\t\n", id, line)
}

// maxMemoryUsedMB reads the container's peak memory from its cgroup:
// v2 memory.peak (or memory.current where peak is missing), v1
// memory.max_usage_in_bytes. 0 when none is readable.
func maxMemoryUsedMB() int {
	for _, p := range []string{
		"/sys/fs/cgroup/memory.peak",
		"/sys/fs/cgroup/memory/memory.max_usage_in_bytes",
		"/sys/fs/cgroup/memory.current",
		"/sys/fs/cgroup/memory/memory.usage_in_bytes",
	} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			continue
		}
		return int((n + (1<<20 - 1)) >> 20)
	}
	return 0
}

// ---------- runtime API ----------

const runtimePrefix = "/2018-06-01/runtime/"

func (s *server) serveRuntime(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if !strings.HasPrefix(p, runtimePrefix) {
		http.NotFound(w, r)
		return
	}
	rest := p[len(runtimePrefix):]
	switch {
	case rest == "invocation/next" && r.Method == http.MethodGet:
		s.serveNext(w, r)
	case rest == "init/error" && r.Method == http.MethodPost:
		s.serveInitError(w, r)
	case strings.HasPrefix(rest, "invocation/") && r.Method == http.MethodPost:
		id, kind, ok := strings.Cut(strings.TrimPrefix(rest, "invocation/"), "/")
		if !ok || (kind != "response" && kind != "error") {
			http.NotFound(w, r)
			return
		}
		s.serveResult(w, r, id, kind == "error")
	default:
		http.NotFound(w, r)
	}
}

func runtimeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`+"\n")
}

func runtimeError(w http.ResponseWriter, status int, errType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(errType, msg))
}

func (s *server) currentRuntime() *runtimeProc {
	s.rtMu.Lock()
	defer s.rtMu.Unlock()
	return s.rt
}

func (s *server) serveNext(w http.ResponseWriter, r *http.Request) {
	rp := s.currentRuntime()
	var exited <-chan struct{}
	if rp != nil {
		exited = rp.exited
		rp.mu.Lock()
		if rp.firstNext.IsZero() {
			rp.firstNext = time.Now()
		}
		rp.mu.Unlock()
	}
	var inv *invocation
	select {
	case inv = <-s.next:
	case <-r.Context().Done():
		return
	case <-exited:
		return
	}
	if r.Context().Err() != nil || (rp != nil && !rp.alive()) {
		// This poll belongs to a runtime that is gone: the event goes to
		// the next runtime's /next instead of being lost with this connection.
		go func() {
			select {
			case s.next <- inv:
			case <-inv.abandoned:
			}
		}()
		return
	}
	now := time.Now()
	s.printf("START RequestId: %s Version: $LATEST\n", inv.id)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(now.Add(inv.timeout).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.arn)
	h.Set("Lambda-Runtime-Trace-Id", inv.traceID)
	if inv.clientContext != "" {
		h.Set("Lambda-Runtime-Client-Context", inv.clientContext)
	}
	if inv.cognito != "" {
		h.Set("Lambda-Runtime-Cognito-Identity", inv.cognito)
	}
	inv.delivered <- now
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

func (s *server) serveResult(w http.ResponseWriter, r *http.Request, id string, isError bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxResponseBytes+1))
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", "reading the body: "+err.Error())
		return
	}
	s.curMu.Lock()
	inv := s.cur
	s.curMu.Unlock()
	if inv == nil || inv.id != id {
		runtimeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID: "+id)
		return
	}
	res := result{body: body, isError: isError}
	if isError {
		res.body = normalizeError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))
	} else if len(body) > maxResponseBytes {
		res = result{isError: true, body: errorBody("Function.ResponseSizeTooLarge",
			fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxResponseBytes))}
	}
	select {
	case inv.done <- res:
		runtimeAccepted(w)
	default:
		runtimeError(w, http.StatusBadRequest, "InvalidStateTransition", "a result was already posted for "+id)
	}
}

// normalizeError keeps a runtime's JSON error document as it posted it (the
// body RIE and Lambda return) and wraps anything else in Lambda's shape.
func normalizeError(body []byte, errType string) []byte {
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) == nil {
		return body
	}
	if errType == "" {
		errType = "Unhandled"
	}
	return errorBody(errType, string(bytes.TrimSpace(body)))
}

func (s *server) serveInitError(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxResponseBytes))
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", "reading the body: "+err.Error())
		return
	}
	rp := s.currentRuntime()
	if rp == nil {
		runtimeError(w, http.StatusForbidden, "InvalidStateTransition", "no runtime is initializing")
		return
	}
	res := result{isError: true, body: normalizeError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))}
	select {
	case rp.initErr <- res:
		runtimeAccepted(w)
	default:
		runtimeError(w, http.StatusForbidden, "InvalidStateTransition", "init error already reported")
	}
}

func randHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newTraceID makes an X-Ray trace header like Lambda's.
func newTraceID() string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), randHex(24), randHex(16))
}
