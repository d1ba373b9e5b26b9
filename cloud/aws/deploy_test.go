package aws

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
)

// lines is a cloud.Sink that records lines.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (s *lines) Line(t string)           { s.mu.Lock(); s.l = append(s.l, t); s.mu.Unlock() }
func (s *lines) Progress(cloud.Progress) {}
func (s *lines) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.l, "\n")
}

func ecrRef(repoTag string) string { return acctA + ".dkr.ecr.us-east-1.amazonaws.com/" + repoTag }

func deployFake(t *testing.T) (*fakeAWS, *Backend) {
	f := newFakeAWS(t)
	f.accounts["AK1"] = acctA
	f.env(t, "AK1")
	f.settlePolls = 2 // the first waiter poll sees InProgress
	b := New(Options{Regions: []string{"us-east-1"}, WaitMinDelay: 10 * time.Millisecond, WaitMaxDelay: 50 * time.Millisecond})
	return f, b
}

func addr(s string) cloud.Address {
	a, err := cloud.ParseAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}

func TestDeployUpdatesImageWaitsAndRollsBack(t *testing.T) {
	f, b := deployFake(t)
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})
	out := &lines{}
	res, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: ecrRef("api:v2")}, out)
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, out)
	}
	// What served is recorded by digest (ResolvedImageUri: ImageUri held a tag).
	if res.OldImage != fakeResolved(ecrRef("api:v1")) || res.NewImage != ecrRef("api:v2") || res.Target != "lambda:us-east-1/api" ||
		res.ImageRef != ecrRef("api:v2") || res.ImageDigest != digestOf(fakeResolved(ecrRef("api:v2"))) {
		t.Errorf("result = %+v", res)
	}
	// Checked through the SDK afterwards: GetFunction's Code.ImageUri.
	got, err := b.Describe(testCtx(t), addr("lambda:us-east-1/api"))
	if err != nil {
		t.Fatal(err)
	}
	if got.ImageURI != ecrRef("api:v2") || got.LastUpdateStatus != "Successful" {
		t.Errorf("after deploy: %+v", got)
	}
	if n := f.count("GetFunction"); n < 3 {
		t.Errorf("GetFunction called %d times: the waiter did not poll past InProgress", n)
	}

	// Rollback to the entry before: serve its image again.
	prev := cloud.DeployResult{Target: res.Target, NewImage: res.OldImage}
	rb, err := b.Rollback(testCtx(t), addr("lambda:us-east-1/api"), prev, out)
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if rb.OldImage != fakeResolved(ecrRef("api:v2")) || rb.NewImage != res.OldImage {
		t.Errorf("rollback result = %+v", rb)
	}
	got, _ = b.Describe(testCtx(t), addr("lambda:us-east-1/api"))
	if got.ImageURI != res.OldImage {
		t.Errorf("after rollback image = %s", got.ImageURI)
	}
}

func TestDeployFailureShowsLastUpdateStatusReason(t *testing.T) {
	f, b := deployFake(t)
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})
	f.failUpdateWith[ecrRef("api:broken")] = "Lambda does not have permission to access the ECR image."
	_, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: ecrRef("api:broken")}, nil)
	if err == nil || !strings.Contains(err.Error(), "Lambda does not have permission to access the ECR image.") || !strings.Contains(err.Error(), "ImageAccessDenied") {
		t.Fatalf("err = %v", err)
	}
}

func TestDeployRefusesZipFunction(t *testing.T) {
	f, b := deployFake(t)
	f.add(&fakeFn{Name: "legacy", Account: acctA, Region: "us-east-1", PackageType: "Zip"})
	_, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: addr("lambda:us-east-1/legacy"), Image: ecrRef("api:v2")}, nil)
	if !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), "Zip function") {
		t.Fatalf("err = %v", err)
	}
	if n := f.count("UpdateFunctionCode"); n != 0 {
		t.Errorf("UpdateFunctionCode called %d times", n)
	}
}

func TestDeployMissingFunctionNeedsCreate(t *testing.T) {
	_, b := deployFake(t)
	_, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: addr("lambda:us-east-1/nope"), Image: ecrRef("api:v2")}, nil)
	if !errors.Is(err, cloud.ErrNotFound) || !strings.Contains(cloud.Hint(err), "--create") {
		t.Fatalf("err = %v hint %q", err, cloud.Hint(err))
	}
}

