package gcp

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/gcpfake"
)

// collect runs List and returns its results keyed by "scope/region".
func collect(t *testing.T, b *Backend, f cloud.ListFilter) map[string]cloud.GroupResult {
	t.Helper()
	var mu sync.Mutex
	got := map[string]cloud.GroupResult{}
	err := b.List(context.Background(), f, func(r cloud.GroupResult) {
		mu.Lock()
		defer mu.Unlock()
		key := r.Group.Scope + "/" + r.Group.Region
		if _, dup := got[key]; dup {
			t.Errorf("group %s emitted twice", key)
		}
		got[key] = r
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return got
}

func names(fns []cloud.Function) []string {
	var out []string
	for _, f := range fns {
		out = append(out, f.Name)
	}
	sort.Strings(out)
	return out
}

func TestListTwoProjectsThreeRegionsWithPaging(t *testing.T) {
	f := gcpfake.StartCloudRun(t)
	addr := f.Addr
	// Five services in one region: with the fake's page size of 2 that is three pages.
	for _, n := range []string{"api", "web", "worker", "thumbs", "auth"} {
		f.AddService("acme-web", "europe-west1", n, "europe-west1-docker.pkg.dev/acme-web/app/"+n+":v1", "https://"+n+"-x.a.run.app")
	}
	f.AddService("acme-web", "us-central1", "api", "gcr.io/acme-web/api:v1", "https://api-y.a.run.app")
	f.AddService("acme-data", "asia-east1", "etl", "docker.io/library/etl:1", "https://etl-z.a.run.app")
	f.AddService("acme-data", "europe-west1", "report", "europe-west1-docker.pkg.dev/acme-data/r/report:3", "https://report-z.a.run.app")
	f.SetProjectError("acme-locked", status.Error(codes.PermissionDenied, "Permission 'run.locations.list' denied on project acme-locked"))

	b := New(Options{Projects: []string{"acme-web", "acme-data", "acme-locked"}, RunEndpoint: addr})
	defer b.Close()
	got := collect(t, b, cloud.ListFilter{})

	want := map[string][]string{
		"acme-web/europe-west1":  {"api", "auth", "thumbs", "web", "worker"},
		"acme-web/us-central1":   {"api"},
		"acme-data/asia-east1":   {"etl"},
		"acme-data/europe-west1": {"report"},
	}
	for key, w := range want {
		r, ok := got[key]
		if !ok {
			t.Errorf("no group %s", key)
			continue
		}
		if r.Err != nil {
			t.Errorf("group %s: unexpected error %v", key, r.Err)
		}
		if g := names(r.Functions); strings.Join(g, ",") != strings.Join(w, ",") {
			t.Errorf("group %s: got %v, want %v", key, g, w)
		}
		if r.Group.Provider != cloud.GCP || r.Group.Scope != strings.Split(key, "/")[0] {
			t.Errorf("group %s: bad group %+v", key, r.Group)
		}
	}
	locked, ok := got["acme-locked/"]
	if !ok {
		t.Fatalf("the failing project emitted no result; got %v", keys(got))
	}
	if !errors.Is(locked.Err, cloud.ErrPermission) || !strings.Contains(locked.Err.Error(), "run.locations.list") {
		t.Errorf("failing project: err = %v, want ErrPermission with the API's message", locked.Err)
	}
	if !strings.Contains(locked.Hint, "roles/run.viewer") || !strings.Contains(locked.Hint, "acme-locked") {
		t.Errorf("failing project hint = %q", locked.Hint)
	}
	if len(got) != len(want)+1 {
		t.Errorf("got %d groups %v, want %d", len(got), keys(got), len(want)+1)
	}
	// Paging really happened: the 5-service region was asked three times.
	pages := 0
	for _, c := range f.ListCalls() {
		if strings.HasPrefix(c, "projects/acme-web/locations/europe-west1#") {
			pages++
		}
	}
	if pages != 3 {
		t.Errorf("europe-west1 of acme-web listed in %d pages, want 3", pages)
	}
}

func keys(m map[string]cloud.GroupResult) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestListColumns(t *testing.T) {
	f := gcpfake.StartCloudRun(t)
	addr := f.Addr
	f.AddService("acme-web", "europe-west1", "api", "europe-west1-docker.pkg.dev/acme-web/app/api:v1", "https://api-x.a.run.app")
	f.EditService(gcpfake.ServiceName("acme-web", "europe-west1", "api"), func(s *runpb.Service) {
		s.Template.Containers[0].Resources = &runpb.ResourceRequirements{Limits: map[string]string{"memory": "512Mi"}}
	})

	b := New(Options{Projects: []string{"acme-web"}, Regions: []string{"europe-west1"}, RunEndpoint: addr})
	defer b.Close()
	got := collect(t, b, cloud.ListFilter{})
	fns := got["acme-web/europe-west1"].Functions
	if len(fns) != 1 {
		t.Fatalf("got %d functions, want 1", len(fns))
	}
	fn := fns[0]
	if fn.Address != "cloudrun:acme-web/europe-west1/api" || fn.Project != "acme-web" || fn.Region != "europe-west1" {
		t.Errorf("identity: %+v", fn)
	}
	if fn.URL != "https://api-x.a.run.app" || fn.ImageURI != "europe-west1-docker.pkg.dev/acme-web/app/api:v1" || fn.MemoryMB != 512 {
		t.Errorf("url/image/memory: %q %q %d", fn.URL, fn.ImageURI, fn.MemoryMB)
	}
	if fn.LatestReadyRevision != "api-00001-abc" {
		t.Errorf("latest ready revision = %q", fn.LatestReadyRevision)
	}
	if len(fn.Traffic) != 1 || fn.Traffic[0].Percent != 100 || !fn.Traffic[0].Latest || fn.Traffic[0].Revision != "api-00001-abc" {
		t.Errorf("traffic = %+v", fn.Traffic)
	}
	if fn.Ready == nil || !*fn.Ready || fn.LastModified == nil {
		t.Errorf("ready = %v, last modified = %v", fn.Ready, fn.LastModified)
	}
	// Configured regions are used as they are: no Locations call.
	if n := f.LocationCalls(); n != 0 {
		t.Errorf("ListLocations called %d times with regions configured", n)
	}
}

func TestFakeRejectsWildcardLocation(t *testing.T) {
	addr := gcpfake.StartCloudRun(t).Addr
	b := New(Options{RunEndpoint: addr})
	defer b.Close()
	services, _, _, err := b.runClients(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = services.ListServices(context.Background(), &runpb.ListServicesRequest{Parent: "projects/acme-web/locations/-"}).Next()
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("ListServices on locations/- = %v, want InvalidArgument like the real API", err)
	}
}

func TestListErrorsCarryHints(t *testing.T) {
	f := gcpfake.StartCloudRun(t)
	addr := f.Addr
	disabled, err := status.New(codes.PermissionDenied, "Cloud Run Admin API has not been used in project acme-off before or it is disabled.").
		WithDetails(&errdetails.ErrorInfo{Reason: "SERVICE_DISABLED", Domain: "googleapis.com"})
	if err != nil {
		t.Fatal(err)
	}
	f.SetProjectError("acme-off", disabled.Err())
	f.SetProjectError("acme-anon", status.Error(codes.Unauthenticated, "Request had invalid authentication credentials."))
	f.AddRegion("acme-flaky", "europe-west1")
	f.AddRegion("acme-flaky", "us-east1")
	// Unavailable is retried by the client for 10 s; a quota error is not.
	f.SetRegionError("acme-flaky", "us-east1", status.Error(codes.ResourceExhausted, "Quota exceeded for quota metric 'Read requests'"))
	f.AddService("acme-flaky", "europe-west1", "ok", "gcr.io/acme-flaky/ok:1", "https://ok.a.run.app")

	b := New(Options{Projects: []string{"acme-off", "acme-anon", "acme-flaky"}, RunEndpoint: addr})
	defer b.Close()
	got := collect(t, b, cloud.ListFilter{})

	if r := got["acme-off/"]; !errors.Is(r.Err, cloud.ErrPermission) || r.Hint != "gcloud services enable run.googleapis.com --project acme-off" {
		t.Errorf("disabled API: err=%v hint=%q", r.Err, r.Hint)
	}
	if r := got["acme-anon/"]; !errors.Is(r.Err, cloud.ErrUnauthenticated) || r.Hint != hintLogin {
		t.Errorf("unauthenticated: err=%v hint=%q", r.Err, r.Hint)
	}
	if r := got["acme-flaky/us-east1"]; !errors.Is(r.Err, cloud.ErrThrottled) || !strings.Contains(r.Err.Error(), "Quota exceeded") {
		t.Errorf("throttled region: err=%v", r.Err)
	}
	if r := got["acme-flaky/europe-west1"]; r.Err != nil || len(r.Functions) != 1 {
		t.Errorf("healthy region next to a failing one: %+v", r)
	}
}

func TestListFilterNarrowsProjectsAndRegions(t *testing.T) {
	f := gcpfake.StartCloudRun(t)
	addr := f.Addr
	f.AddService("acme-web", "europe-west1", "api", "gcr.io/acme-web/api:1", "https://a")
	f.AddService("acme-web", "us-central1", "api", "gcr.io/acme-web/api:1", "https://b")
	f.AddService("acme-data", "europe-west1", "etl", "gcr.io/acme-data/etl:1", "https://c")
	b := New(Options{Projects: []string{"acme-web", "acme-data"}, RunEndpoint: addr})
	defer b.Close()
	got := collect(t, b, cloud.ListFilter{Projects: []string{"acme-web"}, Regions: []string{"us-central1"}})
	if len(got) != 1 || len(got["acme-web/us-central1"].Functions) != 1 {
		t.Errorf("filtered list = %v", keys(got))
	}
}

func TestNewTouchesNothing(t *testing.T) {
	// No endpoint reachable, no credentials: New must still succeed, and
	// only a call reports the problem.
	b := New(Options{})
	if b.services != nil || b.logs != nil || b.creds != nil {
		t.Fatal("New created clients or loaded credentials eagerly")
	}
}

func TestDescribe(t *testing.T) {
	f := gcpfake.StartCloudRun(t)
	addr := f.Addr
	f.AddService("acme-web", "europe-west1", "api", "gcr.io/acme-web/api:1", "https://api")
	b := New(Options{RunEndpoint: addr})
	defer b.Close()
	fn, err := b.Describe(context.Background(), mustAddr(t, "cloudrun:acme-web/europe-west1/api"))
	if err != nil || fn.ImageURI != "gcr.io/acme-web/api:1" {
		t.Fatalf("Describe = %+v, %v", fn, err)
	}
	_, err = b.Describe(context.Background(), mustAddr(t, "cloudrun:acme-web/europe-west1/nope"))
	if !errors.Is(err, cloud.ErrNotFound) {
		t.Fatalf("Describe of a missing service = %v, want ErrNotFound", err)
	}
}

func mustAddr(t testing.TB, s string) cloud.Address {
	t.Helper()
	a, err := cloud.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want error
	}{
		{status.Error(codes.Unavailable, "connection refused"), cloud.ErrUnreachable},
		{context.DeadlineExceeded, cloud.ErrUnreachable},
		{status.Error(codes.NotFound, "no such service"), cloud.ErrNotFound},
		{status.Error(codes.PermissionDenied, "denied"), cloud.ErrPermission},
		{status.Error(codes.Unauthenticated, "expired"), cloud.ErrUnauthenticated},
		{status.Error(codes.InvalidArgument, "bad"), cloud.ErrInvalid},
	}
	for _, c := range cases {
		got := classify(c.err, "doing x", "p", runAPI)
		if !errors.Is(got, c.want) || !strings.HasPrefix(got.Error(), "doing x: ") {
			t.Errorf("classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if classify(nil, "x", "p", runAPI) != nil {
		t.Error("classify(nil) is not nil")
	}
}

func TestDefaultProject(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("CLOUDSDK_CONFIG", t.TempDir())
	t.Setenv("CLOUDSDK_CORE_PROJECT", "")
	t.Setenv("GOOGLE_CLOUD_PROJECT", "")
	f := gcpfake.StartCloudRun(t)
	addr := f.Addr
	f.AddService("acme-env", "europe-west1", "api", "gcr.io/acme-env/api:1", "https://a")

	// Credentials without a project: the error says how to set one.
	b := New(Options{RunEndpoint: addr, CredentialsJSON: userCredentials("http://127.0.0.1:9/token")})
	err := b.List(context.Background(), cloud.ListFilter{}, func(cloud.GroupResult) { t.Error("emitted without a project") })
	if err == nil || !strings.Contains(err.Error(), "no gcp project") || cloud.Hint(err) == "" {
		t.Errorf("List without a project = %v (hint %q)", err, cloud.Hint(err))
	}
	b.Close()

	// No credentials at all (the ADC file named does not exist): ErrUnauthenticated with the login hint.
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", t.TempDir()+"/missing.json")
	b = New(Options{RunEndpoint: addr})
	err = b.List(context.Background(), cloud.ListFilter{}, func(cloud.GroupResult) {})
	if !errors.Is(err, cloud.ErrUnauthenticated) || cloud.Hint(err) != hintLogin {
		t.Errorf("List without credentials = %v (hint %q)", err, cloud.Hint(err))
	}
	b.Close()

	// GOOGLE_CLOUD_PROJECT names the project, and its groups say so.
	t.Setenv("GOOGLE_CLOUD_PROJECT", "acme-env")
	b = New(Options{RunEndpoint: addr})
	defer b.Close()
	got := collect(t, b, cloud.ListFilter{})
	if r := got["acme-env (GOOGLE_CLOUD_PROJECT)/europe-west1"]; r.Err != nil || len(r.Functions) != 1 {
		t.Errorf("GOOGLE_CLOUD_PROJECT listing = %v", keys(got))
	}
}
