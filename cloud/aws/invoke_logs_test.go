package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
)

const reportLine = "REPORT RequestId: 3f5e0a7e-1111-2222-3333-444455556666\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB\tInit Duration: 150.20 ms\t"

func TestInvokeBufferedWithLogTail(t *testing.T) {
	f, b := deployFake(t)
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1"),
		InvokeBody: `{"errorMessage":"boom","errorType":"Error"}`, InvokeFnError: "Unhandled",
		InvokeLog: "START RequestId: 3f5e0a7e-1111-2222-3333-444455556666 Version: $LATEST\nboom\nEND RequestId: 3f5e0a7e-1111-2222-3333-444455556666\n" + reportLine + "\n"})
	res, err := b.Invoke(testCtx(t), cloud.InvokeRequest{Target: addr("lambda:us-east-1/api"), Payload: []byte(`{"n":1}`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.FunctionError != "Unhandled" || string(res.Response) != `{"errorMessage":"boom","errorType":"Error"}` {
		t.Errorf("res = %+v", res)
	}
	if string(f.lastPayload) != `{"n":1}` {
		t.Errorf("payload sent = %s", f.lastPayload)
	}
	if !strings.Contains(res.LogTail, "boom") || res.Report == nil {
		t.Fatalf("log tail %q report %+v", res.LogTail, res.Report)
	}
	r := res.Report
	if r.DurationMS != 12.34 || r.BilledMS != 13 || r.InitMS != 150.20 || r.MemoryMB != 128 || r.MaxMemoryMB != 41 || res.RequestID != "3f5e0a7e-1111-2222-3333-444455556666" {
		t.Errorf("report = %+v id %q", r, res.RequestID)
	}
	if f.count("InvokeWithResponseStream") != 0 {
		t.Error("a buffered function was streamed")
	}
}

func TestInvokeStreamsChunksAsTheyArrive(t *testing.T) {
	f, b := deployFake(t)
	f.add(&fakeFn{Name: "stream", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("s:1"), Streams: true,
		StreamChunks: []string{"hello ", "streaming ", "world"}, InvokeLog: reportLine})
	// Under heavy load (the whole suite on 2 cores; about 1 run in 400 with
	// three busy loops beside it) the client's connection has been seen
	// closed on the client's side right after the first chunk ("use of
	// closed network connection"), with the server still holding the
	// stream. The cause is not established (not in fndeck's code; see
	// docs/benchmarks.md's known-weak list), so that one error gets a
	// second attempt, logged; anything else, or twice, fails.
	for attempt := 1; ; attempt++ {
		err := streamOnce(t, f, b)
		if err == nil {
			return
		}
		if attempt == 1 && strings.Contains(err.Error(), "use of closed network connection") {
			t.Logf("attempt 1: %v; retrying once", err)
			continue
		}
		t.Fatal(err)
	}
}

// streamOnce invokes the streaming fake with the server holding the rest
// of the response until the first chunk reached the caller.
func streamOnce(t *testing.T, f *fakeAWS, b *Backend) error {
	t.Helper()
	gate := make(chan struct{})
	f.mu.Lock()
	f.streamGate = gate
	f.mu.Unlock()
	var mu sync.Mutex
	var chunks []string
	first := make(chan struct{})
	done := make(chan struct{})
	var res cloud.InvokeResult
	var err error
	go func() {
		defer close(done)
		res, err = b.Invoke(testCtx(t), cloud.InvokeRequest{Target: addr("lambda:us-east-1/stream")}, func(c []byte) {
			mu.Lock()
			chunks = append(chunks, string(c))
			if len(chunks) == 1 {
				close(first)
			}
			mu.Unlock()
		})
	}()
	// A buffering client would deadlock here: the server sends the rest
	// only after the first chunk has reached the caller.
	select {
	case <-first:
	case <-done:
		if err == nil {
			t.Fatal("the invoke ended without a chunk")
		}
		close(gate)
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("first chunk never arrived while the stream was open")
	}
	close(gate)
	<-done
	if err != nil {
		return err
	}
	if strings.Join(chunks, "|") != "hello |streaming |world" || string(res.Body) != "hello streaming world" {
		t.Errorf("chunks %q body %q", chunks, res.Body)
	}
	if res.Report == nil || res.Report.BilledMS != 13 {
		t.Errorf("report from InvokeComplete = %+v", res.Report)
	}
	if string(res.Response) != `"hello streaming world"` {
		t.Errorf("response = %s", res.Response)
	}
	return nil
}

func seedEvents(f *fakeAWS, group string, base time.Time, msgs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, m := range msgs {
		f.events[group] = append(f.events[group], fakeEvent{ID: fmt.Sprintf("%s-%d-%d", group, base.UnixNano(), i), Stream: "2026/11/25/[$LATEST]abc", Message: m, TS: base.Add(time.Duration(i) * time.Millisecond).UnixMilli()})
	}
}

func TestLogsPrintsSeededEventsRawAndFiltered(t *testing.T) {
	f, b := deployFake(t)
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})
	now := time.Now()
	evil := "pwn \x1b]52;c;ZXZpbA==\x07\x1b[2J here"
	seedEvents(f, "/aws/lambda/api", now.Add(-time.Minute), "START RequestId: x", "hello world", evil, reportLine, "END")
	seedEvents(f, "/aws/lambda/api", now.Add(-time.Hour), "too old")
	var got []cloud.LogLine
	err := b.Logs(testCtx(t), cloud.LogRequest{Target: addr("lambda:us-east-1/api"), Since: now.Add(-15 * time.Minute)}, func(l cloud.LogLine) { got = append(got, l) })
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, l := range got {
		msgs = append(msgs, l.Message)
	}
	if len(got) != 5 || msgs[1] != "hello world" || msgs[2] != evil {
		t.Fatalf("messages = %q", msgs)
	}
	// Escape sequences are passed on raw: the UI sanitizes for display.
	if got[0].Address != "lambda:us-east-1/api" || got[0].Stream == "" || got[0].ID == "" || got[0].Time.IsZero() {
		t.Errorf("line = %+v", got[0])
	}
	if r, ok := cloud.ParseReport(got[3].Message); !ok || r.MaxMemoryMB != 41 {
		t.Errorf("REPORT line does not parse: %+v", r)
	}
	got = nil
	_ = b.Logs(testCtx(t), cloud.LogRequest{Target: addr("lambda:us-east-1/api"), Since: now.Add(-15 * time.Minute), Filter: "hello"}, func(l cloud.LogLine) { got = append(got, l) })
	if len(got) != 1 || got[0].Message != "hello world" {
		t.Errorf("filtered = %+v", got)
	}
}

