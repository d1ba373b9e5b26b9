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
