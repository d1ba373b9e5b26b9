package gcp

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	ltype "google.golang.org/genproto/googleapis/logging/type"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/sanitize"
	"github.com/fndeck/fndeck/internal/testsupport/gcpfake"
)

func textEntry(service, id, text string, ts time.Time) *loggingpb.LogEntry {
	return gcpfake.TextEntry("acme-web", "europe-west1", service, id, text, ts)
}

func jsonEntry(t testing.TB, service, id string, ts time.Time, fields map[string]any) *loggingpb.LogEntry {
	e, err := gcpfake.JSONEntry("acme-web", "europe-west1", service, id, ts, fields)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// send hands resp to the client on ft, failing the test if the stream ended.
func send(t testing.TB, ft *gcpfake.Tail, resp *loggingpb.TailLogEntriesResponse) {
	t.Helper()
	if err := ft.Send(resp); err != nil {
		t.Fatal(err)
	}
}

// lineCollector gathers emitted lines and lets a test wait for one.
type lineCollector struct {
	mu    sync.Mutex
	lines []cloud.LogLine
	added chan struct{}
}

func newCollector() *lineCollector { return &lineCollector{added: make(chan struct{}, 1)} }

func (c *lineCollector) emit(l cloud.LogLine) {
	c.mu.Lock()
	c.lines = append(c.lines, l)
	c.mu.Unlock()
	select {
	case c.added <- struct{}{}:
	default:
	}
}

// waitFor waits (at most 30 s) until a line with message msg has arrived.
func (c *lineCollector) waitFor(t *testing.T, msg string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		c.mu.Lock()
		for _, l := range c.lines {
			if l.Message == msg {
				c.mu.Unlock()
				return
			}
		}
		c.mu.Unlock()
		select {
		case <-c.added:
		case <-deadline:
			t.Fatalf("line %q never arrived; got %v", msg, c.messages())
		}
	}
}

func (c *lineCollector) messages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, l := range c.lines {
		out = append(out, l.Message)
	}
	return out
}

func (c *lineCollector) snapshot() []cloud.LogLine {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]cloud.LogLine(nil), c.lines...)
}

func logsFixture(t *testing.T) (*gcpfake.Logging, *Backend) {
	l := gcpfake.StartLogging(t)
	b := New(Options{LoggingEndpoint: l.Addr})
	t.Cleanup(func() { b.Close() })
	return l, b
}

