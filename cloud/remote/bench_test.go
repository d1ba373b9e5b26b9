package remote_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/remote"
	"github.com/fndeck/fndeck/cloud/remote/wire"
	"github.com/fndeck/fndeck/internal/testsupport/gcpfake"
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

// BenchmarkLogStreamGCP follows a Cloud Run service's logs through the
// helper while gcpfake's tail sends b.N entries in batches of 500: the whole
// path a log flood takes (gRPC stream, the gcp backend, the pipe, emit).
// The sender keeps at most 4096 entries ahead of emit: the gcp backend
// drops (and reports) entries past its 8192-entry buffer by design, and
// this measures the rate sustained without loss.
func BenchmarkLogStreamGCP(b *testing.B) {
	l := gcpfake.StartLogging(b)
	c := remote.NewClient(remote.ClientOptions{HelperPath: helper(b), Init: wire.Init{GCP: wire.GCPOptions{Projects: []string{"acme-web"}, LoggingEndpoint: l.Addr}}})
	defer c.Close()
	be := remote.New(cloud.GCP, c)
	target, err := cloud.ParseAddress("cloudrun:acme-web/europe-west1/api")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan struct{}, 1)
	var n atomic.Int64
	done := make(chan error, 1)
	go func() {
		done <- be.Logs(ctx, cloud.LogRequest{Target: target, Since: time.Now(), Follow: true}, func(l cloud.LogLine) {
			if l.Notice {
				b.Errorf("notice during the flood: %s", l.Message)
			}
			if n.Add(1) == int64(b.N) {
				got <- struct{}{}
			}
		})
	}()
	tail := l.NextTail(b)
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; {
		var batch []*loggingpb.LogEntry
		for j := 0; j < 500 && i < b.N; j, i = j+1, i+1 {
			batch = append(batch, gcpfake.TextEntry("acme-web", "europe-west1", "api", "e"+strconv.Itoa(i), "GET /api/items 200 12ms request "+strconv.Itoa(i), now))
		}
		if err := tail.SendEntries(batch...); err != nil {
			b.Fatal(err)
		}
		for int64(i)-n.Load() > 4096 {
			time.Sleep(100 * time.Microsecond)
		}
	}
	select {
	case <-got:
	case err := <-done:
		b.Fatalf("Logs ended early after %d lines: %v", n.Load(), err)
	case <-time.After(5 * time.Minute):
		b.Fatalf("only %d of %d lines arrived", n.Load(), b.N)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "lines/s")
	cancel()
	<-done
}
