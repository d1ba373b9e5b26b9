package docker

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// recSink records what a build or push reported.
type recSink struct {
	mu       sync.Mutex
	lines    []string
	progress []cloud.Progress
	onLine   func(string)
}

func (s *recSink) Line(l string) {
	s.mu.Lock()
	s.lines = append(s.lines, l)
	f := s.onLine
	s.mu.Unlock()
	if f != nil {
		f(l)
	}
}

func (s *recSink) Progress(p cloud.Progress) {
	s.mu.Lock()
	s.progress = append(s.progress, p)
	s.mu.Unlock()
}

func (s *recSink) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// newEngine returns an Engine for the test's dockerd, skipping (failing in
// CI) when there is none.
func newEngine(t *testing.T, opts ...Option) *Engine {
	t.Helper()
	host := cloudtest.RequireDocker(t)
	ep, err := Resolve(host)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	e, err := New(ep, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// dockerQuiet runs the docker CLI for cleanup, ignoring failures (the
// thing may already be gone).
func dockerQuiet(args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "docker", args...).Output()
	return strings.TrimSpace(string(out))
}

// removeImageAtEnd untags/removes refs this test created.
func removeImageAtEnd(t *testing.T, refs ...string) {
	t.Cleanup(func() {
		for _, r := range refs {
			dockerQuiet("rmi", "-f", r)
		}
	})
}

// busyboxContext makes a context dir holding Debian's static busybox and
// the given files.
func busyboxContext(t *testing.T, files map[string]string) string {
	t.Helper()
	bb := cloudtest.BusyboxPath(t)
	dir := t.TempDir()
	b, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, files)
	return dir
}

const busyboxHead = "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"--install\",\"-s\",\"/bin\"]\n"

// buildTiny builds a FROM scratch image with one small unique layer.
func buildTiny(t *testing.T, e *Engine, tag string) cloud.BuildResult {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"Dockerfile": "FROM scratch\nCOPY data.txt /data.txt\n",
		"data.txt":   tag + " " + time.Now().String(),
	})
	removeImageAtEnd(t, tag)
	// No cache: see cloudtest.Docker for the engine's race this avoids.
	res, err := e.Build(testCtx(t), cloud.BuildOptions{ContextDir: dir, Tags: []string{tag}, NoCache: true}, &recSink{})
	if err != nil {
		t.Fatalf("building %s: %v", tag, err)
	}
	return res
}
