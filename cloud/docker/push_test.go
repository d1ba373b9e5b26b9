package docker

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// registryManifest asks the registry directly (not through fndeck's code)
// which digest and media type it holds for repo:tag.
func registryManifest(t *testing.T, addr, repo, tag, user, pass string) (digest, mediaType string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodHead, fmt.Sprintf("http://%s/v2/%s/manifests/%s", addr, repo, tag), nil)
	req.Header.Set("Accept", strings.Join([]string{
		"application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
		"application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json",
	}, ", "))
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("HEAD manifest: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD manifest %s:%s: %s", repo, tag, resp.Status)
	}
	return resp.Header.Get("Docker-Content-Digest"), resp.Header.Get("Content-Type")
}

func checkPushed(t *testing.T, res cloud.PushResult, addr, repo, tag, user, pass string) {
	t.Helper()
	digest, mt := registryManifest(t, addr, repo, tag, user, pass)
	if res.Digest != digest || !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("PushResult.Digest = %q, registry holds %q", res.Digest, digest)
	}
	if res.MediaType != mt || mt == "" {
		t.Fatalf("PushResult.MediaType = %q, registry holds %q", res.MediaType, mt)
	}
	if want := addr + "/" + repo + ":" + tag; res.Ref != want {
		t.Fatalf("PushResult.Ref = %q, want %q", res.Ref, want)
	}
}

func TestPushPlainRegistry(t *testing.T) {
	reg := cloudtest.StartRegistry(t, false)
	const ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
	e := newEngine(t, WithRewrite(map[string]string{ecr: reg.Addr}))
	ctx := testCtx(t)
	src := cloudtest.UniqueName("fndeck-docker-push") + ":src"
	buildTiny(t, e, src)

	t.Run("tag and push", func(t *testing.T) {
		to := reg.Addr + "/fndeck/app:v1"
		removeImageAtEnd(t, to)
		sink := &recSink{}
		res, err := e.Push(ctx, cloud.PushOptions{Ref: src, To: to}, sink)
		if err != nil {
			t.Fatalf("Push: %v\n%s", err, sink.text())
		}
		checkPushed(t, res, reg.Addr, "fndeck/app", "v1", "", "")
		var pushed, withBytes bool
		for _, p := range sink.progress {
			pushed = pushed || (p.ID != "" && p.Status == "Pushed")
			withBytes = withBytes || (p.Status == "Pushing" && p.Total > 0)
		}
		if !pushed || !withBytes {
			t.Fatalf("per-layer progress missing (Pushed %v, Pushing with bytes %v): %+v", pushed, withBytes, sink.progress)
		}
		if !strings.Contains(sink.text(), "tagged "+src+" as "+to) {
			t.Fatalf("the tag step is not on the sink:\n%s", sink.text())
		}
	})

	t.Run("rewrite", func(t *testing.T) {
		removeImageAtEnd(t, reg.Addr+"/app:v2")
		sink := &recSink{}
		res, err := e.Push(ctx, cloud.PushOptions{Ref: src, To: ecr + "/app:v2"}, sink)
		if err != nil {
			t.Fatalf("Push: %v\n%s", err, sink.text())
		}
		checkPushed(t, res, reg.Addr, "app", "v2", "", "")
		if !strings.Contains(sink.text(), "registries.rewrite: pushing "+ecr+"/app:v2 to "+reg.Addr+"/app:v2") {
			t.Fatalf("the rewrite is not on the sink:\n%s", sink.text())
		}
	})

	t.Run("copy of an image the engine does not hold", func(t *testing.T) {
		// In the registry, not in the engine: copied registry to registry.
		remote := reg.Addr + "/fndeck/remote-only:v1"
		if _, err := e.Push(ctx, cloud.PushOptions{Ref: src, To: remote}, &recSink{}); err != nil {
			t.Fatalf("seeding the registry: %v", err)
		}
		cloudtest.Docker(t, "rmi", remote)
		to := reg.Addr + "/fndeck/copied:v1"
		removeImageAtEnd(t, to)
		removeImageAtEnd(t, remote)
		sink := &recSink{}
		res, err := e.Push(ctx, cloud.PushOptions{Ref: remote, To: to}, sink)
		if err != nil {
			t.Fatalf("Push: %v\n%s", err, sink.text())
		}
		checkPushed(t, res, reg.Addr, "fndeck/copied", "v1", "", "")
		if !strings.Contains(sink.text(), "the engine does not have "+remote+": copying it registry to registry") {
			t.Fatalf("the copy is not on the sink:\n%s", sink.text())
		}
		if _, err := e.Inspect(ctx, remote); !errors.Is(err, cloud.ErrNotFound) {
			t.Fatalf("the engine holds %s after the copy (%v): it was pulled", remote, err)
		}
		// Neither in the engine nor in the registry: not found, said as such.
		_, err = e.Push(ctx, cloud.PushOptions{Ref: reg.Addr + "/fndeck/nowhere:v1", To: reg.Addr + "/fndeck/nowhere-copy:v1"}, &recSink{})
		t.Logf("nowhere: %v", err)
		if !errors.Is(err, cloud.ErrNotFound) || !strings.Contains(err.Error(), "fndeck/nowhere:v1") {
			t.Fatalf("Push of an image that is nowhere = %v, want ErrNotFound naming it", err)
		}
	})

	t.Run("missing image", func(t *testing.T) {
		_, err := e.Push(ctx, cloud.PushOptions{Ref: cloudtest.UniqueName("fndeck-docker-none") + ":x", To: reg.Addr + "/none:x"}, &recSink{})
		t.Logf("missing image: %v", err)
		if !errors.Is(err, cloud.ErrNotFound) {
			t.Fatalf("Push of a missing image = %v, want ErrNotFound", err)
		}
	})
}

