// Package cloudtest starts and finds the real components fndeck's tests run
// against (dockerd, a registry, moto, the Lambda RIE) on 127.0.0.1.
//
// Outside CI a missing component skips the test with a message naming it;
// with CI=true a missing component fails the test, so nothing is silently skipped.
package cloudtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// InCI reports whether the tests run in CI (CI=true), where nothing may skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test (or fails it in CI) because a component is missing.
func Missing(t testing.TB, what, how string) {
	t.Helper()
	msg := fmt.Sprintf("needs %s: %s", what, how)
	if InCI() {
		t.Fatalf("CI=true and %s", msg)
	}
	t.Skip(msg)
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// RequireDocker skips (fails in CI) unless a Docker engine answers.
// It returns the DOCKER_HOST value to use ("" = platform default).
func RequireDocker(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		Missing(t, "the docker CLI and dockerd", "apt-get install docker.io; dockerd --bridge=none --iptables=false --ip-forward=false &")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.APIVersion}}").CombinedOutput(); err != nil {
		Missing(t, "a running dockerd", fmt.Sprintf("docker version failed: %v: %s", err, bytes.TrimSpace(out)))
	}
	return os.Getenv("DOCKER_HOST")
}

// Docker runs the docker CLI and returns its trimmed stdout, failing the test on error.
//
// Set-up builds pass --no-cache: the engine is shared by every package's
// tests at once, and dockerd's classic builder fails a cached step with
// `unable to find image "sha256:…"` when one of the images it compares
// (for FROM scratch: every image without a parent) is removed meanwhile by
// another test's cleanup. fndeck's own Build runs such a build again.
func Docker(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// UniqueName returns a name unique to this test run, safe for image repos and containers.
func UniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), time.Now().UnixNano()%1_000_000_000)
}

// BuildStatic compiles a Go main package (a directory, or a path in this
// module) into a static linux/amd64 binary at dir/name and returns its path.
func BuildStatic(t testing.TB, pkg, dir, name string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// BusyboxPath finds Debian's static busybox, or skips/fails naming it.
func BusyboxPath(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Missing(t, "a static busybox", "apt-get install busybox-static")
	return ""
}

// RIEPath finds the Lambda Runtime Interface Emulator binary: $FNDECK_RIE,
// aws-lambda-rie on PATH, or $(go env GOPATH)/bin/aws-lambda-rie.
func RIEPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("FNDECK_RIE"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	if gp, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(gp)), "bin", "aws-lambda-rie")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Missing(t, "the Lambda Runtime Interface Emulator", "CGO_ENABLED=0 go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d, or set FNDECK_RIE")
	return ""
}

// Registry is a distribution registry on 127.0.0.1 started for one test.
type Registry struct {
	Addr     string // 127.0.0.1:PORT
	User     string // set when started with auth
	Password string
}

// StartRegistry starts Debian's docker-registry on a free port with
// filesystem storage in a temp dir; withAuth adds htpasswd auth
// (user "fndeck", a random password). It is stopped when the test ends.
func StartRegistry(t testing.TB, withAuth bool) *Registry {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		Missing(t, "docker-registry", "apt-get install docker-registry")
	}
	dir := t.TempDir()
	port := FreePort(t)
	r := &Registry{Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	cfg := fmt.Sprintf("version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}, delete: {enabled: true}}\nhttp: {addr: %s}\n", filepath.Join(dir, "data"), r.Addr)
	if withAuth {
		hp, err := exec.LookPath("htpasswd")
		if err != nil {
			Missing(t, "htpasswd", "apt-get install apache2-utils")
		}
		r.User, r.Password = "fndeck", fmt.Sprintf("pw-%d", time.Now().UnixNano())
		out, err := exec.Command(hp, "-Bbn", r.User, r.Password).Output()
		if err != nil {
			t.Fatalf("htpasswd: %v", err)
		}
		hf := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(hf, out, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf("auth: {htpasswd: {realm: fndeck-test, path: %s}}\n", hf)
	}
	cf := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", cf)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting docker-registry: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitHTTP(t, "http://"+r.Addr+"/v2/", func() string { return logs.String() })
	return r
}

// Moto is a moto server on 127.0.0.1 started for one test.
type Moto struct {
	Endpoint string // http://127.0.0.1:PORT
}

// Env returns the environment that points the AWS SDK at this moto server.
func (m *Moto) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + m.Endpoint,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// SetEnv sets Env() for the duration of the test (t.Setenv).
func (m *Moto) SetEnv(t *testing.T) {
	for _, kv := range m.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

// StartMoto starts `python3 -m moto.server` on a free port with Lambda's
// docker use turned off, stopped when the test ends.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	// FNDECK_PYTHON names the interpreter that has moto (.ci/run sets it).
	py := os.Getenv("FNDECK_PYTHON")
	if py == "" {
		var err error
		if py, err = exec.LookPath("python3"); err != nil {
			Missing(t, "python3 with moto", "pip install 'moto[server]'")
		}
	}
	if out, err := exec.Command(py, "-c", "import moto").CombinedOutput(); err != nil {
		Missing(t, "moto", fmt.Sprintf("pip install 'moto[server]' (import moto: %s)", bytes.TrimSpace(out)))
	}
	port := FreePort(t)
	m := &Moto{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port)}
	var logs bytes.Buffer
	cmd := exec.Command(py, "-m", "moto.server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting moto: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitHTTP(t, m.Endpoint+"/moto-api/", func() string { return logs.String() })
	resp, err := http.Post(m.Endpoint+"/moto-api/config", "application/json", strings.NewReader(`{"lambda":{"use_docker":false}}`))
	if err != nil {
		t.Fatalf("configuring moto: %v", err)
	}
	resp.Body.Close()
	return m
}

func waitHTTP(t testing.TB, url string, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer within 60s; output:\n%s", url, logs())
}

// WriteAckedLines writes "line 1".."line n" to w, flushing each, and writes
// the next only once ack has a value (or gives up after 30 s): a client
// that buffers the body anywhere on the way never acks, so a test of
// streaming with it cannot pass by accident.
func WriteAckedLines(w http.ResponseWriter, n int, ack <-chan struct{}) {
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "line %d\n", i)
		w.(http.Flusher).Flush()
		select {
		case <-ack:
		case <-time.After(30 * time.Second):
			return
		}
	}
}
