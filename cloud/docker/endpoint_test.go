package docker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// writeContext stores a docker context the way the docker CLI does.
func writeContext(t *testing.T, dir, name, host string, withTLS bool) string {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	id := hex.EncodeToString(sum[:])
	meta := filepath.Join(dir, "contexts", "meta", id)
	if err := os.MkdirAll(meta, 0o755); err != nil {
		t.Fatal(err)
	}
	js := fmt.Sprintf(`{"Name":%q,"Metadata":{},"Endpoints":{"docker":{"Host":%q,"SkipTLSVerify":false}}}`, name, host)
	if err := os.WriteFile(filepath.Join(meta, "meta.json"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	tlsDir := filepath.Join(dir, "contexts", "tls", id, "docker")
	if withTLS {
		if err := os.MkdirAll(tlsDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return tlsDir
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name       string
		configHost string
		env        map[string]string
		config     string // config.json content
		contexts   map[string]string
		tlsFor     string
		wantHost   string
		wantSource Source
		wantCtx    string
		wantTLS    bool
		wantErr    string
	}{
		{name: "config wins over everything", configHost: "tcp://127.0.0.1:2375",
			env: map[string]string{"DOCKER_HOST": "unix:///env.sock", "DOCKER_CONTEXT": "x"}, contexts: map[string]string{"x": "unix:///x.sock"},
			wantHost: "tcp://127.0.0.1:2375", wantSource: SourceConfig},
		{name: "DOCKER_HOST over context", env: map[string]string{"DOCKER_HOST": "unix:///env.sock"},
			config: `{"currentContext":"x"}`, contexts: map[string]string{"x": "unix:///x.sock"},
			wantHost: "unix:///env.sock", wantSource: SourceEnv},
		{name: "current context from config.json", config: `{"currentContext":"remote"}`,
			contexts: map[string]string{"remote": "tcp://127.0.0.1:2376"}, tlsFor: "remote",
			wantHost: "tcp://127.0.0.1:2376", wantSource: SourceContext, wantCtx: "remote", wantTLS: true},
		{name: "DOCKER_CONTEXT overrides currentContext", env: map[string]string{"DOCKER_CONTEXT": "b"},
			config: `{"currentContext":"a"}`, contexts: map[string]string{"a": "unix:///a.sock", "b": "unix:///b.sock"},
			wantHost: "unix:///b.sock", wantSource: SourceContext, wantCtx: "b"},
		{name: "default context is the default socket", config: `{"currentContext":"default"}`,
			wantHost: "unix:///var/run/docker.sock", wantSource: SourceDefault},
		{name: "no config at all", wantHost: "unix:///var/run/docker.sock", wantSource: SourceDefault},
		{name: "unknown context", config: `{"currentContext":"gone"}`, wantErr: `docker context "gone" not found`},
		{name: "bad config.json", config: `{"currentContext":`, wantErr: "parsing"},
		{name: "bad configured host", configHost: "nonsense", wantErr: `docker.host "nonsense"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("DOCKER_CONFIG", dir)
			t.Setenv("DOCKER_HOST", "")
			t.Setenv("DOCKER_CONTEXT", "")
			t.Setenv("DOCKER_TLS_VERIFY", "")
			t.Setenv("DOCKER_CERT_PATH", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if tc.config != "" {
				if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tc.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			tlsDirs := map[string]string{}
			for n, h := range tc.contexts {
				tlsDirs[n] = writeContext(t, dir, n, h, n == tc.tlsFor)
			}
			ep, err := Resolve(tc.configHost)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Resolve error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if ep.Host != tc.wantHost || ep.Source != tc.wantSource || ep.Context != tc.wantCtx {
				t.Fatalf("Resolve = %+v, want host %q source %q context %q", ep, tc.wantHost, tc.wantSource, tc.wantCtx)
			}
			if tc.wantTLS && ep.TLSDir != tlsDirs[tc.wantCtx] {
				t.Fatalf("TLSDir = %q, want %q", ep.TLSDir, tlsDirs[tc.wantCtx])
			}
			if !tc.wantTLS && ep.TLSDir != "" {
				t.Fatalf("TLSDir = %q, want none", ep.TLSDir)
			}
		})
	}
}

// New must not dial: an engine that does not exist still gives an Engine,
// and only Ping says it is unreachable, naming the address and the reason.
func TestUnreachableEngine(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "missing.sock")
	port := cloudtest.FreePort(t)
	tests := []struct {
		host, reason string
	}{
		{"unix://" + sock, "no such file or directory"},
		{fmt.Sprintf("tcp://127.0.0.1:%d", port), "connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.reason, func(t *testing.T) {
			e, err := New(Endpoint{Host: tc.host, Source: SourceConfig})
			if err != nil {
				t.Fatalf("New must not touch the network, got %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err = e.Ping(ctx)
			if !errors.Is(err, cloud.ErrUnreachable) {
				t.Fatalf("Ping error = %v, want ErrUnreachable", err)
			}
			want := fmt.Sprintf("Docker not reachable at %s: %s", tc.host, tc.reason)
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("Ping error = %q, want it to contain %q", err, want)
			}
			if _, err := e.List(ctx, false); !errors.Is(err, cloud.ErrUnreachable) {
				t.Fatalf("List error = %v, want ErrUnreachable", err)
			}
		})
	}
}
