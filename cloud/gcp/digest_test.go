package gcp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/iterator"

	"github.com/fndeck/fndeck/actions"
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/registry"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// useRegistry wires b's resolver as the cloud helper does: cloud/registry,
// registries.rewrite sending Artifact Registry's host to the distribution
// registry at addr.
func useRegistry(b *Backend, addr string) {
	rw := map[string]string{"europe-west1-docker.pkg.dev": addr}
	b.opts.Rewrite = rw
	b.opts.Resolver = registry.NewResolver(registry.New(registry.Options{Rewrite: rw}))
}

// pushManifest uploads a config blob with the given content and a schema 2
// manifest naming it under repo:tag to a distribution registry, and returns
// the manifest digest.
func pushManifest(t *testing.T, addr, repo, tag, configContent string) string {
	t.Helper()
	cfg := []byte(`{"architecture":"amd64","os":"linux","config":{"Env":["V=` + configContent + `"]},"rootfs":{"type":"layers","diff_ids":[]}}`)
	cd := digest(cfg)
	resp, err := http.Post("http://"+addr+"/v2/"+repo+"/blobs/uploads/", "", nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("starting a blob upload: %v %v", resp, err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	if !strings.HasPrefix(loc, "http") {
		loc = "http://" + addr + loc
	}
	put(t, loc+sep+"digest="+cd, "application/octet-stream", cfg)
	man := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":"%s"},"layers":[]}`, len(cfg), cd)
	put(t, "http://"+addr+"/v2/"+repo+"/manifests/"+tag, "application/vnd.docker.distribution.manifest.v2+json", []byte(man))
	return digest([]byte(man))
}

func put(t *testing.T, url, ctype string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", url, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT %s: %s %s", url, resp.Status, b)
	}
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// TestDeployByDigestMovedTagSameDigestAndUnpin is the Cloud Run
// story: api:latest deployed, latest moved in the registry, deployed again →
// a second revision carrying the new digest; the same digest again →
// nothing to deploy, no revision, success; after a rollback the same digest
// again → traffic back on the latest revision.
func TestDeployByDigestMovedTagSameDigestAndUnpin(t *testing.T) {
	reg := cloudtest.StartRegistry(t, false)
	ctx := context.Background()
	f, b, target := deployFixture(t)
	useRegistry(b, reg.Addr)
	ref := "europe-west1-docker.pkg.dev/acme-web/app/api:latest"
	d1 := pushManifest(t, reg.Addr, "acme-web/app/api", "latest", "one")

	r1, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: ref}, nil)
	if err != nil {
		t.Fatalf("first deploy: %v", err)
	}
	pinned1 := "europe-west1-docker.pkg.dev/acme-web/app/api@" + d1
	if r1.NewImage != pinned1 || r1.ImageDigest != d1 || r1.ImageRef != ref || r1.Revision != "api-00002-abc" || r1.NoOp {
		t.Fatalf("first deploy result = %+v, want %s in api-00002-abc", r1, pinned1)
	}
	_, revisions, _, err := b.runClients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := revisions.GetRevision(ctx, &runpb.GetRevisionRequest{Name: serviceName(target) + "/revisions/" + r1.Revision})
	if err != nil || rev.GetAnnotations()[AnnotationSource] != ref || rev.GetAnnotations()[AnnotationDigest] != d1 || rev.GetContainers()[0].GetImage() != pinned1 {
		t.Fatalf("revision %s = %v (%v), want source and digest annotations and the pinned image", r1.Revision, rev, err)
	}

	d2 := pushManifest(t, reg.Addr, "acme-web/app/api", "latest", "two")
	if d2 == d1 {
		t.Fatal("the moved tag has the old digest")
	}
	r2, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: ref}, nil)
	if err != nil {
		t.Fatalf("deploy of the moved tag: %v", err)
	}
	if r2.ImageDigest != d2 || r2.Revision != "api-00003-abc" || r2.NoOp || f.RevisionCount() != 3 {
		t.Fatalf("moved tag: result %+v, %d revisions; want a new revision with %s", r2, f.RevisionCount(), d2)
	}

	out := &lineSink{}
	updates := len(f.Updates())
	r3, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: ref}, out)
	if err != nil {
		t.Fatalf("deploy of the same digest: %v", err)
	}
	if !r3.NoOp || r3.Revision != "api-00003-abc" || f.RevisionCount() != 3 || len(f.Updates()) != updates {
		t.Fatalf("same digest: result %+v, %d revisions, %d updates; want a no-op", r3, f.RevisionCount(), len(f.Updates())-updates)
	}
	want := "already serving europe-west1-docker.pkg.dev/acme-web/app/api@" + d2 + " (revision api-00003-abc): nothing to deploy"
	if !strings.Contains(out.text(), want) || strings.Contains(out.text(), "waiting") {
		t.Errorf("output:\n%s\nwant %q and no wait", out.text(), want)
	}

	if _, err := b.Rollback(ctx, target, cloud.DeployResult{Revision: "api-00002-abc"}, nil); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	out = &lineSink{}
	r4, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: ref}, out)
	if err != nil {
		t.Fatalf("deploy after rollback: %v", err)
	}
	if r4.NoOp || r4.Revision != "api-00003-abc" || f.RevisionCount() != 3 {
		t.Errorf("deploy after rollback: %+v, %d revisions; want traffic back on api-00003-abc without a revision", r4, f.RevisionCount())
	}
	fn, _ := b.Describe(ctx, target)
	if len(fn.Traffic) != 1 || !fn.Traffic[0].Latest || fn.Traffic[0].Percent != 100 {
		t.Errorf("traffic after deploy = %+v, want LATEST 100%%", fn.Traffic)
	}
	if !strings.Contains(out.text(), "traffic was pinned") {
		t.Errorf("output does not say traffic was unpinned:\n%s", out.text())
	}
}

