package aws

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/fndeck/fndeck/cloud"
)

const (
	acctA = "111111111111"
	acctB = "222222222222"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// collect runs List and gathers what it emits.
func collect(t *testing.T, b *Backend, f cloud.ListFilter) []cloud.GroupResult {
	t.Helper()
	var mu sync.Mutex
	var out []cloud.GroupResult
	if err := b.List(testCtx(t), f, func(g cloud.GroupResult) {
		mu.Lock()
		out = append(out, g)
		mu.Unlock()
	}); err != nil {
		t.Fatalf("List: %v", err)
	}
	slices.SortFunc(out, func(a, c cloud.GroupResult) int {
		return strings.Compare(a.Group.Scope+a.Group.Region, c.Group.Scope+c.Group.Region)
	})
	return out
}

// writeProfiles writes a shared credentials file with one profile per key.
func writeProfiles(t testing.TB, profiles map[string]string) {
	t.Helper()
	dir := t.TempDir()
	var cred, conf strings.Builder
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&cred, "[%s]\naws_access_key_id = %s\naws_secret_access_key = secret\n", n, profiles[n])
		fmt.Fprintf(&conf, "[profile %s]\nregion = us-east-1\n", n)
	}
	cf, kf := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	if err := os.WriteFile(cf, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kf, []byte(cred.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cf)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", kf)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
}

func TestNewDoesNoIO(t *testing.T) {
	f := newFakeAWS(t)
	f.accounts["AK1"] = acctA
	f.env(t, "AK1")
	b := New(Options{Profiles: []string{"all"}, Regions: []string{"all"}})
	if len(b.profiles) != 0 {
		t.Fatalf("New built profile state eagerly: %d", len(b.profiles))
	}
	if n := len(f.calls); n != 0 {
		t.Fatalf("New made %d calls", n)
	}
}

func TestListPagesAndEmitsPartialRows(t *testing.T) {
	f := newFakeAWS(t)
	f.accounts["AK1"] = acctA
	f.env(t, "AK1")
	for i := range 120 {
		f.add(&fakeFn{Name: fmt.Sprintf("fn-%03d", i), Account: acctA, Region: "us-east-1", ImageURI: acctA + ".dkr.ecr.us-east-1.amazonaws.com/app:v1"})
	}
	f.add(&fakeFn{Name: "zippy", Account: acctA, Region: "us-east-1", PackageType: "Zip"})

	b := New(Options{Regions: []string{"us-east-1"}})
	groups := collect(t, b, cloud.ListFilter{})
	if len(groups) != 1 {
		t.Fatalf("got %d groups, want 1: %+v", len(groups), groups)
	}
	g := groups[0]
	if g.Err != nil {
		t.Fatalf("group error: %v", g.Err)
	}
	if g.Group.Scope != "default ("+acctA+")" || g.Group.Region != "us-east-1" || g.Group.Provider != cloud.AWS {
		t.Errorf("group = %+v", g.Group)
	}
	if len(g.Functions) != 121 {
		t.Fatalf("got %d functions, want 121 (paging over 50)", len(g.Functions))
	}
	if n := f.count("ListFunctions"); n != 3 {
		t.Errorf("ListFunctions called %d times, want 3 pages", n)
	}
	if n := f.count("GetFunction"); n != 0 {
		t.Errorf("fast listing called GetFunction %d times", n)
	}
	for _, fn := range g.Functions {
		if !fn.Partial || fn.State != "" || fn.ImageURI != "" {
			t.Fatalf("row %s should be partial without state or image: %+v", fn.Name, fn)
		}
		if fn.Account != acctA || fn.Address != "lambda:us-east-1/"+fn.Name {
			t.Fatalf("row %s: account %q address %q", fn.Name, fn.Account, fn.Address)
		}
	}
	zip := g.Functions[slices.IndexFunc(g.Functions, func(f cloud.Function) bool { return f.Name == "zippy" })]
	if zip.PackageType != "Zip" {
		t.Errorf("zippy package type = %q", zip.PackageType)
	}

	// The UI describes visible rows.
	full, err := b.Describe(testCtx(t), cloud.Address{Provider: cloud.AWS, Region: "us-east-1", Function: "fn-007"})
	if err != nil {
		t.Fatal(err)
	}
	if full.Partial || full.State != "Active" || full.LastUpdateStatus != "Successful" || !strings.HasSuffix(full.ImageURI, "/app:v1") || full.ResolvedImageURI == "" {
		t.Errorf("described = %+v", full)
	}
}

