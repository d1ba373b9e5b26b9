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

// `l` asks for a bounded recent history and then follows from now: a pane
// opened on a flooding function must not replay the flood.
func TestLogsAskForBoundedHistoryThenFollow(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	b := reqBackend{got: make(chan cloud.LogRequest, 1), busy: make(chan func() bool, 1), emit: make(chan func(cloud.LogLine), 1)}
	out := output.New(output.Options{})
	out.SetSize(80, 20)
	f := New(Deps{Ctx: ctx, Runner: &seqRunner{ctx: ctx}, Output: out, Now: func() time.Time { return now },
		Backends: func(cloud.Provider) any { return b }})
	f.Handle(common.LogsRequestMsg{Address: "local:fn"})
	select {
	case req := <-b.got:
		if !req.Follow || req.Tail != logHistoryLines || req.Tail <= 0 || req.Tail > 1000 {
			t.Errorf("request %+v: want a follow with a bounded tail of %d lines", req, logHistoryLines)
		}
		if req.Since.After(now) || now.Sub(req.Since) > time.Hour {
			t.Errorf("since %v: want a bounded window before now %v", req.Since, now)
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