func TestDeploySameImageTwiceIsNothingToDeploy(t *testing.T) {
	f, b, target := deployFixture(t)
	ctx := context.Background()
	img := "gcr.io/acme-web/api@sha256:" + strings.Repeat("a", 64)
	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: img, Env: map[string]string{"A": "1"}}, nil); err != nil {
		t.Fatal(err)
	}
	out := &lineSink{}
	res, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: img, Env: map[string]string{"A": "1"}}, out)
	if err != nil || !res.NoOp || f.RevisionCount() != 2 || len(f.Updates()) != 1 {
		t.Fatalf("second deploy: %+v %v; %d revisions, %d updates", res, err, f.RevisionCount(), len(f.Updates()))
	}
	if !strings.Contains(out.text(), "nothing to deploy") {
		t.Errorf("output:\n%s", out.text())
	}
	// A changed setting is a change.
	res, err = b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: img, Env: map[string]string{"A": "2"}}, nil)
	if err != nil || res.NoOp || res.Revision != "api-00003-abc" {
		t.Errorf("deploy with another env = %+v %v, want a new revision", res, err)
	}
}

func TestRollbackToWhatServesIsRefused(t *testing.T) {
	f, b, target := deployFixture(t)
	ctx := context.Background()
	_, err := b.Rollback(ctx, target, cloud.DeployResult{Revision: "api-00001-abc"}, nil)
	if !errors.Is(err, cloud.ErrNothingToDo) || !strings.Contains(err.Error(), "already serves revision api-00001-abc") {
		t.Fatalf("rollback to the serving revision = %v, want ErrNothingToDo saying so", err)
	}
	if len(f.Updates()) != 0 {
		t.Errorf("a refused rollback sent %d updates", len(f.Updates()))
	}
}

func TestFakeTrafficNamesOnlyExistingRevisions(t *testing.T) {
	f, b, target := deployFixture(t)
	ctx := context.Background()
	_, err := b.Rollback(ctx, target, cloud.DeployResult{Revision: "api-00042-abc"}, nil)
	if !errors.Is(err, cloud.ErrNotFound) {
		t.Fatalf("rollback to a missing revision = %v", err)
	}
	for _, img := range []string{"gcr.io/acme-web/api:v2", "gcr.io/acme-web/api:v3"} {
		if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: img}, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, revisions, _, err := b.runClients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names, images []string
	it := revisions.ListRevisions(ctx, &runpb.ListRevisionsRequest{Parent: serviceName(target)})
	for {
		rev, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatalf("ListRevisions: %v", err)
		}
		names = append(names, lastSegment(rev.GetName()))
		images = append(images, rev.GetContainers()[0].GetImage())
	}
	// Three revisions over two pages (the fake's page size is 2), newest first.
	if strings.Join(names, ",") != "api-00003-abc,api-00002-abc,api-00001-abc" || images[0] != "gcr.io/acme-web/api:v3" {
		t.Errorf("ListRevisions = %v %v", names, images)
	}
	if f.RevisionCount() != 3 {
		t.Errorf("%d revisions", f.RevisionCount())
	}
}

