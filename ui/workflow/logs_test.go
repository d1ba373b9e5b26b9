package workflow

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/task"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/output"
)

// reqBackend records the log request it was given.
type reqBackend struct {
	got  chan cloud.LogRequest
	emit chan func(cloud.LogLine)
}

func (b reqBackend) Logs(ctx context.Context, req cloud.LogRequest, emit func(cloud.LogLine)) error {
	b.got <- req
	b.emit <- emit
	<-ctx.Done()
	return ctx.Err()
}

// eventSink is a task output that keeps log events whole, as actions' does.
type eventSink struct {
	mu     sync.Mutex
	lines  []string
	events []cloud.LogLine
}

func (s *eventSink) Line(l string)           { s.mu.Lock(); s.lines = append(s.lines, l); s.mu.Unlock() }
func (s *eventSink) Progress(cloud.Progress) {}
func (s *eventSink) Log(l cloud.LogLine) {
	s.mu.Lock()
	s.events = append(s.events, l)
	s.mu.Unlock()
}

// sinkRunner runs every task with one sink.
type sinkRunner struct {
	seqRunner
	sink cloud.Sink
}

func (r *sinkRunner) Submit(kind task.Kind, target, title string, run func(ctx context.Context, out cloud.Sink) error) task.ID {
	r.mu.Lock()
	r.n++
	id := task.ID(r.n)
	r.titles = append(r.titles, title)
	r.mu.Unlock()
	go run(r.ctx, r.sink)
	return id
}

// `l` asks for the last logs.tail events whatever their age (no time
// window, so a function last called an hour ago still shows its lines) and
// then follows from now; every event reaches the task's output whole, its
// fields kept, none dropped on the way (the pane pulls from the task).
func TestLogsAskForLastEventsThenFollow(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	b := reqBackend{got: make(chan cloud.LogRequest, 1), emit: make(chan func(cloud.LogLine), 1)}
	out := output.New(output.Options{})
	out.SetSize(80, 20)
	sink := &eventSink{}
	f := New(Deps{Ctx: ctx, Runner: &sinkRunner{seqRunner: seqRunner{ctx: ctx}, sink: sink}, Output: out, Now: func() time.Time { return now },
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
	emit := <-b.emit
	const n = 5000 // more than the old feed's batch: nothing is paced away
	for i := 0; i < n; i++ {
		emit(cloud.LogLine{Time: now, Severity: "INFO", Stream: "s", Message: fmt.Sprint(i), JSON: []byte(`{"i":1}`)})
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.events) != n {
		t.Fatalf("%d events reached the task, want %d", len(sink.events), n)
	}
	for i, e := range sink.events {
		if e.Message != fmt.Sprint(i) || e.Severity != "INFO" || e.Stream != "s" || string(e.JSON) != `{"i":1}` || !e.Time.Equal(now) {
			t.Fatalf("event %d arrived as %+v", i, e)
		}
	}
}
