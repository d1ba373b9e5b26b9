package aws

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// motoPut writes msgs to group/stream in moto, creating both when missing,
// one second apart from base.
func motoPut(t *testing.T, logs *cloudwatchlogs.Client, group, stream string, base time.Time, msgs ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group}); err != nil && !strings.Contains(err.Error(), "ResourceAlreadyExists") {
		t.Fatal(err)
	}
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &group, LogStreamName: &stream}); err != nil && !strings.Contains(err.Error(), "ResourceAlreadyExists") {
		t.Fatal(err)
	}
	var evs []logtypes.InputLogEvent
	for i, m := range msgs {
		evs = append(evs, logtypes.InputLogEvent{Message: sdkaws.String(m), Timestamp: sdkaws.Int64(base.Add(time.Duration(i) * time.Second).UnixMilli())})
	}
	if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: &group, LogStreamName: &stream, LogEvents: evs}); err != nil {
		t.Fatal(err)
	}
}

// lineSink gathers emitted lines for a follow running in a goroutine.
type lineSink struct {
	mu    sync.Mutex
	lines []cloud.LogLine
}

func (s *lineSink) emit(l cloud.LogLine) {
	s.mu.Lock()
	s.lines = append(s.lines, l)
	s.mu.Unlock()
}

func (s *lineSink) snapshot() []cloud.LogLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]cloud.LogLine(nil), s.lines...)
}

func (s *lineSink) waitMessages(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Join(messagesOf(s.snapshot()), "|") == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("messages = %q, want %q", strings.Join(messagesOf(s.snapshot()), "|"), want)
}

// Against moto: the logs path the TUI's l takes (the last N, then follow)
// shows events 20–30 minutes old, which a 15-minute window never did; and
// following a function whose log group does not exist yet waits, then shows
// the group's lines once the function writes them.
func TestMotoLogsOpenOnLatestAndWaitForFirstInvocation(t *testing.T) {
	m := cloudtest.StartMoto(t)
	m.SetEnv(t)
	t.Setenv("AWS_MAX_ATTEMPTS", "2")
	seeded := seedMoto(t, 2)
	oldWait, oldMax, oldPoll := groupWaitMin, groupWaitMax, pollMin
	groupWaitMin, groupWaitMax, pollMin = 20*time.Millisecond, 100*time.Millisecond, 20*time.Millisecond
	t.Cleanup(func() { groupWaitMin, groupWaitMax, pollMin = oldWait, oldMax, oldPoll })
	b := New(Options{Regions: []string{"us-east-1"}})
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	logs := cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.Region = "us-east-1" })
	var names []string
	for _, s := range seeded {
		if s.region == "us-east-1" {
			names = append(names, s.name)
		}
	}
	quiet, fresh := names[0], names[1]

	// quiet last ran 20–30 minutes ago.
	now := time.Now()
	var old []string
	for i := range 5 {
		old = append(old, fmt.Sprintf("old event %d", i))
	}
	motoPut(t, logs, "/aws/lambda/"+quiet, "2026/11/25/[$LATEST]a", now.Add(-30*time.Minute), old[:3]...)
	motoPut(t, logs, "/aws/lambda/"+quiet, "2026/11/25/[$LATEST]b", now.Add(-21*time.Minute), old[3:]...)

	ctx, cancel := context.WithTimeout(testCtx(t), 60*time.Second)
	defer cancel()
	sink := &lineSink{}
	done := make(chan error, 1)
	go func() {
		done <- b.Logs(ctx, cloud.LogRequest{Target: addr("lambda:us-east-1/" + quiet), Tail: cloud.DefaultLogTail, Follow: true}, sink.emit)
	}()
	sink.waitMessages(t, strings.Join(old, "|"))
	motoPut(t, logs, "/aws/lambda/"+quiet, "2026/11/25/[$LATEST]b", time.Now(), "new event")
	sink.waitMessages(t, strings.Join(old, "|")+"|new event")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Without Since or Tail (fndeck logs's request when logs.tail is unset)
	// the same last events print.
	got := &lineSink{}
	if err := b.Logs(testCtx(t), cloud.LogRequest{Target: addr("lambda:us-east-1/" + quiet)}, got.emit); err != nil {
		t.Fatal(err)
	}
	if m := strings.Join(messagesOf(got.snapshot()), "|"); m != strings.Join(old, "|")+"|new event" {
		t.Errorf("read without since = %q", m)
	}

	// fresh has never been invoked: no log group. A read prints nothing
	// and succeeds; a follow waits, then shows the first lines.
	empty := &lineSink{}
	if err := b.Logs(testCtx(t), cloud.LogRequest{Target: addr("lambda:us-east-1/" + fresh)}, empty.emit); err != nil || len(empty.snapshot()) != 0 {
		t.Fatalf("read of a function without a log group: %v, %v", err, empty.snapshot())
	}
	ctx, cancel = context.WithTimeout(testCtx(t), 60*time.Second)
	defer cancel()
	sink = &lineSink{}
	go func() {
		done <- b.Logs(ctx, cloud.LogRequest{Target: addr("lambda:us-east-1/" + fresh), Tail: cloud.DefaultLogTail, Follow: true}, sink.emit)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		lines := sink.snapshot()
		if len(lines) > 0 {
			if !lines[0].Notice || !strings.Contains(lines[0].Message, cloud.WaitingNotice) {
				t.Fatalf("first line = %+v, want the waiting notice", lines[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no waiting notice")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a few looks at a group that is not there
	motoPut(t, logs, "/aws/lambda/"+fresh, "2026/11/26/[$LATEST]c", time.Now(), "START RequestId: r1", "first line")
	sink.waitMessages(t, "START RequestId: r1|first line")
	motoPut(t, logs, "/aws/lambda/"+fresh, "2026/11/26/[$LATEST]c", time.Now().Add(5*time.Second), "second line")
	sink.waitMessages(t, "START RequestId: r1|first line|second line")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, l := range sink.snapshot() {
		if l.Notice && strings.Contains(l.Message, "fail") {
			t.Errorf("unexpected notice: %s", l.Message)
		}
	}
}
