package remote_test

import (
	"context"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/remote"
	"github.com/fndeck/fndeck/cloud/remote/wire"
)

// BenchmarkLogStream measures log lines through the pipe: the helper emits
// b.N synthetic lines through the batching the Logs call uses, the client
// decodes them and calls emit once per line in the caller's goroutine.
// Issue 2 needs 20k lines/s with room to spare for the UI.
func BenchmarkLogStream(b *testing.B) {
	c := remote.NewClient(remote.ClientOptions{HelperPath: helper(b)})
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Inflight(ctx); err != nil { // start the helper outside the timing
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	n := 0
	var bytes int
	if err := c.Flood(ctx, b.N, func(l cloud.LogLine) { n++; bytes += len(l.Message) }); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	b.StopTimer()
	if n != b.N {
		b.Fatalf("got %d lines, want %d", n, b.N)
	}
	b.ReportMetric(float64(n)/el.Seconds(), "lines/s")
}

// BenchmarkColdStart measures a cloud call's latency when no helper runs
// yet: process start, the SDKs' package inits, the backends' set-up and
// one round trip.
func BenchmarkColdStart(b *testing.B) {
	path := helper(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c := remote.NewClient(remote.ClientOptions{HelperPath: path, Init: wire.Init{}})
		if _, err := c.Inflight(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = c.Close()
		b.StartTimer()
	}
}
