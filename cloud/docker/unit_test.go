package docker

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/fndeck/fndeck/cloud"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tarEntries returns the regular files in the context tar with their content.
func tarEntries(t *testing.T, bc *buildContext) map[string]string {
	t.Helper()
	var buf bytes.Buffer
	if err := bc.writeTar(&buf); err != nil {
		t.Fatalf("writeTar: %v", err)
	}
	out := map[string]string{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			out[h.Name] = string(b)
		}
	}
	return out
}

func keys(m map[string]string) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

func TestContextTarHonoursDockerignore(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"Dockerfile":              "FROM scratch\n",
		".dockerignore":           "# comment\n*.secret\nnode_modules\nlogs/**\n!logs/keep.log\nDockerfile\n.dockerignore\n",
		"app.txt":                 "app",
		"db.secret":               "s3cr3t",
		"node_modules/x/index.js": "x",
		"logs/a.log":              "a",
		"logs/keep.log":           "k",
		"src/main.go":             "package main",
	})
	bc, err := prepareContext(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	got := keys(tarEntries(t, bc))
	want := []string{".dockerignore", "Dockerfile", "app.txt", "logs/keep.log", "src/main.go"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("tar files = %v, want %v (Dockerfile and .dockerignore are always sent)", got, want)
	}
}

func TestContextExternalDockerfile(t *testing.T) {
	ctxDir, other := t.TempDir(), t.TempDir()
	writeFiles(t, ctxDir, map[string]string{"app.txt": "app", ".dockerignore": "*.tmp\n", "x.tmp": "x"})
	writeFiles(t, other, map[string]string{"build.Dockerfile": "FROM scratch\nCOPY app.txt /\n"})
	bc, err := prepareContext(ctxDir, filepath.Join(other, "build.Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(bc.dockerfileName, ".dockerfile.") {
		t.Fatalf("dockerfile name in tar = %q", bc.dockerfileName)
	}
	files := tarEntries(t, bc)
	if files[bc.dockerfileName] != "FROM scratch\nCOPY app.txt /\n" {
		t.Fatalf("external Dockerfile not in the tar under %s: %v", bc.dockerfileName, keys(files))
	}
	if _, ok := files["x.tmp"]; ok {
		t.Fatal("ignored x.tmp was sent")
	}
	ign := files[".dockerignore"]
	for _, want := range []string{"*.tmp", bc.dockerfileName, ".dockerignore"} {
		if !strings.Contains(ign, want+"\n") {
			t.Fatalf(".dockerignore sent = %q, want it to list %q", ign, want)
		}
	}
	// A relative Dockerfile path in a subdirectory is used as it is.
	writeFiles(t, ctxDir, map[string]string{"docker/prod.Dockerfile": "FROM scratch\n"})
	bc, err = prepareContext(ctxDir, "docker/prod.Dockerfile")
	if err != nil || bc.dockerfileName != "docker/prod.Dockerfile" {
		t.Fatalf("prepareContext = %+v, %v", bc, err)
	}
}

func TestContextErrorsNameThePath(t *testing.T) {
	dir := t.TempDir()
	_, err := prepareContext(dir, "")
	want := filepath.Join(dir, "Dockerfile") + " not found"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("missing Dockerfile error = %v, want it to contain %q", err, want)
	}
	_, err = prepareContext(filepath.Join(dir, "nope"), "")
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("missing context error = %v", err)
	}
}

func TestBuildTrackerFollowsTheStream(t *testing.T) {
	stream := []string{
		`{"stream":"Step 1/3 : FROM scratch"}`,
		`{"stream":"\n"}`,
		`{"stream":" ---\u003e \n"}`,
		`{"stream":"Step 2/3 : COPY busybox /bin/busybox\n"}`,
		`{"stream":" ---\u003e 1a2b3c4d5e6f\n"}`,
		`{"stream":"Step 3/3 : RUN false\n"}`,
		`{"stream":" ---\u003e Running in 0123456789ab\n"}`,
		`{"stream":"partial out"}`,
		`{"stream":"put\n"}`,
		`{"errorDetail":{"code":1,"message":"The command '/bin/sh -c false' returned a non-zero code: 1"},"error":"The command '/bin/sh -c false' returned a non-zero code: 1"}`,
	}
	var tr buildTracker
	var lines []string
	for _, s := range stream {
		var m streamMessage
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, tr.feed(&m)...)
	}
	lines = append(lines, tr.flush()...)
	if tr.errStep != "Step 3/3 : RUN false" || !strings.Contains(tr.errMsg, "non-zero code: 1") {
		t.Fatalf("errStep %q errMsg %q", tr.errStep, tr.errMsg)
	}
	if !reflect.DeepEqual(tr.running, []string{"0123456789ab"}) || tr.lastImage != "1a2b3c4d5e6f" {
		t.Fatalf("running %v lastImage %q", tr.running, tr.lastImage)
	}
	if !contains(lines, "partial output") {
		t.Fatalf("a line split over two messages was not joined: %q", lines)
	}
	var m streamMessage
	_ = json.Unmarshal([]byte(`{"stream":"Removing intermediate container 0123456789ab\n"}`), &m)
	tr.feed(&m)
	if len(tr.running) != 0 {
		t.Fatalf("removed container still tracked: %v", tr.running)
	}
	_ = json.Unmarshal([]byte(`{"aux":{"ID":"sha256:abc"}}`), &m)
	tr.feed(&m)
	if tr.imageID != "sha256:abc" {
		t.Fatalf("aux ID = %q", tr.imageID)
	}
}

