package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/docker"
	"github.com/fndeck/fndeck/cloud/registry"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// pushed is what pushIndex wrote.
type pushed struct {
	ref           string // REG/REPO:TAG of the index
	index         string // its digest
	amd64, arm64  string // children digests
	attestation   string
	amd64Layers   []string
	amd64ConfigEP []string
}

// testImage is a random OCI image with a config for os/arch.
func testImage(t testing.TB, os, arch string, entrypoint []string) v1.Image {
	t.Helper()
	img, err := random.Image(64<<10, 2)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = os, arch
	cf.Config.Entrypoint = entrypoint
	cf.Config.Cmd = []string{"serve"}
	cf.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}, "9090/tcp": {}}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func digestOf(t testing.TB, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// pushIndex pushes, as BuildKit writes it, an OCI index with linux/amd64,
// linux/arm64 and an attestation manifest (platform unknown/unknown).
func pushIndex(t testing.TB, reg *cloudtest.Registry, repo, tag string) pushed {
	t.Helper()
	amd := testImage(t, "linux", "amd64", []string{"/app"})
	arm := testImage(t, "linux", "arm64", []string{"/app"})
	att := testImage(t, "unknown", "unknown", nil)
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	idx = mutate.AppendManifests(idx,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": digestOf(t, amd)}}},
	)
	ref := reg.Addr + "/" + repo + ":" + tag
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{}
	if reg.User != "" {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: reg.User, Password: reg.Password}))
	}
	if err := remote.WriteIndex(r, idx, opts...); err != nil {
		t.Fatalf("pushing the test index: %v", err)
	}
	p := pushed{ref: ref, index: digestOf(t, idx), amd64: digestOf(t, amd), arm64: digestOf(t, arm), attestation: digestOf(t, att)}
	ls, _ := amd.Layers()
	for _, l := range ls {
		p.amd64Layers = append(p.amd64Layers, digestOf(t, l))
	}
	return p
}

// dockerConfig writes a docker config.json in a test-own directory, points
// DOCKER_CONFIG and HOME at it, and returns its provider.
func dockerConfig(t *testing.T, cfg any) *docker.DockerConfigAuth {
	t.Helper()
	dir := t.TempDir()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("HOME", dir)
	return &docker.DockerConfigAuth{Dir: dir}
}

