package gcp

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/gcpfake"
)

func benchEntries(b *testing.B, n int) []*loggingpb.LogEntry {
	out := make([]*loggingpb.LogEntry, n)
	for i := range out {
		if i%2 == 0 {
			out[i] = jsonEntry(b, "api", fmt.Sprint("j", i), time.Now(), map[string]any{
				"message": "handled request", "severity": "INFO", "path": "/v1/things/42",
				"latency_ms": 12.5, "status": 200, "user": map[string]any{"id": "u-1", "roles": []any{"a", "b"}},
			})
		} else {
			out[i] = textEntry("api", fmt.Sprint("t", i), "GET /healthz 200 1.2ms upstream=ok", time.Now())
		}
	}
	return out
}

// BenchmarkEntryToLine measures decoding one Cloud Logging entry (half JSON,
// half text) into a LogLine.
func BenchmarkEntryToLine(b *testing.B) {
	entries := benchEntries(b, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l := entryToLine("acme-web", entries[i%len(entries)])
		if l.Message == "" {
			b.Fatal("empty message")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkLogsTail measures the whole tail path: the real gRPC client
// receiving TailLogEntries responses (500 entries each) from the in-process
// fake, decoding, the shared hub's fan-out, filtering, and Logs' emit.
// Entries the reader could not keep up with are dropped and counted by the
// hub (bounded memory); the entries/s figure counts only delivered ones.
func BenchmarkLogsTail(b *testing.B) {
	l := gcpfake.StartLogging(b)
	be := New(Options{LoggingEndpoint: l.Addr})
	defer be.Close()
	batch := &loggingpb.TailLogEntriesResponse{Entries: benchEntries(b, 500)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var delivered, dropped atomic.Int64
	total := int64(b.N)
	finished := make(chan struct{})
	target := cloud.Address{Provider: cloud.GCP, Project: "acme-web", Region: "europe-west1", Function: "api"}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	go func() {
		_ = be.Logs(ctx, cloud.LogRequest{Target: target, Follow: true}, func(line cloud.LogLine) {
			if line.Notice {
				var n int64
				if _, err := fmt.Sscanf(line.Message, "%d entries dropped", &n); err == nil {
					dropped.Add(n)
				} else if !strings.Contains(line.Message, "reconnecting") && !strings.HasPrefix(line.Message, cloud.WaitingNotice) {
					b.Errorf("unexpected notice %q", line.Message)
				}
			} else {
				delivered.Add(1)
			}
			if delivered.Load()+dropped.Load() >= total {
				select {
				case <-finished:
				default:
					close(finished)
				}
			}
		})
	}()
	ft := l.NextTail(b)
	go func() {
		// Every entry is a new one (its own insertId), as in a real tail:
		// the hub drops repeated keys.
		for sent, n := 0, 0; sent < b.N; sent, n = sent+len(batch.Entries), n+1 {
			resp := &loggingpb.TailLogEntriesResponse{Entries: make([]*loggingpb.LogEntry, len(batch.Entries))}
			for i, e := range batch.Entries {
				resp.Entries[i] = &loggingpb.LogEntry{LogName: e.LogName, Resource: e.Resource, Payload: e.Payload, Severity: e.Severity,
					InsertId: fmt.Sprintf("%d-%d", n, i), Timestamp: e.Timestamp}
			}
			if ft.Send(resp) != nil {
				return // the reader left: the benchmark is over
			}
		}
	}()
	select {
	case <-finished:
	case <-time.After(120 * time.Second):
		b.Fatalf("tail stalled: %d delivered, %d dropped of %d", delivered.Load(), dropped.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(delivered.Load())/elapsed.Seconds(), "entries/s")
	b.ReportMetric(float64(dropped.Load()), "dropped")
}
