package aws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/docker"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// TestDeployLocalImageThroughTheEngine deploys a local image: the backend
// creates the ECR repository (with --yes), the real docker engine pushes the
// image with the ECR token from the backend's AuthProvider, registries.rewrite
// sends it to a local registry, and the function gets the pushed digest.
func TestDeployLocalImageThroughTheEngine(t *testing.T) {
	cloudtest.RequireDocker(t)
	reg := cloudtest.StartRegistry(t, false)
	f, _ := deployFake(t)
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY hello /hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello"), []byte(time.Now().String()), 0o600); err != nil {
		t.Fatal(err)
	}
	repo := cloudtest.UniqueName("fndeck-aws")
	ref := repo + ":dev"
	cloudtest.Docker(t, "build", "-q", "--no-cache", "-t", ref, dir)
	t.Cleanup(func() {
		_, _ = cloudtestDockerQuiet("rmi", "-f", ref, ecrRef(ref), reg.Addr+"/"+ref)
	})

	ep, err := docker.Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	b := New(Options{Regions: []string{"us-east-1"}, WaitMinDelay: 10 * time.Millisecond, WaitMaxDelay: 50 * time.Millisecond})
	host := acctA + ".dkr.ecr.us-east-1.amazonaws.com"
	eng, err := docker.New(ep, docker.WithRewrite(map[string]string{host: reg.Addr}), docker.WithAuth(cloud.AuthChain{b}))
	if err != nil {
		t.Fatal(err)
	}
	b.opts.Pusher = eng
	b.opts.ImageInspector = eng.Inspect

	out := &lines{}
	res, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: ref, Yes: true}, out)
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, out)
	}
	if !strings.HasPrefix(res.NewImage, host+"/"+repo+"@sha256:") {
		t.Fatalf("deployed %s", res.NewImage)
	}
	if f.fn(acctA, "us-east-1", "api").ImageURI != res.NewImage || f.count("CreateRepository") != 1 || f.count("GetAuthorizationToken") != 1 {
		t.Errorf("function image %s, CreateRepository %d, GetAuthorizationToken %d", f.fn(acctA, "us-east-1", "api").ImageURI, f.count("CreateRepository"), f.count("GetAuthorizationToken"))
	}
	// The registry holds exactly the digest the function now serves.
	digest := res.NewImage[strings.Index(res.NewImage, "@")+1:]
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodHead, "http://"+reg.Addr+"/v2/"+repo+"/manifests/"+digest, nil)
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("registry has no manifest %s: %s", digest, resp.Status)
	}
	if strings.Contains(out.String(), "ecr-secret") {
		t.Error("the ECR token reached the output")
	}
}

// cloudtestDockerQuiet runs the docker CLI for cleanup, ignoring failures.
func cloudtestDockerQuiet(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return exec.CommandContext(ctx, "docker", args...).CombinedOutput()
}

// staticAuth answers one registry host with fixed credentials (the docker
// config chain's role in production).
type staticAuth struct {
	host string
	auth cloud.RegistryAuth
}

func (s staticAuth) AuthFor(_ context.Context, host string) (cloud.RegistryAuth, bool, error) {
	if host != s.host {
		return cloud.RegistryAuth{}, false, nil
	}
	return s.auth, true, nil
}