func TestListDescribeAllFillsEveryRow(t *testing.T) {
	f := newFakeAWS(t)
	f.accounts["AK1"] = acctA
	f.env(t, "AK1")
	for i := range 60 {
		f.add(&fakeFn{Name: fmt.Sprintf("fn-%02d", i), Account: acctA, Region: "eu-west-1", ImageURI: fmt.Sprintf("%s.dkr.ecr.eu-west-1.amazonaws.com/app:%d", acctA, i), Arch: "arm64"})
	}
	b := New(Options{Regions: []string{"eu-west-1"}, DescribeAll: true})
	groups := collect(t, b, cloud.ListFilter{})
	if len(groups) != 1 || groups[0].Err != nil || len(groups[0].Functions) != 60 {
		t.Fatalf("groups = %+v", groups)
	}
	for i, fn := range groups[0].Functions {
		want := fmt.Sprintf("%s.dkr.ecr.eu-west-1.amazonaws.com/app:%d", acctA, i)
		if fn.Partial || fn.ImageURI != want || fn.State != "Active" || fn.Architecture != "arm64" {
			t.Fatalf("row %d = %+v, want image %s", i, fn, want)
		}
	}
	if n := f.count("GetFunction"); n != 60 {
		t.Errorf("GetFunction called %d times, want 60", n)
	}
}

func TestListProfilesOnOneAccountShowFunctionsOnce(t *testing.T) {
	f := newFakeAWS(t)
	f.accounts["AK1"], f.accounts["AK2"] = acctA, acctB
	f.env(t, "unused")
	writeProfiles(t, map[string]string{"dev": "AK1", "ops": "AK1", "prod": "AK2"})
	f.add(&fakeFn{Name: "a-fn", Account: acctA, Region: "us-east-1"})
	f.add(&fakeFn{Name: "b-fn", Account: acctB, Region: "us-east-1"})

	b := New(Options{Profiles: []string{"all"}, Regions: []string{"us-east-1"}})
	groups := collect(t, b, cloud.ListFilter{})
	if len(groups) != 2 {
		t.Fatalf("got %d groups, want 2: %+v", len(groups), groups)
	}
	if groups[0].Group.Scope != "dev, ops ("+acctA+")" || len(groups[0].Functions) != 1 || groups[0].Functions[0].Address != "lambda:dev@us-east-1/a-fn" {
		t.Errorf("group 0 = %+v", groups[0])
	}
	if groups[1].Group.Scope != "prod ("+acctB+")" || len(groups[1].Functions) != 1 || groups[1].Functions[0].Name != "b-fn" {
		t.Errorf("group 1 = %+v", groups[1])
	}
	if n := f.count("ListFunctions"); n != 2 {
		t.Errorf("ListFunctions called %d times, want 2 (one per account)", n)
	}
}

func TestListAllRegionsFromAccountAPI(t *testing.T) {
	f := newFakeAWS(t)
	f.accounts["AK1"] = acctA
	f.env(t, "AK1")
	f.regions = []string{"eu-north-1", "us-west-2"}
	f.add(&fakeFn{Name: "n", Account: acctA, Region: "eu-north-1"})
	b := New(Options{Regions: []string{"all"}})
	groups := collect(t, b, cloud.ListFilter{})
	var regions []string
	for _, g := range groups {
		regions = append(regions, g.Group.Region)
	}
	slices.Sort(regions)
	if !slices.Equal(regions, []string{"eu-north-1", "us-west-2"}) {
		t.Fatalf("regions = %v", regions)
	}
}