func TestLogsFollowHistoryThenTail(t *testing.T) {
	l, b := logsFixture(t)
	now := time.Now()
	l.AddEntries(
		textEntry("api", "old", "too old", now.Add(-30*time.Minute)),
		textEntry("api", "h1", "started", now.Add(-60*time.Second)),
		textEntry("web", "w1", "other service", now.Add(-50*time.Second)),
		jsonEntry(t, "api", "h2", now.Add(-30*time.Second), map[string]any{"message": "hello", "n": 1}),
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newCollector()
	done := make(chan error, 1)
	go func() {
		done <- b.Logs(ctx, cloud.LogRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"), Since: now.Add(-5 * time.Minute), Follow: true}, c.emit)
	}()
	ft := l.NextTail(t)
	if ft.Request.GetResourceNames()[0] != "projects/acme-web" || !strings.Contains(ft.Request.GetFilter(), `resource.type="cloud_run_revision"`) {
		t.Errorf("tail request = %v", ft.Request)
	}
	hostile := "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b[31mpwned\u202e"
	send(t, ft, &loggingpb.TailLogEntriesResponse{Entries: []*loggingpb.LogEntry{
		jsonEntry(t, "api", "h2", now.Add(-30*time.Second), map[string]any{"message": "hello", "n": 1}), // already in the history
		jsonEntry(t, "api", "t1", now, map[string]any{"level": "info", "path": "/x"}),
		textEntry("api", "t2", hostile, now),
		textEntry("web", "t3", "not mine", now),
	}})
	send(t, ft, &loggingpb.TailLogEntriesResponse{SuppressionInfo: []*loggingpb.TailLogEntriesResponse_SuppressionInfo{
		{Reason: loggingpb.TailLogEntriesResponse_SuppressionInfo_RATE_LIMIT, SuppressedCount: 5}}})
	send(t, ft, &loggingpb.TailLogEntriesResponse{Entries: []*loggingpb.LogEntry{textEntry("api", "t4", "after\n", now)}})
	c.waitFor(t, "after")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Logs: %v", err)
	}

	got := c.snapshot()
	want := []string{"started", "hello", `{"level":"info","path":"/x"}`, hostile, "5 entries suppressed: rate limited", "after"}
	if msgs := c.messages(); strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Fatalf("messages = %q\nwant %q", msgs, want)
	}
	if string(got[1].JSON) != `{"message":"hello","n":1}` || got[1].Address != "cloudrun:acme-web/europe-west1/api" || got[1].Stream != "stdout" {
		t.Errorf("json line = %+v", got[1])
	}
	if got[0].Severity != "INFO" || got[0].ID != "h1" || !got[0].Time.Equal(now.Add(-60*time.Second).Truncate(time.Nanosecond)) {
		t.Errorf("text line = %+v", got[0])
	}
	if !got[4].Notice || got[2].Notice {
		t.Errorf("notice flags: %v %v", got[4].Notice, got[2].Notice)
	}
	// The backend passes outside text raw; the UI's sanitizer neutralises it.
	safe := sanitize.Line(got[3].Message)
	if strings.ContainsAny(safe, "\x1b\x07\u202e") || !strings.Contains(safe, "pwned") {
		t.Errorf("sanitized hostile line = %q", safe)
	}
}

func TestLogsTailReconnectsWhenStreamEnds(t *testing.T) {
	l, b := logsFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newCollector()
	done := make(chan error, 1)
	go func() {
		done <- b.Logs(ctx, cloud.LogRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"), Follow: true}, c.emit)
	}()
	ft := l.NextTail(t)
	send(t, ft, &loggingpb.TailLogEntriesResponse{Entries: []*loggingpb.LogEntry{textEntry("api", "a", "one", time.Now())}})
	c.waitFor(t, "one")
	ft.End(nil) // the server closes the stream, as it does after an hour
	ft2 := l.NextTail(t)
	send(t, ft2, &loggingpb.TailLogEntriesResponse{Entries: []*loggingpb.LogEntry{textEntry("api", "b", "two", time.Now())}})
	c.waitFor(t, "two")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	msgs := c.messages()
	want := []string{cloud.WaitingNotice + " (no log entries yet)", "one", "live tail ended; reconnecting", "two"}
	if strings.Join(msgs, "|") != strings.Join(want, "|") {
		t.Errorf("messages = %q, want %q", msgs, want)
	}
}

func TestLogsShareOneTailPerProject(t *testing.T) {
	l, b := logsFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	api, web := newCollector(), newCollector()
	var wg sync.WaitGroup
	for _, x := range []struct {
		addr string
		c    *lineCollector
	}{{"cloudrun:acme-web/europe-west1/api", api}, {"cloudrun:acme-web/europe-west1/web", web}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.Logs(ctx, cloud.LogRequest{Target: mustAddr(t, x.addr), Follow: true}, x.c.emit); err != nil {
				t.Errorf("Logs %s: %v", x.addr, err)
			}
		}()
	}
	// One stream per project at a time, whose filter names the services
	// followed: when the second reader joins, the first stream (naming one
	// service) is closed and one naming both replaces it.
	waitSubscribers(t, b, "acme-web", 2)
	ft := l.NextTail(t)
	var closed []*gcpfake.Tail
	for !strings.Contains(ft.Request.GetFilter(), `service_name="api"`) || !strings.Contains(ft.Request.GetFilter(), `service_name="web"`) {
		closed = append(closed, ft)
		ft = l.NextTail(t)
	}
	for _, old := range closed {
		select {
		case <-old.Done():
		case <-time.After(30 * time.Second):
			t.Fatal("the stream naming fewer services stayed open")
		}
	}
	if f := ft.Request.GetFilter(); f != `resource.type="cloud_run_revision" AND ((resource.labels.service_name="api" AND resource.labels.location="europe-west1") OR (resource.labels.service_name="web" AND resource.labels.location="europe-west1"))` {
		t.Errorf("tail filter = %s", f)
	}
	send(t, ft, &loggingpb.TailLogEntriesResponse{Entries: []*loggingpb.LogEntry{
		textEntry("api", "1", "for api", time.Now()), textEntry("web", "2", "for web", time.Now())}})
	api.waitFor(t, "for api")
	web.waitFor(t, "for web")
	if n := l.Opened(); n != len(closed)+1 {
		t.Errorf("%d tail streams opened, want %d", n, len(closed)+1)
	}
	if len(live(api.snapshot())) != 1 || len(live(web.snapshot())) != 1 {
		t.Errorf("api got %q, web got %q", api.messages(), web.messages())
	}
	cancel()
	wg.Wait()
	b.mu.Lock()
	left := len(b.tails)
	b.mu.Unlock()
	if left != 0 {
		t.Errorf("%d tails still open after every reader left", left)
	}
}

