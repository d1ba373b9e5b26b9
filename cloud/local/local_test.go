package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// newClient returns a Docker client for the engine the tests use.
func newClient(t testing.TB) *client.Client {
	t.Helper()
	cloudtest.RequireDocker(t)
	c, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatalf("docker client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// buildImage builds a FROM scratch image holding one static binary.
func buildImage(t testing.TB, pkg, bin, dockerfileTail string) string {
	t.Helper()
	dir := t.TempDir()
	cloudtest.BuildStatic(t, pkg, dir, bin)
	df := "FROM scratch\nCOPY " + bin + " /" + bin + "\n" + dockerfileTail + "\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o600); err != nil {
		t.Fatal(err)
	}
	ref := cloudtest.UniqueName("fndeck-test-"+bin) + ":v1"
	cloudtest.Docker(t, "build", "-q", "--no-cache", "-t", ref, dir)
	t.Cleanup(func() { _ = execCommand("docker", "rmi", "-f", ref) })
	return ref
}

// shimFromSource builds the shim from this tree, so tests exercise the
// current code rather than the committed embedded copy.
func shimFromSource(t testing.TB) func(context.Context, string) (string, error) {
	t.Helper()
	p := cloudtest.BuildStatic(t, "./shim/cmd/fndeck-shim", t.TempDir(), "fndeck-shim")
	return func(_ context.Context, arch string) (string, error) {
		if normalizeArch(arch) != "amd64" {
			return "", fmt.Errorf("test shim is amd64, image is %s", arch)
		}
		return p, nil
	}
}

func newBackend(t testing.TB, c *client.Client, shimPath func(context.Context, string) (string, error)) *Backend {
	t.Helper()
	b, err := New(Options{Client: c, Network: NetworkHost, ShimPath: shimPath, StateDir: t.TempDir(), ReadyTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func removeOnCleanup(t testing.TB, name string) {
	t.Cleanup(func() { _ = execCommand("docker", "rm", "-f", ContainerName(name)) })
}

type lineSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *lineSink) Line(l string)           { s.mu.Lock(); s.lines = append(s.lines, l); s.mu.Unlock() }
func (s *lineSink) Progress(cloud.Progress) {}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestLambdaDeployInvokeLogs(t *testing.T) {
	c := newClient(t)
	image := buildImage(t, "./testdata/hello", "hello", `ENTRYPOINT ["/hello"]`)
	shimPath := shimFromSource(t)
	ctx := testCtx(t)
	t0 := time.Now()
	step := func(what string) { t.Logf("%6.2fs %s", time.Since(t0).Seconds(), what) }
	name := cloudtest.UniqueName("hello")
	removeOnCleanup(t, name)
	target := cloud.Address{Provider: cloud.Local, Function: name}

	deployer := newBackend(t, c, shimPath)
	sink := &lineSink{}
	res, err := deployer.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image, As: "lambda", TimeoutS: 2, Env: map[string]string{"GREETING_STYLE": "plain"}}, sink)
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, strings.Join(sink.lines, "\n"))
	}
	if !res.Created || res.NewImage != image || res.Revision == "" {
		t.Errorf("deploy result %+v", res)
	}

	step("invoke from a second backend")
	// A second backend instance finds and invokes the function: nothing
	// lives in the deploying instance.
	c2 := newClient(t)
	b := newBackend(t, c2, nil)
	r1, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target, Payload: []byte(`{"name":"x"}`)}, nil)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	if r1.FunctionError != "" || string(r1.Response) != `{"greeting":"hello x"}` {
		t.Fatalf("invoke result: error %q response %s", r1.FunctionError, r1.Response)
	}
	if r1.Report == nil || r1.Report.InitMS <= 0 || r1.Report.MemoryMB != 128 || r1.Report.DurationMS <= 0 {
		t.Errorf("first report %+v (log tail %q)", r1.Report, r1.LogTail)
	}
	if r1.Report != nil && r1.Report.MaxMemoryMB <= 0 {
		t.Errorf("max memory used not read from the cgroup: %+v", r1.Report)
	}
	if !strings.Contains(r1.LogTail, "greeting x") {
		t.Errorf("log tail lacks the handler's output: %q", r1.LogTail)
	}

	step("function error")
	r2, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target, Payload: []byte(`{"name":"fail"}`)}, nil)
	if err != nil {
		t.Fatalf("invoke fail: %v", err)
	}
	var fe struct{ ErrorMessage, ErrorType string }
	if r2.FunctionError != "Unhandled" || json.Unmarshal(r2.Response, &fe) != nil || fe.ErrorMessage != "name must not be fail" {
		t.Errorf("function error: %q %s", r2.FunctionError, r2.Response)
	}
	if r2.Report == nil || r2.Report.InitMS != 0 {
		t.Errorf("second report should have no Init Duration: %+v", r2.Report)
	}

	step("logs")
	// Logs: START/END/REPORT, Init Duration on the first invoke only.
	var lines []cloud.LogLine
	if err := b.Logs(ctx, cloud.LogRequest{Target: target, Since: time.Now().Add(-time.Hour)}, func(l cloud.LogLine) { lines = append(lines, l) }); err != nil {
		t.Fatalf("logs: %v", err)
	}
	var reports []cloud.Report
	starts := 0
	for _, l := range lines {
		if strings.HasPrefix(l.Message, "START RequestId: ") && strings.HasSuffix(l.Message, " Version: $LATEST") {
			starts++
		}
		if r, ok := cloud.ParseReport(l.Message); ok {
			reports = append(reports, r)
		}
		if l.Time.IsZero() || l.Address != target.String() {
			t.Errorf("log line without time/address: %+v", l)
		}
	}
	if starts != 2 || len(reports) != 2 || reports[0].InitMS <= 0 || reports[1].InitMS != 0 {
		t.Errorf("want 2 START and 2 REPORT (init on the first only), got %d, %+v", starts, reports)
	}
	var filtered []string
	if err := b.Logs(ctx, cloud.LogRequest{Target: target, Filter: "END RequestId"}, func(l cloud.LogLine) { filtered = append(filtered, l.Message) }); err != nil {
		t.Fatal(err)
	}
	if len(filtered) != 2 {
		t.Errorf("filter END: %q", filtered)
	}

	step("timeout")
	// Timeout: reported as such; the next invoke gets a fresh runtime.
	rt, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target, Payload: []byte(`{"name":"sleep","seconds":4}`)}, nil)
	if err != nil {
		t.Fatalf("invoke sleep: %v", err)
	}
	if !rt.TimedOut || rt.FunctionError != "Unhandled" || !strings.Contains(string(rt.Response), "Task timed out after 2.00 seconds") {
		t.Errorf("timeout result: timedOut=%v error=%q response=%s report=%+v", rt.TimedOut, rt.FunctionError, rt.Response, rt.Report)
	}
	step("after timeout")
	r3, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target, Payload: []byte(`{"name":"after"}`)}, nil)
	if err != nil || string(r3.Response) != `{"greeting":"hello after"}` {
		t.Fatalf("invoke after timeout: %v %s", err, r3.Response)
	}
	if r3.Report == nil || r3.Report.InitMS <= 0 {
		t.Errorf("a fresh runtime after the timeout should report Init Duration: %+v", r3.Report)
	}

	step("cold invoke")
	// Cold invoke restarts the container: Init Duration again.
	rc, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target, Payload: []byte(`{"name":"cold"}`), Cold: true}, nil)
	if err != nil || string(rc.Response) != `{"greeting":"hello cold"}` || rc.Report == nil || rc.Report.InitMS <= 0 {
		t.Errorf("cold invoke: %v %s %+v", err, rc.Response, rc.Report)
	}

	step("list and describe")
	// List and describe from the container alone.
	var groups []cloud.GroupResult
	if err := b.List(ctx, cloud.ListFilter{}, func(g cloud.GroupResult) { groups = append(groups, g) }); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].Err != nil || groups[0].Group != (cloud.Group{Provider: cloud.Local, Scope: "docker"}) {
		t.Fatalf("groups %+v", groups)
	}
	var found *cloud.Function
	for i, f := range groups[0].Functions {
		if f.Name == name {
			found = &groups[0].Functions[i]
		}
	}
	if found == nil || found.Mode != "lambda" || found.ImageURI != image || found.MemoryMB != 128 || found.TimeoutS != 2 || found.State != "running" {
		t.Errorf("listed function %+v", found)
	}
	d, err := b.Describe(ctx, target)
	if err != nil || d.Address != target.String() || d.ImageURI != image || !strings.HasPrefix(d.URL, "http://127.0.0.1:") {
		t.Errorf("describe: %v %+v", err, d)
	}

	// The container is Lambda-shaped: read-only root, labelled, memory-limited.
	ro := cloudtest.Docker(t, "inspect", "-f", "{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.Memory}} {{index .Config.Labels \"fndeck.function\"}}", ContainerName(name))
	if ro != fmt.Sprintf("true %d %s", 128<<20, name) {
		t.Errorf("container settings: %q", ro)
	}

	step("redeploy and rollback")
	// Rollback restores the entry before the deploy being undone: redeploy
	// with a second tag and another env, then roll back to the first deploy.
	image2 := strings.TrimSuffix(image, ":v1") + ":v2"
	cloudtest.Docker(t, "tag", image, image2)
	t.Cleanup(func() { _ = execCommand("docker", "rmi", image2) })
	res2, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image2, As: "lambda", TimeoutS: 2, Env: map[string]string{"GREETING_STYLE": "loud"}}, nil)
	if err != nil || res2.OldImage != image || res2.Created || res2.OldSettings == nil || res2.OldSettings.Env["GREETING_STYLE"] != "plain" {
		t.Fatalf("redeploy: %v %+v (old settings %+v)", err, res2, res2.OldSettings)
	}
	rb, err := b.Rollback(ctx, target, res, nil)
	if err != nil || rb.NewImage != image || rb.OldImage != image2 {
		t.Fatalf("rollback: %v %+v", err, rb)
	}
	env := cloudtest.Docker(t, "inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", ContainerName(name))
	if !strings.Contains(env, "GREETING_STYLE=plain") {
		t.Errorf("rollback did not restore the first deploy's env: %s", env)
	}
	if _, err := b.Rollback(ctx, target, res, nil); !errors.Is(err, cloud.ErrNothingToDo) {
		t.Errorf("a second rollback to what serves = %v, want ErrNothingToDo", err)
	}
	r4, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target, Payload: []byte(`{"name":"back"}`)}, nil)
	if err != nil || string(r4.Response) != `{"greeting":"hello back"}` {
		t.Errorf("after rollback: %v %s", err, r4.Response)
	}

	step("stop and start")
	if err := b.Stop(ctx, target); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target}, nil); !errors.Is(err, cloud.ErrConflict) {
		t.Errorf("invoke of a stopped function: %v", err)
	}
	if d, err := b.Describe(ctx, target); err != nil || d.State != "exited" || d.Ready == nil || *d.Ready {
		t.Errorf("describe stopped: %v %+v", err, d)
	}
	if err := b.Start(ctx, target); err != nil {
		t.Fatal(err)
	}
	if r, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target, Payload: []byte(`{"name":"restarted"}`)}, nil); err != nil || string(r.Response) != `{"greeting":"hello restarted"}` {
		t.Errorf("after start: %v %s", err, r.Response)
	}
	step("remove")
	if err := b.Remove(ctx, target); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target}, nil); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("invoke after remove: %v", err)
	}
}

