package functions

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/fake"
)

// slowDescribe answers every Describe after 100 ms, as a remote
// GetFunction might.
type slowDescribe struct{ *fake.Lister }

func (s slowDescribe) Describe(ctx context.Context, a cloud.Address) (cloud.Function, error) {
	select {
	case <-time.After(100 * time.Millisecond):
	case <-ctx.Done():
		return cloud.Function{}, ctx.Err()
	}
	return s.Lister.Describe(ctx, a)
}

// BenchmarkFirstRows1000SlowDescribes: from Init to a frame showing the
// first function rows, with 1,000 partial Lambda rows whose describes take
// 100 ms each (visible ones, then the rest in the background): the rows
// must not wait for any describe.
func BenchmarkFirstRows1000SlowDescribes(b *testing.B) {
	fns := make([]cloud.Function, 1000)
	for i := range fns {
		fns[i] = cloud.Function{Address: fmt.Sprintf("lambda:us-east-1/fn-%04d", i), Provider: cloud.AWS, Name: fmt.Sprintf("fn-%04d", i), PackageType: "Image", Partial: true}
	}
	l := slowDescribe{&fake.Lister{Prov: cloud.AWS, Results: []cloud.GroupResult{{Group: cloud.Group{Provider: cloud.AWS, Scope: "dev (1)", Region: "us-east-1"}, Functions: fns}}}}
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithCancel(b.Context())
		p := New(Options{Ctx: ctx, Listers: []cloud.Lister{l}})
		p.SetSize(160, 40)
		queue := []tea.Cmd{p.Init()}
		for len(queue) > 0 && !strings.Contains(p.View(), "fn-0000") {
			c := queue[0]
			queue = queue[1:]
			if c == nil {
				continue
			}
			ch := make(chan tea.Msg, 1)
			go func() { ch <- c() }()
			var msg tea.Msg
			select {
			case msg = <-ch:
			case <-time.After(time.Second):
				continue // a hang guard: the list answers first, describes only follow it
			}
			if bm, ok := msg.(tea.BatchMsg); ok {
				queue = append(queue, bm...)
				continue
			}
			_, next := p.Update(msg)
			queue = append(queue, next)
		}
		if !strings.Contains(p.View(), "fn-0000") {
			b.Fatal("no rows")
		}
		cancel()
	}
}
