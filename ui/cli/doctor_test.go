package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fndeck/fndeck/actions"
	"github.com/fndeck/fndeck/cloud/docker"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

func runDoctor(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ep, err := docker.Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	e, err := docker.New(ep)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	deps := Deps{Stdout: &stdout, Stderr: &stderr, Stdin: strings.NewReader(""),
		Open: func(context.Context, Globals) (*Session, error) { return &Session{Images: e}, nil }}
	code := Execute(context.Background(), deps, append([]string{"doctor"}, args...))
	return stdout.String(), stderr.String(), code
}

func TestDoctorCommandExitCodes(t *testing.T) {
	arm := cloudtest.UniqueName("fndeck-doctor-cli") + ":arm"
	cloudtest.LoadImage(t, arm, cloudtest.ImageSpec{Architecture: "arm64", Cmd: []string{"app.handler"}, LayerBytes: 100})
	amd := cloudtest.UniqueName("fndeck-doctor-cli") + ":amd"
	cloudtest.LoadImage(t, amd, cloudtest.ImageSpec{Entrypoint: []string{"/server"}, ExposedPorts: []string{"9000/tcp"}, LayerBytes: 200})

	out, errOut, code := runDoctor(t, arm, "cloudrun:acme/europe-west1/api")
	if code != ExitFailure || !strings.Contains(out, "error   platform") || !strings.Contains(errOut, "not fit") {
		t.Errorf("arm64 image to cloud run: exit %d\n%s\n%s", code, out, errOut)
	}
	// Only a warning (port): exit 0.
	out, errOut, code = runDoctor(t, amd, "cloudrun:acme/europe-west1/api", "--json")
	var got struct {
		Checks []actions.Check `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != ExitOK {
		t.Fatalf("amd64 image to cloud run --json: exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	levels := map[string]string{}
	for _, c := range got.Checks {
		levels[c.ID] = c.Level
	}
	if levels["platform"] != "ok" || levels["port"] != "warning" || levels["entrypoint"] != "ok" || levels["size"] != "info" {
		t.Errorf("checks = %+v", got.Checks)
	}
	// The arm64 image suits an arm64 function.
	if out, errOut, code = runDoctor(t, arm, "lambda:us-east-1/fn", "--arch", "arm64"); code != ExitOK {
		t.Errorf("arm64 image to an arm64 function: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, _, code = runDoctor(t, arm); code != ExitUsage {
		t.Errorf("doctor with one argument: exit %d, want %d", code, ExitUsage)
	}
	if _, _, code = runDoctor(t, arm, "lambda:us-east-1/fn", "--arch", "sparc"); code != ExitUsage {
		t.Errorf("doctor --arch sparc: exit %d, want %d", code, ExitUsage)
	}
	if _, errOut, code = runDoctor(t, "fndeck-no-such-image:1", "local:fn"); code != ExitFailure || !strings.Contains(errOut, "not a local image") {
		t.Errorf("doctor of a missing image: exit %d %s", code, errOut)
	}
}

// TestDoctorRegistryImage checks images the engine lacks, read from the
// distribution registry: an index (which child a function runs, or a
// refusal naming what it has) and a single arm64 image; exit codes.
func TestDoctorRegistryImage(t *testing.T) {
	reg := cloudtest.StartRegistry(t, false)
	multi := cloudtest.PushIndex(t, reg.Addr, "team/api", "multi", "linux/amd64", "linux/arm64")
	armOnly := cloudtest.PushIndex(t, reg.Addr, "team/api", "armonly", "linux/arm64")
	cloudtest.PushImage(t, reg.Addr, "team/api", "arm", "linux", "arm64")

	checksOf := func(out string) map[string]actions.Check {
		t.Helper()
		var got struct {
			Checks []actions.Check `json:"checks"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("doctor --json printed %q: %v", out, err)
		}
		m := map[string]actions.Check{}
		for _, c := range got.Checks {
			m[c.ID] = c
		}
		return m
	}

	out, errOut, code := runDoctor(t, multi.Ref, "lambda:us-east-1/fn", "--json")
	cs := checksOf(out)
	if code != ExitOK || cs["manifest"].Level != "ok" || !strings.Contains(cs["manifest"].Message, "deploys its linux/amd64 image "+multi.Children["linux/amd64"]) ||
		cs["platform"].Level != "ok" || cs["entrypoint"].Level != "ok" || !strings.Contains(cs["size"].Message, "compressed") {
		t.Errorf("index to an x86_64 function: exit %d %+v\n%s", code, cs, errOut)
	}
	out, _, code = runDoctor(t, multi.Ref, "lambda:us-east-1/fn", "--arch", "arm64", "--json")
	if cs = checksOf(out); code != ExitOK || !strings.Contains(cs["manifest"].Message, "linux/arm64 image "+multi.Children["linux/arm64"]) {
		t.Errorf("index to an arm64 function: exit %d %+v", code, cs)
	}
	out, errOut, code = runDoctor(t, armOnly.Ref, "lambda:us-east-1/fn")
	if code != ExitFailure || !strings.Contains(out, "error   manifest") || !strings.Contains(out, "(linux/arm64) without a linux/amd64 image") || !strings.Contains(errOut, "not fit") {
		t.Errorf("arm64-only index to an x86_64 function: exit %d\n%s\n%s", code, out, errOut)
	}
	arm := reg.Addr + "/team/api:arm"
	out, _, code = runDoctor(t, arm, "cloudrun:acme/europe-west1/api")
	if code != ExitFailure || !strings.Contains(out, "ok      manifest   an OCI image manifest") || !strings.Contains(out, "error   platform") {
		t.Errorf("arm64 image to cloud run: exit %d\n%s", code, out)
	}
	out, _, code = runDoctor(t, arm, "lambda:us-east-1/fn", "--arch", "arm64", "--json")
	if cs = checksOf(out); code != ExitOK || cs["platform"].Level != "ok" || cs["port"].ID != "" {
		t.Errorf("arm64 image to an arm64 function: exit %d %+v", code, cs)
	}
	if _, errOut, code = runDoctor(t, reg.Addr+"/team/api:missing", "lambda:us-east-1/fn"); code != ExitFailure || !strings.Contains(errOut, "not found") {
		t.Errorf("a tag the registry lacks: exit %d %s", code, errOut)
	}
}
