package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
)

func putEvents(f *fakeAWS, group, stream, prefix string, base time.Time, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range n {
		f.events[group] = append(f.events[group], fakeEvent{ID: fmt.Sprintf("%s-%s-%d", stream, prefix, i), Stream: stream,
			Message: fmt.Sprintf("%s %d", prefix, i), TS: base.Add(time.Duration(i) * time.Second).UnixMilli()})
	}
}

func messagesOf(lines []cloud.LogLine) []string {
	var out []string
	for _, l := range lines {
		if !l.Notice {
			out = append(out, l.Message)
		}
	}
	return out
}

// Without Since, logs open on the last N events whatever their age. The
// newest stream reports a LastEventTime hours stale (as CloudWatch may), so
// only the first step, FilterLogEvents over the last hour, finds its
// events; older streams fill the rest, read backwards; nothing repeats.
func TestLogsTailReadsTheLastEventsWhateverTheirAge(t *testing.T) {
	f, b := deployFake(t)
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})
	g := "/aws/lambda/api"
	now := time.Now()
	putEvents(f, g, "old", "ancient", now.Add(-72*time.Hour), 10)
	putEvents(f, g, "b", "yesterday", now.Add(-26*time.Hour), 4)
	putEvents(f, g, "a", "today", now.Add(-5*time.Hour), 3)
	putEvents(f, g, "new", "fresh", now.Add(-10*time.Minute), 2)
	f.mu.Lock()
	f.staleLast = map[string]int64{g + "|new": now.Add(-80 * time.Hour).UnixMilli()}
	f.mu.Unlock()

	var got []cloud.LogLine
	err := b.Logs(testCtx(t), cloud.LogRequest{Target: addr("lambda:us-east-1/api"), Tail: 7}, func(l cloud.LogLine) { got = append(got, l) })
	if err != nil {
		t.Fatal(err)
	}
	want := "yesterday 2|yesterday 3|today 0|today 1|today 2|fresh 0|fresh 1"
	if m := strings.Join(messagesOf(got), "|"); m != want {
		t.Fatalf("messages = %q\nwant       %q", m, want)
	}
	// The newest stream sorts last by its stale LastEventTime; the read
	// stopped before reaching it or the oldest.
	f.mu.Lock()
	read := strings.Join(slices.Compact(f.readBack), ",")
	f.mu.Unlock()
	if read != "a,b" {
		t.Errorf("streams read backwards = %s, want a,b", read)
	}

	// A filter counts only matching events; a stream is paged backwards
	// until it gave enough.
	got = nil
	if err := b.Logs(testCtx(t), cloud.LogRequest{Target: addr("lambda:us-east-1/api"), Tail: 3, Filter: "ancient"}, func(l cloud.LogLine) { got = append(got, l) }); err != nil {
		t.Fatal(err)
	}
	if m := strings.Join(messagesOf(got), "|"); m != "ancient 7|ancient 8|ancient 9" {
		t.Errorf("filtered = %q", m)
	}
}

// Since with Tail keeps the last Tail of the window.
func TestLogsSinceWithTailKeepsTheNewest(t *testing.T) {
	f, b := deployFake(t)
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})
	now := time.Now()
	putEvents(f, "/aws/lambda/api", "s", "e", now.Add(-10*time.Minute), 6)
	var got []cloud.LogLine
	if err := b.Logs(testCtx(t), cloud.LogRequest{Target: addr("lambda:us-east-1/api"), Since: now.Add(-time.Hour), Tail: 2}, func(l cloud.LogLine) { got = append(got, l) }); err != nil {
		t.Fatal(err)
	}
	if m := strings.Join(messagesOf(got), "|"); m != "e 4|e 5" {
		t.Errorf("messages = %q", m)
	}
}

// The tail read, then the follow, do not repeat an event the history showed.
func TestLogsTailThenFollowNoDuplicate(t *testing.T) {
	f, b := deployFake(t)
	oldMin := pollMin
	pollMin = 20 * time.Millisecond
	t.Cleanup(func() { pollMin = oldMin })
	f.add(&fakeFn{Name: "api", Account: acctA, Region: "us-east-1", ImageURI: ecrRef("api:v1")})
	now := time.Now()
	putEvents(f, "/aws/lambda/api", "s", "e", now.Add(-10*time.Second), 3)
	ctx, cancel := context.WithTimeout(testCtx(t), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	var got []cloud.LogLine
	done := make(chan error, 1)
	go func() {
		done <- b.Logs(ctx, cloud.LogRequest{Target: addr("lambda:us-east-1/api"), Follow: true, Tail: 10}, func(l cloud.LogLine) {
			mu.Lock()
			got = append(got, l)
			if l.Message == "later 0" {
				cancel()
			}
			mu.Unlock()
		})
	}()
	for {
		mu.Lock()
		n := len(messagesOf(got))
		mu.Unlock()
		if n >= 3 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("history never arrived: %v", messagesOf(got))
		case <-time.After(10 * time.Millisecond):
		}
	}
	putEvents(f, "/aws/lambda/api", "s", "later", time.Now(), 1)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if m := strings.Join(messagesOf(got), "|"); m != "e 0|e 1|e 2|later 0" {
		t.Errorf("messages = %q", m)
	}
}
