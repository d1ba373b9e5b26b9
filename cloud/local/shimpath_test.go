package local

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/local/shimbin"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

func TestIsStaticELF(t *testing.T) {
	static := cloudtest.BuildStatic(t, "./shim/cmd/fndeck-shim", t.TempDir(), "shim")
	if ok, err := isStaticELF(static, "amd64"); err != nil || !ok {
		t.Errorf("static amd64 build: %v %v", ok, err)
	}
	if ok, _ := isStaticELF(static, "arm64"); ok {
		t.Error("amd64 binary accepted for arm64")
	}
	if ok, _ := isStaticELF(static, "x86_64"); !ok {
		t.Error("x86_64 is amd64")
	}
	// A dynamically linked program has PT_INTERP.
	if sh, err := exec.LookPath("sh"); err == nil {
		if real, err := filepath.EvalSymlinks(sh); err == nil {
			if ok, _ := isStaticELF(real, runtime.GOARCH); ok && !strings.Contains(real, "busybox") {
				t.Errorf("%s reported static", real)
			}
		}
	}
	notELF := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if ok, err := isStaticELF(notELF, "amd64"); ok || err == nil {
		t.Errorf("script: %v %v", ok, err)
	}
}

func TestEmbeddedShim(t *testing.T) {
	dir := t.TempDir()
	self, _ := os.Executable()
	for _, arch := range shimbin.Arches {
		p, err := EmbeddedShimPath(dir, arch)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o755 || !strings.HasPrefix(filepath.Base(p), "fndeck-shim-") || filepath.Dir(p) != filepath.Join(dir, "shim") {
			t.Fatalf("embedded %s shim at %s: %v %v", arch, p, fi.Mode(), err)
		}
		if ok, err := isStaticELF(p, arch); !ok {
			t.Errorf("embedded %s shim is not a static %s ELF: %v", arch, arch, err)
		}
		again, err := EmbeddedShimPath(dir, arch)
		if err != nil || again != p {
			t.Errorf("second extraction of %s: %s %v, want %s", arch, again, err, p)
		}
		// The running executable when it is a static build for arch, else
		// the embedded shim.
		got, err := DefaultShimPath(dir)(context.Background(), arch)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := isStaticELF(self, arch); ok {
			if !strings.HasPrefix(filepath.Base(got), "fndeck-") || strings.HasPrefix(filepath.Base(got), "fndeck-shim-") {
				t.Errorf("static self for %s: got %s", arch, got)
			}
		} else if got != p {
			t.Errorf("%s without a static self: got %s, want the embedded shim %s", arch, got, p)
		}
	}
	// Image architectures are spelled several ways.
	if p, err := EmbeddedShimPath(dir, "aarch64"); err != nil {
		t.Errorf("aarch64: %v", err)
	} else if ok, _ := isStaticELF(p, "arm64"); !ok {
		t.Errorf("aarch64 gave %s, not the arm64 shim", p)
	}
	// An architecture no shim is carried for says what to do instead.
	if _, err := DefaultShimPath(dir)(context.Background(), "riscv64"); err == nil || !strings.Contains(err.Error(), "linux/riscv64") || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("riscv64: %v", err)
	}
}

// TestEmbeddedShimIsCurrent fails when package shim changed without the
// embedded binary being regenerated (-trimpath builds are reproducible).
func TestEmbeddedShimIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the shim")
	}
	for _, arch := range shimbin.Arches {
		out := filepath.Join(t.TempDir(), "shim")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./shim/cmd/fndeck-shim")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", arch, err, b)
		}
		built, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := shimbin.Open(arch)
		if err != nil {
			t.Fatal(err)
		}
		var emb bytes.Buffer
		_, err = emb.ReadFrom(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(built, emb.Bytes()) {
			t.Errorf("cloud/local/shimbin/fndeck-shim-linux-%s is stale (or built by another Go version): run go generate ./cloud/local/shimbin", arch)
		}
	}
}

// TestEmbeddedShimServes deploys with the committed embedded shim.
func TestEmbeddedShimServes(t *testing.T) {
	c := newClient(t)
	image := buildImage(t, "./testdata/hello", "hello", `CMD ["/hello"]`)
	state := t.TempDir()
	b := newBackend(t, c, func(context.Context, string) (string, error) { return EmbeddedShimPath(state, "amd64") })
	ctx := testCtx(t)
	name := cloudtest.UniqueName("embedded")
	removeOnCleanup(t, name)
	target := cloud.Address{Provider: cloud.Local, Function: name}
	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image}, nil); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	// Follow the logs while invoking: the handler's line arrives live.
	followCtx, stopFollow := context.WithCancel(ctx)
	lines := make(chan cloud.LogLine, 100)
	followed := make(chan error, 1)
	go func() {
		followed <- b.Logs(followCtx, cloud.LogRequest{Target: target, Follow: true, Filter: "greeting"}, func(l cloud.LogLine) { lines <- l })
	}()
	r, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target, Payload: []byte(`{"name":"cmd"}`)}, nil)
	if err != nil || string(r.Response) != `{"greeting":"hello cmd"}` {
		t.Fatalf("invoke: %v %s (log %q)", err, r.Response, r.LogTail)
	}
	select {
	case l := <-lines:
		if l.Message != "greeting cmd" || l.Stream != "stdout" {
			t.Errorf("followed line %+v", l)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("following the logs delivered nothing within 30s")
	}
	stopFollow()
	select {
	case err := <-followed:
		if err != nil {
			t.Errorf("follow ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("follow did not stop within 30s of cancel")
	}
	env := cloudtest.Docker(t, "inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", ContainerName(name))
	if !strings.Contains(env, "AWS_LAMBDA_FUNCTION_NAME="+name) {
		t.Errorf("env: %s", env)
	}
}