func TestPushAuthRegistry(t *testing.T) {
	reg := cloudtest.StartRegistry(t, true)
	ctx := testCtx(t)
	src := cloudtest.UniqueName("fndeck-docker-pushauth") + ":src"
	buildTiny(t, newEngine(t), src)
	authJSON := func(user, pass string) string {
		return fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Addr, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	}

	t.Run("wrong password", func(t *testing.T) {
		dir := writeConfig(t, authJSON(reg.User, "wrong-"+reg.Password))
		e := newEngine(t, WithAuth(cloud.AuthChain{&DockerConfigAuth{Dir: dir}}))
		to := reg.Addr + "/fndeck/private:bad"
		removeImageAtEnd(t, to)
		sink := &recSink{}
		_, err := e.Push(ctx, cloud.PushOptions{Ref: src, To: to}, sink)
		if !errors.Is(err, cloud.ErrUnauthenticated) || !strings.Contains(err.Error(), "refused the credentials") {
			t.Fatalf("Push with a wrong password = %v, want ErrUnauthenticated explained", err)
		}
		t.Logf("wrong password: %v (hint %q)", err, cloud.Hint(err))
		if h := cloud.Hint(err); h != "docker login "+reg.Addr {
			t.Fatalf("hint = %q", h)
		}
		if strings.Contains(sink.text()+err.Error(), reg.Password) {
			t.Fatal("a password reached the sink or the error")
		}
	})

	t.Run("refused credentials fall through to the next provider", func(t *testing.T) {
		// A stub credential helper on PATH, named in credHelpers, holds the
		// right password; the provider in front of it has a wrong one.
		bin := t.TempDir()
		script := fmt.Sprintf("#!/bin/sh\nread server\n[ \"$1\" = get ] || exit 1\nprintf '{\"ServerURL\":\"%%s\",\"Username\":\"%s\",\"Secret\":\"%s\"}' \"$server\"\n", reg.User, reg.Password)
		if err := os.WriteFile(filepath.Join(bin, "docker-credential-fndeckpush"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		wrong := &DockerConfigAuth{Dir: writeConfig(t, authJSON(reg.User, "wrong-"+reg.Password))}
		missing := &DockerConfigAuth{Dir: writeConfig(t, `{"credsStore":"fndeck-missing"}`)}
		helper := &DockerConfigAuth{Dir: writeConfig(t, fmt.Sprintf(`{"credHelpers":{%q:"fndeckpush"}}`, reg.Addr))}
		e := newEngine(t, WithAuth(cloud.AuthChain{missing, wrong, helper}))
		to := reg.Addr + "/fndeck/private:fallthrough"
		removeImageAtEnd(t, to)
		sink := &recSink{}
		res, err := e.Push(ctx, cloud.PushOptions{Ref: src, To: to}, sink)
		if err != nil {
			t.Fatalf("Push through the chain: %v\n%s", err, sink.text())
		}
		checkPushed(t, res, reg.Addr, "fndeck/private", "fallthrough", reg.User, reg.Password)

		// Nothing works: the error names each provider tried.
		e = newEngine(t, WithAuth(cloud.AuthChain{missing, wrong}))
		_, err = e.Push(ctx, cloud.PushOptions{Ref: src, To: to}, &recSink{})
		var ae *cloud.AuthError
		if !errors.As(err, &ae) || len(ae.Tried) != 3 || !errors.Is(err, cloud.ErrUnauthenticated) {
			t.Fatalf("Push with failing providers = %v, want an AuthError with 3 tries", err)
		}
		for _, want := range []string{"docker-credential-fndeck-missing not found", "refused the credentials from docker config", "no credentials:"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
		if strings.Contains(err.Error(), reg.Password) {
			t.Fatal("a password reached the error")
		}
	})

	t.Run("no credentials", func(t *testing.T) {
		e := newEngine(t, WithAuth(cloud.AuthChain{&DockerConfigAuth{Dir: t.TempDir()}}))
		to := reg.Addr + "/fndeck/private:none"
		removeImageAtEnd(t, to)
		_, err := e.Push(ctx, cloud.PushOptions{Ref: src, To: to}, &recSink{})
		if !errors.Is(err, cloud.ErrUnauthenticated) || !strings.Contains(err.Error(), "requires credentials and none are configured") ||
			cloud.Hint(err) != "docker login "+reg.Addr {
			t.Fatalf("Push without credentials = %v (hint %q)", err, cloud.Hint(err))
		}
	})

	t.Run("config.json auths", func(t *testing.T) {
		dir := writeConfig(t, authJSON(reg.User, reg.Password))
		e := newEngine(t, WithAuth(cloud.AuthChain{&DockerConfigAuth{Dir: dir}}))
		to := reg.Addr + "/fndeck/private:v1"
		removeImageAtEnd(t, to)
		sink := &recSink{}
		res, err := e.Push(ctx, cloud.PushOptions{Ref: src, To: to}, sink)
		if err != nil {
			t.Fatalf("Push: %v\n%s", err, sink.text())
		}
		checkPushed(t, res, reg.Addr, "fndeck/private", "v1", reg.User, reg.Password)
		if strings.Contains(sink.text(), reg.Password) {
			t.Fatal("the password reached the sink")
		}
	})

	t.Run("copy from a private registry", func(t *testing.T) {
		dir := writeConfig(t, authJSON(reg.User, reg.Password))
		e := newEngine(t, WithAuth(cloud.AuthChain{&DockerConfigAuth{Dir: dir}}))
		remote := reg.Addr + "/fndeck/private-src:v1"
		if _, err := e.Push(ctx, cloud.PushOptions{Ref: src, To: remote}, &recSink{}); err != nil {
			t.Fatalf("seeding the registry: %v", err)
		}
		cloudtest.Docker(t, "rmi", remote)
		removeImageAtEnd(t, remote)
		// Without credentials the pull is refused, with the login to run.
		anon := newEngine(t, WithAuth(cloud.AuthChain{&DockerConfigAuth{Dir: t.TempDir()}}))
		_, err := anon.Push(ctx, cloud.PushOptions{Ref: remote, To: reg.Addr + "/fndeck/private-copy:anon"}, &recSink{})
		t.Logf("anonymous copy: %v (hint %q)", err, cloud.Hint(err))
		if !errors.Is(err, cloud.ErrUnauthenticated) || cloud.Hint(err) != "docker login "+reg.Addr {
			t.Fatalf("copy without credentials = %v (hint %q), want ErrUnauthenticated with docker login", err, cloud.Hint(err))
		}
		// With them, the pull and the push both authenticate.
		to := reg.Addr + "/fndeck/private-copy:v1"
		removeImageAtEnd(t, to)
		sink := &recSink{}
		res, err := e.Push(ctx, cloud.PushOptions{Ref: remote, To: to}, sink)
		if err != nil {
			t.Fatalf("Push: %v\n%s", err, sink.text())
		}
		checkPushed(t, res, reg.Addr, "fndeck/private-copy", "v1", reg.User, reg.Password)
		if strings.Contains(sink.text(), reg.Password) {
			t.Fatal("the password reached the sink")
		}
	})

	t.Run("credential helper", func(t *testing.T) {
		fakeHelper(t, "fndeckreg", reg.Addr, reg.User, reg.Password)
		dir := writeConfig(t, fmt.Sprintf(`{"credHelpers":{%q:"fndeckreg"}}`, reg.Addr))
		e := newEngine(t, WithAuth(cloud.AuthChain{&DockerConfigAuth{Dir: dir}}))
		to := reg.Addr + "/fndeck/helper:v1"
		removeImageAtEnd(t, to)
		res, err := e.Push(ctx, cloud.PushOptions{Ref: src, To: to}, &recSink{})
		if err != nil {
			t.Fatalf("Push: %v", err)
		}
		checkPushed(t, res, reg.Addr, "fndeck/helper", "v1", reg.User, reg.Password)
	})

	t.Run("cloud provider for a rewritten host", func(t *testing.T) {
		const ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
		prov := hintedProvider{host: ecr, hint: "aws sso login --profile test",
			auth: cloud.RegistryAuth{Username: reg.User, Password: reg.Password}}
		e := newEngine(t, WithAuth(cloud.AuthChain{prov, &DockerConfigAuth{Dir: t.TempDir()}}),
			WithRewrite(map[string]string{ecr: reg.Addr}))
		removeImageAtEnd(t, reg.Addr+"/svc:v3")
		res, err := e.Push(ctx, cloud.PushOptions{Ref: src, To: ecr + "/svc:v3"}, &recSink{})
		if err != nil {
			t.Fatalf("Push: %v", err)
		}
		checkPushed(t, res, reg.Addr, "svc", "v3", reg.User, reg.Password)

		// With a provider whose credentials are wrong, its own hint is given.
		prov.auth.Password = "wrong"
		e = newEngine(t, WithAuth(cloud.AuthChain{prov}), WithRewrite(map[string]string{ecr: reg.Addr}))
		removeImageAtEnd(t, reg.Addr+"/svc:v4")
		_, err = e.Push(ctx, cloud.PushOptions{Ref: src, To: ecr + "/svc:v4"}, &recSink{})
		if !errors.Is(err, cloud.ErrUnauthenticated) || cloud.Hint(err) != "aws sso login --profile test" {
			t.Fatalf("Push = %v (hint %q), want ErrUnauthenticated with the provider's hint", err, cloud.Hint(err))
		}
	})
}

// A registry that keeps answering 429 makes the push give up after the
// bounded attempts with cloud.ErrThrottled.
func TestPushGivesUpOnPersistentThrottling(t *testing.T) {
	var puts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			w.WriteHeader(http.StatusOK)
			return
		}
		puts.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`))
	}))
	defer srv.Close()
	e := newEngine(t)
	e.backoff = func(int) time.Duration { return 10 * time.Millisecond }
	src := cloudtest.UniqueName("fndeck-docker-429") + ":src"
	buildTiny(t, e, src)
	to := strings.TrimPrefix(srv.URL, "http://") + "/fndeck/throttled:v1"
	removeImageAtEnd(t, to)
	sink := &recSink{}
	_, err := e.Push(testCtx(t), cloud.PushOptions{Ref: src, To: to}, sink)
	t.Logf("persistent 429: %v", err)
	if !errors.Is(err, cloud.ErrThrottled) || !strings.Contains(err.Error(), fmt.Sprintf("gave up after %d attempts", pushAttempts)) {
		t.Fatalf("Push = %v, want ErrThrottled after %d attempts\n%s", err, pushAttempts, sink.text())
	}
	if n := strings.Count(sink.text(), "retrying in"); n != pushAttempts-1 {
		t.Fatalf("%d retries announced, want %d:\n%s", n, pushAttempts-1, sink.text())
	}
}

// A registry that answers 503 to the first manifest upload: the push is
// retried and succeeds.
func TestPushRetriesTransientFailure(t *testing.T) {
	reg := cloudtest.StartRegistry(t, false)
	upstream, _ := url.Parse("http://" + reg.Addr)
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	var failed atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && failed.Add(1) == 1 {
			http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}`, http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	e := newEngine(t)
	e.backoff = func(int) time.Duration { return 10 * time.Millisecond }
	ctx := testCtx(t)
	src := cloudtest.UniqueName("fndeck-docker-retry") + ":src"
	buildTiny(t, e, src)
	to := addr + "/fndeck/retry:v1"
	removeImageAtEnd(t, to)
	sink := &recSink{}
	res, err := e.Push(ctx, cloud.PushOptions{Ref: src, To: to}, sink)
	if err != nil {
		t.Fatalf("Push: %v\n%s", err, sink.text())
	}
	t.Logf("push output:\n%s", sink.text())
	if failed.Load() < 2 || !strings.Contains(sink.text(), "retrying") {
		t.Fatalf("no retry happened (manifest PUTs %d):\n%s", failed.Load(), sink.text())
	}
	digest, _ := registryManifest(t, reg.Addr, "fndeck/retry", "v1", "", "")
	if res.Digest != digest {
		t.Fatalf("digest %q, registry holds %q", res.Digest, digest)
	}
}
