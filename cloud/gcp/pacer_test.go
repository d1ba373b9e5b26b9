package gcp

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeClock's Sleep advances its time at once, so pacing over minutes
// takes no real time.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.t = c.t.Add(d)
		c.slept += d
	}
	return nil
}

func (c *fakeClock) total() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}

// The pacer never grants more than 60 requests in any 60 s window (the
// Cloud Logging quota), and grants them at close to that rate.
func TestPacerStaysWithinSixtyPerMinute(t *testing.T) {
	c := newFakeClock()
	p := newPacer(c)
	const n = 500
	var at []time.Time
	for range n {
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		at = append(at, c.Now())
	}
	for i := range at {
		j := i
		for j < len(at) && at[j].Sub(at[i]) < time.Minute {
			j++
		}
		if j-i > 60 {
			t.Fatalf("%d requests within a minute from request %d", j-i, i)
		}
	}
	// (n - burst) / rate minutes, give or take a request.
	want := time.Duration(float64(n-listBurst) / listRate * float64(time.Minute))
	if got := c.total(); got < want-2*time.Second || got > want+2*time.Second {
		t.Errorf("paced %d requests over %s, want about %s", n, got, want)
	}
}

func TestPacerWaitEndsWithTheContext(t *testing.T) {
	p := newPacer(realClock{})
	ctx, cancel := context.WithCancel(context.Background())
	for range listBurst {
		if err := p.wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := p.wait(ctx); err == nil {
		t.Error("wait after cancel returned nil")
	}
}

// ResourceExhausted is retried with growing backoff; other errors are not.
func TestPacedRetriesResourceExhausted(t *testing.T) {
	b := New(Options{})
	c := newFakeClock()
	b.clock = c
	calls := 0
	var waits []time.Duration
	err := b.paced(context.Background(), "p", func(d time.Duration) { waits = append(waits, d) }, func() error {
		calls++
		if calls < 4 {
			return status.Error(codes.ResourceExhausted, "quota")
		}
		return nil
	})
	if err != nil || calls != 4 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
	if len(waits) != 3 || waits[0] != exhaustedBackoff || waits[1] != 2*exhaustedBackoff || waits[2] != 4*exhaustedBackoff {
		t.Errorf("backoffs = %v", waits)
	}
	calls = 0
	err = b.paced(context.Background(), "p", nil, func() error { calls++; return status.Error(codes.PermissionDenied, "no") })
	if status.Code(err) != codes.PermissionDenied || calls != 1 {
		t.Errorf("permission denied: %v after %d calls", err, calls)
	}
	calls = 0
	err = b.paced(context.Background(), "p", nil, func() error { calls++; return status.Error(codes.ResourceExhausted, "quota") })
	if status.Code(err) != codes.ResourceExhausted || calls != exhaustedTries {
		t.Errorf("exhausted for good: %v after %d calls, want %d", err, calls, exhaustedTries)
	}
}