func waitSubscribers(t *testing.T, b *Backend, project string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		h := b.tails[project+"\x00"]
		b.mu.Unlock()
		if h != nil {
			h.mu.Lock()
			got := len(h.subs)
			h.mu.Unlock()
			if got == n {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("never saw %d subscribers on %s's tail", n, project)
}

func TestLogsHistoryFilterIsLiteralAndQueryIsPassed(t *testing.T) {
	l, b := logsFixture(t)
	now := time.Now()
	l.AddEntries(
		textEntry("api", "1", "axb done", now.Add(-time.Minute)),
		textEntry("api", "2", "a.b done", now.Add(-time.Minute)),
		jsonEntry(t, "api", "3", now.Add(-59*time.Second), map[string]any{"msg": "a.b in json"}),
		textEntry("api", "4", "a.b but old", now.Add(-20*time.Minute)),
	)
	c := newCollector()
	err := b.Logs(context.Background(), cloud.LogRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"),
		Filter: "a.b", Query: "severity>=ERROR"}, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	if msgs := c.messages(); strings.Join(msgs, "|") != `a.b but old|a.b done|{"msg":"a.b in json"}` {
		t.Errorf("messages = %q (want the literal matches, whatever their age, oldest first)", msgs)
	}
	f := l.Filters()[0]
	for _, part := range []string{`resource.labels.service_name="api"`, `resource.labels.location="europe-west1"`, ` AND (severity>=ERROR)`} {
		if !strings.Contains(f, part) {
			t.Errorf("filter %q lacks %q", f, part)
		}
	}
	if strings.Contains(f, "timestamp") {
		t.Errorf("filter %q bounds the time: the last events are wanted whatever their age", f)
	}
}

func TestLogsTailPermissionDenied(t *testing.T) {
	l, b := logsFixture(t)
	done := make(chan error, 1)
	go func() {
		done <- b.Logs(context.Background(), cloud.LogRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"), Follow: true}, func(cloud.LogLine) {})
	}()
	ft := l.NextTail(t)
	ft.End(status.Error(codes.PermissionDenied, "Permission 'logging.logEntries.list' denied"))
	select {
	case err := <-done:
		if !errors.Is(err, cloud.ErrPermission) || !strings.Contains(cloud.Hint(err), "roles/logging.viewer") {
			t.Errorf("Logs = %v (hint %q), want ErrPermission naming roles/logging.viewer", err, cloud.Hint(err))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Logs did not return after a permission error")
	}
}

func TestEntryToLineHTTPRequest(t *testing.T) {
	e := gcpfake.Entry("acme-web", "europe-west1", "api", "r", time.Now())
	e.LogName = "projects/acme-web/logs/run.googleapis.com%2Frequests"
	e.HttpRequest = &ltype.HttpRequest{RequestMethod: "GET", Status: 503, RequestUrl: "https://api/x"}
	l := entryToLine("acme-web", e)
	if l.Message != "GET 503 https://api/x" || l.Stream != "requests" {
		t.Errorf("request log line = %+v", l)
	}
}

// TestLogsSlowReaderIsBoundedAndTold checks that a reader that stops reading
// costs at most subscriberBuffer entries of memory: the rest are dropped,
// counted, and announced when it reads again.
func TestLogsSlowReaderIsBoundedAndTold(t *testing.T) {
	l, b := logsFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gate, first := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	delivered, dropNotices := 0, []string{}
	done := make(chan error, 1)
	go func() {
		done <- b.Logs(ctx, cloud.LogRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"), Follow: true}, func(line cloud.LogLine) {
			if strings.HasPrefix(line.Message, cloud.WaitingNotice) {
				return
			}
			mu.Lock()
			if line.Notice {
				dropNotices = append(dropNotices, line.Message)
			} else {
				delivered++
			}
			n := delivered
			mu.Unlock()
			if n == 1 && !line.Notice {
				close(first)
				<-gate // the reader stalls
			}
		})
	}()
	ft := l.NextTail(t)
	send(t, ft, &loggingpb.TailLogEntriesResponse{Entries: []*loggingpb.LogEntry{textEntry("api", "0", "first", time.Now())}})
	<-first
	const burst = 10000
	for i := 0; i < burst; i += 500 {
		resp := &loggingpb.TailLogEntriesResponse{}
		for j := i; j < i+500; j++ {
			resp.Entries = append(resp.Entries, textEntry("api", "", "burst", time.Now()))
		}
		send(t, ft, resp)
	}
	// Wait until the hub has handed out (or dropped) the whole burst.
	b.mu.Lock()
	h := b.tails["acme-web\x00"]
	b.mu.Unlock()
	var sub *tailSub
	h.mu.Lock()
	for s := range h.subs {
		sub = s
	}
	h.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for int(sub.dropped.Load())+len(sub.ch) < burst {
		if time.Now().After(deadline) {
			t.Fatalf("hub handled %d of %d entries", int(sub.dropped.Load())+len(sub.ch), burst)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if q := len(sub.ch); q != subscriberBuffer {
		t.Errorf("queued %d entries for the stalled reader, want the bound %d", q, subscriberBuffer)
	}
	close(gate)
	// The reader has room again once it took a line: only then does a new
	// entry reach it rather than the drop count.
	for len(sub.ch) >= subscriberBuffer {
		if time.Now().After(deadline) {
			t.Fatal("the reader never resumed")
		}
		time.Sleep(time.Millisecond)
	}
	send(t, ft, &loggingpb.TailLogEntriesResponse{Entries: []*loggingpb.LogEntry{textEntry("api", "z", "after the stall", time.Now())}})
	deadline = time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := delivered
		mu.Unlock()
		if n == 1+subscriberBuffer+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivered %d lines, want %d", n, 1+subscriberBuffer+1)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	want := []string{"1808 entries dropped: the reader fell behind the live tail"}
	if strings.Join(dropNotices, "|") != strings.Join(want, "|") {
		t.Errorf("notices = %q, want %q", dropNotices, want)
	}
}

// live keeps the lines that are log entries, not fndeck's notices.
func live(lines []cloud.LogLine) []cloud.LogLine {
	var out []cloud.LogLine
	for _, l := range lines {
		if !l.Notice {
			out = append(out, l)
		}
	}
	return out
}