func TestDeployCreate(t *testing.T) {
	f, b := deployFake(t)
	req := cloud.DeployRequest{Target: addr("lambda:us-east-1/fresh"), Image: ecrRef("fresh:1"), Create: true, MemoryMB: 512, TimeoutS: 20, Arch: "arm64"}
	if _, err := b.Deploy(testCtx(t), req, nil); !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(cloud.Hint(err), "--role") {
		t.Fatalf("create without role: %v", err)
	}
	req.Role = "arn:aws:iam::" + acctA + ":role/lambda"
	res, err := b.Deploy(testCtx(t), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.NewImage != ecrRef("fresh:1") {
		t.Errorf("res = %+v", res)
	}
	fn := f.fn(acctA, "us-east-1", "fresh")
	if fn == nil || fn.Arch != "arm64" || fn.Memory != 512 || fn.Timeout != 20 || fn.State != "Active" {
		t.Errorf("created = %+v", fn)
	}
}

func TestDeployAliasPublishesVersionAndMovesAlias(t *testing.T) {
	f, b := deployFake(t)
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1"), Aliases: map[string]string{"live": "7"}, Version: 7})
	res, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: addr("lambda:us-east-1/api:live"), Image: ecrRef("api:v2")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Revision != "8" || res.OldRevision != "7" {
		t.Errorf("res = %+v", res)
	}
	if v := f.fn(acctA, "us-east-1", "api").Aliases["live"]; v != "8" {
		t.Errorf("alias points at %s", v)
	}
	// Rolling back to the deploy before moves the alias back.
	if _, err := b.Rollback(testCtx(t), addr("lambda:us-east-1/api:live"), cloud.DeployResult{Revision: "7", NewImage: ecrRef("api:v1")}, nil); err != nil {
		t.Fatal(err)
	}
	if v := f.fn(acctA, "us-east-1", "api").Aliases["live"]; v != "7" {
		t.Errorf("alias after rollback points at %s", v)
	}
	if _, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: addr("lambda:us-east-1/api:3"), Image: ecrRef("api:v2")}, nil); !errors.Is(err, cloud.ErrInvalid) {
		t.Errorf("deploy to a version: %v", err)
	}
}

// recPusher records pushes; it stands in for the engine pusher only where
// the test is about what the backend asks of it.
type recPusher struct {
	mu     sync.Mutex
	pushes []cloud.PushOptions
}

func (p *recPusher) Push(_ context.Context, o cloud.PushOptions, _ cloud.Sink) (cloud.PushResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pushes = append(p.pushes, o)
	return cloud.PushResult{Ref: o.To, Digest: "sha256:" + strings.Repeat("cd", 32)}, nil
}

func TestDeployLocalImagePushesToECRWithConfirmation(t *testing.T) {
	f, _ := deployFake(t)
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1"), Arch: "arm64"})
	pusher := &recPusher{}
	inspect := func(_ context.Context, ref string) (cloud.ImageDetail, error) {
		switch ref {
		case "thumbs:dev":
			return cloud.ImageDetail{Image: cloud.Image{Architecture: "arm64"}}, nil
		case "thumbs:amd":
			return cloud.ImageDetail{Image: cloud.Image{Architecture: "amd64"}}, nil
		}
		return cloud.ImageDetail{}, cloud.ErrNotFound
	}
	b := New(Options{Regions: []string{"us-east-1"}, Pusher: pusher, ImageInspector: inspect, WaitMinDelay: 10 * time.Millisecond, WaitMaxDelay: 50 * time.Millisecond})
	target := addr("lambda:us-east-1/api")

	_, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: target, Image: "thumbs:amd"}, nil)
	if !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), "x86_64") || !strings.Contains(err.Error(), "arm64") {
		t.Fatalf("arch mismatch: %v", err)
	}
	_, err = b.Deploy(testCtx(t), cloud.DeployRequest{Target: target, Image: "thumbs:dev"}, nil)
	if !errors.Is(err, cloud.ErrNeedsConfirmation) || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("without --yes: %v", err)
	}
	if len(pusher.pushes) != 0 || f.count("CreateRepository") != 0 {
		t.Fatalf("pushed or created without confirmation")
	}
	out := &lines{}
	res, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: target, Image: "thumbs:dev", Yes: true}, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(pusher.pushes) != 1 || pusher.pushes[0].To != ecrRef("thumbs:dev") || pusher.pushes[0].Ref != "thumbs:dev" {
		t.Fatalf("pushes = %+v", pusher.pushes)
	}
	want := acctA + ".dkr.ecr.us-east-1.amazonaws.com/thumbs@sha256:" + strings.Repeat("cd", 32)
	if res.NewImage != want || f.fn(acctA, "us-east-1", "api").ImageURI != want {
		t.Errorf("deployed %s, want %s", res.NewImage, want)
	}
	if !strings.Contains(out.String(), "pushing it to") {
		t.Errorf("output does not say it pushed:\n%s", out)
	}
	// A remote image is copied, which also creates a repository: --yes first.
	_, err = b.Deploy(testCtx(t), cloud.DeployRequest{Target: target, Image: "ghcr.io/acme/app:1"}, nil)
	if !errors.Is(err, cloud.ErrNeedsConfirmation) {
		t.Errorf("remote non-ECR image: %v", err)
	}
}

