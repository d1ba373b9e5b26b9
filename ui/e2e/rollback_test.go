package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// TestLocalRollbackRestoresImageIDAndEnv: deploy app:latest with A=1, move
// the tag to another image, deploy it with A=2, roll back → the first
// image's ID and A=1 (read back from the container), although the tag now
// names the second image. Rolling back to what serves exits 1 and says so.
func TestLocalRollbackRestoresImageIDAndEnv(t *testing.T) {
	first := helloImage(t)
	firstID := cloudtest.Docker(t, "image", "inspect", "-f", "{{.ID}}", first)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+first+"\nLABEL fndeck.e2e.second=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := strings.TrimSuffix(first, ":v1") + ":second"
	cloudtest.Docker(t, "build", "-q", "--no-cache", "-t", second, dir)
	t.Cleanup(func() { _, _, _ = runDocker("rmi", "-f", second) })
	secondID := cloudtest.Docker(t, "image", "inspect", "-f", "{{.ID}}", second)
	moving := strings.TrimSuffix(first, ":v1") + ":latest"
	cloudtest.Docker(t, "tag", first, moving)
	t.Cleanup(func() { _, _, _ = runDocker("rmi", moving) })

	name := strings.ToLower(cloudtest.UniqueName("rb"))
	addr := "local:" + name
	t.Cleanup(func() { _, _, _ = runDocker("rm", "-f", "fndeck-"+name) })
	env := isolatedEnv(t, "FNDECK_LOCAL_NETWORK=host")

	out, errOut, code := runCLI(t, env, "", "deploy", moving, addr, "--as", "lambda", "--env", "A=1", "--json")
	if code != 0 {
		t.Fatalf("first deploy exited %d: %s %s", code, out, errOut)
	}
	var dep struct {
		Result struct {
			ImageRef    string `json:"image_ref"`
			ImageDigest string `json:"image_digest"`
			Settings    struct {
				Env map[string]string `json:"env"`
			} `json:"settings"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(lastLine(out)), &dep); err != nil {
		t.Fatalf("deploy --json: %v\n%s", err, out)
	}
	if dep.Result.ImageRef != moving || dep.Result.ImageDigest != firstID || dep.Result.Settings.Env["A"] == "1" {
		t.Errorf("deploy --json result = %+v, want image_ref %s, image_digest %s and the env value redacted", dep.Result, moving, firstID)
	}

	cloudtest.Docker(t, "tag", second, moving) // the tag moves
	if out, errOut, code = runCLI(t, env, "", "deploy", moving, addr, "--as", "lambda", "--env", "A=2"); code != 0 {
		t.Fatalf("second deploy exited %d: %s %s", code, out, errOut)
	}
	if id, a := served(t, name); id != secondID || a != "A=2" {
		t.Fatalf("after the second deploy the container runs %s with %s, want %s with A=2", id, a, secondID)
	}

	out, errOut, code = runCLI(t, env, "", "rollback", addr)
	if code != 0 {
		t.Fatalf("rollback exited %d: %s %s", code, out, errOut)
	}
	if id, a := served(t, name); id != firstID || a != "A=1" {
		t.Fatalf("after the rollback the container runs %s with %s, want the first image %s with A=1", id, a, firstID)
	}
	if !strings.Contains(out+errOut, "served "+moving) || !strings.Contains(out+errOut, "it now serves "+moving) {
		t.Errorf("rollback does not say what served before and what serves now:\n%s\n%s", out, errOut)
	}

	// Deploy the first image again with A=1: the history's previous entry is
	// then what serves, and a rollback has nothing to do.
	if out, errOut, code = runCLI(t, env, "", "deploy", first, addr, "--as", "lambda", "--env", "A=1"); code != 0 {
		t.Fatalf("third deploy exited %d: %s %s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, env, "", "rollback", addr)
	if code != 1 || !strings.Contains(errOut, "already serves") {
		t.Errorf("rollback to what serves: exit %d, stderr %s", code, errOut)
	}
}

// served returns the image ID the function's container runs and its A=… variable.
func served(t *testing.T, name string) (string, string) {
	t.Helper()
	out := cloudtest.Docker(t, "inspect", "-f", `{{.Image}} {{range .Config.Env}}{{if eq (index (split . "=") 0) "A"}}{{.}}{{end}}{{end}}`, "fndeck-"+name)
	id, a, _ := strings.Cut(out, " ")
	return id, strings.TrimSpace(a)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
