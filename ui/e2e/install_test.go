package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A fndeck without its cloud helper (a lone `go install` of fndeck) names
// the exact `go install` line of the helper for its own version.
func TestMissingHelperNamesInstallLineForOwnVersion(t *testing.T) {
	dir := t.TempDir() // fndeck alone: no fndeck-cloud beside it
	bin := filepath.Join(dir, "fndeck")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v9.9.9", "-o", bin, "github.com/fndeck/fndeck")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const line = "go install github.com/fndeck/fndeck/cloud/remote/fndeck-cloud@v9.9.9"
	emptyPath := t.TempDir()
	for _, tt := range []struct {
		name string
		env  []string
	}{
		{"FNDECK_CLOUD_HELPER points nowhere", []string{"FNDECK_CLOUD_HELPER=" + filepath.Join(dir, "nowhere")}},
		{"not beside fndeck, not on PATH", []string{"FNDECK_CLOUD_HELPER=", "PATH=" + emptyPath}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// AWS counts as configured (keys in the environment), so
			// listing its functions needs the helper.
			env := isolatedEnv(t, append([]string{"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=example", "AWS_REGION=us-east-1"}, tt.env...)...)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "functions", "--provider", "aws")
			cmd.Env = append(os.Environ(), env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			out := stdout.String() + stderr.String()
			if err == nil {
				t.Errorf("fndeck functions --provider aws succeeded without its helper:\n%s", out)
			}
			if !strings.Contains(out, line) {
				t.Errorf("output does not name %q:\n%s", line, out)
			}
			if strings.Contains(out, "@latest") {
				t.Errorf("a v9.9.9 build offers @latest:\n%s", out)
			}
		})
	}
}