func TestClassifyPushError(t *testing.T) {
	tests := []struct {
		msg                   string
		transient, unauthoriz bool
	}{
		{"unauthorized: authentication required", false, true},
		{"denied: requested access to the resource is denied", false, true},
		{"no basic auth credentials", false, true},
		{"toomanyrequests: rate limit exceeded", true, false},
		{"received unexpected HTTP status: 503 Service Unavailable", true, false},
		{"received unexpected HTTP status: 500 Internal Server Error", true, false},
		{"read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer", true, false},
		{"manifest invalid: manifest invalid", false, false},
		{"name unknown: repository name not known to registry", false, false},
	}
	for _, tc := range tests {
		pe := classifyPushError(tc.msg)
		if pe.transient != tc.transient || pe.unauthorized != tc.unauthoriz {
			t.Errorf("classify(%q) = transient %v unauthorized %v, want %v %v", tc.msg, pe.transient, pe.unauthorized, tc.transient, tc.unauthoriz)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	p, err := parsePlatform("linux/arm64/v8")
	if err != nil || p.OS != "linux" || p.Architecture != "arm64" || p.Variant != "v8" {
		t.Fatalf("parsePlatform = %+v, %v", p, err)
	}
	if _, err := parsePlatform("arm64"); !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), `"arm64"`) {
		t.Fatalf("parsePlatform(arm64) error = %v", err)
	}
}

func TestRedactCreatedBy(t *testing.T) {
	tests := map[string]string{
		"/bin/sh -c #(nop)  ENV SECRET_TOKEN=do-not-show APP_MODE=prod": "/bin/sh -c #(nop)  ENV SECRET_TOKEN=… APP_MODE=…",
		"ENV API_KEY=abc": "ENV API_KEY=…",
		"|1 GREETING=hi /bin/sh -c echo built-with-$GREETING": "|1 GREETING=… /bin/sh -c echo built-with-$GREETING",
		"|2 A=x B=y sleep 1":                       "|2 A=… B=… sleep 1",
		"/bin/sh -c echo ENVIRONMENT=prod":         "/bin/sh -c echo ENVIRONMENT=prod",
		"/bin/sh -c #(nop) COPY file:abc in /app ": "/bin/sh -c #(nop) COPY file:abc in /app ",
	}
	for in, want := range tests {
		if got := redactCreatedBy(in); got != want {
			t.Errorf("redactCreatedBy(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewRejectsBrokenTLSMaterial(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"ca.pem": "not a certificate"})
	_, err := New(Endpoint{Host: "tcp://127.0.0.1:2376", TLSDir: dir})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "ca.pem")) {
		t.Fatalf("New with a broken ca.pem = %v, want an error naming it", err)
	}
	// An empty TLS dir (server verified by system roots, no client cert) is fine.
	if _, err := New(Endpoint{Host: "tcp://127.0.0.1:2376", TLSDir: t.TempDir()}); err != nil {
		t.Fatalf("New with an empty TLS dir: %v", err)
	}
}

// BenchmarkBuildContextTar measures tarring a 500-file context with a
// .dockerignore that excludes half of it.
func BenchmarkBuildContextTar(b *testing.B) {
	dir := b.TempDir()
	for i := 0; i < 500; i++ {
		sub := "src"
		if i%2 == 0 {
			sub = "node_modules"
		}
		p := filepath.Join(dir, sub, fmt.Sprintf("d%d", i%10), fmt.Sprintf("f%d.txt", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte("x"), 2048), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("node_modules\n*.log\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	bc, err := prepareContext(dir, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := bc.writeTar(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