// runRIE runs the hello image under the AWS Runtime Interface Emulator and
// returns its invoke URL.
func runRIE(t testing.TB, image string) string {
	t.Helper()
	rie := cloudtest.RIEPath(t)
	p1, p2 := cloudtest.FreePort(t), cloudtest.FreePort(t)
	name := cloudtest.UniqueName("fndeck-rie")
	cloudtest.Docker(t, "run", "-d", "--name", name, "--network", "host", "-v", rie+":/rie:ro", "--entrypoint", "/rie", image,
		"--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", p1),
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", p2), "/hello")
	t.Cleanup(func() { _ = execCommand("docker", "rm", "-f", name) })
	url := fmt.Sprintf("http://127.0.0.1:%d%s", p1, invokePath)
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(url) // any HTTP answer means RIE listens
		if err == nil {
			resp.Body.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("RIE did not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func post(t testing.TB, url, payload string) (http.Header, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(payload))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %s %s", url, resp.Status, b)
	}
	return resp.Header, b
}

func deployHello(t testing.TB, c *client.Client, image string, timeoutS int) (*Backend, cloud.Address, string) {
	t.Helper()
	b := newBackend(t, c, shimFromSource(t))
	name := cloudtest.UniqueName("conf")
	removeOnCleanup(t, name)
	target := cloud.Address{Provider: cloud.Local, Function: name}
	if _, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: target, Image: image, As: "lambda", TimeoutS: timeoutS}, nil); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	d, err := b.Describe(testCtx(t), target)
	if err != nil {
		t.Fatal(err)
	}
	return b, target, d.URL
}

