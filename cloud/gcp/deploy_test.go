package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/gcpfake"
)

// lineSink records output lines.
type lineSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *lineSink) Line(text string)        { s.mu.Lock(); s.lines = append(s.lines, text); s.mu.Unlock() }
func (s *lineSink) Progress(cloud.Progress) {}
func (s *lineSink) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

const apiName = "projects/acme-web/locations/europe-west1/services/api"

func deployFixture(t *testing.T) (*gcpfake.CloudRun, *Backend, cloud.Address) {
	f := gcpfake.StartCloudRun(t)
	addr := f.Addr
	f.AddService("acme-web", "europe-west1", "api", "europe-west1-docker.pkg.dev/acme-web/app/api:v1", "https://api-x.a.run.app")
	b := New(Options{RunEndpoint: addr})
	t.Cleanup(func() { b.Close() })
	return f, b, mustAddr(t, "cloudrun:acme-web/europe-west1/api")
}

func TestDeployUpdatesImageAndWaits(t *testing.T) {
	f, b, target := deployFixture(t)
	img := "europe-west1-docker.pkg.dev/acme-web/app/api:v2"
	out := &lineSink{}
	res, err := b.Deploy(context.Background(), cloud.DeployRequest{Target: target, Image: img}, out)
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	if ups := f.Updates(); len(ups) != 1 || ups[0].GetService().GetTemplate().GetContainers()[0].GetImage() != img {
		t.Errorf("UpdateService requests = %v, want one with image %s", ups, img)
	}
	want := cloud.DeployResult{Target: target.String(), OldImage: "europe-west1-docker.pkg.dev/acme-web/app/api:v1",
		NewImage: img, ImageRef: img, Revision: "api-00002-abc", OldRevision: "api-00001-abc"}
	if res.Settings == nil || res.OldSettings == nil {
		t.Errorf("result carries no settings: %+v", res)
	}
	res.Settings, res.OldSettings = nil, nil
	if res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	fn, err := b.Describe(context.Background(), target)
	if err != nil || fn.ImageURI != img || fn.LatestReadyRevision != "api-00002-abc" {
		t.Errorf("after deploy: %+v %v", fn, err)
	}
	if !strings.Contains(out.text(), "api-00002-abc is ready") {
		t.Errorf("output does not say the revision is ready:\n%s", out.text())
	}
}

func TestDeployFailingRevisionReturnsConditionMessage(t *testing.T) {
	f, b, target := deployFixture(t)
	_, err := b.Deploy(context.Background(), cloud.DeployRequest{Target: target, Image: "gcr.io/acme-web/api:crash"}, nil)
	if err == nil {
		t.Fatal("Deploy of a crashing image succeeded")
	}
	if !strings.Contains(err.Error(), "failed to start and listen on the port") || !strings.Contains(err.Error(), "api-00002-abc") {
		t.Errorf("error does not carry the condition message and revision: %v", err)
	}
	ready := f.Service(apiName).GetLatestReadyRevision()
	if lastSegment(ready) != "api-00001-abc" {
		t.Errorf("latest ready revision = %s, want the old one still serving", ready)
	}
}

func TestRollbackThenDeploySendsTrafficToLatest(t *testing.T) {
	f, b, target := deployFixture(t)
	ctx := context.Background()
	first, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: "gcr.io/acme-web/api:v2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// History entry to return to: the deploy before first, whose revision is api-00001.
	back, err := b.Rollback(ctx, target, cloud.DeployResult{Target: target.String(), Revision: first.OldRevision}, nil)
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if back.Revision != "api-00001-abc" || back.OldRevision != "api-00002-abc" || back.NewImage != "europe-west1-docker.pkg.dev/acme-web/app/api:v1" {
		t.Errorf("rollback result = %+v", back)
	}
	fn, _ := b.Describe(ctx, target)
	if len(fn.Traffic) != 1 || fn.Traffic[0].Revision != "api-00001-abc" || fn.Traffic[0].Percent != 100 || fn.Traffic[0].Latest {
		t.Fatalf("traffic after rollback = %+v, want 100%% pinned to api-00001-abc", fn.Traffic)
	}
	revs := f.RevisionCount()
	if revs != 2 {
		t.Errorf("rollback created a revision: %d revisions, want 2", revs)
	}

	out := &lineSink{}
	third, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: "gcr.io/acme-web/api:v3"}, out)
	if err != nil {
		t.Fatal(err)
	}
	if third.Revision != "api-00003-abc" || third.OldRevision != "api-00001-abc" {
		t.Errorf("deploy after rollback = %+v", third)
	}
	fn, _ = b.Describe(ctx, target)
	if len(fn.Traffic) != 1 || !fn.Traffic[0].Latest || fn.Traffic[0].Percent != 100 || fn.Traffic[0].Revision != "api-00003-abc" {
		t.Errorf("traffic after deploy = %+v, want LATEST 100%% (api-00003-abc)", fn.Traffic)
	}
	if !strings.Contains(out.text(), "traffic was pinned") {
		t.Errorf("deploy did not say it unpinned traffic:\n%s", out.text())
	}
}