func TestECRAuthIsCachedAndScoped(t *testing.T) {
	f, b := deployFake(t)
	host := acctA + ".dkr.ecr.us-east-1.amazonaws.com"
	for range 2 {
		a, ok, err := b.AuthFor(testCtx(t), host)
		if err != nil || !ok {
			t.Fatalf("AuthFor: ok=%v err=%v", ok, err)
		}
		if a.Username != "AWS" || a.Password != "ecr-secret-"+acctA || a.Expires.IsZero() {
			t.Fatalf("auth = user %q, expires %v", a.Username, a.Expires)
		}
	}
	if n := f.count("GetAuthorizationToken"); n != 1 {
		t.Errorf("GetAuthorizationToken called %d times, want 1 (cached)", n)
	}
	if _, ok, _ := b.AuthFor(testCtx(t), "ghcr.io"); ok {
		t.Error("claimed ghcr.io")
	}
	if _, ok, err := b.AuthFor(testCtx(t), acctB+".dkr.ecr.us-east-1.amazonaws.com"); !ok || !errors.Is(err, cloud.ErrUnauthenticated) {
		t.Errorf("foreign account: ok=%v err=%v", ok, err)
	}
}

// TestECRAuthTriesEveryProfileOnTheAccount: a profile on the registry's
// account that cannot get a token hands the host on to the next profile on
// that account.
func TestECRAuthTriesEveryProfileOnTheAccount(t *testing.T) {
	f := newFakeAWS(t)
	f.accounts["AK1"], f.accounts["AK2"] = acctA, acctA
	f.ecrDenied = map[string]bool{"AK1": true}
	f.env(t, "unused")
	writeProfiles(t, map[string]string{"a-denied": "AK1", "b-allowed": "AK2"})
	b := New(Options{Profiles: []string{"all"}, Regions: []string{"us-east-1"}})
	a, ok, err := b.AuthFor(testCtx(t), acctA+".dkr.ecr.us-east-1.amazonaws.com")
	if err != nil || !ok || a.Password != "ecr-secret-"+acctA {
		t.Fatalf("AuthFor = ok %v, err %v; want the token through b-allowed", ok, err)
	}
	f.ecrDenied["AK2"] = true
	b = New(Options{Profiles: []string{"all"}, Regions: []string{"us-east-1"}})
	_, ok, err = b.AuthFor(testCtx(t), acctA+".dkr.ecr.us-east-1.amazonaws.com")
	if !ok || err == nil || !strings.Contains(err.Error(), "a-denied") || !strings.Contains(err.Error(), "b-allowed") {
		t.Fatalf("AuthFor with both profiles denied: ok %v, err %v; want both named", ok, err)
	}
}

func TestRepoAndTag(t *testing.T) {
	for _, c := range []struct{ in, repo, tag string }{
		{"thumbs:dev", "thumbs", "dev"},
		{"thumbs", "thumbs", "latest"},
		{"localhost:5000/team/App:1", "team/app", "1"},
		{"docker.io/library/alpine:3", "alpine", "3"},
		{"sha256:0123456789abcdef0123", "fndeck", "id-0123456789ab"},
	} {
		r, tg := repoAndTag(c.in)
		if r != c.repo || tg != c.tag {
			t.Errorf("repoAndTag(%q) = %q, %q; want %q, %q", c.in, r, tg, c.repo, c.tag)
		}
	}
}

func TestDeployWaitsForAnUpdateInProgress(t *testing.T) {
	f, b := deployFake(t)
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})
	fn := f.fn(acctA, "us-east-1", "api")
	f.mu.Lock()
	fn.UpdateStatus, fn.pendingPolls = "InProgress", 3
	f.mu.Unlock()
	out := &lines{}
	if _, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: ecrRef("api:v2")}, out); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if !strings.Contains(out.String(), "still being updated") || f.fn(acctA, "us-east-1", "api").ImageURI != ecrRef("api:v2") {
		t.Errorf("output:\n%s", out)
	}
}
