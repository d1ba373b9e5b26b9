package remote_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/aws"
	"github.com/fndeck/fndeck/cloud/gcp"
	"github.com/fndeck/fndeck/cloud/remote"
	"github.com/fndeck/fndeck/cloud/remote/wire"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
	"github.com/fndeck/fndeck/internal/testsupport/gcpfake"
)

var (
	buildOnce sync.Once
	helperBin string
	buildErr  error
)

// helper builds the real fndeck-cloud binary once per test run.
func helper(tb testing.TB) string {
	tb.Helper()
	buildHelper()
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return helperBin
}

func buildHelper() {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fndeck-cloud-test")
		if err != nil {
			buildErr = err
			return
		}
		helperBin = filepath.Join(dir, remote.HelperName)
		cmd := exec.Command("go", "build", "-o", helperBin, "github.com/fndeck/fndeck/cloud/remote/fndeck-cloud")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build fndeck-cloud: %v\n%s", err, out)
		}
	})
}

func TestMain(m *testing.M) {
	// Build now, while HOME is the real one: the tests point HOME at temp
	// dirs, and go build there would start from an empty build cache.
	buildHelper()
	code := m.Run()
	if helperBin != "" {
		_ = os.RemoveAll(filepath.Dir(helperBin))
	}
	os.Exit(code)
}

// isolate keeps the helper (which inherits this process's environment) off
// the machine's real cloud credentials.
func isolate(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "none.json"))
	t.Setenv("CLOUDSDK_CONFIG", t.TempDir())
}

