package gcp

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/docker"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
	"github.com/fndeck/fndeck/internal/testsupport/gcpfake"
)

// gcloudHome gives the test its own HOME with a gcloud configuration
// (account and project) and no Application Default Credentials, and puts a
// stub gcloud first on PATH whose config-helper prints token, expiring at
// expiry. It returns the file where the stub records each call's arguments.
func gcloudHome(t *testing.T, token string, expiry time.Time) (calls string) {
	t.Helper()
	h := t.TempDir()
	t.Setenv("HOME", h)
	for _, k := range []string{"GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT", "CLOUDSDK_ACTIVE_CONFIG_NAME"} {
		t.Setenv(k, "")
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(h, ".config"))
	t.Setenv("DOCKER_CONFIG", filepath.Join(h, ".docker"))
	gdir := filepath.Join(h, "gcloud")
	t.Setenv("CLOUDSDK_CONFIG", gdir)
	mustWrite(t, filepath.Join(gdir, "active_config"), "default")
	mustWrite(t, filepath.Join(gdir, "configurations", "config_default"), "[core]\naccount = dev@example.com\nproject = acme-web\n")
	bin := filepath.Join(h, "bin")
	calls = filepath.Join(h, "gcloud-calls")
	helper := fmt.Sprintf(`{"configuration":{"active_configuration":"default","properties":{"core":{"account":"dev@example.com","project":"acme-web"}}},`+
		`"credential":{"access_token":%q,"token_expiry":%q},"sentinels":{"config_sentinel":"x"}}`, token, expiry.UTC().Format(time.RFC3339))
	mustWrite(t, filepath.Join(bin, "gcloud"), "#!/bin/sh\necho \"$*\" >> "+calls+"\n"+
		"if [ \"$1 $2 $3\" = \"config config-helper --format=json\" ]; then\ncat <<'JSON'\n"+helper+"\nJSON\nexit 0\nfi\necho unexpected >&2\nexit 2\n")
	if err := os.Chmod(filepath.Join(bin, "gcloud"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return calls
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func callLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// movableClock is an injectable, movable time.
type movableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movableClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *movableClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestGcloudTokenPushesToArtifactRegistry: without ADC, gcloud's active
// account supplies the token (config-helper of a stub gcloud), and a real
// push through the docker engine to an Artifact Registry host (rewritten to
// a registry whose only user is oauth2accesstoken with that token) succeeds.
// Near the token's expiry (injected clock) gcloud is asked again.
func TestGcloudTokenPushesToArtifactRegistry(t *testing.T) {
	host := cloudtest.RequireDocker(t)
	const token = "ya29.gcloud-stub-token"
	clk := &movableClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	calls := gcloudHome(t, token, clk.now().Add(time.Hour))
	regAddr := startTokenRegistry(t, token)

	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\nCOPY hello.txt /hello.txt\n")
	mustWrite(t, filepath.Join(dir, "hello.txt"), cloudtest.UniqueName("hello"))
	name := cloudtest.UniqueName("fndeck-gcloud-push")
	local := name + ":v1"
	cloudtest.Docker(t, "build", "-q", "--no-cache", "-t", local, dir)
	arRef := "europe-west1-docker.pkg.dev/acme-web/fndeck/" + name + ":v1"
	t.Cleanup(func() {
		for _, ref := range []string{local, arRef, regAddr + "/acme-web/fndeck/" + name + ":v1"} {
			_ = exec.Command("docker", "rmi", ref).Run()
		}
	})

	b := New(Options{Now: clk.now})
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	auth, ok, err := b.AuthFor(ctx, "europe-west1-docker.pkg.dev")
	if err != nil || !ok {
		t.Fatalf("AuthFor: ok=%v err=%v", ok, err)
	}
	if auth.Username != "oauth2accesstoken" || auth.Password != token {
		t.Fatalf("AuthFor = user %q, password is the stub's token: %v", auth.Username, auth.Password == token)
	}
	if got := callLines(t, calls); len(got) != 1 || got[0] != "config config-helper --format=json" {
		t.Fatalf("gcloud calls = %q", got)
	}

	rewrite := map[string]string{"europe-west1-docker.pkg.dev": regAddr}
	eng, err := docker.New(docker.Endpoint{Host: host}, docker.WithAuth(cloud.AuthChain{b}), docker.WithRewrite(rewrite))
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	out := &lineSink{}
	res, err := eng.Push(ctx, cloud.PushOptions{Ref: local, To: arRef}, out)
	if err != nil {
		t.Fatalf("push with gcloud's token: %v\n%s", err, out.text())
	}
	if !strings.HasPrefix(res.Digest, "sha256:") {
		t.Errorf("push result %+v", res)
	}
	if strings.Contains(out.text(), token) {
		t.Error("the token appeared in the push output")
	}
	// The token is still good: no second call.
	if got := callLines(t, calls); len(got) != 1 {
		t.Errorf("gcloud asked again while its token was valid: %q", got)
	}
	// Within the refresh margin of its expiry, gcloud is asked again.
	clk.add(time.Hour - time.Minute)
	if _, _, err := b.AuthFor(ctx, "europe-west1-docker.pkg.dev"); err != nil {
		t.Fatal(err)
	}
	if got := callLines(t, calls); len(got) != 2 {
		t.Errorf("gcloud calls after the expiry = %d, want 2", len(got))
	}
}

// TestDiscoveredProjectNamesItsSource: with no gcp.projects, the project of
// gcloud's active configuration is listed and its groups say so.
func TestDiscoveredProjectNamesItsSource(t *testing.T) {
	gcloudHome(t, "tok", time.Now().Add(time.Hour))
	f := gcpfake.StartCloudRun(t)
	f.AddService("acme-web", "europe-west1", "api", "gcr.io/acme-web/api:v1", "https://api")
	b := New(Options{RunEndpoint: f.Addr, Regions: []string{"europe-west1"}})
	defer b.Close()
	var mu sync.Mutex
	var groups []cloud.GroupResult
	if err := b.List(context.Background(), cloud.ListFilter{}, func(g cloud.GroupResult) { mu.Lock(); groups = append(groups, g); mu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].Err != nil || groups[0].Group.Scope != "acme-web (gcloud config)" || len(groups[0].Functions) != 1 {
		t.Fatalf("groups = %+v", groups)
	}
	// An ADC authorized_user file with only a quota project, and no gcloud
	// project: the quota project, saying so.
	mustWrite(t, filepath.Join(os.Getenv("CLOUDSDK_CONFIG"), "configurations", "config_default"), "[core]\naccount = dev@example.com\n")
	mustWrite(t, filepath.Join(os.Getenv("CLOUDSDK_CONFIG"), "application_default_credentials.json"),
		`{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"r","quota_project_id":"acme-web"}`)
	b2 := New(Options{RunEndpoint: f.Addr, Regions: []string{"europe-west1"}})
	defer b2.Close()
	groups = nil
	if err := b2.List(context.Background(), cloud.ListFilter{}, func(g cloud.GroupResult) { mu.Lock(); groups = append(groups, g); mu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].Group.Scope != "acme-web (ADC quota project)" {
		t.Fatalf("groups = %+v", groups)
	}
}

// TestGcloudTokenFailures: a gcloud that cannot hand out a token is an
// unauthenticated error with the login hint, not a crash.
func TestGcloudTokenFailures(t *testing.T) {
	clk := &movableClock{t: time.Now()}
	ts := newGcloudTokenSource(clk.now)
	ts.run = func(context.Context) ([]byte, error) { return nil, errNoGcloud }
	_, err := ts.Token()
	if err == nil || !strings.Contains(err.Error(), "gcloud not found") || cloud.Hint(err) != "gcloud auth login" {
		t.Errorf("no gcloud: %v (hint %q)", err, cloud.Hint(err))
	}
	ts.run = func(context.Context) ([]byte, error) { return []byte(`{"credential":{}}`), nil }
	if _, err := ts.Token(); err == nil || !strings.Contains(err.Error(), "no active account") {
		t.Errorf("no account: %v", err)
	}
	ts.run = func(context.Context) ([]byte, error) {
		return []byte(`{"credential":{"access_token":"a","token_expiry":"2026-03-01T12:00:00Z"}}`), nil
	}
	tok, err := ts.Token()
	if err != nil || tok.AccessToken != "a" || !ts.Expiry().Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("token %+v %v", tok, err)
	}
}
