package gcp

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/gcpfake"
)

// quotaFixture is the fake with the real quota (60 ListLogEntries per minute
// per project) measured on a fake clock the backend paces on too.
func quotaFixture(t *testing.T) (*gcpfake.Logging, *Backend, *fakeClock) {
	l, b := logsFixture(t)
	c := newFakeClock()
	b.clock = c
	l.SetQuota(60, time.Minute, c.Now)
	return l, b, c
}

// `--since 2h` on a busy service: 20,000 entries in pages of 100 need 200
// requests, over three minutes of quota. The history completes, in order,
// paced so the quota never refuses a request.
func TestLogsLongHistoryIsPacedWithinQuota(t *testing.T) {
	l, b, c := quotaFixture(t)
	l.SetPageSize(100)
	now := time.Now()
	const n = 20000
	var entries []*loggingpb.LogEntry
	for i := range n {
		entries = append(entries, textEntry("api", fmt.Sprint(i), fmt.Sprintf("line %d", i), now.Add(-2*time.Hour+time.Duration(i)*300*time.Millisecond)))
	}
	l.AddEntries(entries...)
	coll := newCollector()
	err := b.Logs(context.Background(), cloud.LogRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"), Since: now.Add(-2*time.Hour - time.Second)}, coll.emit)
	if err != nil {
		t.Fatal(err)
	}
	msgs := coll.messages()
	if len(msgs) != n {
		t.Fatalf("got %d lines, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		if m != fmt.Sprintf("line %d", i) {
			t.Fatalf("line %d = %q", i, m)
		}
	}
	if r := l.Rejected(); r != 0 {
		t.Errorf("the quota refused %d requests", r)
	}
	if calls := l.ListCalls(); calls != n/100 {
		t.Errorf("%d requests, want %d", calls, n/100)
	}
	if c.total() < 2*time.Minute {
		t.Errorf("200 requests paced over %s: the quota allows 60 per minute", c.total())
	}
}

// Another reader of the project spent the quota: the history waits for it
// (ResourceExhausted retried with backoff), says so, and completes.
func TestLogsHistoryRetriesWhenQuotaIsExhausted(t *testing.T) {
	l, b, _ := quotaFixture(t)
	l.SetPageSize(10)
	now := time.Now()
	for i := range 50 {
		l.AddEntries(textEntry("api", fmt.Sprint(i), fmt.Sprintf("line %d", i), now.Add(-time.Hour+time.Duration(i)*time.Second)))
	}
	l.UseQuota("acme-web", 60)
	coll := newCollector()
	err := b.Logs(context.Background(), cloud.LogRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"), Since: now.Add(-2 * time.Hour)}, coll.emit)
	if err != nil {
		t.Fatal(err)
	}
	var lines, notices int
	for _, line := range coll.snapshot() {
		if line.Notice {
			notices++
			if !strings.Contains(line.Message, "read quota of project acme-web reached") {
				t.Errorf("notice = %q", line.Message)
			}
		} else {
			lines++
		}
	}
	if lines != 50 || notices == 0 || l.Rejected() == 0 {
		t.Errorf("%d lines, %d notices, %d refused", lines, notices, l.Rejected())
	}
}

// The last N whatever their age: newest first with a page size of N, shown
// oldest first.
func TestLogsTailReadsNewestFirst(t *testing.T) {
	l, b := logsFixture(t)
	l.SetPageSize(1000)
	now := time.Now()
	for i := range 10 {
		l.AddEntries(textEntry("api", fmt.Sprint(i), fmt.Sprintf("line %d", i), now.Add(-48*time.Hour+time.Duration(i)*time.Minute)))
	}
	coll := newCollector()
	if err := b.Logs(context.Background(), cloud.LogRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"), Tail: 3}, coll.emit); err != nil {
		t.Fatal(err)
	}
	if m := strings.Join(coll.messages(), "|"); m != "line 7|line 8|line 9" {
		t.Errorf("messages = %q", m)
	}
	if f := l.Filters(); len(f) != 1 || strings.Contains(f[0], "timestamp") {
		t.Errorf("filters = %q: want one request, not bounded in time", f)
	}
}

// A tail cut mid-stream reconnects, and the gap is filled from
// ListLogEntries since the last entry seen: every entry once, in order, no
// gap and no duplicate (the new stream repeats one the fill delivered).
func TestLogsTailCutMidStreamResumesWithoutGapOrDuplicate(t *testing.T) {
	l, b := logsFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newCollector()
	done := make(chan error, 1)
	go func() {
		done <- b.Logs(ctx, cloud.LogRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"), Follow: true}, c.emit)
	}()
	base := time.Now()
	e := func(i int) *loggingpb.LogEntry {
		return textEntry("api", fmt.Sprint(i), fmt.Sprintf("n=%d", i), base.Add(time.Duration(i)*time.Millisecond))
	}
	ft := l.NextTail(t)
	for i := 1; i <= 5; i++ {
		l.AddEntries(e(i)) // the history holds what the tail sends, as the real service
	}
	send(t, ft, &loggingpb.TailLogEntriesResponse{Entries: []*loggingpb.LogEntry{e(1), e(2), e(3)}})
	c.waitFor(t, "n=3")
	// 4 and 5 are logged, but the stream breaks before it sends them.
	ft.End(status.Error(codes.Unavailable, "connection reset"))
	ft2 := l.NextTail(t)
	for i := 6; i <= 7; i++ {
		l.AddEntries(e(i))
	}
	send(t, ft2, &loggingpb.TailLogEntriesResponse{Entries: []*loggingpb.LogEntry{e(5), e(6), e(7)}})
	c.waitFor(t, "n=7")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range live(c.snapshot()) {
		got = append(got, line.Message)
	}
	if strings.Join(got, "|") != "n=1|n=2|n=3|n=4|n=5|n=6|n=7" {
		t.Errorf("lines = %q", got)
	}
	gap := false
	for _, f := range l.Filters() {
		gap = gap || strings.Contains(f, `timestamp>="`) && strings.Contains(f, `service_name="api"`)
	}
	if !gap {
		t.Errorf("no gap-filling ListLogEntries: %q", l.Filters())
	}
}

// Keys are (logName, timestamp, insertId): the same insertId in another
// log or at another time is another entry.
func TestEntryKeyAndHubDeduplication(t *testing.T) {
	ts := time.Now()
	a := gcpfake.TextEntry("p", "r", "s", "id1", "x", ts)
	sameAgain := gcpfake.TextEntry("p", "r", "s", "id1", "x", ts)
	otherLog := gcpfake.TextEntry("p", "r", "s", "id1", "x", ts)
	otherLog.LogName = "projects/p/logs/run.googleapis.com%2Fstderr"
	otherTime := gcpfake.TextEntry("p", "r", "s", "id1", "x", ts.Add(time.Nanosecond))
	if keyOf(a) != keyOf(sameAgain) || keyOf(a) == keyOf(otherLog) || keyOf(a) == keyOf(otherTime) {
		t.Fatalf("keys: %v %v %v %v", keyOf(a), keyOf(sameAgain), keyOf(otherLog), keyOf(otherTime))
	}
	h := &tailHub{project: "p", subs: map[*tailSub]struct{}{}, recent: map[entryKey]struct{}{}}
	sub := &tailSub{ch: make(chan tailEvent, 10)}
	h.subs[sub] = struct{}{}
	for _, e := range []*loggingpb.LogEntry{a, sameAgain, otherLog, otherTime, a} {
		h.deliver(e)
	}
	if len(sub.ch) != 3 {
		t.Errorf("delivered %d entries, want 3", len(sub.ch))
	}
}

// Suppressed entries are loss, and said so with the count and the reason.
func TestLogsSuppressionIsShown(t *testing.T) {
	l, b := logsFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newCollector()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = b.Logs(ctx, cloud.LogRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"), Follow: true}, c.emit)
	}()
	ft := l.NextTail(t)
	send(t, ft, &loggingpb.TailLogEntriesResponse{SuppressionInfo: []*loggingpb.TailLogEntriesResponse_SuppressionInfo{
		{Reason: loggingpb.TailLogEntriesResponse_SuppressionInfo_NOT_CONSUMED, SuppressedCount: 42}}})
	c.waitFor(t, "42 entries suppressed: not consumed fast enough")
	cancel()
	wg.Wait()
}

// The hub's memory of keys is bounded by time behind the newest entry and
// by count, whatever the rate.
func TestHubForgetsOldKeys(t *testing.T) {
	h := &tailHub{project: "p", subs: map[*tailSub]struct{}{}, recent: map[entryKey]struct{}{}}
	base := time.Now()
	for i := range recentCap + 500 {
		h.deliver(gcpfake.TextEntry("p", "r", "s", fmt.Sprint(i), "x", base.Add(time.Duration(i)*time.Microsecond)))
	}
	if len(h.recent) != recentCap || len(h.order) != recentCap {
		t.Errorf("remembered %d keys (%d in order), want the cap %d", len(h.recent), len(h.order), recentCap)
	}
	h.deliver(gcpfake.TextEntry("p", "r", "s", "late", "x", base.Add(time.Hour)))
	if len(h.recent) != 1 {
		t.Errorf("remembered %d keys after an entry an hour newer, want 1", len(h.recent))
	}
	// A key still remembered is still dropped.
	sub := &tailSub{ch: make(chan tailEvent, 1)}
	h.subs[sub] = struct{}{}
	h.deliver(gcpfake.TextEntry("p", "r", "s", "late", "x", base.Add(time.Hour)))
	if len(sub.ch) != 0 {
		t.Error("a repeated entry was delivered again")
	}
}
