package gcp

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	"golang.org/x/oauth2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/docker"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
	"github.com/fndeck/fndeck/internal/testsupport/gcpfake"
)

// startTokenRegistry starts docker-registry on 127.0.0.1 whose only user is
// Artifact Registry's "oauth2accesstoken" with token as password, so a push
// succeeds only with the credentials AuthFor hands out.
func startTokenRegistry(t *testing.T, token string) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		cloudtest.Missing(t, "docker-registry", "apt-get install docker-registry")
	}
	hp, err := exec.LookPath("htpasswd")
	if err != nil {
		cloudtest.Missing(t, "htpasswd", "apt-get install apache2-utils")
	}
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", cloudtest.FreePort(t))
	pw, err := exec.Command(hp, "-Bbn", "oauth2accesstoken", token).Output()
	if err != nil {
		t.Fatalf("htpasswd: %v", err)
	}
	hf := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(hf, pw, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: %s}\nauth: {htpasswd: {realm: ar-test, path: %s}}\n",
		filepath.Join(dir, "data"), addr, hf)
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
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not answer on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDeployLocalImagePushesToArtifactRegistry runs the push seam for real:
// a local image is deployed; fndeck creates the Artifact Registry repository
// (--yes), pushes through the docker engine with AuthFor's token (the AR host
// rewritten to a local registry that accepts only that token), and deploys
// the pushed digest.
func TestDeployLocalImagePushesToArtifactRegistry(t *testing.T) {
	host := cloudtest.RequireDocker(t)
	const token = "ya29.fake-access-token"
	regAddr := startTokenRegistry(t, token)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY hello.txt /hello.txt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte(cloudtest.UniqueName("hello")), 0o644); err != nil {
		t.Fatal(err)
	}
	name := cloudtest.UniqueName("fndeck-gcp-push")
	local := name + ":v1"
	cloudtest.Docker(t, "build", "-q", "--no-cache", "-t", local, dir)
	pushed := regAddr + "/acme-web/fndeck/" + name + ":v1"
	t.Cleanup(func() {
		for _, ref := range []string{local, pushed, "europe-west1-docker.pkg.dev/acme-web/fndeck/" + name + ":v1"} {
			_ = exec.Command("docker", "rmi", ref).Run()
		}
	})

	f := gcpfake.StartCloudRun(t)
	runAddr := f.Addr
	f.AddService("acme-web", "europe-west1", "api", "gcr.io/acme-web/api:v0", "https://api")
	ar := &fakeArtifactRegistry{repos: map[string]bool{}}
	arSrv := httptest.NewServer(ar)
	defer arSrv.Close()

	// The source registry of a copy is private; the docker config has its
	// password, tried after the backend's own token.
	src := cloudtest.StartRegistry(t, true)
	cfgDir := t.TempDir()
	cfgJSON := fmt.Sprintf(`{"auths":{%q:{"username":%q,"password":%q}}}`, src.Addr, src.User, src.Password)
	if err := os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(cfgJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	rewrite := map[string]string{"europe-west1-docker.pkg.dev": regAddr}
	ep := docker.Endpoint{Host: host}
	eng, err := docker.New(ep, docker.WithRewrite(rewrite))
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	b := New(Options{RunEndpoint: runAddr, ArtifactRegistryEndpoint: arSrv.URL,
		TokenSource:    oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}),
		ImageInspector: eng.Inspect, Rewrite: rewrite, Auth: &docker.DockerConfigAuth{Dir: cfgDir}})
	defer b.Close()
	eng2, err := docker.New(ep, docker.WithAuth(cloud.AuthChain{b}), docker.WithRewrite(rewrite))
	if err != nil {
		t.Fatal(err)
	}
	defer eng2.Close()
	b.SetPusher(eng2)

	out := &lineSink{}
	target := mustAddr(t, "cloudrun:acme-web/europe-west1/api")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: local, Yes: true}, out)
	if err != nil {
		t.Fatalf("Deploy: %v\n%s", err, out.text())
	}
	wantRepo := "europe-west1-docker.pkg.dev/acme-web/fndeck/" + name + "@sha256:"
	if !strings.HasPrefix(res.NewImage, wantRepo) {
		t.Errorf("deployed image = %s, want %s<digest>", res.NewImage, wantRepo)
	}
	if len(ar.created) != 1 {
		t.Errorf("repositories created: %v", ar.created)
	}
	if !strings.Contains(out.text(), "pushing local image "+local) {
		t.Errorf("output does not say the image was pushed:\n%s", out.text())
	}
	if strings.Contains(out.text(), token) {
		t.Error("the access token appeared in the output")
	}
	ups := f.Updates()
	img := ups[len(ups)-1].GetService().GetTemplate().GetContainers()[0].GetImage()
	if img != res.NewImage {
		t.Errorf("UpdateService image = %s, want %s", img, res.NewImage)
	}
	// An image in a registry Cloud Run cannot pull from (here the engine
	// holds it under that name) is copied to Artifact Registry.
	other := "127.0.0.1:9/team/" + name + ":v2"
	cloudtest.Docker(t, "tag", local, other)
	t.Cleanup(func() {
		for _, ref := range []string{other, regAddr + "/acme-web/fndeck/" + name + ":v2", "europe-west1-docker.pkg.dev/acme-web/fndeck/" + name + ":v2"} {
			_ = exec.Command("docker", "rmi", ref).Run()
		}
	})
	res2, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: other}, out)
	if err != nil {
		t.Fatalf("Deploy of %s: %v", other, err)
	}
	if !strings.HasPrefix(res2.NewImage, wantRepo) || !strings.Contains(out.text(), "copying "+other) || !strings.Contains(out.text(), "cannot pull from 127.0.0.1:9") {
		t.Errorf("copy deploy = %s\n%s", res2.NewImage, out.text())
	}
	if len(ar.created) != 1 {
		t.Errorf("the existing repository was created again: %v", ar.created)
	}

	// The registry really holds it, under the digest deployed.
	digest := res.NewImage[strings.Index(res.NewImage, "@")+1:]
	req, _ := http.NewRequest(http.MethodHead, "http://"+regAddr+"/v2/acme-web/fndeck/"+name+"/manifests/"+digest, nil)
	req.SetBasicAuth("oauth2accesstoken", token)
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("registry HEAD manifest %s = %d", digest, resp.StatusCode)
	}

	// An image the engine does not hold, in a private registry Cloud Run
	// cannot pull from, is copied registry to registry: the linux/amd64
	// image out of its index, with the source's credentials from the docker
	// config and the destination's from the backend's token.
	idx := pushTestIndex(t, src, "team/"+name, "v3")
	out3 := &lineSink{}
	res3, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: idx.ref}, out3)
	if err != nil {
		t.Fatalf("Deploy of %s: %v\n%s", idx.ref, err, out3.text())
	}
	if want := "europe-west1-docker.pkg.dev/acme-web/fndeck/" + name + "@" + idx.amd64; res3.NewImage != want {
		t.Errorf("deployed %s, want the amd64 child %s\n%s", res3.NewImage, want, out3.text())
	}
	if strings.Contains(out3.text(), "pulling") || !strings.Contains(out3.text(), "copying its linux/amd64 image") {
		t.Errorf("the copy went through the engine, or did not pick the platform:\n%s", out3.text())
	}
	if _, err := eng.Inspect(ctx, idx.ref); err == nil {
		t.Errorf("the engine now holds %s: the copy pulled it", idx.ref)
	}
	req, _ = http.NewRequest(http.MethodHead, "http://"+regAddr+"/v2/acme-web/fndeck/"+name+"/manifests/"+idx.amd64, nil)
	req.SetBasicAuth("oauth2accesstoken", token)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("artifact registry HEAD manifest %s = %d", idx.amd64, resp.StatusCode)
	}
}

type testIndex struct{ ref, amd64 string }

// pushTestIndex pushes an OCI index (linux/amd64, linux/arm64) to reg.
func pushTestIndex(t *testing.T, reg *cloudtest.Registry, repo, tag string) testIndex {
	t.Helper()
	plat := func(arch string) v1.Image {
		img, err := random.Image(32<<10, 2)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", arch
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			t.Fatal(err)
		}
		return img
	}
	amd, arm := plat("amd64"), plat("arm64")
	ii := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	ref := reg.Addr + "/" + repo + ":" + tag
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, ii, remote.WithAuth(&authn.Basic{Username: reg.User, Password: reg.Password})); err != nil {
		t.Fatalf("pushing the test index: %v", err)
	}
	d, err := amd.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return testIndex{ref: ref, amd64: d.String()}
}