// credHelper puts a stub docker-credential-NAME on PATH that answers get
// with user/secret for any server.
func credHelper(t *testing.T, helperName, user, secret string) {
	t.Helper()
	dir := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\nread server\nif [ \"$1\" = get ]; then printf '{\"ServerURL\":\"%%s\",\"Username\":\"%s\",\"Secret\":\"%s\"}' \"$server\"; exit 0; fi\nexit 1\n", user, secret)
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-"+helperName), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// basic is an auths entry.
func basic(user, pass string) map[string]string {
	return map[string]string{"username": user, "password": pass}
}

func TestResolveAndPickPlatform(t *testing.T) {
	for _, withAuth := range []bool{false, true} {
		t.Run(fmt.Sprintf("auth=%v", withAuth), func(t *testing.T) {
			reg := cloudtest.StartRegistry(t, withAuth)
			p := pushIndex(t, reg, "team/api", "1")
			auths := map[string]any{}
			if withAuth {
				auths[reg.Addr] = basic(reg.User, reg.Password)
			}
			c := registry.New(registry.Options{Auth: cloud.AuthChain{dockerConfig(t, map[string]any{"auths": auths})}})
			ctx := ctxT(t)

			d, err := c.Resolve(ctx, p.ref)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if d.Digest != p.index || d.MediaType != string(types.OCIImageIndex) || !d.IsIndex() || d.Size == 0 {
				t.Errorf("Resolve = %+v, want the index %s", d, p.index)
			}
			m, err := c.Get(ctx, p.ref)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if len(m.Children) != 3 {
				t.Fatalf("index children = %+v, want 3", m.Children)
			}
			if got := fmt.Sprint(m.Platforms()); got != "[linux/amd64 linux/arm64]" {
				t.Errorf("Platforms = %s, want linux/amd64 and linux/arm64 only", got)
			}
			if !m.Children[2].Attestation || m.Children[2].Digest != p.attestation {
				t.Errorf("the attestation manifest is not flagged: %+v", m.Children[2])
			}
			for want, digest := range map[string]string{"linux/amd64": p.amd64, "linux/arm64": p.arm64} {
				pl, _ := registry.ParsePlatform(want)
				ch, fromIndex, err := c.ResolvePlatform(ctx, p.ref, pl)
				if err != nil || !fromIndex || ch.Digest != digest {
					t.Errorf("ResolvePlatform(%s) = %+v %v %v, want %s", want, ch, fromIndex, err, digest)
				}
			}
			_, _, err = c.ResolvePlatform(ctx, p.ref, registry.Platform{OS: "linux", Architecture: "s390x"})
			if !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), "linux/amd64, linux/arm64") || strings.Contains(err.Error(), "unknown") {
				t.Errorf("picking a missing platform: %v; want ErrInvalid listing linux/amd64, linux/arm64 (no attestation)", err)
			}
			// A digest reference of a child resolves to that image.
			byDigest, err := registry.WithDigest(p.ref, p.arm64)
			if err != nil {
				t.Fatal(err)
			}
			d, err = c.Resolve(ctx, byDigest)
			if err != nil || d.Digest != p.arm64 || d.IsIndex() {
				t.Errorf("Resolve(%s) = %+v %v", byDigest, d, err)
			}

			ic, err := c.Config(ctx, p.ref, &registry.Platform{OS: "linux", Architecture: "amd64"})
			if err != nil {
				t.Fatalf("Config: %v", err)
			}
			if ic.Digest != p.amd64 || ic.Platform.String() != "linux/amd64" || fmt.Sprint(ic.Entrypoint) != "[/app]" ||
				fmt.Sprint(ic.Cmd) != "[serve]" || fmt.Sprint(ic.ExposedPorts) != "[8080/tcp 9090/tcp]" || len(ic.Layers) != 2 || ic.Size <= 2*(64<<10) {
				t.Errorf("Config = %+v", ic)
			}
			if _, err := c.Config(ctx, p.ref, nil); !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), "linux/arm64") {
				t.Errorf("Config of an index without a platform: %v", err)
			}
			if _, err := c.Resolve(ctx, reg.Addr+"/team/api:missing"); !errors.Is(err, cloud.ErrNotFound) {
				t.Errorf("Resolve of a missing tag: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestAuthChallengeWithoutCredentials(t *testing.T) {
	reg := cloudtest.StartRegistry(t, true)
	p := pushIndex(t, reg, "app", "1")
	c := registry.New(registry.Options{Auth: cloud.AuthChain{dockerConfig(t, map[string]any{})}})
	_, err := c.Resolve(ctxT(t), p.ref)
	if !errors.Is(err, cloud.ErrUnauthenticated) || cloud.Hint(err) != "docker login "+reg.Addr {
		t.Fatalf("Resolve without credentials: %v (hint %q), want ErrUnauthenticated and docker login", err, cloud.Hint(err))
	}
	if !strings.Contains(err.Error(), "requires credentials") {
		t.Errorf("error does not say credentials are missing: %v", err)
	}
}

// TestAuthFallsThrough: a provider that fails (a credential store whose
// helper is missing) and one whose credentials the registry refuses (401)
// hand the host on; the credential helper named in credHelpers supplies
// working ones.
func TestAuthFallsThrough(t *testing.T) {
	reg := cloudtest.StartRegistry(t, true)
	p := pushIndex(t, reg, "app", "1")
	dst := cloudtest.StartRegistry(t, false)
	credHelper(t, "fndecktest", reg.User, reg.Password)
	failing := &docker.DockerConfigAuth{Dir: writeConfig(t, map[string]any{"credsStore": "fndeck-missing"})}
	wrong := &docker.DockerConfigAuth{Dir: writeConfig(t, map[string]any{"auths": map[string]any{reg.Addr: basic(reg.User, "wrong")}})}
	good := dockerConfig(t, map[string]any{"credHelpers": map[string]string{reg.Addr: "fndecktest"}})
	c := registry.New(registry.Options{Auth: cloud.AuthChain{failing, cloud.AuthChain{wrong}, good}})
	ctx := ctxT(t)

	d, err := c.Resolve(ctx, p.ref)
	if err != nil || d.Digest != p.index {
		t.Fatalf("Resolve through the chain = %+v, %v", d, err)
	}
	res, err := c.Copy(ctx, p.ref, dst.Addr+"/copied:1", registry.CopyOptions{Platform: &registry.Platform{OS: "linux", Architecture: "arm64"}})
	if err != nil || res.Digest != p.arm64 {
		t.Fatalf("Copy through the chain = %+v, %v", res, err)
	}

	// Everything failing: the error names each provider and why.
	none := registry.New(registry.Options{Auth: cloud.AuthChain{failing, wrong}})
	_, err = none.Resolve(ctx, p.ref)
	var ae *cloud.AuthError
	if !errors.As(err, &ae) || !errors.Is(err, cloud.ErrUnauthenticated) {
		t.Fatalf("Resolve with failing providers: %v, want a *cloud.AuthError", err)
	}
	msg := err.Error()
	for _, want := range []string{"docker-credential-fndeck-missing not found", "refused the credentials from docker config", "no credentials:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q: %s", want, msg)
		}
	}
	if len(ae.Tried) != 3 || strings.Contains(msg, reg.Password) || strings.Contains(msg, "wrong") {
		t.Errorf("tried = %q (want 3 entries, no secret)", ae.Tried)
	}
}