func TestConformanceWithRIE(t *testing.T) {
	c := newClient(t)
	image := buildImage(t, "./testdata/hello", "hello", `ENTRYPOINT ["/hello"]`)
	rieURL := runRIE(t, image)
	_, _, shimURL := deployHello(t, c, image, 10)
	for _, payload := range []string{`{"name":"x"}`, `{"name":"fail"}`, `{}`, `{"name":42}`, `"just a string"`} {
		rh, rb := post(t, rieURL, payload)
		sh, sb := post(t, shimURL, payload)
		var rv, sv any
		if err := json.Unmarshal(rb, &rv); err != nil {
			t.Fatalf("RIE answered non-JSON for %s: %s", payload, rb)
		}
		if err := json.Unmarshal(sb, &sv); err != nil {
			t.Fatalf("shim answered non-JSON for %s: %s", payload, sb)
		}
		t.Logf("payload %s: RIE %s | shim %s", payload, rb, sb)
		if !reflect.DeepEqual(rv, sv) {
			t.Errorf("payload %s:\n RIE  %s\n shim %s", payload, rb, sb)
		}
		// RIE never sets the header; the shim sets it exactly for errors.
		_, isErr := rv.(map[string]any)["errorType"]
		if got := sh.Get("X-Amz-Function-Error"); (got == "Unhandled") != isErr {
			t.Errorf("payload %s: X-Amz-Function-Error %q (RIE: %q)", payload, got, rh.Get("X-Amz-Function-Error"))
		}
	}
}

