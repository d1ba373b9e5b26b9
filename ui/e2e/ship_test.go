package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// runCLIIn runs fndeck in dir (a project directory).
func runCLIIn(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, fndeckBin(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running fndeck %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return stdout.String(), stderr.String(), code
}

// shipProject writes a project whose function api builds the hello handler
// (compiled here, static) into a FROM scratch image, with a local target
// run as Lambda and a smoke test expecting smokeJSON.
func shipProject(t *testing.T, name, smokeJSON string) string {
	t.Helper()
	cloudtest.RequireDocker(t)
	dir := t.TempDir()
	// build.pre puts the host-compiled handler where the Dockerfile copies it from.
	cloudtest.BuildStatic(t, "github.com/fndeck/fndeck/cloud/local/testdata/hello", dir, "hello.host")
	files := map[string]string{
		"Dockerfile":          "FROM scratch\nCOPY hello /var/task/hello\nENTRYPOINT [\"/var/task/hello\"]\n",
		"payloads/smoke.json": `{"name":"ship"}`,
		"fndeck.yaml": "functions:\n  api:\n    build: {context: ., pre: 'cp hello.host hello && echo compiled on the host'}\n    targets:\n      dev: {local: {as: lambda, name: " + name + ", timeout: 5}}\n" +
			"      dev2: {local: {as: lambda, name: " + name + "-2, timeout: 5}}\n" +
			"    payloads: {smoke: payloads/smoke.json}\n    smoke: {payload: smoke, expect: {status: 200, json: " + smokeJSON + "}}\n",
	}
	for f, c := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_, _, _ = runDocker("rm", "-f", "fndeck-"+name, "fndeck-"+name+"-2")
		_, _, _ = runDocker("rmi", "-f", "fndeck-ship/api:latest")
	})
	return dir
}

type stageEvent struct {
	Type        string `json:"type"`
	ID          uint64 `json:"id"`
	Kind        string `json:"kind"`
	Target      string `json:"target"`
	State       string `json:"state"`
	Started     string `json:"started"`
	Finished    string `json:"finished"`
	Error       string `json:"error"`
	Chain       string `json:"chain"`
	Stage       string `json:"stage"`
	DurationMS  *int64 `json:"duration_ms"`
	Result      string `json:"result"`
	Differences []struct {
		Path, Expected, Got string
	} `json:"differences"`
}

func stageEvents(t *testing.T, out string) []stageEvent {
	t.Helper()
	var evs []stageEvent
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev stageEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("a --json line is not JSON: %v: %q", err, line)
		}
		if ev.Type == "stage" {
			evs = append(evs, ev)
		}
	}
	return evs
}