func TestListEachSourceFailsOnItsOwn(t *testing.T) {
	f := newFakeAWS(t)
	f.accounts["AK1"] = acctA
	f.env(t, "unused")
	writeProfiles(t, map[string]string{"good": "AK1", "stale": "AKSTALE"})
	f.add(&fakeFn{Name: "ok-east", Account: acctA, Region: "us-east-1"})
	f.add(&fakeFn{Name: "ok-west", Account: acctA, Region: "us-west-2"})
	f.throttle["us-west-2/ListFunctions"] = -1 // throttled beyond the retryer
	f.throttle["eu-west-1/ListFunctions"] = 1  // one throttle: the retryer absorbs it
	f.add(&fakeFn{Name: "ok-eu", Account: acctA, Region: "eu-west-1"})

	b := New(Options{Profiles: []string{"good", "stale"}, Regions: []string{"us-east-1", "us-west-2", "eu-west-1"}})
	groups := collect(t, b, cloud.ListFilter{})
	byKey := map[string]cloud.GroupResult{}
	for _, g := range groups {
		byKey[g.Group.Scope+"|"+g.Group.Region] = g
	}
	if g := byKey["good ("+acctA+")|us-east-1"]; g.Err != nil || len(g.Functions) != 1 {
		t.Errorf("us-east-1 = %+v", g)
	}
	if g := byKey["good ("+acctA+")|eu-west-1"]; g.Err != nil || len(g.Functions) != 1 {
		t.Errorf("eu-west-1 after one throttle = %+v", g)
	}
	west := byKey["good ("+acctA+")|us-west-2"]
	if !errors.Is(west.Err, cloud.ErrThrottled) || west.Hint == "" {
		t.Errorf("us-west-2 should be throttled with a hint: %+v", west)
	}
	for _, r := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
		g, ok := byKey["stale|"+r]
		if !ok || !errors.Is(g.Err, cloud.ErrUnauthenticated) || !strings.Contains(g.Hint, "--profile stale") {
			t.Errorf("stale %s = %+v (ok=%v)", r, g, ok)
		}
	}
}

func TestListAccessDeniedAndUnreachable(t *testing.T) {
	err := classify(fmt.Errorf("x: %w", &apiErr{code: "AccessDeniedException"}), "p")
	if !errors.Is(err, cloud.ErrPermission) {
		t.Errorf("AccessDenied → %v", err)
	}
	err = classify(errors.New("operation error SSO: GetRoleCredentials, the SSO session has expired or is invalid: token expired"), "corp")
	if !errors.Is(err, cloud.ErrUnauthenticated) || cloud.Hint(err) != "aws sso login --profile corp" {
		t.Errorf("expired SSO → %v hint %q", err, cloud.Hint(err))
	}

	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AK")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	b := New(Options{Regions: []string{"us-east-1"}})
	groups := collect(t, b, cloud.ListFilter{})
	if len(groups) != 1 || !errors.Is(groups[0].Err, cloud.ErrUnreachable) {
		t.Fatalf("unreachable endpoint → %+v", groups)
	}
}

type apiErr struct{ code string }

func (e *apiErr) Error() string                 { return e.code }
func (e *apiErr) ErrorCode() string             { return e.code }
func (e *apiErr) ErrorMessage() string          { return e.code }
func (e *apiErr) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }

func TestListSlowProfileDoesNotHoldBackOthers(t *testing.T) {
	f := newFakeAWS(t)
	f.accounts["AK1"], f.accounts["AKSLOW"] = acctA, acctB
	f.slowKeys = map[string]time.Duration{"AKSLOW": 3 * time.Second}
	f.env(t, "unused")
	writeProfiles(t, map[string]string{"fast": "AK1", "slow": "AKSLOW"})
	f.add(&fakeFn{Name: "quick", Account: acctA, Region: "us-east-1"})
	b := New(Options{Profiles: []string{"slow", "fast"}, Regions: []string{"us-east-1"}})
	var mu sync.Mutex
	var order []string
	if err := b.List(testCtx(t), cloud.ListFilter{}, func(g cloud.GroupResult) {
		mu.Lock()
		order = append(order, g.Group.Scope)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if len(order) != 2 || order[0] != "fast ("+acctA+")" {
		t.Errorf("emit order = %q: the fast profile should not wait for the slow one", order)
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		code string
		want error
	}{
		{"AccessDeniedException", cloud.ErrPermission},
		{"AccessDenied", cloud.ErrPermission},
		{"ThrottlingException", cloud.ErrThrottled},
		{"TooManyRequestsException", cloud.ErrThrottled},
		{"ExpiredTokenException", cloud.ErrUnauthenticated},
		{"UnrecognizedClientException", cloud.ErrUnauthenticated},
		{"ResourceNotFoundException", cloud.ErrNotFound},
		{"ResourceConflictException", cloud.ErrConflict},
		{"InvalidParameterValueException", cloud.ErrInvalid},
	} {
		err := classify(fmt.Errorf("op: %w", &apiErr{code: c.code}), "prod")
		if !errors.Is(err, c.want) {
			t.Errorf("%s → %v, want %v", c.code, err, c.want)
		}
		if !strings.Contains(err.Error(), c.code) {
			t.Errorf("%s: message lost: %v", c.code, err)
		}
	}
	if err := classify(context.Canceled, "p"); err != context.Canceled {
		t.Errorf("canceled → %v", err)
	}
}

func TestListProfileWithoutRegion(t *testing.T) {
	f := newFakeAWS(t)
	f.accounts["AK1"] = acctA
	f.env(t, "AK1")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	groups := collect(t, New(Options{}), cloud.ListFilter{})
	if len(groups) != 1 || !errors.Is(groups[0].Err, cloud.ErrInvalid) || !strings.Contains(groups[0].Hint, "aws.regions") {
		t.Errorf("groups = %+v", groups)
	}
}

func TestListAllRegionsFailingProfileIsOneGroup(t *testing.T) {
	f := newFakeAWS(t)
	f.env(t, "AKUNKNOWN")
	groups := collect(t, New(Options{Regions: []string{"all"}}), cloud.ListFilter{})
	if len(groups) != 1 || groups[0].Group.Region != "" || !errors.Is(groups[0].Err, cloud.ErrUnauthenticated) {
		t.Errorf("groups = %+v", groups)
	}
}

func TestDescribeAllStaysWithinTheRateAndConcurrencyBounds(t *testing.T) {
	f := newFakeAWS(t)
	f.accounts["AK1"] = acctA
	f.env(t, "AK1")
	for i := range 150 {
		f.add(&fakeFn{Name: fmt.Sprintf("fn-%03d", i), Account: acctA, Region: "us-east-1", ImageURI: ecrRef("a:1")})
	}
	f.delay = 5 * time.Millisecond
	b := New(Options{Regions: []string{"us-east-1"}, DescribeAll: true, Concurrency: 8})
	groups := collect(t, b, cloud.ListFilter{})
	if len(groups) != 1 || groups[0].Err != nil || len(groups[0].Functions) != 150 {
		t.Fatalf("groups = %+v", groups)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.maxInFlight > 8 {
		t.Errorf("%d calls in flight, bound is 8", f.maxInFlight)
	}
	// GetFunction is limited to 100/s per account and region (burst 20): 150
	// calls cannot arrive in less than 1.3 s. Slowness only helps this hold.
	if len(f.getTimes) != 150 {
		t.Fatalf("GetFunction calls = %d", len(f.getTimes))
	}
	if span := f.getTimes[149].Sub(f.getTimes[0]); span < 1200*time.Millisecond {
		t.Errorf("150 GetFunction calls arrived within %v: faster than 100/s", span)
	}
}