func TestCloudRunStreaming(t *testing.T) {
	c := newClient(t)
	image := buildImage(t, "./testdata/streamer", "streamer", `ENTRYPOINT ["/streamer"]`)
	b := newBackend(t, c, nil)
	ctx := testCtx(t)
	name := cloudtest.UniqueName("web")
	removeOnCleanup(t, name)
	target := cloud.Address{Provider: cloud.Local, Function: name}
	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image, As: "cloudrun"}, nil); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	type arrival struct {
		at   time.Time
		data string
	}
	var chunks []arrival
	res, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target, Path: "/stream"}, func(p []byte) {
		chunks = append(chunks, arrival{time.Now(), string(p)})
	})
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	want := fmt.Sprintf("line 1 of %s\nline 2 of %s\nline 3 of %s\n", name, name, name)
	if res.StatusCode != 200 || string(res.Body) != want {
		t.Fatalf("status %d body %q", res.StatusCode, res.Body)
	}
	if len(chunks) < 3 {
		t.Fatalf("body arrived in %d chunks, want each flushed line separately: %v", len(chunks), chunks)
	}
	if gap := chunks[len(chunks)-1].at.Sub(chunks[0].at); gap < 400*time.Millisecond {
		t.Errorf("chunks arrived %v apart; the server flushes 300ms apart", gap)
	}
	// Method, path, headers and payload reach the app.
	r2, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target, Method: "PUT", Path: "/echo", Headers: http.Header{"X-Test": {"yes"}}, Payload: []byte("body")}, nil)
	if err != nil || string(r2.Body) != "PUT /echo yes body" {
		t.Errorf("echo: %v %q", err, r2.Body)
	}
	// An HTTP error answer is a function error, as on Cloud Run: the call
	// worked (no error), the result says the function failed.
	r3, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target, Path: "/fail"}, nil)
	if err != nil || r3.StatusCode != http.StatusInternalServerError || r3.FunctionError != "500 Internal Server Error" ||
		string(r3.Response) != fmt.Sprintf("%q", "boom: "+name+"\n") {
		t.Errorf("invoking /fail: err %v, status %d, function error %q, response %s", err, r3.StatusCode, r3.FunctionError, r3.Response)
	}
	env := cloudtest.Docker(t, "inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", ContainerName(name))
	for _, k := range []string{"PORT=", "K_SERVICE=" + name, "K_REVISION=" + name + "-", "K_CONFIGURATION=" + name} {
		if !strings.Contains(env, k) {
			t.Errorf("env lacks %s:\n%s", k, env)
		}
	}
}

