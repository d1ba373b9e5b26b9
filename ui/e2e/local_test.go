package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// helloImage builds the aws-lambda-go handler of cloud/local/testdata/hello
// into a FROM scratch image and returns its reference.
func helloImage(t *testing.T) string {
	t.Helper()
	cloudtest.RequireDocker(t)
	dir := t.TempDir()
	cloudtest.BuildStatic(t, "github.com/fndeck/fndeck/cloud/local/testdata/hello", dir, "hello")
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY hello /var/task/hello\nENTRYPOINT [\"/var/task/hello\"]\n"), 0o644)
	ref := cloudtest.UniqueName("fndeck-e2e-hello") + ":v1"
	cloudtest.Docker(t, "build", "-q", "--no-cache", "-t", ref, dir)
	t.Cleanup(func() { _, _, _ = runDocker("rmi", "-f", ref) })
	return ref
}

func runDocker(args ...string) (string, string, error) {
	var out, errb strings.Builder
	cmd := execCommand("docker", args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// The whole local loop through the real binary, each step its own process:
// deploy → invoke (from another process) → function error → logs with
// START/END/REPORT, Init Duration on the first invoke only.
func TestLocalLambdaLoopAcrossProcesses(t *testing.T) {
	ref := helloImage(t)
	name := strings.ToLower(strings.ReplaceAll(cloudtest.UniqueName("hello"), "_", "-"))
	env := isolatedEnv(t, "FNDECK_LOCAL_NETWORK=host")
	addr := "local:" + name
	t.Cleanup(func() { _, _, _ = runDocker("rm", "-f", "fndeck-"+name) })

	out, errOut, code := runCLI(t, env, "", "deploy", ref, addr, "--as", "lambda", "--timeout", "2", "--memory", "256")
	if code != 0 {
		t.Fatalf("deploy exited %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if !strings.Contains(out, "deployed "+addr) {
		t.Errorf("deploy output does not confirm: %s", out)
	}

	out, errOut, code = runCLI(t, env, "", "invoke", addr, "--payload", `{"name":"x"}`, "--json")
	if code != 0 {
		t.Fatalf("invoke exited %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var res struct {
		StatusCode    int             `json:"status_code"`
		FunctionError string          `json:"function_error"`
		Response      json.RawMessage `json:"response"`
		Report        *struct {
			DurationMS float64 `json:"duration_ms"`
			InitMS     float64 `json:"init_ms"`
			MemoryMB   int     `json:"memory_mb"`
		} `json:"report"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("invoke --json output is not one JSON object: %v\n%s", err, out)
	}
	var body map[string]string
	if err := json.Unmarshal(res.Response, &body); err != nil || body["greeting"] != "hello x" {
		t.Fatalf("response %s, want {\"greeting\":\"hello x\"}", res.Response)
	}
	if res.FunctionError != "" {
		t.Errorf("unexpected function error %q", res.FunctionError)
	}

	// A second invoke is warm; a handler error comes back as a function error.
	out, errOut, code = runCLI(t, env, "", "invoke", addr, "--payload", `{"name":"fail"}`)
	if code != 1 {
		t.Fatalf("failing invoke exited %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if !strings.Contains(out, "name must not be fail") {
		t.Errorf("the handler's error message is not shown: %s", out)
	}
	if !strings.Contains(errOut, "function error") {
		t.Errorf("stderr does not say function error: %s", errOut)
	}

	// Invalid JSON is refused before anything is sent, with line:column, exit 2.
	_, errOut, code = runCLI(t, env, "", "invoke", addr, "--payload", "{\"name\": x}")
	if code != 2 || !strings.Contains(errOut, "line 1, column 10") {
		t.Errorf("invalid payload: exit %d, stderr %q; want 2 and line 1, column 10", code, errOut)
	}

	var logs string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		logs, errOut, code = runCLI(t, env, "", "logs", addr, "--since", "10m")
		if code == 0 && strings.Count(logs, "REPORT RequestId") >= 2 {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	reports := regexp.MustCompile(`REPORT RequestId: \S+.*`).FindAllString(logs, -1)
	if len(reports) < 2 {
		t.Fatalf("want two REPORT lines in the logs, got %d (exit %d, %s):\n%s", len(reports), code, errOut, logs)
	}
	if !strings.Contains(reports[0], "Init Duration:") {
		t.Errorf("first REPORT lacks Init Duration: %s", reports[0])
	}
	if strings.Contains(reports[1], "Init Duration:") {
		t.Errorf("second (warm) REPORT has Init Duration: %s", reports[1])
	}
	for _, want := range []string{"START RequestId:", "END RequestId:", "greeting x"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}

	// The function is listed under local, serving the image deployed.
	if got := localImage(t, env, addr); got != ref {
		t.Errorf("functions --json: %s serves %q, want %q", addr, got, ref)
	}

	// A second deploy, then rollback returns to the first image (history
	// kept in the state dir, shared by these separate processes).
	ref2 := strings.TrimSuffix(ref, ":v1") + ":v2"
	cloudtest.Docker(t, "tag", ref, ref2)
	t.Cleanup(func() { _, _, _ = runDocker("rmi", ref2) })
	if out, errOut, code = runCLI(t, env, "", "deploy", ref2, addr, "--as", "lambda"); code != 0 {
		t.Fatalf("second deploy exited %d: %s %s", code, out, errOut)
	}
	if !strings.Contains(out, ref+" → "+ref2) {
		t.Errorf("second deploy does not show old → new: %s", out)
	}
	if got := localImage(t, env, addr); got != ref2 {
		t.Fatalf("after the second deploy %s serves %q, want %q", addr, got, ref2)
	}
	if out, errOut, code = runCLI(t, env, "", "rollback", addr); code != 0 {
		t.Fatalf("rollback exited %d: %s %s", code, out, errOut)
	}
	if got := localImage(t, env, addr); got != ref {
		t.Fatalf("after rollback %s serves %q, want %q", addr, got, ref)
	}
	out, _, code = runCLI(t, env, "", "invoke", addr, "--payload", `{"name":"back"}`)
	if code != 0 || !strings.Contains(out, "hello back") {
		t.Errorf("invoke after rollback: exit %d, %s", code, out)
	}
}

// localImage is the image a local function serves, per `fndeck functions --json`.
func localImage(t *testing.T, env []string, addr string) string {
	t.Helper()
	out, errOut, code := runCLI(t, env, "", "functions", "--provider", "local", "--json")
	if code != 0 {
		t.Fatalf("functions exited %d: %s", code, errOut)
	}
	var res struct {
		Functions []struct {
			Address  string `json:"address"`
			ImageURI string `json:"image_uri"`
		} `json:"functions"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("functions --json: %v\n%s", err, out)
	}
	for _, f := range res.Functions {
		if f.Address == addr {
			return f.ImageURI
		}
	}
	t.Fatalf("functions --json does not list %s:\n%s", addr, out)
	return ""
}

// streamerImage builds cloud/local/testdata/streamer (a Cloud Run style
// server; /fail answers 500) into a FROM scratch image.
func streamerImage(t *testing.T) string {
	t.Helper()
	cloudtest.RequireDocker(t)
	dir := t.TempDir()
	cloudtest.BuildStatic(t, "github.com/fndeck/fndeck/cloud/local/testdata/streamer", dir, "streamer")
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY streamer /streamer\nENTRYPOINT [\"/streamer\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := cloudtest.UniqueName("fndeck-e2e-streamer") + ":v1"
	cloudtest.Docker(t, "build", "-q", "--no-cache", "-t", ref, dir)
	t.Cleanup(func() { _, _, _ = runDocker("rmi", "-f", ref) })
	return ref
}

// A local --as cloudrun function answering 500 is a function error
// everywhere: the JSON has function_error, headless invoke exits 1, the TUI
// invoke pane says "function error". Then `fndeck rm` removes it: exit 0,
// then 1 once it is gone, and 2 for an address that is not local:.
func TestLocalCloudRunFunctionErrorAndRm(t *testing.T) {
	requireTmux(t)
	ref := streamerImage(t)
	name := flowName("web500")
	addr := "local:" + name
	env := isolatedEnv(t, "FNDECK_LOCAL_NETWORK=host")
	t.Cleanup(func() { _, _, _ = runDocker("rm", "-f", "fndeck-"+name) })

	if out, errOut, code := runCLI(t, env, "", "deploy", ref, addr, "--as", "cloudrun"); code != 0 {
		t.Fatalf("deploy exited %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	out, errOut, code := runCLI(t, env, "", "invoke", addr, "--path", "/fail", "--json")
	if code != 1 {
		t.Fatalf("invoke of a 500 exited %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var res struct {
		StatusCode    int             `json:"status_code"`
		FunctionError string          `json:"function_error"`
		Response      json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("invoke --json output is not one JSON object: %v\n%s", err, out)
	}
	if res.StatusCode != 500 || res.FunctionError != "500 Internal Server Error" || !strings.Contains(string(res.Response), "boom: "+name) {
		t.Errorf("invoke --json = status %d, function_error %q, response %s", res.StatusCode, res.FunctionError, res.Response)
	}
	if !strings.Contains(errOut, "function error") {
		t.Errorf("stderr does not say function error: %s", errOut)
	}
	// A good answer is no function error and exits 0.
	if out, errOut, code := runCLI(t, env, "", "invoke", addr, "--path", "/ok", "--json"); code != 0 || strings.Contains(out, "function_error") {
		t.Errorf("invoke of a 200 exited %d: %s %s", code, out, errOut)
	}

	// The TUI's invoke pane: path /fail, send, see the function error.
	s := startTUIIn(t, t.TempDir(), env)
	s.waitFor(`1 Images`, 20*time.Second)
	s.keys("2")
	s.waitFor(regexp.QuoteMeta(name[:12]), 30*time.Second) // the column cuts long names
	s.keys("/")
	s.typeText(name)
	s.keys("Enter")
	s.waitFor(`i invoke`, 10*time.Second)
	s.keys("i")
	s.waitFor(`Invoke · `+regexp.QuoteMeta(addr), 10*time.Second)
	s.keys("u")
	s.waitFor(`path: /`, 10*time.Second)
	s.typeText("fail")
	s.keys("Enter")
	s.waitFor(`/fail`, 10*time.Second)
	s.keys("C-s")
	screen := s.waitFor(`function error: 500 Internal Server Error`, 60*time.Second)
	if !strings.Contains(screen, "status 500") {
		t.Errorf("the invoke pane does not show the status:\n%s", screen)
	}

	// rm: usage errors first (nothing removed), then the removal, then gone.
	for _, bad := range []string{"cloudrun:acme/europe-west1/" + name, "nonsense"} {
		if _, errOut, code := runCLI(t, env, "", "rm", bad); code != 2 {
			t.Errorf("rm %s exited %d, want 2: %s", bad, code, errOut)
		}
	}
	if out, errOut, code := runCLI(t, env, "", "rm", addr); code != 0 || !strings.Contains(out, "removed "+addr) {
		t.Fatalf("rm exited %d: %s %s", code, out, errOut)
	}
	if _, _, err := runDocker("inspect", "fndeck-"+name); err == nil {
		t.Errorf("the container fndeck-%s is still there after rm", name)
	}
	if _, errOut, code := runCLI(t, env, "", "rm", addr); code != 1 || !strings.Contains(errOut, name) {
		t.Errorf("rm of a removed function exited %d, want 1: %s", code, errOut)
	}
}