func TestLogsHonourLoggingConfig(t *testing.T) {
	f, b := deployFake(t)
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1"), LogGroup: "/custom/api", LogFormat: "JSON"})
	now := time.Now()
	seedEvents(f, "/custom/api", now.Add(-time.Minute), `{"time":"2026-11-25T00:00:00Z","level":"ERROR","message":"bad"}`)
	seedEvents(f, "/aws/lambda/api", now.Add(-time.Minute), "wrong group")
	var got []cloud.LogLine
	if err := b.Logs(testCtx(t), cloud.LogRequest{Target: addr("lambda:us-east-1/api")}, func(l cloud.LogLine) { got = append(got, l) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Severity != "ERROR" || !json.Valid(got[0].JSON) {
		t.Fatalf("got %+v", got)
	}
}

func TestLogsFollowLiveTail(t *testing.T) {
	f, b := deployFake(t)
	b.opts.LiveTail = true
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})
	f.liveTail = []fakeEvent{{Stream: "s1", Message: "live one", TS: time.Now().UnixMilli()}, {Stream: "s1", Message: "live two", TS: time.Now().UnixMilli()}}
	f.liveSampled = true
	ctx, cancel := context.WithTimeout(testCtx(t), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	var got []cloud.LogLine
	errc := make(chan error, 1)
	go func() {
		errc <- b.Logs(ctx, cloud.LogRequest{Target: addr("lambda:us-east-1/api"), Follow: true}, func(l cloud.LogLine) {
			mu.Lock()
			got = append(got, l)
			n := 0
			for _, g := range got {
				if !g.Notice {
					n++
				}
			}
			mu.Unlock()
			if n == 2 {
				cancel()
			}
		})
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var msgs []string
	sampledNotice := false
	for _, l := range got {
		if l.Notice && strings.Contains(l.Message, "sampling") {
			sampledNotice = true
		}
		if l.Notice && strings.Contains(l.Message, "polling") {
			t.Errorf("fell back to polling: %s", l.Message)
		}
		if !l.Notice {
			msgs = append(msgs, l.Message)
		}
	}
	if strings.Join(msgs, "|") != "live one|live two" || !sampledNotice {
		t.Errorf("lines = %+v", got)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.liveTailHosts) == 0 || strings.HasPrefix(f.liveTailHosts[0], "stream-") {
		t.Errorf("live tail hosts = %v", f.liveTailHosts)
	}
}

func TestLogsPollingResumesWithoutGapsAfterADroppedPoll(t *testing.T) {
	f, b := deployFake(t)
	oldMin := pollMin
	pollMin = 20 * time.Millisecond
	t.Cleanup(func() { pollMin = oldMin })
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})
	now := time.Now()
	seedEvents(f, "/aws/lambda/api", now.Add(-time.Minute), "a", "b")
	ctx, cancel := context.WithTimeout(testCtx(t), 45*time.Second)
	defer cancel()
	var mu sync.Mutex
	var msgs, notices []string
	stage := make(chan int, 10)
	go func() {
		_ = b.Logs(ctx, cloud.LogRequest{Target: addr("lambda:us-east-1/api"), Follow: true}, func(l cloud.LogLine) {
			mu.Lock()
			defer mu.Unlock()
			if l.Notice {
				notices = append(notices, l.Message)
				if strings.Contains(l.Message, "polling failed") {
					stage <- 1
				}
				return
			}
			msgs = append(msgs, l.Message)
			switch len(msgs) {
			case 2:
				stage <- 0
			case 6:
				cancel()
			}
		})
		close(stage)
	}()
	if s := <-stage; s != 0 {
		t.Fatalf("stage %d", s)
	}
	// Drop the next polls (more than the SDK's retries) while new events land.
	f.mu.Lock()
	f.failFilter = 6
	f.mu.Unlock()
	seedEvents(f, "/aws/lambda/api", time.Now(), "c", "d")
	if s := <-stage; s != 1 {
		t.Fatalf("no failure notice; stage %d", s)
	}
	seedEvents(f, "/aws/lambda/api", time.Now().Add(time.Millisecond*10), "e", "f")
	for range stage {
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(msgs, "") != "abcdef" {
		t.Errorf("messages = %q (notices %q)", msgs, notices)
	}
}

func TestLiveTailReconnectsBeforeTheSessionLimit(t *testing.T) {
	f, b := deployFake(t)
	b.opts.LiveTail = true
	old := liveTailMaxSession
	liveTailMaxSession = 300 * time.Millisecond
	t.Cleanup(func() { liveTailMaxSession = old })
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})
	f.liveTail = []fakeEvent{{Stream: "s1", Message: "tick", TS: time.Now().UnixMilli()}}
	ctx, cancel := context.WithTimeout(testCtx(t), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	ticks, reconnects := 0, 0
	err := b.Logs(ctx, cloud.LogRequest{Target: addr("lambda:us-east-1/api"), Follow: true}, func(l cloud.LogLine) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		// Usually the session deadline is seen first ("session limit"); when the
		// closed connection surfaces first the notice says "dropped". Either
		// way the session is replaced.
		case l.Notice && (strings.Contains(l.Message, "session limit") || strings.Contains(l.Message, "live tail dropped")):
			reconnects++
		case l.Notice:
			t.Errorf("unexpected notice: %s", l.Message)
		case l.Message == "tick":
			ticks++
		}
		if reconnects == 2 {
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every session re-sends the same event; it is shown once.
	if reconnects != 2 || f.count("StartLiveTail") < 2 || ticks != 1 {
		t.Errorf("reconnects %d, StartLiveTail calls %d, ticks %d", reconnects, f.count("StartLiveTail"), ticks)
	}
}

func TestLiveTailFallsBackToPollingWhenReconnectsFail(t *testing.T) {
	f, b := deployFake(t)
	b.opts.LiveTail = true
	oldRetry, oldMin := liveTailRetry, pollMin
	liveTailRetry, pollMin = 10*time.Millisecond, 20*time.Millisecond
	t.Cleanup(func() { liveTailRetry, pollMin = oldRetry, oldMin })
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})
	f.liveTail = []fakeEvent{{Stream: "s1", Message: "live", TS: time.Now().UnixMilli()}}
	ctx, cancel := context.WithTimeout(testCtx(t), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	var got []string
	err := b.Logs(ctx, cloud.LogRequest{Target: addr("lambda:us-east-1/api"), Follow: true}, func(l cloud.LogLine) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, l.Message)
		if l.Message == "live" {
			// From now on the service refuses new sessions and the open one ends.
			f.mu.Lock()
			f.throttle["us-east-1/StartLiveTail"] = -1
			f.mu.Unlock()
			go f.srv.CloseClientConnections()
		}
		if l.Message == "polled" {
			cancel()
		}
		if strings.Contains(l.Message, "polling FilterLogEvents") {
			seedEvents(f, "/aws/lambda/api", time.Now(), "polled")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got[len(got)-1] != "polled" {
		t.Errorf("lines = %q", got)
	}
}

func TestInvokeColdIsRefusedBeforeAnyCall(t *testing.T) {
	f, b := deployFake(t)
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})
	_, err := b.Invoke(testCtx(t), cloud.InvokeRequest{Target: addr("lambda:us-east-1/api"), Cold: true}, nil)
	if !errors.Is(err, cloud.ErrInvalid) || f.count("Invoke") != 0 {
		t.Errorf("err = %v, invokes = %d", err, f.count("Invoke"))
	}
}