func writeConfig(t *testing.T, cfg any) string {
	t.Helper()
	dir := t.TempDir()
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// sink records progress and lines.
type sink struct {
	mu    sync.Mutex
	lines []string
	prog  []cloud.Progress
}

func (s *sink) Line(l string) { s.mu.Lock(); s.lines = append(s.lines, l); s.mu.Unlock() }
func (s *sink) Progress(p cloud.Progress) {
	s.mu.Lock()
	s.prog = append(s.prog, p)
	s.mu.Unlock()
}

func (s *sink) final() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]string{}
	for _, p := range s.prog {
		m[p.ID] = p.Status
	}
	return m
}

func TestCopyBetweenRegistries(t *testing.T) {
	src := cloudtest.StartRegistry(t, true)
	dst := cloudtest.StartRegistry(t, true)
	p := pushIndex(t, src, "team/api", "1")
	auth := cloud.AuthChain{dockerConfig(t, map[string]any{"auths": map[string]any{
		src.Addr: basic(src.User, src.Password), dst.Addr: basic(dst.User, dst.Password)}})}
	// The destination is named as an ECR host and reached through
	// registries.rewrite, as the AWS backend's tests do.
	const ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
	auth = append(cloud.AuthChain{}, auth...)
	c := registry.New(registry.Options{Auth: auth, Rewrite: map[string]string{ecr: dst.Addr}})
	ctx := ctxT(t)

	var checked registry.ImageConfig
	out := &sink{}
	amd := registry.Platform{OS: "linux", Architecture: "amd64"}
	res, err := c.Copy(ctx, p.ref, ecr+"/api:1", registry.CopyOptions{Platform: &amd, Out: out,
		Check: func(ic registry.ImageConfig) error { checked = ic; return nil }})
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if res.Digest != p.amd64 || !res.FromIndex || res.MediaType != string(types.OCIManifestSchema1) || checked.Platform != amd {
		t.Errorf("Copy = %+v, checked %+v; want the amd64 child %s", res, checked, p.amd64)
	}
	st := out.final()
	for _, l := range p.amd64Layers {
		if st[l] != "Copied" {
			t.Errorf("layer %s: last progress %q, want Copied (all: %v)", l, st[l], st)
		}
	}
	if !strings.Contains(strings.Join(out.lines, "\n"), "copying its linux/amd64 image") {
		t.Errorf("lines = %q", out.lines)
	}
	// What the destination holds, read back through the rewrite.
	d, err := c.Resolve(ctx, ecr+"/api:1")
	if err != nil || d.Digest != p.amd64 {
		t.Errorf("the destination holds %+v, %v", d, err)
	}

	// Again under another tag: every layer is already there.
	out2 := &sink{}
	if _, err := c.Copy(ctx, p.ref, ecr+"/api:2", registry.CopyOptions{Platform: &amd, Out: out2}); err != nil {
		t.Fatalf("second Copy: %v", err)
	}
	for _, l := range p.amd64Layers {
		if s := out2.final()[l]; s != "Layer already exists" {
			t.Errorf("second copy, layer %s: %q, want Layer already exists", l, s)
		}
	}

	// A Check error stops the copy before anything is written.
	stop := errors.New("wrong architecture")
	_, err = c.Copy(ctx, p.ref, ecr+"/api:3", registry.CopyOptions{Platform: &amd, Check: func(registry.ImageConfig) error { return stop }})
	if !errors.Is(err, stop) {
		t.Errorf("Copy with a failing Check: %v", err)
	}
	if _, err := c.Resolve(ctx, ecr+"/api:3"); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("a stopped copy wrote api:3: %v", err)
	}

	// Without a platform the index is copied whole.
	res, err = c.Copy(ctx, p.ref, ecr+"/api:all", registry.CopyOptions{})
	if err != nil || res.Digest != p.index || !res.IsIndex() {
		t.Errorf("whole-index Copy = %+v, %v", res, err)
	}
}

