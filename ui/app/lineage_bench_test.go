package app

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/lineage"
	"github.com/fndeck/fndeck/internal/testsupport/fake"
)

func join(ctx context.Context, imgs []cloud.Image, fns []cloud.Function, _ bool) lineage.Result {
	return lineage.Annotate(ctx, nil, imgs, nil, nil, fns, nil)
}

func thousandFunctions() cloud.Lister {
	fns := make([]cloud.Function, 1000)
	for i := range fns {
		fns[i] = cloud.Function{Address: fmt.Sprintf("local:f%04d", i), Provider: cloud.Local, Name: fmt.Sprintf("f%04d", i),
			PackageType: "Image", ImageDigest: fmt.Sprintf("sha256:%064d", i%300)}
	}
	return &fake.Lister{Prov: cloud.Local, Results: []cloud.GroupResult{{Group: cloud.Group{Provider: cloud.Local, Scope: "docker"}, Functions: fns}}}
}

// BenchmarkStartToFirstFrameLineage: the first frame with 300 images and
// 1,000 functions listed, lineage off and on: it must not wait for lineage.
func BenchmarkStartToFirstFrameLineage(b *testing.B) {
	imgs := manyImages(300)
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("lineage=%v", on), func(b *testing.B) {
			opts := Options{Images: imgs, Listers: []cloud.Lister{thousandFunctions()}}
			if on {
				opts.Lineage = join
			}
			b.ReportAllocs()
			for b.Loop() {
				m := New(b.Context(), opts)
				_ = m.Init()
				m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
				if v := m.View().Content; !strings.Contains(v, "loading…") {
					b.Fatal("first frame lacks loading…")
				}
			}
		})
	}
}

// BenchmarkStartToImageNamesLineage: from New to a frame with the names of
// 300 images, 1,000 functions listed, lineage off and on.
func BenchmarkStartToImageNamesLineage(b *testing.B) {
	imgs := manyImages(300)
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("lineage=%v", on), func(b *testing.B) {
			opts := Options{Images: imgs, Listers: []cloud.Lister{thousandFunctions()}}
			if on {
				opts.Lineage = join
			}
			b.ReportAllocs()
			for b.Loop() {
				m := New(b.Context(), opts)
				m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
				runUntil(m, m.Init(), func() bool { return strings.Contains(m.View().Content, "service-000") })
			}
		})
	}
}