// fndeck ship api.dev --json: build, doctor, deploy, smoke as stage events
// in order, one chain, exit 0; the deployed function answers.
func TestShipLocalLambda(t *testing.T) {
	name := strings.ToLower(strings.ReplaceAll(cloudtest.UniqueName("ship"), "_", "-"))
	dir := shipProject(t, name, `{greeting: hello ship}`)
	env := isolatedEnv(t, "FNDECK_LOCAL_NETWORK=host")

	out, errOut, code := runCLIIn(t, dir, env, "ship", "api.dev", "--json")
	if code != 0 {
		t.Fatalf("ship exited %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	evs := stageEvents(t, out)
	var seq []string
	for _, e := range evs {
		seq = append(seq, e.Stage+":"+e.State)
		if e.Chain == "" || e.Chain != evs[0].Chain {
			t.Errorf("event %+v is not of the chain %q", e, evs[0].Chain)
		}
		wantTarget := "local:" + name
		if e.Stage == "build" {
			wantTarget = "fndeck-ship/api:latest" // the build's target is the image it makes
		}
		if e.Target != wantTarget || e.Started == "" || e.DurationMS == nil {
			t.Errorf("event lacks task fields: %+v", e)
		}
	}
	want := []string{"build:running", "build:succeeded", "doctor:running", "doctor:succeeded",
		"deploy:running", "deploy:succeeded", "smoke:running", "smoke:succeeded"}
	if strings.Join(seq, " ") != strings.Join(want, " ") {
		t.Fatalf("stage events %v\nwant %v\n%s", seq, want, out)
	}
	for _, e := range evs {
		if e.State == "succeeded" && (e.ID == 0 || e.Finished == "") {
			t.Errorf("end event lacks its task id or finish: %+v", e)
		}
	}

	// Human output: each stage with ✓ and its duration.
	out, errOut, code = runCLIIn(t, dir, env, "ship", "api.dev")
	if code != 0 {
		t.Fatalf("ship (human) exited %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if !strings.Contains(out, "pre: compiled on the host") {
		t.Errorf("build.pre's output is not shown:\n%s", out)
	}
	for _, st := range []string{"build", "doctor", "deploy", "smoke"} {
		if !strings.Contains(out, "✓ "+st+" ") {
			t.Errorf("human output lacks ✓ %s:\n%s", st, out)
		}
	}

	// The function is there and answers.
	out, errOut, code = runCLIIn(t, dir, env, "invoke", "api.dev", "--payload", `{"name":"y"}`, "--json")
	if code != 0 || !strings.Contains(out, "hello y") {
		t.Errorf("invoke after ship: exit %d\n%s\n%s", code, out, errOut)
	}
}

// A smoke answer that is not what fndeck.yaml expects fails the chain at
// smoke (exit 1) and names the difference: path, expected, got.
func TestShipSmokeMismatch(t *testing.T) {
	name := strings.ToLower(strings.ReplaceAll(cloudtest.UniqueName("shipbad"), "_", "-"))
	dir := shipProject(t, name, `{greeting: hello world}`)
	env := isolatedEnv(t, "FNDECK_LOCAL_NETWORK=host")

	out, errOut, code := runCLIIn(t, dir, env, "ship", "api.dev", "--json")
	if code != 1 {
		t.Fatalf("ship exited %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	evs := stageEvents(t, out)
	last := evs[len(evs)-1]
	if last.Stage != "smoke" || last.State != "failed" {
		t.Fatalf("last event %+v, want smoke failed\n%s", last, out)
	}
	if len(last.Differences) != 1 || last.Differences[0].Path != "json.greeting" ||
		last.Differences[0].Expected != `"hello world"` || last.Differences[0].Got != `"hello ship"` {
		t.Errorf("differences %+v, want json.greeting \"hello world\" vs \"hello ship\"", last.Differences)
	}
	if !strings.Contains(errOut, `json.greeting: expected "hello world", got "hello ship"`) {
		t.Errorf("stderr does not name the difference:\n%s", errOut)
	}

	out, _, code = runCLIIn(t, dir, env, "ship", "api.dev")
	if code != 1 || !strings.Contains(out, "✗ smoke ") || !strings.Contains(out, `json.greeting: expected "hello world", got "hello ship"`) {
		t.Errorf("human: exit %d, want 1 with ✗ smoke and the difference:\n%s", code, out)
	}
}

// Bad input exits 2 with a hint and starts nothing.
func TestShipBadInput(t *testing.T) {
	dir := shipProject(t, "shipnever", `{}`)
	env := isolatedEnv(t, "FNDECK_LOCAL_NETWORK=host")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"ship", "api.nope"}, `unknown target "nope" of function api`},
		{[]string{"ship", "web.dev"}, `unknown function "web"`},
		{[]string{"ship", "api", "--to", "dev,prod"}, `unknown target "prod" of function api`},
	} {
		out, errOut, code := runCLIIn(t, dir, env, tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "hint: ") {
			t.Errorf("%v: exit %d, stderr %q; want 2 with %q and a hint (stdout %q)", tt.args, code, errOut, tt.want, out)
		}
		if out != "" {
			t.Errorf("%v started something: %s", tt.args, out)
		}
	}
	// A function without build: and a smoke payload that does not exist.
	for _, tt := range []struct{ yaml, want string }{
		{"functions:\n  api:\n    targets: {dev: {local: {as: lambda}}}\n", "function api has no build: section"},
		{"functions:\n  api:\n    build: {context: .}\n    smoke: {payload: missing}\n", `fndeck.yaml:4:22: functions.api.smoke.payload: "missing" is neither a payload`},
	} {
		if err := os.WriteFile(filepath.Join(dir, "fndeck.yaml"), []byte(tt.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := runCLIIn(t, dir, env, "ship", "api")
		if code != 2 || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("exit %d, stdout %q, stderr %q; want 2 with %q", code, out, errOut, tt.want)
		}
	}
	if o, _, _ := runDocker("images", "-q", "fndeck-ship/api:latest"); strings.TrimSpace(o) != "" {
		t.Errorf("bad input built an image")
	}
}

// --to with two targets: one build, then doctor, deploy and smoke for each
// target (in parallel), exit 0; both functions answer.
func TestShipTwoTargets(t *testing.T) {
	name := strings.ToLower(strings.ReplaceAll(cloudtest.UniqueName("shiptwo"), "_", "-"))
	dir := shipProject(t, name, `{greeting: hello ship}`)
	env := isolatedEnv(t, "FNDECK_LOCAL_NETWORK=host")

	out, errOut, code := runCLIIn(t, dir, env, "ship", "api", "--to", "dev,dev2", "--json")
	if code != 0 {
		t.Fatalf("ship exited %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	per := map[string][]string{}
	builds := 0
	for _, e := range stageEvents(t, out) {
		if e.Stage == "build" {
			if e.State == "succeeded" {
				builds++
			}
			continue
		}
		if e.State != "running" {
			per[e.Target] = append(per[e.Target], e.Stage+":"+e.State)
		}
	}
	if builds != 1 {
		t.Errorf("%d builds, want one shared build\n%s", builds, out)
	}
	want := "doctor:succeeded deploy:succeeded smoke:succeeded"
	for _, addr := range []string{"local:" + name, "local:" + name + "-2"} {
		if got := strings.Join(per[addr], " "); got != want {
			t.Errorf("%s: stages %q, want %q\n%s", addr, got, want, out)
		}
	}
	for _, tg := range []string{"api.dev", "api.dev2"} {
		out, errOut, code := runCLIIn(t, dir, env, "invoke", tg, "--payload", `{"name":"z"}`)
		if code != 0 || !strings.Contains(out, "hello z") {
			t.Errorf("invoke %s after ship: exit %d\n%s\n%s", tg, code, out, errOut)
		}
	}
}
