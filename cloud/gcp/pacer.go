package gcp

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Cloud Logging allows 60 entries.list (ListLogEntries) requests per minute
// per project. The pacer's token bucket refills listRate per minute with a
// burst of listBurst: in any 60 s window it grants at most listBurst +
// listRate = 59 requests, just under the quota, so paging a long history
// never trips it on its own. Other readers of the same project (a second
// fndeck, gcloud) can still exhaust it: ResourceExhausted is retried with
// backoff from exhaustedBackoff up to exhaustedBackoffMax, exhaustedTries
// times in all.
const (
	listRate            = 54
	listBurst           = 5
	exhaustedBackoff    = 2 * time.Second
	exhaustedBackoffMax = time.Minute
	exhaustedTries      = 8
)

// clock is the time source of pacing and backoff; tests replace it with one
// whose Sleep advances time at once.
type clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pacer spaces one project's ListLogEntries calls to stay within quota.
// It is shared by every reader of the project in this process.
type pacer struct {
	clock clock
	mu    sync.Mutex
	lim   *rate.Limiter
}

func newPacer(c clock) *pacer {
	return &pacer{clock: c, lim: rate.NewLimiter(rate.Limit(float64(listRate)/60), listBurst)}
}

// wait blocks until the project may send one more request.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := p.clock.Now()
	r := p.lim.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	p.mu.Unlock()
	if delay <= 0 {
		return ctx.Err()
	}
	if err := p.clock.Sleep(ctx, delay); err != nil {
		p.mu.Lock()
		r.CancelAt(p.clock.Now())
		p.mu.Unlock()
		return err
	}
	return nil
}

// pacerFor returns the project's pacer, creating it on first use.
func (b *Backend) pacerFor(project string) *pacer {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pacers == nil {
		b.pacers = map[string]*pacer{}
	}
	p, ok := b.pacers[project]
	if !ok {
		p = newPacer(b.clock)
		b.pacers[project] = p
	}
	return p
}

// paced runs call, one ListLogEntries request of project, within the
// project's quota: it waits its turn, and retries ResourceExhausted with
// backoff. notify, when not nil, hears of each wait for the quota (once per
// backoff), so a reader can say why the history is slow.
func (b *Backend) paced(ctx context.Context, project string, notify func(wait time.Duration), call func() error) error {
	p := b.pacerFor(project)
	backoff := exhaustedBackoff
	for try := 1; ; try++ {
		if err := p.wait(ctx); err != nil {
			return err
		}
		err := call()
		if status.Code(err) != codes.ResourceExhausted || try == exhaustedTries || ctx.Err() != nil {
			return err
		}
		if notify != nil {
			notify(backoff)
		}
		if err := b.clock.Sleep(ctx, backoff); err != nil {
			return err
		}
		backoff = min(backoff*2, exhaustedBackoffMax)
	}
}