func TestRollbackToFailedRevisionRefused(t *testing.T) {
	_, b, target := deployFixture(t)
	ctx := context.Background()
	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: "gcr.io/acme-web/api:crash"}, nil); err == nil {
		t.Fatal("crash deploy succeeded")
	}
	_, err := b.Rollback(ctx, target, cloud.DeployResult{Revision: "api-00002-abc"}, nil)
	if err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Errorf("rollback to a failed revision = %v", err)
	}
	_, err = b.Rollback(ctx, target, cloud.DeployResult{Revision: "api-00009-zzz"}, nil)
	if !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("rollback to a missing revision = %v, want ErrNotFound", err)
	}
	_, err = b.Rollback(ctx, target, cloud.DeployResult{}, nil)
	if !errors.Is(err, cloud.ErrInvalid) {
		t.Errorf("rollback without revision = %v, want ErrInvalid", err)
	}
}

func TestDeployCreate(t *testing.T) {
	f, b, _ := deployFixture(t)
	target := mustAddr(t, "cloudrun:acme-web/europe-west1/newsvc")
	_, err := b.Deploy(context.Background(), cloud.DeployRequest{Target: target, Image: "gcr.io/acme-web/new:1"}, nil)
	if !errors.Is(err, cloud.ErrNotFound) || !strings.Contains(cloud.Hint(err), "--create") {
		t.Fatalf("deploy to a missing service without --create = %v (hint %q)", err, cloud.Hint(err))
	}
	res, err := b.Deploy(context.Background(), cloud.DeployRequest{Target: target, Image: "gcr.io/acme-web/new:1", Create: true,
		Port: 9000, MemoryMB: 512, Env: map[string]string{"MODE": "prod"}}, nil)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if !res.Created || res.Revision != "newsvc-00001-abc" {
		t.Errorf("create result = %+v", res)
	}
	creates := f.Creates()
	if len(creates) != 1 {
		t.Fatalf("%d CreateService calls", len(creates))
	}
	c := creates[0].GetService().GetTemplate().GetContainers()[0]
	if creates[0].GetServiceId() != "newsvc" || c.GetImage() != "gcr.io/acme-web/new:1" || c.GetPorts()[0].GetContainerPort() != 9000 ||
		c.GetResources().GetLimits()["memory"] != "512Mi" || c.GetEnv()[0].GetName() != "MODE" || c.GetEnv()[0].GetValue() != "prod" {
		t.Errorf("create request = %v", creates[0])
	}
}

// refusingPusher fails the test if anything is pushed.
type refusingPusher struct{ t *testing.T }

func (p refusingPusher) Push(context.Context, cloud.PushOptions, cloud.Sink) (cloud.PushResult, error) {
	p.t.Error("pushed although the repository could not be created")
	return cloud.PushResult{}, errors.New("unexpected push")
}

// fakeArtifactRegistry is the REST surface of Artifact Registry fndeck uses.
type fakeArtifactRegistry struct {
	mu      sync.Mutex
	repos   map[string]bool
	created []string
	polls   int
}

