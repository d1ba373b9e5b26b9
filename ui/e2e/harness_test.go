// Package e2e drives the real fndeck binary in tmux, reading the screen the
// way a person sees it, against the real Docker engine.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// fndeckBin builds the binaries once per test run (static, as the README's
// `CGO_ENABLED=0 go build -o bin/ . ./cloud/remote/fndeck-cloud` does).
func fndeckBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fndeck-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "fndeck")
		// fndeck and its cloud helper side by side, as the README builds
		// them: fndeck finds fndeck-cloud next to its own executable.
		cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "github.com/fndeck/fndeck", "github.com/fndeck/fndeck/cloud/remote/fndeck-cloud")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func requireTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		cloudtest.Missing(t, "tmux", "apt-get install tmux")
	}
}

// session is one fndeck run in a detached tmux session.
type session struct {
	t        *testing.T
	name     string
	exitFile string
}

// isolatedEnv gives the binary its own config and state dirs.
func isolatedEnv(t *testing.T, extra ...string) []string {
	env := []string{
		"XDG_CONFIG_HOME=" + t.TempDir(),
		"XDG_STATE_HOME=" + t.TempDir(),
		"HOME=" + t.TempDir(),
		"AWS_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(t.TempDir(), "none"),
		"AWS_EC2_METADATA_DISABLED=true",
		"GOOGLE_APPLICATION_CREDENTIALS=" + filepath.Join(t.TempDir(), "none.json"),
		"CLOUDSDK_CONFIG=" + t.TempDir(),
		"TERM=xterm-256color",
		"NO_COLOR=1",
	}
	return append(env, extra...)
}

// startTUI runs `fndeck args...` in tmux at 160x48 with env (KEY=VALUE).
func startTUI(t *testing.T, env []string, args ...string) *session {
	t.Helper()
	return startTUIIn(t, "", env, args...)
}

// startTUIIn is startTUI with dir as the working directory ("" = inherit),
// e.g. a project directory holding an fndeck.yaml.
func startTUIIn(t *testing.T, dir string, env []string, args ...string) *session {
	t.Helper()
	requireTmux(t)
	bin := fndeckBin(t)
	s := &session{t: t, name: cloudtest.UniqueName("fndeck-e2e"), exitFile: filepath.Join(t.TempDir(), "exit")}
	var sb strings.Builder
	if dir != "" {
		fmt.Fprintf(&sb, "cd %s || exit 99; ", shellQuote(dir))
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&sb, "export %s=%s; ", k, shellQuote(v))
	}
	fmt.Fprintf(&sb, "%s", shellQuote(bin))
	for _, a := range args {
		sb.WriteString(" " + shellQuote(a))
	}
	fmt.Fprintf(&sb, "; echo $? > %s; sleep 30", shellQuote(s.exitFile))
	cmd := exec.Command("tmux", "new-session", "-d", "-s", s.name, "-x", "160", "-y", "48", "sh", "-c", sb.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", s.name).Run() })
	return s
}

func shellQuote(v string) string { return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'" }

func (s *session) capture() string {
	out, err := exec.Command("tmux", "capture-pane", "-p", "-t", s.name).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

// keys sends tmux key names (e.g. "j", "Enter", "Escape", "/").
func (s *session) keys(keys ...string) {
	s.t.Helper()
	args := append([]string{"send-keys", "-t", s.name}, keys...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux send-keys %v: %v: %s", keys, err, out)
	}
}

// typeText sends literal text.
func (s *session) typeText(text string) {
	s.t.Helper()
	if out, err := exec.Command("tmux", "send-keys", "-t", s.name, "-l", text).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux send-keys -l: %v: %s", err, out)
	}
}

// waitFor waits until the screen matches re (a generous bound guards hangs).
func (s *session) waitFor(re string, within time.Duration) string {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(within)
	var screen string
	for time.Now().Before(deadline) {
		screen = s.capture()
		if rx.MatchString(screen) {
			return screen
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("screen never matched %q within %s; last screen:\n%s", re, within, screen)
	return ""
}

// waitGone waits until the screen no longer matches re.
func (s *session) waitGone(re string, within time.Duration) string {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(within)
	var screen string
	for time.Now().Before(deadline) {
		screen = s.capture()
		if !rx.MatchString(screen) {
			return screen
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("screen still matched %q after %s; last screen:\n%s", re, within, screen)
	return ""
}

// exitCode waits for the program to exit and returns its status.
func (s *session) exitCode(within time.Duration) int {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(s.exitFile)
		if err == nil && len(bytes.TrimSpace(b)) > 0 {
			var code int
			fmt.Sscanf(string(bytes.TrimSpace(b)), "%d", &code)
			return code
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("fndeck did not exit within %s; screen:\n%s", within, s.capture())
	return -1
}

// runCLI runs the binary headless and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, fndeckBin(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
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

// buildScratchImage builds a tiny FROM scratch image tagged ref on the engine
// at dockerHost ("" = default) and removes it when the test ends.
func buildScratchImage(t *testing.T, dockerHost, ref string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hello.txt"), []byte(ref+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY hello.txt /\nLABEL fndeck.e2e=1\n"), 0o644)
	cmd := exec.Command("docker", "build", "-q", "--no-cache", "-t", ref, dir)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if dockerHost != "" {
		cmd.Env = append(cmd.Env, "DOCKER_HOST="+dockerHost)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker build %s: %v: %s", ref, err, out)
	}
	t.Cleanup(func() {
		c := exec.Command("docker", "rmi", "-f", ref)
		if dockerHost != "" {
			c.Env = append(os.Environ(), "DOCKER_HOST="+dockerHost)
		}
		_ = c.Run()
	})
	return strings.TrimSpace(string(out))
}

func execCommand(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }
