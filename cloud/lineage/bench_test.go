package lineage

import (
	"fmt"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
)

// joinFixture is 300 local images (each with two repo digests, a third
// of them with a pushed digest too) and 1,000 functions: a third running
// a local image by repo digest, a third by pushed digest or image ID, a
// third running nothing local.
func joinFixture() ([]cloud.Image, map[string][]string, []cloud.Function) {
	hex := func(kind byte, i int) string { return fmt.Sprintf("sha256:%c%063x", kind, i) }
	images := make([]cloud.Image, 300)
	pushed := map[string][]string{}
	for i := range images {
		images[i] = cloud.Image{
			ID:       hex('a', i),
			RepoTags: []string{fmt.Sprintf("registry.example/team/app%d:v%d", i, i)},
			RepoDigests: []string{
				fmt.Sprintf("registry.example/team/app%d@%s", i, hex('b', i)),
				fmt.Sprintf("mirror.example/team/app%d@%s", i, hex('c', i)),
			},
		}
		if i%3 == 0 {
			pushed[images[i].ID] = []string{fmt.Sprintf("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app%d@%s", i, hex('d', i))}
		}
	}
	now := time.Now()
	fns := make([]cloud.Function, 1000)
	for i := range fns {
		fn := cloud.Function{Address: fmt.Sprintf("lambda:eu-west-1/fn-%04d", i), Provider: cloud.AWS, PackageType: "Image", LastModified: &now}
		switch i % 3 {
		case 0:
			fn.ImageDigest = hex('b', i%300)
		case 1:
			fn.ImageDigest = hex('d', (i%100)*3)
		default:
			fn.ImageDigest = hex('e', i)
		}
		fns[i] = fn
	}
	return images, pushed, fns
}

// BenchmarkJoin300Images1000Functions: the lineage join's budget is 5 ms
// (docs/benchmarks.md).
func BenchmarkJoin300Images1000Functions(b *testing.B) {
	images, pushed, fns := joinFixture()
	b.ReportAllocs()
	for b.Loop() {
		res := Join(images, pushed, fns, nil)
		if len(res.Functions) != 1000 {
			b.Fatal(len(res.Functions))
		}
	}
}

func TestJoinFixtureMatchesAsBuilt(t *testing.T) {
	images, pushed, fns := joinFixture()
	res := Join(images, pushed, fns, nil)
	local, notLocal := 0, 0
	for _, l := range res.Functions {
		switch l.Status {
		case cloud.LineageLocal:
			local++
		case cloud.LineageNotLocal:
			notLocal++
		}
	}
	if local != 667 || notLocal != 333 {
		t.Errorf("local %d, not local %d; want 667 and 333", local, notLocal)
	}
}