func (a *fakeArtifactRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.Header.Get("Authorization") != "" {
		http.Error(w, `{"error":{"message":"loopback calls carry no credentials"}}`, http.StatusBadRequest)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(path, "operations/"):
		a.polls++
		_ = json.NewEncoder(w).Encode(map[string]any{"name": path, "done": a.polls >= 1})
	case r.Method == http.MethodGet:
		if !a.repos[path] {
			http.Error(w, `{"error":{"code":404,"message":"Requested entity was not found."}}`, http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(`{"name":"` + path + `","format":"DOCKER"}`))
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/repositories"):
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body["format"] != "DOCKER" {
			http.Error(w, `{"error":{"message":"bad body"}}`, http.StatusBadRequest)
			return
		}
		name := path + "/" + r.URL.Query().Get("repositoryId")
		a.repos[name] = true
		a.created = append(a.created, name)
		_, _ = w.Write([]byte(`{"name":"operations/op-1","done":false}`))
	default:
		http.NotFound(w, r)
	}
}

func TestDeployLocalImageNeedsConfirmationForRepository(t *testing.T) {
	addr := gcpfake.StartCloudRun(t).Addr
	ar := &fakeArtifactRegistry{repos: map[string]bool{}}
	srv := httptest.NewServer(ar)
	defer srv.Close()
	b := New(Options{RunEndpoint: addr, ArtifactRegistryEndpoint: srv.URL, Pusher: refusingPusher{t}})
	defer b.Close()
	target := mustAddr(t, "cloudrun:acme-web/europe-west1/api")
	_, err := b.Deploy(context.Background(), cloud.DeployRequest{Target: target, Image: "myapp:dev", Create: true}, nil)
	if !errors.Is(err, cloud.ErrNeedsConfirmation) || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("deploy of a local image without --yes = %v, want ErrNeedsConfirmation naming --yes", err)
	}
	if len(ar.created) != 0 {
		t.Errorf("repository created without --yes: %v", ar.created)
	}

	out := &lineSink{}
	if err := b.ensureRepository(context.Background(), "acme-web", "europe-west1", true, out); err != nil {
		t.Fatalf("ensureRepository with yes: %v", err)
	}
	if len(ar.created) != 1 || ar.created[0] != "projects/acme-web/locations/europe-west1/repositories/fndeck" || ar.polls == 0 {
		t.Errorf("created %v after %d polls", ar.created, ar.polls)
	}
	// Existing now: a second call creates nothing.
	if err := b.ensureRepository(context.Background(), "acme-web", "europe-west1", false, out); err != nil || len(ar.created) != 1 {
		t.Errorf("second ensureRepository: %v, created %v", err, ar.created)
	}
}

func TestImageRouting(t *testing.T) {
	target := cloud.Address{Provider: cloud.GCP, Project: "acme-web", Region: "europe-west1", Function: "api"}
	for ref, canPull := range map[string]bool{
		"europe-west1-docker.pkg.dev/p/r/i:1": true, "gcr.io/p/i": true, "eu.gcr.io/p/i@sha256:abc": true,
		"docker.io/library/nginx:1": true, "myapp:dev": false, "localhost:5000/app:1": false, "ghcr.io/o/app:1": false,
	} {
		host, _ := splitRef(ref)
		if got := host != "" && cloudRunCanPull(host); got != canPull {
			t.Errorf("%s: cloud run can pull = %v, want %v", ref, got, canPull)
		}
	}
	if got := artifactTarget(target, "localhost:5000/team/app:1.2"); got != "europe-west1-docker.pkg.dev/acme-web/fndeck/app:1.2" {
		t.Errorf("artifactTarget = %s", got)
	}
	if got := artifactTarget(target, "myapp"); got != "europe-west1-docker.pkg.dev/acme-web/fndeck/myapp:latest" {
		t.Errorf("artifactTarget = %s", got)
	}
}

func TestAuthFor(t *testing.T) {
	b := New(Options{TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ya29.secret"})})
	for host, mine := range map[string]bool{
		"europe-west1-docker.pkg.dev": true, "gcr.io": true, "eu.gcr.io": true,
		"docker.io": false, "123.dkr.ecr.eu-west-1.amazonaws.com": false, "localhost:5000": false,
	} {
		a, ok, err := b.AuthFor(context.Background(), host)
		if err != nil || ok != mine {
			t.Errorf("%s: ok=%v err=%v, want ok=%v", host, ok, err, mine)
			continue
		}
		if mine && (a.Username != "oauth2accesstoken" || a.Password != "ya29.secret" || a.ServerAddress != host) {
			t.Errorf("%s: auth = user %q server %q", host, a.Username, a.ServerAddress)
		}
	}
}

func TestDeployWaitsForPendingOperation(t *testing.T) {
	f, b, target := deployFixture(t)
	f.SetPendingPolls(2)
	res, err := b.Deploy(context.Background(), cloud.DeployRequest{Target: target, Image: "gcr.io/acme-web/api:v2"}, nil)
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	polls := f.Polls()
	if polls < 2 || res.Revision != "api-00002-abc" {
		t.Errorf("polls = %d, result %+v: Deploy did not wait for the operation", polls, res)
	}
}

func TestDeployFailedOperationCarriesMessage(t *testing.T) {
	f, b, target := deployFixture(t)
	f.SetPendingPolls(1)
	f.SetOperationErrors(true)
	_, err := b.Deploy(context.Background(), cloud.DeployRequest{Target: target, Image: "gcr.io/acme-web/api:crash"}, nil)
	if err == nil || !strings.Contains(err.Error(), "failed to start and listen on the port") || !strings.Contains(err.Error(), "api-00002-abc") {
		t.Fatalf("Deploy = %v, want the operation's error message", err)
	}
}