func TestLogLineSeverity(t *testing.T) {
	text := logTarget{}.line("a", "s", "1", "2026-11-25T10:00:00.000Z\tabc-123\tERROR\tsomething broke\n", 0)
	if text.Severity != "ERROR" || text.Message != "2026-11-25T10:00:00.000Z\tabc-123\tERROR\tsomething broke" || text.JSON != nil {
		t.Errorf("text line = %+v", text)
	}
	plain := logTarget{}.line("a", "s", "2", "just\ttabs here", 0)
	if plain.Severity != "" {
		t.Errorf("plain line severity = %q", plain.Severity)
	}
	js := logTarget{json: true}.line("a", "s", "3", `{"level":"warn","message":"m"}`, 0)
	if js.Severity != "WARN" || string(js.JSON) != `{"level":"warn","message":"m"}` {
		t.Errorf("json line = %+v", js)
	}
}

func TestLiveTailCatchesUpWithoutGapsOrRepeats(t *testing.T) {
	f, b := deployFake(t)
	b.opts.LiveTail = true
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})
	now := time.Now()
	seedEvents(f, "/aws/lambda/api", now.Add(-time.Minute), "backlog")
	both := fakeEvent{ID: "both-1", Stream: "s1", Message: "seen by poll and live", TS: now.UnixMilli()}
	f.gapEvents = map[string][]fakeEvent{"/aws/lambda/api": {
		{ID: "gap-1", Stream: "s1", Message: "in the gap", TS: now.Add(-time.Second).UnixMilli()}, both,
	}}
	f.liveTail = []fakeEvent{both, {Stream: "s1", Message: "live only", TS: now.Add(time.Millisecond).UnixMilli()}}
	ctx, cancel := context.WithTimeout(testCtx(t), 30*time.Second)
	defer cancel()
	var msgs []string
	err := b.Logs(ctx, cloud.LogRequest{Target: addr("lambda:us-east-1/api"), Follow: true}, func(l cloud.LogLine) {
		if l.Notice {
			t.Errorf("notice: %s", l.Message)
			return
		}
		msgs = append(msgs, l.Message)
		if l.Message == "live only" {
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(msgs, "|") != "backlog|in the gap|seen by poll and live|live only" {
		t.Errorf("messages = %q", msgs)
	}
}
