package lineage

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/registry"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

func d(c string) string { return "sha256:" + strings.Repeat(c, 64) }

func TestJoinMatchesRepoDigestsPushedDigestsAndImageIDs(t *testing.T) {
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	images := []cloud.Image{
		{ID: d("a"), RepoTags: []string{"app:1"}, RepoDigests: []string{"reg.example/app@" + d("1")}},
		{ID: d("b"), RepoTags: nil}, // untagged: named by its short ID
		{ID: d("c"), RepoTags: []string{"other:2"}},
	}
	pushed := map[string][]string{
		d("b"): {"123.dkr.ecr.us-east-1.amazonaws.com/x@" + d("2")},
		d("z"): {"gone/app@" + d("9")}, // pushed, then deleted locally
	}
	fns := []cloud.Function{
		{Address: "lambda:us-east-1/one", Provider: cloud.AWS, PackageType: "Image", ImageDigest: d("1"), LastModified: &since},
		{Address: "local:a", Provider: cloud.Local, PackageType: "Image", ImageDigest: d("a")},
		{Address: "lambda:us-east-1/two", Provider: cloud.AWS, PackageType: "Image", ImageDigest: d("2")},
		{Address: "lambda:us-east-1/three", Provider: cloud.AWS, PackageType: "Image", ImageDigest: d("9")},
		{Address: "lambda:us-east-1/zip", Provider: cloud.AWS, PackageType: "Zip"},
		{Address: "lambda:us-east-1/partial", Provider: cloud.AWS, PackageType: "Image", Partial: true},
		{Address: "lambda:us-east-1/failed", Provider: cloud.AWS, PackageType: "Image", Partial: true,
			Lineage: &cloud.Lineage{Status: cloud.LineageUnknown, Error: "describing failed: throttled"}},
	}
	res := Join(images, pushed, fns, nil)

	want := map[string]cloud.Lineage{
		"lambda:us-east-1/one":     {Status: cloud.LineageLocal, LocalImage: "app:1", LocalImageID: d("a")},
		"local:a":                  {Status: cloud.LineageLocal, LocalImage: "app:1", LocalImageID: d("a")},
		"lambda:us-east-1/two":     {Status: cloud.LineageLocal, LocalImage: strings.Repeat("b", 12), LocalImageID: d("b")},
		"lambda:us-east-1/three":   {Status: cloud.LineageNotLocal},
		"lambda:us-east-1/zip":     {Status: cloud.LineageUnknown, Error: "a Zip function runs no image"},
		"lambda:us-east-1/partial": {Status: cloud.LineageUnknown, Error: "not described yet"},
		"lambda:us-east-1/failed":  {Status: cloud.LineageUnknown, Error: "describing failed: throttled"},
	}
	for addr, w := range want {
		got := res.Functions[addr]
		if got == nil || *got != w {
			t.Errorf("%s: lineage %+v, want %+v", addr, got, w)
		}
	}
	live := res.Live[d("a")]
	if len(live) != 2 || live[0].Address != "lambda:us-east-1/one" || live[0].Since == nil || !live[0].Since.Equal(since) ||
		live[0].Digest != d("1") || live[1].Address != "local:a" || live[1].Digest != d("a") {
		t.Errorf("live of app:1 = %+v", live)
	}
	if l := res.Live[d("b")]; len(l) != 1 || l[0].Address != "lambda:us-east-1/two" {
		t.Errorf("live of the untagged image = %+v", l)
	}
	if l := res.Live[d("c")]; len(l) != 0 {
		t.Errorf("other:2 runs nowhere, live = %+v", l)
	}
}

func TestPushedRecordsPerImageID0600(t *testing.T) {
	dir := t.TempDir()
	p := NewPushed(dir)
	if got, err := p.Load(); err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v %v", got, err)
	}
	if err := p.Record(d("a"), "127.0.0.1:5000/app:1", d("1")); err != nil {
		t.Fatal(err)
	}
	if err := p.Record(d("a"), "127.0.0.1:5000/app:2", d("1")); err != nil { // same repo@digest once
		t.Fatal(err)
	}
	if err := p.Record(d("a"), "ecr.example/app@"+d("2"), d("2")); err != nil {
		t.Fatal(err)
	}
	got, err := NewPushed(dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	if w := []string{"127.0.0.1:5000/app@" + d("1"), "ecr.example/app@" + d("2")}; strings.Join(got[d("a")], ",") != strings.Join(w, ",") {
		t.Errorf("pushed[a] = %v, want %v", got[d("a")], w)
	}
	st, err := os.Stat(filepath.Join(dir, PushedFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("pushed file mode %v (%v), want 0600", st.Mode(), err)
	}
	// A damaged file loses only the old records.
	os.WriteFile(filepath.Join(dir, PushedFile), []byte("{not json"), 0o600)
	if _, err := p.Load(); err == nil || !strings.Contains(err.Error(), PushedFile) {
		t.Errorf("damaged file: err %v, want one naming the file", err)
	}
	if err := p.Record(d("b"), "r/app:1", d("3")); err != nil {
		t.Fatal(err)
	}
	if got, err := p.Load(); err != nil || len(got) != 1 || got[d("b")][0] != "r/app@"+d("3") {
		t.Errorf("after a damaged file: %v %v", got, err)
	}
}

// pushRandom writes a random image to ref in a real registry and returns
// its manifest digest.
func pushRandom(t *testing.T, ref string) string {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("writing %s: %v", ref, err)
	}
	dg, _ := img.Digest()
	return dg.String()
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestTagCheckerSeesAMovedTagAfterItsCacheExpires: a real registry; the
// function runs the first image pushed as app:1; app:1 then moves. Until
// the cache entry expires the tag is still the same; after, it has moved.
func TestTagCheckerSeesAMovedTagAfterItsCacheExpires(t *testing.T) {
	reg := cloudtest.StartRegistry(t, false)
	ref := reg.Addr + "/app:1"
	first := pushRandom(t, ref)
	clk := &clock{t: time.Unix(1000, 0)}
	tc := &TagChecker{Registry: registry.New(registry.Options{}), TTL: time.Minute, Now: clk.now}
	fns := []cloud.Function{{Address: "lambda:us-east-1/api", Provider: cloud.AWS, PackageType: "Image", ImageDigest: first, SourceRef: ref}}
	images := []cloud.Image{{ID: d("a"), RepoTags: []string{ref}, RepoDigests: []string{reg.Addr + "/app@" + first}}}
	ctx := context.Background()

	res := Annotate(ctx, tc, images, nil, nil, fns, nil)
	if l := fns[0].Lineage; l == nil || l.Status != cloud.LineageLocal || l.Tag != cloud.TagSame || l.TagMoved || l.TagDigest != first {
		t.Fatalf("before the move: %+v", l)
	}
	if len(res.Live[d("a")]) != 1 {
		t.Errorf("live = %+v", res.Live)
	}
	moved := pushRandom(t, ref)
	clk.add(30 * time.Second)
	Annotate(ctx, tc, images, nil, nil, fns, nil)
	if l := fns[0].Lineage; l.TagMoved {
		t.Errorf("within the TTL the cached answer holds, got %+v", l)
	}
	clk.add(31 * time.Second)
	Annotate(ctx, tc, images, nil, nil, fns, nil)
	if l := fns[0].Lineage; !l.TagMoved || l.Tag != cloud.TagMoved || l.TagDigest != moved {
		t.Errorf("after the TTL: %+v, want moved to %s", l, moved)
	}
}

// TestTagCheckerMarksRowsUnknownWhenTheRegistryFails: nothing listens at
// the registry's address; the row is unknown with the reason and the join
// itself stands.
func TestTagCheckerMarksRowsUnknownWhenTheRegistryFails(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(cloudtest.FreePort(t))
	tc := &TagChecker{Registry: registry.New(registry.Options{}), Timeout: 5 * time.Second}
	fns := []cloud.Function{{Address: "lambda:us-east-1/api", Provider: cloud.AWS, PackageType: "Image", ImageDigest: d("1"), SourceRef: addr + "/app:1"}}
	images := []cloud.Image{{ID: d("a"), RepoTags: []string{"app:1"}, RepoDigests: []string{addr + "/app@" + d("1")}}}
	Annotate(context.Background(), tc, images, nil, nil, fns, nil)
	l := fns[0].Lineage
	if l == nil || l.Status != cloud.LineageLocal || l.Tag != cloud.TagUnknown || l.TagMoved ||
		!strings.Contains(l.Error, "resolving "+addr+"/app:1") || !l.Unknown() {
		t.Errorf("lineage %+v, want local with the tag unknown and why", l)
	}
}

// TestLocalTagIsCheckedAgainstLocalImages: a local function deployed from
// app:1, and app:1 now tags another image.
func TestLocalTagIsCheckedAgainstLocalImages(t *testing.T) {
	images := []cloud.Image{
		{ID: d("a"), RepoTags: []string{"keep:1"}},
		{ID: d("b"), RepoTags: []string{"app:1"}},
	}
	fns := []cloud.Function{
		{Address: "local:a", Provider: cloud.Local, PackageType: "Image", ImageDigest: d("a"), SourceRef: "app:1"},
		{Address: "local:b", Provider: cloud.Local, PackageType: "Image", ImageDigest: d("b"), SourceRef: "app:1"},
	}
	Annotate(context.Background(), &TagChecker{}, images, nil, nil, fns, nil)
	if l := fns[0].Lineage; !l.TagMoved || l.LocalImage != "keep:1" {
		t.Errorf("local:a %+v, want tag moved", l)
	}
	if l := fns[1].Lineage; l.TagMoved || l.Tag != cloud.TagSame {
		t.Errorf("local:b %+v, want same", l)
	}
}

func TestImagesUnknownMarksEveryFunction(t *testing.T) {
	fns := []cloud.Function{{Address: "local:a", ImageDigest: d("a")}}
	Annotate(context.Background(), nil, nil, os.ErrPermission, nil, fns, nil)
	if l := fns[0].Lineage; l.Status != cloud.LineageUnknown || !strings.Contains(l.Error, "local images unknown") {
		t.Errorf("%+v", l)
	}
}
