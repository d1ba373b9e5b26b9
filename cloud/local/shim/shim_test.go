package shim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// buildHello compiles the aws-lambda-go test handler for running on this host.
func buildHello(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "hello")
	cmd := exec.Command("go", "build", "-o", out, "../testdata/hello")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the hello handler: %v\n%s", err, b)
	}
	return out
}

// startShim runs the shim in-process and waits until its invoke endpoint answers.
func startShim(t *testing.T, cfg Config) (*syncBuffer, string) {
	t.Helper()
	cfg.InvokeAddr, cfg.RuntimeAddr = freeAddr(t), freeAddr(t)
	if cfg.Function == "" {
		cfg.Function = "hello"
	}
	if cfg.Region == "" {
		cfg.Region = "eu-west-1"
	}
	if cfg.MemoryMB == 0 {
		cfg.MemoryMB = 128
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, out, out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("shim: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("shim did not stop within 30s")
		}
	})
	base := "http://" + cfg.InvokeAddr
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(base + HealthPath)
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("shim did not answer: %v\n%s", err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return out, cfg.RuntimeAddr + "|" + base
}

func invoke(t *testing.T, base, payload string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/2015-03-31/functions/function/invocations", strings.NewReader(payload))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

var reportRe = regexp.MustCompile(`(?m)^REPORT RequestId: (\S+)\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB(\tInit Duration: \d+\.\d\d ms)?(\tStatus: \w+)?\t$`)

func reportFor(t *testing.T, logs, id string) []string {
	t.Helper()
	for _, m := range reportRe.FindAllStringSubmatch(logs, -1) {
		if m[1] == id {
			return m
		}
	}
	t.Fatalf("no REPORT line for %s in:\n%s", id, logs)
	return nil
}

func TestShimRunsAWSLambdaGoHandler(t *testing.T) {
	hello := buildHello(t)
	out, addrs := startShim(t, Config{Command: []string{hello}, MemoryMB: 256, Timeout: time.Second})
	base := strings.SplitN(addrs, "|", 2)[1]

	resp, body := invoke(t, base, `{"name":"x"}`, nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("status %d, function error %q, body %s", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), body)
	}
	if string(body) != `{"greeting":"hello x"}` {
		t.Fatalf("body = %s", body)
	}
	id1 := resp.Header.Get("X-Amzn-RequestId")
	if m := reportFor(t, out.String(), id1); m[2] == "" {
		t.Errorf("first invoke's REPORT has no Init Duration: %q", m[0])
	}
	if !strings.Contains(out.String(), "START RequestId: "+id1+" Version: $LATEST\n") || !strings.Contains(out.String(), "END RequestId: "+id1+"\n") {
		t.Errorf("START/END missing for %s:\n%s", id1, out.String())
	}

	resp, body = invoke(t, base, `{"name":"fail"}`, nil)
	if resp.Header.Get("X-Amz-Function-Error") != "Unhandled" {
		t.Errorf("function error header = %q", resp.Header.Get("X-Amz-Function-Error"))
	}
	var e struct{ ErrorMessage, ErrorType string }
	if err := json.Unmarshal(body, &e); err != nil || e.ErrorMessage != "name must not be fail" || e.ErrorType == "" {
		t.Errorf("error body = %s (%v)", body, err)
	}
	if m := reportFor(t, out.String(), resp.Header.Get("X-Amzn-RequestId")); m[2] != "" {
		t.Errorf("second invoke's REPORT has an Init Duration: %q", m[0])
	}

	// Timeout: reported like Lambda, and the next invoke gets a fresh runtime.
	resp, body = invoke(t, base, `{"name":"sleep","seconds":5}`, nil)
	idT := resp.Header.Get("X-Amzn-RequestId")
	if resp.Header.Get("X-Amz-Function-Error") != "Unhandled" || !strings.Contains(string(body), "Task timed out after 1.00 seconds") {
		t.Errorf("timeout answer: %s %s", resp.Header.Get("X-Amz-Function-Error"), body)
	}
	if m := reportFor(t, out.String(), idT); m[3] != "\tStatus: timeout" {
		t.Errorf("timeout REPORT = %q", m[0])
	}
	if !regexp.MustCompile(`(?m)^\S+ ` + idT + ` Task timed out after 1.00 seconds$`).MatchString(out.String()) {
		t.Errorf("no 'Task timed out' line:\n%s", out.String())
	}
	// Asynchronous and dry-run invocation types, as the Invoke API has them.
	resp, _ = invoke(t, base, `{"name":"event"}`, map[string]string{"X-Amz-Invocation-Type": "Event"})
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("Event invoke: %d", resp.StatusCode)
	}
	resp, _ = invoke(t, base, `{"name":"dry"}`, map[string]string{"X-Amz-Invocation-Type": "DryRun"})
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("DryRun invoke: %d", resp.StatusCode)
	}
	resp, body = invoke(t, base, `{"name":"again"}`, nil)
	if string(body) != `{"greeting":"hello again"}` {
		t.Fatalf("after timeout: %s", body)
	}
	// The Event invoke runs in the background, before or after "again".
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "greeting event"); {
		if time.Now().After(deadline) {
			t.Fatalf("the Event invoke did not run:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(out.String(), "greeting dry") {
		t.Errorf("the DryRun invoke ran")
	}
}

// TestShimRuntimeAPI plays the runtime itself to check the headers and
// error routes byte for byte.
func TestShimRuntimeAPI(t *testing.T) {
	sleeper, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("needs sleep(1)")
	}
	out, addrs := startShim(t, Config{Command: []string{sleeper, "600"}, Handler: "app.handler", Function: "fn", MemoryMB: 256})
	parts := strings.SplitN(addrs, "|", 2)
	rt, base := "http://"+parts[0]+"/2018-06-01/runtime", parts[1]

	type answer struct {
		resp *http.Response
		body []byte
	}
	results := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, base+"/2015-03-31/functions/function/invocations", strings.NewReader(`{"a":1}`))
		req.Header.Set("X-Amz-Client-Context", "eyJjdXN0b20iOnsiayI6InYifX0=") // {"custom":{"k":"v"}}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			results <- answer{}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		results <- answer{resp, b}
	}()
	before := time.Now()
	next, err := http.Get(rt + "/invocation/next")
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := io.ReadAll(next.Body)
	next.Body.Close()
	if string(payload) != `{"a":1}` {
		t.Errorf("event = %s", payload)
	}
	id := next.Header.Get("Lambda-Runtime-Aws-Request-Id")
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Errorf("request id %q", id)
	}
	dl, _ := strconv.ParseInt(next.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
	if d := time.UnixMilli(dl).Sub(before); d < 9*time.Second || d > 11*time.Second {
		t.Errorf("deadline %v from now, want ~10s", d)
	}
	if got := next.Header.Get("Lambda-Runtime-Invoked-Function-Arn"); got != "arn:aws:lambda:eu-west-1:000000000000:function:fn" {
		t.Errorf("arn %q", got)
	}
	if got := next.Header.Get("Lambda-Runtime-Trace-Id"); !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`).MatchString(got) {
		t.Errorf("trace id %q", got)
	}
	if got := next.Header.Get("Lambda-Runtime-Client-Context"); got != `{"custom":{"k":"v"}}` {
		t.Errorf("client context %q", got)
	}
	// A result for another request ID is refused.
	r, err := http.Post(rt+"/invocation/not-the-id/response", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusBadRequest {
		t.Errorf("wrong-id response: %d", r.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, rt+"/invocation/"+id+"/error", strings.NewReader(`{"errorMessage":"boom","errorType":"MyError","stackTrace":[]}`))
	req.Header.Set("Lambda-Runtime-Function-Error-Type", "MyError")
	r, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusAccepted {
		t.Errorf("error post: %d", r.StatusCode)
	}
	a := <-results
	if a.resp == nil {
		t.Fatal("invoke failed")
	}
	if a.resp.Header.Get("X-Amz-Function-Error") != "Unhandled" || string(a.body) != `{"errorMessage":"boom","errorType":"MyError","stackTrace":[]}` {
		t.Errorf("function error answer: %q %s", a.resp.Header.Get("X-Amz-Function-Error"), a.body)
	}
	if !strings.Contains(out.String(), "END RequestId: "+id+"\n") {
		t.Errorf("no END line:\n%s", out.String())
	}
}

func TestShimEnvironment(t *testing.T) {
	s := &server{cfg: Config{RuntimeAddr: "127.0.0.1:9", Function: "fn", Region: "eu-west-1", MemoryMB: 512, Handler: "app.handler"}}
	env := s.runtimeEnv([]string{"PATH=/custom", "AWS_LAMBDA_FUNCTION_NAME=spoofed", "MY_VAR=1"})
	want := map[string]string{
		"PATH": "/custom", "MY_VAR": "1", "AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_REGION": "eu-west-1",
		"AWS_DEFAULT_REGION": "eu-west-1", "LAMBDA_TASK_ROOT": "/var/task", "LAMBDA_RUNTIME_DIR": "/var/runtime",
		"_HANDLER": "app.handler", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn", "TZ": ":UTC",
	}
	for k, v := range want {
		if got := envValue(env, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if got := envValue(env, "AWS_LAMBDA_LOG_STREAM_NAME"); !regexp.MustCompile(`^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{16}$`).MatchString(got) {
		t.Errorf("log stream name %q", got)
	}
	n := 0
	for _, kv := range env {
		if strings.HasPrefix(kv, "AWS_LAMBDA_FUNCTION_NAME=") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("AWS_LAMBDA_FUNCTION_NAME appears %d times", n)
	}
}

func TestArgsRoundTrip(t *testing.T) {
	c := Config{InvokeAddr: "127.0.0.1:1", RuntimeAddr: "127.0.0.1:2", Function: "f", Region: "r", MemoryMB: 64,
		Timeout: 1500 * time.Millisecond, Handler: "h", Command: []string{"/lambda-entrypoint.sh", "--flag", "app.handler"}}
	got, err := parseArgs(c.Args())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, c)
	}
	c = Config{Mode: ModeCloudRun, LogAddr: "0.0.0.0:7781", Timeout: time.Second, MemoryMB: 512, Command: []string{"/app", "--port", "1"}}
	got, err = parseArgs(c.Args())
	if err != nil || got.Mode != c.Mode || got.LogAddr != c.LogAddr || fmt.Sprint(got.Command) != fmt.Sprint(c.Command) {
		t.Errorf("cloudrun round trip: %+v %v", got, err)
	}
	if _, err := parseArgs([]string{"--mode", "fargate"}); err == nil {
		t.Error("--mode fargate accepted")
	}
	if _, err := parseArgs([]string{"--timeout", "0"}); err == nil {
		t.Error("timeout 0 accepted")
	}
}

func TestResolveCommandFallsBackToBootstrap(t *testing.T) {
	dir := t.TempDir()
	boot := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(boot, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &server{cfg: Config{Command: []string{"app.handler"}}, env: []string{"PATH=/nonexistent", "LAMBDA_RUNTIME_DIR=/nonexistent", "LAMBDA_TASK_ROOT=" + dir}}
	got, err := s.resolveCommand()
	if err != nil || len(got) != 1 || got[0] != boot {
		t.Errorf("got %v, %v; want [%s]", got, err, boot)
	}
	s.env = []string{"PATH=/nonexistent"}
	if _, err := s.resolveCommand(); err == nil || !strings.Contains(err.Error(), "app.handler") {
		t.Errorf("missing runtime: err = %v", err)
	}
}