// TestDeployRemoteImageIsCopiedToECR copies an image from a registry that
// needs credentials into "ECR" (a second local registry via registries.rewrite)
// over the registry API, then deploys it by digest.
func TestDeployRemoteImageIsCopiedToECR(t *testing.T) {
	cloudtest.RequireDocker(t)
	srcReg := cloudtest.StartRegistry(t, true)
	dstReg := cloudtest.StartRegistry(t, false)
	f, _ := deployFake(t)
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY hello /hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello"), []byte(time.Now().String()), 0o600); err != nil {
		t.Fatal(err)
	}
	repo := cloudtest.UniqueName("fndeck-aws-copy")
	src := srcReg.Addr + "/team/" + repo + ":1"
	cloudtest.Docker(t, "build", "-q", "--no-cache", "-t", src, dir)
	t.Cleanup(func() { _, _ = cloudtestDockerQuiet("rmi", "-f", src) })
	cfgDir := t.TempDir()
	login := exec.Command("docker", "--config", cfgDir, "login", "-u", srcReg.User, "--password-stdin", srcReg.Addr)
	login.Stdin = strings.NewReader(srcReg.Password)
	if b, err := login.CombinedOutput(); err != nil {
		t.Fatalf("docker login: %v: %s", err, b)
	}
	if b, err := exec.Command("docker", "--config", cfgDir, "push", src).CombinedOutput(); err != nil {
		t.Fatalf("docker push: %v: %s", err, b)
	}
	_, _ = cloudtestDockerQuiet("rmi", "-f", src) // now it is only remote

	host := acctA + ".dkr.ecr.us-east-1.amazonaws.com"
	b := New(Options{Regions: []string{"us-east-1"}, WaitMinDelay: 10 * time.Millisecond, WaitMaxDelay: 50 * time.Millisecond,
		Rewrite: map[string]string{host: dstReg.Addr},
		Auth:    staticAuth{host: srcReg.Addr, auth: cloud.RegistryAuth{Username: srcReg.User, Password: srcReg.Password}},
	})
	// The real engine answers "no such image" for the removed local copy.
	ep, err := docker.Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := docker.New(ep)
	if err != nil {
		t.Fatal(err)
	}
	b.opts.ImageInspector = eng.Inspect
	out := &lines{}
	res, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: src, Yes: true}, out)
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, out)
	}
	if !strings.HasPrefix(res.NewImage, host+"/team/"+repo+"@sha256:") || f.fn(acctA, "us-east-1", "api").ImageURI != res.NewImage {
		t.Fatalf("deployed %s", res.NewImage)
	}
	if !strings.Contains(out.String(), "copying it to") {
		t.Errorf("output does not say it copied:\n%s", out)
	}
	digest := res.NewImage[strings.Index(res.NewImage, "@")+1:]
	for _, ref := range []string{digest, "1"} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodHead, "http://"+dstReg.Addr+"/v2/team/"+repo+"/manifests/"+ref, nil)
		req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Docker-Content-Digest") != digest {
			t.Errorf("destination manifest %s: %s digest %s, want %s", ref, resp.Status, resp.Header.Get("Docker-Content-Digest"), digest)
		}
	}

	// Without the source's credentials the copy fails naming the registry.
	b.opts.Auth = nil
	_, err = b.Deploy(testCtx(t), cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: src, Yes: true}, nil)
	if !errors.Is(err, cloud.ErrUnauthenticated) || !strings.Contains(err.Error(), srcReg.Addr) {
		t.Errorf("copy without credentials: %v", err)
	}
}

// TestCopyAnswersBearerChallenges puts a token-auth front (as Docker Hub,
// GHCR and ECR Public use) before a local registry and copies through it.
func TestCopyAnswersBearerChallenges(t *testing.T) {
	cloudtest.RequireDocker(t)
	backend := cloudtest.StartRegistry(t, false)
	dstReg := cloudtest.StartRegistry(t, false)
	f, _ := deployFake(t)
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})

	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY hello /hello\n"), 0o600)
	_ = os.WriteFile(filepath.Join(dir, "hello"), []byte(time.Now().String()), 0o600)
	repo := cloudtest.UniqueName("fndeck-aws-bearer")
	pushed := backend.Addr + "/" + repo + ":1"
	cloudtest.Docker(t, "build", "-q", "--no-cache", "-t", pushed, dir)
	t.Cleanup(func() { _, _ = cloudtestDockerQuiet("rmi", "-f", pushed) })
	cloudtest.Docker(t, "push", pushed)

	target, _ := url.Parse("http://" + backend.Addr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var tokens int
	var mu sync.Mutex
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			u, p, ok := r.BasicAuth()
			if !ok || u != "robot" || p != "hunter2" || !strings.Contains(r.URL.Query().Get("scope"), "repository:"+repo+":pull") {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			mu.Lock()
			tokens++
			mu.Unlock()
			_, _ = io.WriteString(w, `{"token":"tok-123"}`)
			return
		}
		if r.Header.Get("Authorization") != "Bearer tok-123" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="front"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	frontHost := strings.TrimPrefix(front.URL, "http://")

	host := acctA + ".dkr.ecr.us-east-1.amazonaws.com"
	b := New(Options{Regions: []string{"us-east-1"}, WaitMinDelay: 10 * time.Millisecond, WaitMaxDelay: 50 * time.Millisecond,
		Rewrite: map[string]string{host: dstReg.Addr},
		Auth:    staticAuth{host: frontHost, auth: cloud.RegistryAuth{Username: "robot", Password: "hunter2"}},
	})
	res, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: frontHost + "/" + repo + ":1", Yes: true}, nil)
	if err != nil {
		t.Fatalf("deploy through a bearer registry: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.HasPrefix(res.NewImage, host+"/"+repo+"@sha256:") || tokens != 1 {
		t.Errorf("deployed %s after %d token requests", res.NewImage, tokens)
	}
}

