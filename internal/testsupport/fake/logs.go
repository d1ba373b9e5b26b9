package fake

import (
	"context"

	"github.com/fndeck/fndeck/cloud"
)

// Tailer is a cloud.LogTailer whose follows emit what a test sends with
// Emit, in order, until their context ends. Lines sent while no follow
// runs wait for the next one.
type Tailer struct {
	ch chan cloud.LogLine
}

var _ cloud.LogTailer = (*Tailer)(nil)

// NewTailer returns a Tailer holding up to 4,096 lines not yet emitted.
func NewTailer() *Tailer { return &Tailer{ch: make(chan cloud.LogLine, 4096)} }

// Emit queues lines for the running (or next) follow.
func (t *Tailer) Emit(lines ...cloud.LogLine) {
	for _, l := range lines {
		t.ch <- l
	}
}

// Logs implements cloud.LogTailer: without Follow it returns at once (no
// history); with Follow it emits queued lines until ctx ends.
func (t *Tailer) Logs(ctx context.Context, req cloud.LogRequest, emit func(cloud.LogLine)) error {
	if !req.Follow {
		return nil
	}
	for {
		select {
		case l := <-t.ch:
			if l.Address == "" {
				l.Address = req.Target.String()
			}
			emit(l)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