func newClient(t *testing.T, init wire.Init) *remote.Client {
	t.Helper()
	c := remote.NewClient(remote.ClientOptions{Init: init, HelperPath: helper(t), CancelGrace: 10 * time.Second})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func mustAddr(t *testing.T, s string) cloud.Address {
	t.Helper()
	a, err := cloud.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// reRequestID matches the per-request id in AWS SDK messages.
var reRequestID = regexp.MustCompile(`RequestID: [^,\s]+`)

// sameError checks that err, which crossed the pipe, answers like want,
// the in-process backend's error for the same call.
func sameError(t *testing.T, what string, got, want error, kinds ...error) {
	t.Helper()
	if got == nil || want == nil {
		t.Fatalf("%s: got %v, in-process %v; want both to fail", what, got, want)
	}
	if g, w := reRequestID.ReplaceAllString(got.Error(), "RequestID: X"), reRequestID.ReplaceAllString(want.Error(), "RequestID: X"); g != w {
		t.Errorf("%s: message %q, in-process %q", what, got.Error(), want.Error())
	}
	if cloud.Hint(got) != cloud.Hint(want) {
		t.Errorf("%s: hint %q, in-process %q", what, cloud.Hint(got), cloud.Hint(want))
	}
	for _, k := range kinds {
		if !errors.Is(want, k) {
			t.Fatalf("%s: the in-process error does not match %v; fix the test", what, k)
		}
		if !errors.Is(got, k) {
			t.Errorf("%s: errors.Is(%v) false after the pipe", what, k)
		}
	}
}

// waitInflight waits until the helper runs n calls (besides the question).
func waitInflight(t *testing.T, c *remote.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := c.Inflight(context.Background())
		if err != nil {
			t.Fatalf("Inflight: %v", err)
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("helper runs %d calls, want %d", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNothingStartsUntilACloudCall(t *testing.T) {
	isolate(t)
	c := newClient(t, wire.Init{})
	a, g := remote.New(cloud.AWS, c), remote.New(cloud.GCP, c)
	// A push to a registry that is neither ECR nor Google's asks both
	// backends for credentials: they decline without the helper.
	for _, b := range []*remote.Backend{a, g} {
		if _, ok, err := b.AuthFor(context.Background(), "127.0.0.1:5000"); ok || err != nil {
			t.Fatalf("%s AuthFor(local registry) = %v, %v; want declined", b.Provider(), ok, err)
		}
	}
	if pid := c.PID(); pid != 0 {
		t.Fatalf("helper started (pid %d) without a cloud call", pid)
	}
	if _, err := c.Inflight(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.PID() == 0 {
		t.Fatal("no helper after a call")
	}
}

// StartAfter holds calls (and so the helper's start) until it is closed;
// a call whose ctx ends while held returns at once.
func TestStartAfterHoldsTheHelper(t *testing.T) {
	isolate(t)
	gate := make(chan struct{})
	c := remote.NewClient(remote.ClientOptions{Init: wire.Init{}, HelperPath: helper(t), StartAfter: gate})
	t.Cleanup(func() { _ = c.Close() })

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Inflight(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled call held by the gate: %v, want context.Canceled", err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := c.Inflight(context.Background())
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a call went through a closed gate: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if pid := c.PID(); pid != 0 {
		t.Fatalf("helper started (pid %d) before the gate opened", pid)
	}
	close(gate)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the held call after the gate opened: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the held call did not go through after the gate opened")
	}
	if c.PID() == 0 {
		t.Fatal("no helper after the gate opened and a call ran")
	}
}

func TestGCPThroughHelper(t *testing.T) {
	isolate(t)
	f := gcpfake.StartCloudRun(t)
	l := gcpfake.StartLogging(t)
	ack := make(chan struct{})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cloudtest.WriteAckedLines(w, 3, ack)
	}))
	defer app.Close()
	for _, r := range []string{"europe-west1", "us-central1"} {
		f.AddService("acme-web", r, "api", "gcr.io/acme-web/api:1", app.URL)
	}
	f.AddService("acme-web", "europe-west1", "web", "gcr.io/acme-web/web:2", app.URL)
	f.SetProjectError("acme-locked", status.Error(codes.PermissionDenied, "Permission 'run.locations.list' denied on project acme-locked"))
	opts := wire.GCPOptions{Projects: []string{"acme-web", "acme-locked"}, RunEndpoint: f.Addr, LoggingEndpoint: l.Addr}
	c := newClient(t, wire.Init{GCP: opts})
	b := remote.New(cloud.GCP, c)
	direct := gcp.New(gcp.Options{Projects: opts.Projects, RunEndpoint: opts.RunEndpoint, LoggingEndpoint: opts.LoggingEndpoint})
	defer direct.Close()
	ctx := context.Background()

	// List: groups stream in, errors keep kind and hint.
	var caller = goroutineID()
	got := map[string]cloud.GroupResult{}
	if err := b.List(ctx, cloud.ListFilter{}, func(g cloud.GroupResult) {
		if id := goroutineID(); id != caller {
			t.Errorf("emit ran in goroutine %d, the caller is %d", id, caller)
		}
		got[g.Group.Scope+"/"+g.Group.Region] = g
	}); err != nil {
		t.Fatalf("List: %v", err)
	}
	var want []cloud.GroupResult
	var wantMu sync.Mutex // the in-process backend emits from several goroutines
	if err := direct.List(ctx, cloud.ListFilter{}, func(g cloud.GroupResult) { wantMu.Lock(); want = append(want, g); wantMu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) < 3 {
		t.Fatalf("groups: %d through the helper, %d in-process: %v", len(got), len(want), got)
	}
	for _, w := range want {
		g, ok := got[w.Group.Scope+"/"+w.Group.Region]
		if !ok {
			t.Errorf("group %+v missing", w.Group)
			continue
		}
		if g.Hint != w.Hint || len(g.Functions) != len(w.Functions) {
			t.Errorf("group %+v: %d functions hint %q, in-process %d %q", w.Group, len(g.Functions), g.Hint, len(w.Functions), w.Hint)
		}
		if w.Err != nil {
			sameError(t, "group "+w.Group.Scope, g.Err, w.Err, cloud.ErrPermission)
		}
		for i := range w.Functions {
			if !reflect.DeepEqual(g.Functions[i], w.Functions[i]) {
				t.Errorf("function %d:\n got %+v\nwant %+v", i, g.Functions[i], w.Functions[i])
			}
		}
	}

	// Describe, and a missing service's ErrNotFound.
	fn, err := b.Describe(ctx, mustAddr(t, "cloudrun:acme-web/europe-west1/web"))
	if err != nil || fn.ImageURI != "gcr.io/acme-web/web:2" || fn.Address != "cloudrun:acme-web/europe-west1/web" {
		t.Fatalf("Describe = %+v, %v", fn, err)
	}
	missing := mustAddr(t, "cloudrun:acme-web/europe-west1/nope")
	_, gerr := b.Describe(ctx, missing)
	_, werr := direct.Describe(ctx, missing)
	sameError(t, "describe missing", gerr, werr, cloud.ErrNotFound)

	// Invoke: each chunk reaches the caller as it arrives.
	var chunks []string
	res, err := b.Invoke(ctx, cloud.InvokeRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"), Method: "POST", Payload: []byte(`{}`)}, func(p []byte) {
		if id := goroutineID(); id != caller {
			t.Errorf("chunk ran in goroutine %d, the caller is %d", id, caller)
		}
		chunks = append(chunks, string(p))
		ack <- struct{}{}
	})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if strings.Join(chunks, "|") != "line 1\n|line 2\n|line 3\n" || string(res.Body) != "line 1\nline 2\nline 3\n" || res.StatusCode != 200 {
		t.Errorf("chunks %q, result %d %q", chunks, res.StatusCode, res.Body)
	}

	// Logs: history then the live tail; cancel mid-stream ends the call in
	// the helper too, and the client's goroutines with it.
	now := time.Now()
	l.AddEntries(gcpfake.TextEntry("acme-web", "europe-west1", "api", "h1", "from history", now.Add(-time.Minute)))
	lctx, cancel := context.WithCancel(ctx)
	lines := make(chan cloud.LogLine, 100)
	done := make(chan error, 1)
	go func() {
		done <- b.Logs(lctx, cloud.LogRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"), Since: now.Add(-5 * time.Minute), Follow: true},
			func(ll cloud.LogLine) { lines <- ll })
	}()
	tail := l.NextTail(t)
	if err := tail.SendEntries(gcpfake.TextEntry("acme-web", "europe-west1", "api", "t1", "live one", now)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"from history", "live one"} {
		select {
		case ll := <-lines:
			if ll.Message != want || ll.Address != "cloudrun:acme-web/europe-west1/api" {
				t.Errorf("line %+v, want %q", ll, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("line %q never arrived", want)
		}
	}
	waitInflight(t, c, 1)
	cancel()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Logs after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Logs did not return after cancel")
	}
	waitInflight(t, c, 0)
	select {
	case <-tail.Done():
	case <-time.After(30 * time.Second):
		t.Error("the helper kept the tail stream open after cancel")
	}
	noCallGoroutines(t)
}

// noCallGoroutines waits until no goroutine runs a remote call: a
// cancelled call leaves nothing behind on the client side. (The gcpfake
// server's goroutines for the helper's connection are not the client's.)
func noCallGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		buf := make([]byte, 4<<20)
		all := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(all, "remote.(*Client).call") && !strings.Contains(all, "remote.(*Backend).Logs") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a remote call's goroutine is still running:\n%s", all)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// goroutineID reads the current goroutine's id from its stack header.
func goroutineID() int {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	var id int
	_, _ = fmt.Sscanf(string(buf), "goroutine %d ", &id)
	return id
}

func TestAWSThroughHelperAgainstMoto(t *testing.T) {
	isolate(t)
	m := cloudtest.StartMoto(t)
	m.SetEnv(t)
	c := newClient(t, wire.Init{AWS: wire.AWSOptions{Regions: []string{"us-east-1"}, DescribeAll: true}})
	b := remote.New(cloud.AWS, c)
	direct := aws.New(aws.Options{Regions: []string{"us-east-1"}, DescribeAll: true})
	ctx := context.Background()

	var groups []cloud.GroupResult
	if err := b.List(ctx, cloud.ListFilter{}, func(g cloud.GroupResult) { groups = append(groups, g) }); err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(groups) != 1 || groups[0].Err != nil || groups[0].Group.Region != "us-east-1" || !strings.Contains(groups[0].Group.Scope, "123456789012") {
		t.Fatalf("groups = %+v", groups)
	}
	missing := mustAddr(t, "lambda:us-east-1/nope")
	_, gerr := b.Describe(ctx, missing)
	_, werr := direct.Describe(ctx, missing)
	sameError(t, "describe missing", gerr, werr, cloud.ErrNotFound)

	// ECR credentials come from the helper with the login hint alongside.
	host := "123456789012.dkr.ecr.us-east-1.amazonaws.com"
	auth, ok, err := b.AuthFor(ctx, host)
	if err != nil || !ok || auth.Password == "" {
		t.Fatalf("AuthFor(%s) = ok %v, err %v, password set %v", host, ok, err, auth.Password != "")
	}
	if h := b.LoginHint(host); h != direct.LoginHint(host) || h == "" {
		t.Errorf("LoginHint = %q, in-process %q", h, direct.LoginHint(host))
	}
}

func TestDeployErrorsKeepKindAndHint(t *testing.T) {
	isolate(t)
	f := gcpfake.StartCloudRun(t)
	f.AddService("acme-web", "europe-west1", "api", "gcr.io/acme-web/api:1", "http://127.0.0.1:1")
	opts := wire.GCPOptions{Projects: []string{"acme-web"}, RunEndpoint: f.Addr}
	c := newClient(t, wire.Init{GCP: opts})
	b := remote.New(cloud.GCP, c)
	// An image Cloud Run pulls as is, to a service that does not exist,
	// without --create.
	req := cloud.DeployRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/nope"), Image: "gcr.io/acme-web/api:2"}
	var lines []string
	_, err := b.Deploy(context.Background(), req, lineSink{&lines})
	direct := gcp.New(gcp.Options{Projects: opts.Projects, RunEndpoint: opts.RunEndpoint})
	defer direct.Close()
	_, werr := direct.Deploy(context.Background(), req, cloud.DiscardSink{})
	if werr == nil || err == nil {
		t.Fatalf("deploy errors: helper %v, in-process %v", err, werr)
	}
	// Whatever the kind, it must be the same on both sides.
	var kinds []error
	for _, k := range []error{cloud.ErrNeedsConfirmation, cloud.ErrNotFound, cloud.ErrInvalid, cloud.ErrUnreachable, cloud.ErrPermission} {
		if errors.Is(werr, k) {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		t.Fatalf("the in-process deploy error %q matches no sentinel; pick another failing deploy", werr)
	}
	sameError(t, "deploy", err, werr, kinds...)
	var he *cloud.HintError
	if cloud.Hint(werr) != "" && !errors.As(err, &he) {
		t.Error("errors.As(*cloud.HintError) false after the pipe")
	}
}

type lineSink struct{ lines *[]string }

func (s lineSink) Line(l string)           { *s.lines = append(*s.lines, l) }
func (s lineSink) Progress(cloud.Progress) {}

func TestHelperKilledMidCall(t *testing.T) {
	isolate(t)
	l := gcpfake.StartLogging(t)
	c := newClient(t, wire.Init{GCP: wire.GCPOptions{Projects: []string{"acme-web"}, LoggingEndpoint: l.Addr}})
	b := remote.New(cloud.GCP, c)
	done := make(chan error, 1)
	go func() {
		done <- b.Logs(context.Background(), cloud.LogRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"), Follow: true}, func(cloud.LogLine) {})
	}()
	l.NextTail(t)
	pid := c.PID()
	if pid == 0 {
		t.Fatal("no helper while a call runs")
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.HasPrefix(err.Error(), "cloud helper exited: ") || !errors.Is(err, cloud.ErrUnreachable) {
			t.Fatalf("Logs after kill -9 = %v; want a cloud helper exited error", err)
		}
		t.Logf("error after kill -9: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Logs hung after the helper was killed")
	}
	// The next call starts a new helper.
	if _, err := c.Inflight(context.Background()); err != nil {
		t.Fatalf("call after the helper died: %v", err)
	}
	if p := c.PID(); p == 0 || p == pid {
		t.Fatalf("helper pid %d after restart, the killed one was %d", p, pid)
	}
}

func TestHelperCrashReportsItsStderr(t *testing.T) {
	isolate(t)
	// A stale binary speaking another protocol exits with a message: the
	// call must fail with it rather than hang.
	dir := t.TempDir()
	fake := filepath.Join(dir, "fndeck-cloud")
	script := "#!/bin/sh\necho 'panic: something broke token=abc123secret' >&2\nexit 2\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c := remote.NewClient(remote.ClientOptions{HelperPath: fake})
	defer c.Close()
	_, err := c.Inflight(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cloud helper exited: panic: something broke") {
		t.Fatalf("error = %v", err)
	}
	if strings.Contains(err.Error(), "abc123secret") {
		t.Errorf("the error shows a secret: %v", err)
	}
}

func TestMissingHelperSaysHowToInstallIt(t *testing.T) {
	isolate(t)
	t.Setenv("FNDECK_CLOUD_HELPER", filepath.Join(t.TempDir(), "nowhere"))
	c := remote.NewClient(remote.ClientOptions{Version: "v9.9.9"})
	defer c.Close()
	b := remote.New(cloud.AWS, c)
	const line = "go install " + remote.HelperPackage + "@v9.9.9"
	err := b.List(context.Background(), cloud.ListFilter{}, func(cloud.GroupResult) { t.Error("emit without a helper") })
	if err == nil || !errors.Is(err, remote.ErrNoHelper) || !strings.Contains(err.Error(), "FNDECK_CLOUD_HELPER") || !strings.Contains(cloud.Hint(err), line) {
		t.Fatalf("error = %v, hint %q", err, cloud.Hint(err))
	}
	// Without the variable: not next to the test binary, not on $PATH.
	t.Setenv("FNDECK_CLOUD_HELPER", "")
	t.Setenv("PATH", t.TempDir())
	_, err = b.Describe(context.Background(), mustAddr(t, "lambda:us-east-1/f"))
	if err == nil || !errors.Is(err, remote.ErrNoHelper) || !strings.Contains(cloud.Hint(err), line) || !strings.Contains(cloud.Hint(err), "FNDECK_CLOUD_HELPER") {
		t.Fatalf("error = %v, hint %q", err, cloud.Hint(err))
	}
	// A source-tree build ("dev", and a test binary records no module
	// version): @latest and the source build command.
	if _, err := remote.FindHelper("dev"); err == nil || !strings.Contains(cloud.Hint(err), "go install "+remote.HelperPackage+"@latest") || !strings.Contains(cloud.Hint(err), remote.BuildCommand) {
		t.Fatalf("FindHelper(dev) = %v, hint %q", err, cloud.Hint(err))
	}
	// With it on $PATH, it is found.
	dir := t.TempDir()
	if err := os.Symlink(helper(t), filepath.Join(dir, remote.HelperName)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if p, err := remote.FindHelper("v9.9.9"); err != nil || p != filepath.Join(dir, remote.HelperName) {
		t.Fatalf("FindHelper = %q, %v", p, err)
	}
}

func TestInstallVersion(t *testing.T) {
	installed := &debug.BuildInfo{Main: debug.Module{Path: "github.com/fndeck/fndeck", Version: "v0.3.0"}}
	pseudo := &debug.BuildInfo{Main: debug.Module{Version: "v0.3.1-0.20261101120000-0123456789ab"}}
	checkout := &debug.BuildInfo{Main: debug.Module{Version: "v0.3.1-0.20261101120000-0123456789ab"},
		Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789ab"}}}
	dirty := &debug.BuildInfo{Main: debug.Module{Version: "v0.3.1-0.20261101120000-0123456789ab+dirty"}}
	devel := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
	for _, tt := range []struct {
		name, version string
		info          *debug.BuildInfo
		want          string
	}{
		{"ldflags version wins", "v1.2.3", installed, "v1.2.3"},
		{"goreleaser's bare version gains its v", "1.2.3", nil, "v1.2.3"},
		{"go install of a release", "dev", installed, "v0.3.0"},
		{"go install of a commit", "dev", pseudo, pseudo.Main.Version},
		{"go build in a checkout", "dev", checkout, ""},
		{"modified checkout", "dev", dirty, ""},
		{"no module version", "dev", devel, ""},
		{"no build info", "", nil, ""},
	} {
		if got := remote.InstallVersion(tt.version, tt.info); got != tt.want {
			t.Errorf("%s: InstallVersion(%q) = %q, want %q", tt.name, tt.version, got, tt.want)
		}
	}
	if h := remote.InstallHint("v0.3.0"); h != "install it with: go install github.com/fndeck/fndeck/cloud/remote/fndeck-cloud@v0.3.0" {
		t.Errorf("InstallHint(v0.3.0) = %q", h)
	}
}

func TestCancelBeforeAnswer(t *testing.T) {
	isolate(t)
	c := newClient(t, wire.Init{})
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := c.Flood(ctx, 50_000_000, func(cloud.LogLine) {
		if n++; n == 1000 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Flood after cancel = %v", err)
	}
	waitInflight(t, c, 0)
}

func TestHelperExitsWhenStdinCloses(t *testing.T) {
	isolate(t)
	cmd := exec.Command(helper(t))
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The parent going away mid-session: init sent, a call running, EOF.
	if _, err := fmt.Fprintf(in, "{\"t\":\"init\",\"d\":{\"version\":%d}}\n{\"id\":1,\"t\":\"call\",\"m\":\"flood\",\"d\":{\"N\":100000000}}\n", wire.Version); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	_ = in.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("helper exit: %v; stderr %q", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the helper kept running after its stdin closed")
	}
}

// TestFndeckLinksNoCloudSDK guards issue 2's split: the fndeck binary must
// not link the AWS or Google SDKs (nor gRPC/protobuf), whose package inits
// run before main whether or not a cloud is used.
func TestFndeckLinksNoCloudSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/fndeck/fndeck").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	re := regexp.MustCompile(`(?m)^.*(aws-sdk|cloud\.google|google\.golang\.org/grpc|protobuf).*$`)
	if found := re.FindAllString(string(out), 10); len(found) > 0 {
		t.Fatalf("fndeck links cloud SDK packages (they belong in fndeck-cloud): %v", found)
	}
	if !strings.Contains(string(out), "github.com/fndeck/fndeck/cloud/remote\n") {
		t.Fatal("fndeck does not link cloud/remote: the check above proves nothing")
	}
}

// The tail count crosses the pipe: the helper reads the last N entries
// whatever their age, not a time window.
func TestLogsTailCrossesThePipe(t *testing.T) {
	isolate(t)
	l := gcpfake.StartLogging(t)
	now := time.Now()
	for i := range 5 {
		l.AddEntries(gcpfake.TextEntry("acme-web", "europe-west1", "api", fmt.Sprint(i), fmt.Sprintf("old %d", i), now.Add(-30*time.Hour+time.Duration(i)*time.Minute)))
	}
	c := newClient(t, wire.Init{GCP: wire.GCPOptions{Projects: []string{"acme-web"}, LoggingEndpoint: l.Addr}})
	b := remote.New(cloud.GCP, c)
	var got []string
	err := b.Logs(context.Background(), cloud.LogRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"), Tail: 2}, func(ll cloud.LogLine) { got = append(got, ll.Message) })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != "old 3|old 4" {
		t.Errorf("lines through the helper = %q, want the last 2", got)
	}
}