// TestCopyUploadsEachBlobInOneRequest holds the upload to what ECR needs
// (see Copy): one PATCH per upload session carrying the whole blob with
// its Content-Length, no Content-Range chunking.
func TestCopyUploadsEachBlobInOneRequest(t *testing.T) {
	src := cloudtest.StartRegistry(t, false)
	dst := cloudtest.StartRegistry(t, false)
	p := pushIndex(t, src, "api", "1")
	target, _ := url.Parse("http://" + dst.Addr)
	var mu sync.Mutex
	patches := map[string]int{} // upload session path → PATCH count
	var bad []string
	rp := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			mu.Lock()
			patches[r.URL.Path]++
			if r.ContentLength <= 0 || r.Header.Get("Content-Range") != "" {
				bad = append(bad, fmt.Sprintf("PATCH %s: Content-Length %d, Content-Range %q", r.URL.Path, r.ContentLength, r.Header.Get("Content-Range")))
			}
			mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	frontHost := strings.TrimPrefix(front.URL, "http://")
	c := registry.New(registry.Options{})
	if _, err := c.Copy(ctxT(t), p.ref, frontHost+"/api:1", registry.CopyOptions{Platform: &registry.Platform{OS: "linux", Architecture: "arm64"}}); err != nil {
		t.Fatalf("Copy through the recording front: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(patches) < 2 {
		t.Fatalf("saw %d upload sessions, want one per layer (2)", len(patches))
	}
	for path, n := range patches {
		if n != 1 {
			t.Errorf("upload %s took %d PATCH requests, want 1", path, n)
		}
	}
	for _, b := range bad {
		t.Error(b)
	}
}

// BenchmarkResolve is a deploy's digest resolution against the local
// registry with htpasswd auth: a manifest HEAD (after the auth challenge)
// and a GET of the index, as issue 12's deploy does.
func BenchmarkResolve(b *testing.B) {
	reg := cloudtest.StartRegistry(b, true)
	p := pushIndex(b, reg, "bench", "1")
	dir := b.TempDir()
	cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{reg.Addr: basic(reg.User, reg.Password)}})
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o600); err != nil {
		b.Fatal(err)
	}
	c := registry.New(registry.Options{Auth: cloud.AuthChain{&docker.DockerConfigAuth{Dir: dir}}})
	ctx := context.Background()
	amd := registry.Platform{OS: "linux", Architecture: "amd64"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Resolve(ctx, p.ref); err != nil {
			b.Fatal(err)
		}
		if d, _, err := c.ResolvePlatform(ctx, p.ref, amd); err != nil || d.Digest != p.amd64 {
			b.Fatal(d, err)
		}
	}
}

// TestResolveFallsBackToGet: a registry front that refuses HEAD (405) or
// answers it without a digest still resolves, through a GET.
func TestResolveFallsBackToGet(t *testing.T) {
	reg := cloudtest.StartRegistry(t, false)
	p := pushIndex(t, reg, "api", "1")
	target, _ := url.Parse("http://" + reg.Addr)
	rp := httputil.NewSingleHostReverseProxy(target)
	for name, head := range map[string]func(http.ResponseWriter, *http.Request){
		"405":       func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusMethodNotAllowed) },
		"no digest": func(w http.ResponseWriter, _ *http.Request) { w.Header().Set("Content-Type", "text/plain") },
	} {
		t.Run(name, func(t *testing.T) {
			var gets int
			var mu sync.Mutex
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.Contains(r.URL.Path, "/manifests/") {
					if r.Method == http.MethodHead {
						head(w, r)
						return
					}
					mu.Lock()
					gets++
					mu.Unlock()
				}
				rp.ServeHTTP(w, r)
			}))
			t.Cleanup(front.Close)
			ref := strings.TrimPrefix(front.URL, "http://") + "/api:1"
			d, err := registry.New(registry.Options{}).Resolve(ctxT(t), ref)
			if err != nil || d.Digest != p.index || !d.IsIndex() {
				t.Fatalf("Resolve = %+v, %v; want the index %s", d, err, p.index)
			}
			mu.Lock()
			defer mu.Unlock()
			if gets != 1 {
				t.Errorf("%d manifest GETs, want 1", gets)
			}
		})
	}
}
