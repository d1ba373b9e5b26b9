package workflow

import (
	"context"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/output"
)

// reqBackend records the log request it was given.
type reqBackend struct {
	got  chan cloud.LogRequest
	busy chan func() bool
	emit chan func(cloud.LogLine)
}

func (b reqBackend) Logs(ctx context.Context, req cloud.LogRequest, emit func(cloud.LogLine)) error {
	b.got <- req
	b.busy <- cloud.LogBusy(ctx)
	b.emit <- emit
	<-ctx.Done()
	return ctx.Err()
}

// `l` asks for the last logs.tail events whatever their age (no time
// window, so a function last called an hour ago still shows its lines) and
// then follows from now: a pane opened on a flooding function must not
// replay the flood.
func TestLogsAskForLastEventsThenFollow(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	b := reqBackend{got: make(chan cloud.LogRequest, 1), busy: make(chan func() bool, 1), emit: make(chan func(cloud.LogLine), 1)}
	out := output.New(output.Options{})
	out.SetSize(80, 20)
	f := New(Deps{Ctx: ctx, Runner: &seqRunner{ctx: ctx}, Output: out, Now: func() time.Time { return now },
		Backends: func(cloud.Provider) any { return b }, LogTail: 37})
	f.Handle(common.LogsRequestMsg{Address: "local:fn"})
	select {
	case req := <-b.got:
		if !req.Follow || req.Tail != 37 {
			t.Errorf("request %+v: want a follow with the configured tail of 37 events", req)
		}
		if !req.Since.IsZero() {
			t.Errorf("since %v: want no time window (the last events whatever their age)", req.Since)
		}
		if req.Target.String() != "local:fn" {
			t.Errorf("target %s", req.Target)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no log request")
	}
	// The feed tells the backend when a batch's worth waits for the UI, so
	// a flood can be dropped at its source; taking the batch clears it.
	busy, emit := <-b.busy, <-b.emit
	if busy == nil {
		t.Fatal("the tail's context carries no busy signal")
	}
	for i := 0; i < logPaceLines-1; i++ {
		emit(cloud.LogLine{Message: "x"})
	}
	if busy() {
		t.Errorf("busy below %d pending lines", logPaceLines)
	}
	emit(cloud.LogLine{Message: "x"})
	if !busy() {
		t.Errorf("not busy at %d pending lines", logPaceLines)
	}
	f.mu.Lock()
	var feed *logFeed
	for _, fd := range f.tails {
		feed = fd
	}
	f.mu.Unlock()
	if lines, _ := feed.take(now); len(lines) != logPaceLines || busy() {
		t.Errorf("took %d lines, busy after %v", len(lines), busy())
	}
}