// TestCopyFromAnotherAccountFallsThrough copies from an ECR registry of an
// account no configured profile is on (a cross-account source, here a
// private local registry named as that host through registries.rewrite):
// the ECR provider fails for the host and hands it on to the docker config,
// whose credential helper (a stub docker-credential-NAME on PATH, named in
// credHelpers) supplies the password. Without the helper the error names
// each provider tried.
func TestCopyFromAnotherAccountFallsThrough(t *testing.T) {
	srcReg := cloudtest.StartRegistry(t, true)
	dstReg := cloudtest.StartRegistry(t, false)
	f, _ := deployFake(t)
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})

	other := "999999999999.dkr.ecr.us-east-1.amazonaws.com"
	img, err := random.Image(16<<10, 2)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	srcRef, _ := name.ParseReference(srcReg.Addr + "/shared/api:7")
	if err := remote.Write(srcRef, img, remote.WithAuth(&authn.Basic{Username: srcReg.User, Password: srcReg.Password})); err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()

	bin := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\nread server\n[ \"$1\" = get ] || exit 1\nprintf '{\"ServerURL\":\"%%s\",\"Username\":\"%s\",\"Secret\":\"%s\"}' \"$server\"\n", srcReg.User, srcReg.Password)
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-fndeckecr"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cfgDir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", cfgDir)
	if err := os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(`{"credHelpers":{"`+other+`":"fndeckecr"}}`), 0o600); err != nil {
		t.Fatal(err)
	}

	host := acctA + ".dkr.ecr.us-east-1.amazonaws.com"
	b := New(Options{Regions: []string{"us-east-1"}, WaitMinDelay: 10 * time.Millisecond, WaitMaxDelay: 50 * time.Millisecond,
		Rewrite: map[string]string{host: dstReg.Addr, other: srcReg.Addr},
		Auth:    &docker.DockerConfigAuth{Dir: cfgDir},
	})
	res, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: other + "/shared/api:7", Yes: true}, nil)
	if err != nil {
		t.Fatalf("deploy from another account's ECR: %v", err)
	}
	if res.NewImage != host+"/shared/api@"+want.String() {
		t.Errorf("deployed %s, want %s@%s", res.NewImage, host+"/shared/api", want)
	}

	// Everything failing: the ECR provider, the docker config (no entry),
	// no credentials at all — each is named.
	if err := os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = b.Deploy(testCtx(t), cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: other + "/shared/api:7", Yes: true}, nil)
	t.Logf("every provider failing: %v (hint %q)", err, cloud.Hint(err))
	var ae *cloud.AuthError
	if !errors.As(err, &ae) || !errors.Is(err, cloud.ErrUnauthenticated) {
		t.Fatalf("copy with every provider failing: %v, want a *cloud.AuthError", err)
	}
	for _, w := range []string{"aws ecr: ", "999999999999", "no credentials: "} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error lacks %q: %v", w, err)
		}
	}
	if strings.Contains(err.Error(), srcReg.Password) {
		t.Error("a password reached the error")
	}
}