// TestFlowsNoOpIsNotARollbackPoint runs the shared deploy/rollback flows over
// the fake: a no-op deploy records nothing, and a rollback onto what serves
// fails saying so.
func TestFlowsNoOpIsNotARollbackPoint(t *testing.T) {
	_, b, target := deployFixture(t)
	ctx := context.Background()
	dir := t.TempDir()
	fl := actions.Flows{StateDir: dir, History: actions.NewHistory(dir, nil)}
	img := "gcr.io/acme-web/api@sha256:" + strings.Repeat("c", 64)
	for range 2 {
		if _, err := fl.Deploy(ctx, b, cloud.DeployRequest{Target: target, Image: img}, cloud.DiscardSink{}); err != nil {
			t.Fatal(err)
		}
	}
	es, _, err := fl.History.Entries(ctx, target)
	if err != nil || len(es) != 1 {
		t.Fatalf("history after a deploy and a no-op: %d entries (%v)", len(es), err)
	}
	out := &lineSink{}
	if _, err := fl.Rollback(ctx, b, target, out); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if !strings.Contains(out.text(), "served "+img+" (revision api-00002-abc) before; it now serves") {
		t.Errorf("rollback output:\n%s", out.text())
	}
	// The same image again sends the traffic back to api-00002 (a rollback
	// had pinned it); rolling back onto the serving revision is refused.
	if _, err := fl.Deploy(ctx, b, cloud.DeployRequest{Target: target, Image: img}, cloud.DiscardSink{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Rollback(ctx, target, cloud.DeployResult{Revision: "api-00002-abc"}, nil); !errors.Is(err, cloud.ErrNothingToDo) {
		t.Errorf("rollback onto the serving revision = %v", err)
	}
}

// TestDeployIndexPinsAmd64AndRollbackChecksTheDigest: an index (amd64,
// arm64, an attestation) deploys as its linux/amd64 child, said so; an
// arm64-only index is refused before any update; a rollback to a revision
// whose digest is gone from the registry is refused, saying so.
func TestDeployIndexPinsAmd64AndRollbackChecksTheDigest(t *testing.T) {
	reg := cloudtest.StartRegistry(t, false)
	ctx := context.Background()
	f, b, target := deployFixture(t)
	useRegistry(b, reg.Addr)
	idx := cloudtest.PushIndex(t, reg.Addr, "acme-web/app/api", "multi", "linux/amd64", "linux/arm64")
	cloudtest.PushIndex(t, reg.Addr, "acme-web/app/api", "armonly", "linux/arm64")
	repo := "europe-west1-docker.pkg.dev/acme-web/app/api"

	out := &lineSink{}
	r1, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: repo + ":multi"}, out)
	amd := idx.Children["linux/amd64"]
	if err != nil || r1.NewImage != repo+"@"+amd || r1.ImageDigest != amd {
		t.Fatalf("deploying the index: %+v %v", r1, err)
	}
	for _, want := range []string{"is an image index (linux/amd64, linux/arm64): deploying its linux/amd64 image", "deploying " + repo + ":multi as " + amd} {
		if !strings.Contains(out.text(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.text())
		}
	}
	updates := len(f.Updates())
	_, err = b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: repo + ":armonly"}, nil)
	if !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), "no linux/amd64 image (it has linux/arm64)") || len(f.Updates()) != updates {
		t.Fatalf("arm64-only index: %v, %d updates", err, len(f.Updates())-updates)
	}

	cloudtest.PushImage(t, reg.Addr, "acme-web/app/api", "arm", "linux", "arm64")
	_, err = b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: repo + ":arm"}, nil)
	if !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), "is linux/arm64 but cloud run runs linux/amd64 only") || len(f.Updates()) != updates {
		t.Fatalf("single arm64 image: %v, %d updates", err, len(f.Updates())-updates)
	}

	d2 := pushManifest(t, reg.Addr, "acme-web/app/api", "two", "two")
	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: repo + ":two"}, nil); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodDelete, "http://"+reg.Addr+"/v2/acme-web/app/api/manifests/"+amd, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("deleting %s: %v %v", amd, resp, err)
	}
	resp.Body.Close()
	updates = len(f.Updates())
	_, err = b.Rollback(ctx, target, cloud.DeployResult{Revision: r1.Revision}, nil)
	if !errors.Is(err, cloud.ErrNotFound) || !strings.Contains(err.Error(), "is no longer in its registry") || len(f.Updates()) != updates {
		t.Fatalf("rollback to a deleted digest: %v, %d updates", err, len(f.Updates())-updates)
	}
	if fn, _ := b.Describe(ctx, target); fn.ImageURI != repo+"@"+d2 {
		t.Errorf("after the refused rollback the service runs %s", fn.ImageURI)
	}
}

// TestDeployTagOfAnUnreadableRegistryGoesAsGiven: a registry that refuses
// fndeck's (missing) credentials does not stop the deploy — Cloud Run's
// service agent pulls — but the output warns that the tag is not pinned; a
// tag the registry does not have stops it.
func TestDeployTagOfAnUnreadableRegistryGoesAsGiven(t *testing.T) {
	reg := cloudtest.StartRegistry(t, true)
	_, b, target := deployFixture(t)
	useRegistry(b, reg.Addr)
	ref := "europe-west1-docker.pkg.dev/acme-web/app/api:v9"
	out := &lineSink{}
	res, err := b.Deploy(context.Background(), cloud.DeployRequest{Target: target, Image: ref}, out)
	if err != nil || res.NewImage != ref || res.ImageDigest != "" || !strings.Contains(out.text(), "warning: could not resolve "+ref+" to a digest") {
		t.Fatalf("deploy through a refusing registry: %+v %v\n%s", res, err, out.text())
	}
	open := cloudtest.StartRegistry(t, false)
	useRegistry(b, open.Addr)
	if _, err := b.Deploy(context.Background(), cloud.DeployRequest{Target: target, Image: ref}, nil); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("deploy of a tag the registry lacks = %v, want ErrNotFound", err)
	}
}
