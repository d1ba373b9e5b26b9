package shim

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// readChunk is how much one read of the app's pipe takes: large reads keep
// the shim's cost per line small during a flood.
const readChunk = 64 << 10

// appOutput carries the app's stdout and stderr through pipes: every byte
// is copied to the shim's own stdout/stderr (so the engine's logs, history
// and back-pressure are what they were without the shim), and each complete
// line is offered to the tap.
type appOutput struct {
	tap   *Tap
	mu    sync.Mutex // one writer at a time on the shim's stdout/stderr: lines stay whole and in order
	out   [2]io.Writer
	pipes [2]*pipe
}

type pipe struct {
	r, w     *os.File
	kind     byte
	inflight atomic.Bool // a read returned bytes not yet copied out
	done     chan struct{}
}

// newAppOutput makes the two pipes and starts copying from them.
func newAppOutput(stdout, stderr io.Writer, tap *Tap) (*appOutput, error) {
	o := &appOutput{tap: tap, out: [2]io.Writer{stdout, stderr}}
	for i, kind := range []byte{KindStdout, KindStderr} {
		r, w, err := os.Pipe()
		if err != nil {
			for _, p := range o.pipes[:i] {
				p.r.Close()
				p.w.Close()
			}
			return nil, fmt.Errorf("making the output pipe: %w", err)
		}
		o.pipes[i] = &pipe{r: r, w: w, kind: kind, done: make(chan struct{})}
	}
	for i, p := range o.pipes {
		go o.copy(i, p)
	}
	return o, nil
}

// Stdout and Stderr are the write ends the app gets.
func (o *appOutput) Stdout() *os.File { return o.pipes[0].w }
func (o *appOutput) Stderr() *os.File { return o.pipes[1].w }

// closeWriters drops the shim's own copies of the write ends, so the readers
// see EOF once every process holding them has exited.
func (o *appOutput) closeWriters() {
	for _, p := range o.pipes {
		p.w.Close()
	}
}

// wait waits (at most d) until both readers reached EOF, then closes the
// read ends: a grandchild that keeps a pipe open must not hold the shim.
func (o *appOutput) wait(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	for _, p := range o.pipes {
		select {
		case <-p.done:
		case <-t.C:
		}
	}
	for _, p := range o.pipes {
		p.r.Close()
	}
}

func (o *appOutput) copy(i int, p *pipe) {
	defer close(p.done)
	buf := make([]byte, readChunk+1)
	have := 0 // bytes of an unfinished line at the start of buf
	for {
		n, err := p.r.Read(buf[have:readChunk])
		if n > 0 {
			p.inflight.Store(true)
			at := time.Now()
			o.mu.Lock()
			// The engine's copy: blocking here is the engine's back-pressure,
			// which the app felt before the shim stood in between.
			_, _ = o.out[i].Write(buf[have : have+n])
			have += n
			end := bytes.LastIndexByte(buf[:have], '\n') + 1
			if end == 0 && have == readChunk {
				// A line longer than the buffer: pass it on in pieces.
				buf[have] = '\n'
				o.tap.Publish(p.kind, at, buf[:have+1])
				have = 0
			} else if end > 0 {
				o.tap.Publish(p.kind, at, buf[:end])
				have = copy(buf, buf[end:have])
			}
			o.mu.Unlock()
			p.inflight.Store(false)
		}
		if err != nil {
			if have > 0 { // the last line had no newline
				buf[have] = '\n'
				o.tap.Publish(p.kind, time.Now(), buf[:have+1])
			}
			return
		}
	}
}

// settle waits briefly until the app's pipes are empty, so a line the app
// wrote before the shim writes its own (END after the handler's output)
// comes first, as it did when the app wrote to the container's stdout
// directly. Bounded: during a flood there is always more.
func (o *appOutput) settle() {
	deadline := time.Now().Add(50 * time.Millisecond)
	for i := 0; ; i++ {
		busy := false
		for _, p := range o.pipes {
			if p.inflight.Load() || pipeBuffered(p.r) > 0 {
				busy = true
				break
			}
		}
		if !busy || time.Now().After(deadline) {
			return
		}
		// The reader usually needs only to be scheduled: yield first
		// (an invoke's END waits on this), then back off.
		if i < 200 {
			runtime.Gosched()
		} else {
			time.Sleep(50 * time.Microsecond)
		}
	}
}

// writeOwn writes the shim's own text (whole lines) to stream i (0 stdout,
// 1 stderr) and the tap, after the app's pending output.
func (o *appOutput) writeOwn(i int, text string) {
	o.settle()
	o.mu.Lock()
	defer o.mu.Unlock()
	_, _ = io.WriteString(o.out[i], text)
	o.tap.Publish(o.pipes[i].kind, time.Now(), []byte(text))
}