func TestDeployRefusesBadInput(t *testing.T) {
	c := newClient(t)
	b := newBackend(t, c, nil)
	ctx := testCtx(t)
	target := cloud.Address{Provider: cloud.Local, Function: "x"}
	for _, req := range []cloud.DeployRequest{
		{Target: target, Image: "img", As: "ecs"},
		{Target: target, Image: "img", Env: map[string]string{"BAD-NAME": "v"}},
		{Target: cloud.Address{Provider: cloud.AWS, Region: "eu-west-1", Function: "f"}, Image: "img"},
	} {
		if _, err := b.Deploy(ctx, req, nil); !errors.Is(err, cloud.ErrInvalid) {
			t.Errorf("%+v: err = %v, want ErrInvalid", req, err)
		}
	}
	_, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: cloudtest.UniqueName("no-such-image") + ":none"}, nil)
	if !errors.Is(err, cloud.ErrNotFound) || cloud.Hint(err) == "" {
		t.Errorf("missing image: %v (hint %q)", err, cloud.Hint(err))
	}
	if _, err := New(Options{Client: c, Network: "overlay"}); err == nil {
		t.Error("network overlay accepted")
	}
}

// A bridge-network deploy on an engine without a bridge network fails
// before creating anything, with what to do; where the engine has one,
// the check lets the deploy through.
func TestBridgeDeployOnAnEngineWithoutABridge(t *testing.T) {
	c := newClient(t)
	b, err := New(Options{Client: c, Network: NetworkBridge, ShimPath: shimFromSource(t), StateDir: t.TempDir(), ReadyTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, inspectErr := c.NetworkInspect(testCtx(t), "bridge", client.NetworkInspectOptions{})
	if inspectErr == nil {
		if err := b.checkBridge(testCtx(t)); err != nil {
			t.Fatalf("the engine has a bridge network, yet: %v", err)
		}
		return
	}
	image := buildImage(t, "./testdata/hello", "hello", `ENTRYPOINT ["/hello"]`)
	name := cloudtest.UniqueName("nobridge")
	removeOnCleanup(t, name)
	_, err = b.Deploy(testCtx(t), cloud.DeployRequest{Target: cloud.Address{Provider: cloud.Local, Function: name}, Image: image}, nil)
	if !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), "no bridge network") || !strings.Contains(cloud.Hint(err), "FNDECK_LOCAL_NETWORK=host") {
		t.Fatalf("deploy = %v (hint %q), want the missing bridge explained", err, cloud.Hint(err))
	}
	// Failing before the create is what makes it immediate: nothing was made.
	if out := cloudtest.Docker(t, "ps", "-aq", "--filter", "label="+LabelFunction+"="+name); out != "" {
		t.Errorf("a container was made: %s", out)
	}
}
