package shim

import (
	"bufio"
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// TapPath is the log tap's route on the shim's log address. fndeck follows a
// local function's output here instead of through the engine's follow
// stream, which delivers one HTTP chunk per line and falls seconds behind a
// flood. The tap listens on its own address (not the app's port), so no
// route of the app can collide with it and a flood's tap traffic does not
// queue behind invokes.
const TapPath = "/fndeck/v1/logs"

// TapHeader is set on the tap's response; its value is the wire format's version.
const TapHeader = "X-Fndeck-Log-Tap"

// The tap answers only a request carrying TokenHeader with the token the
// shim found in TokenEnv (when one was set): logs can hold secrets, and the
// tap's port on 127.0.0.1 is open to every local user, while the token, like
// `docker logs`, is readable only by those who may use the engine (it sits
// in the container's configuration). The shim removes TokenEnv from the
// app's environment.
const (
	TokenEnv    = "FNDECK_LOG_TOKEN"
	TokenHeader = "X-Fndeck-Log-Token"
)

// Wire format (version 1): a stream of records, each one line:
//
//	<kind><receive time, Unix ns> <text>\n
//
// kind 'o' is a stdout line, 'e' a stderr line, 'd' a drop marker whose
// text is the decimal count of lines this subscriber missed just before
// the next record. Text is the raw line without its newline; a line longer
// than maxLine arrives split, as the engine splits long lines.
const (
	KindStdout = 'o'
	KindStderr = 'e'
	KindDrop   = 'd'
)

// maxLine is the longest line the tap passes whole; longer ones are split.
const maxLine = 64 << 10

// subscriberBuffer is how many encoded bytes may wait for one subscriber
// (on top of what its TCP connection holds). Past it the subscriber's lines
// are dropped and counted: a slow reader never holds up the app.
const subscriberBuffer = 2 << 20

// A subscriber's writes wait up to coalesceDelay for coalesceBytes to gather.
const (
	coalesceDelay = 10 * time.Millisecond
	coalesceBytes = 128 << 10
)

// Tap fans the function's output lines out to subscribers that connected
// over HTTP. Publishing never blocks: each subscriber has a bounded buffer,
// and what does not fit is dropped for that subscriber only and reported to
// it, in order, as a counted drop marker.
type Tap struct {
	mu      sync.Mutex
	subs    map[*tapSub]struct{}
	scratch []byte // the current batch, encoded once for every subscriber
	closed  bool
	limit   int
	token   string
}

type tapSub struct {
	buf, spare []byte
	dropped    uint64
	wake       chan struct{}
	gone       chan struct{} // closed by the tap when it shuts down
}

// NewTap returns a tap with no subscribers that answers requests carrying
// token in TokenHeader ("" answers every request).
func NewTap(token string) *Tap {
	return &Tap{subs: map[*tapSub]struct{}{}, limit: subscriberBuffer, token: token}
}

// Subscribers returns how many subscribers are connected (tests use it to
// see a disconnect cleaned up).
func (t *Tap) Subscribers() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.subs)
}

// Publish offers complete lines (each ending in '\n') received at at on
// stream kind to every subscriber.
func (t *Tap) Publish(kind byte, at time.Time, lines []byte) {
	if len(lines) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.subs) == 0 {
		return
	}
	var ts [24]byte
	stamp := strconv.AppendInt(ts[:0], at.UnixNano(), 10)
	var b []byte
	n := uint64(0)
	encoded := false
	// Encode once, and only when some subscriber has room: a stalled
	// subscriber costs the app a line count, not an encoding.
	encode := func() {
		b, n = t.encode(kind, stamp, lines)
		encoded = true
	}
	for s := range t.subs {
		if !encoded && len(s.buf) >= t.limit {
			s.dropped += countLines(lines)
			continue
		}
		if !encoded {
			encode()
		}
		if len(s.buf)+len(b) > t.limit {
			s.dropped += n
			continue
		}
		if s.dropped > 0 {
			s.buf = append(s.buf, KindDrop)
			s.buf = append(s.buf, stamp...)
			s.buf = append(s.buf, ' ')
			s.buf = strconv.AppendUint(s.buf, s.dropped, 10)
			s.buf = append(s.buf, '\n')
			s.dropped = 0
		}
		s.buf = append(s.buf, b...)
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// encode renders lines as records into t.scratch and returns them with
// their count.
func (t *Tap) encode(kind byte, stamp, lines []byte) ([]byte, uint64) {
	b := t.scratch[:0]
	n := uint64(0)
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		line := lines
		if i >= 0 {
			line, lines = lines[:i], lines[i+1:]
		} else {
			lines = nil
		}
		for {
			part := line
			if len(part) > maxLine {
				part = line[:maxLine]
			}
			b = append(b, kind)
			b = append(b, stamp...)
			b = append(b, ' ')
			b = append(b, part...)
			b = append(b, '\n')
			n++
			line = line[len(part):]
			if len(line) == 0 {
				break
			}
		}
	}
	t.scratch = b
	return b, n
}

// countLines counts the records encode would make of lines.
func countLines(lines []byte) uint64 {
	n := uint64(0)
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		line := lines
		if i >= 0 {
			line, lines = lines[:i], lines[i+1:]
		} else {
			lines = nil
		}
		n += uint64(max(1, (len(line)+maxLine-1)/maxLine))
	}
	return n
}

// Close ends every subscription after what is buffered has been sent.
func (t *Tap) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	now := strconv.AppendInt(nil, time.Now().UnixNano(), 10)
	for s := range t.subs {
		if s.dropped > 0 { // the count still reaches the subscriber
			s.buf = append(s.buf, KindDrop)
			s.buf = append(s.buf, now...)
			s.buf = append(s.buf, ' ')
			s.buf = strconv.AppendUint(s.buf, s.dropped, 10)
			s.buf = append(s.buf, '\n')
			s.dropped = 0
		}
		close(s.gone)
	}
}

// ServeHTTP streams records from the moment of the request until the client
// goes away or the tap closes. One write and one flush per batch.
func (t *Tap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != TapPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	if t.token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get(TokenHeader)), []byte(t.token)) != 1 {
		http.Error(w, "the log tap needs the container's token", http.StatusForbidden)
		return
	}
	s := &tapSub{wake: make(chan struct{}, 1), gone: make(chan struct{})}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		http.Error(w, "the function is stopping", http.StatusServiceUnavailable)
		return
	}
	t.subs[s] = struct{}{}
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.subs, s)
		t.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set(TapHeader, "1")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush() // the subscriber knows it is connected from here on
	ending := false
	for {
		select {
		case <-s.wake:
			// Let a busy app's lines gather for a moment: a few large
			// writes cost the reader far fewer wake-ups and reads than one
			// small write per pipe read (an app flushing every millisecond).
			t.mu.Lock()
			small := len(s.buf) < coalesceBytes
			t.mu.Unlock()
			if small {
				time.Sleep(coalesceDelay)
			}
		case <-s.gone:
			ending = true
		case <-r.Context().Done():
			return
		}
		t.mu.Lock()
		b := s.buf
		s.buf, s.spare = s.spare[:0], b
		t.mu.Unlock()
		if len(b) > 0 {
			if _, err := w.Write(b); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
		if cap(s.spare) > 4*t.limit { // a burst of huge lines: do not keep its memory
			s.spare = nil
		}
		if ending {
			return
		}
	}
}

// serveTap listens on addr and serves the tap until ctx ends. The listener
// error is returned at once; serving errors are not (the function must
// keep running without its tap).
func serveTap(ctx context.Context, addr string, t *Tap) (stop func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for the log tap on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: t, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	return func() {
		t.Close()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = srv.Close()
		<-done
	}, nil
}

// TapRecord is one decoded record of the tap's wire format.
type TapRecord struct {
	Kind    byte      // KindStdout, KindStderr or KindDrop
	Time    time.Time // when the shim received the line
	Text    []byte    // the line; valid until the next Next call
	Dropped uint64    // for KindDrop: how many lines were missed
}

// TapReader decodes the tap's wire format from r with large reads.
type TapReader struct {
	br  *bufio.Reader
	rec TapRecord
}

// NewTapReader returns a decoder reading r through a buffer of size bytes.
func NewTapReader(r io.Reader, size int) *TapReader {
	return &TapReader{br: bufio.NewReaderSize(r, size)}
}

// Next returns the next record; io.EOF when the stream ended cleanly.
func (tr *TapReader) Next() (*TapRecord, error) {
	line, err := tr.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// Longer than the buffer: cannot come from a well-behaved shim
		// (maxLine is far smaller than any reader buffer fndeck uses).
		return nil, fmt.Errorf("log tap record longer than %d bytes", tr.br.Size())
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return nil, io.EOF
		}
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	sp := bytes.IndexByte(line, ' ')
	if len(line) < 2 || sp < 2 {
		return nil, fmt.Errorf("log tap: malformed record %q", truncate(line, 40))
	}
	ns, perr := strconv.ParseInt(string(line[1:sp]), 10, 64)
	if perr != nil {
		return nil, fmt.Errorf("log tap: malformed time in %q", truncate(line, 40))
	}
	tr.rec = TapRecord{Kind: line[0], Time: time.Unix(0, ns), Text: line[sp+1:]}
	switch tr.rec.Kind {
	case KindStdout, KindStderr:
	case KindDrop:
		n, perr := strconv.ParseUint(string(tr.rec.Text), 10, 64)
		if perr != nil {
			return nil, fmt.Errorf("log tap: malformed drop count %q", truncate(tr.rec.Text, 40))
		}
		tr.rec.Dropped = n
	default:
		return nil, fmt.Errorf("log tap: unknown record kind %q", tr.rec.Kind)
	}
	return &tr.rec, nil
}

// Buffered returns how many bytes are read but not yet decoded: 0 means the
// next Next or Skip waits for the network.
func (tr *TapReader) Buffered() int { return tr.br.Buffered() }

// Skip discards the records already read into the buffer (at least one,
// reading if none is) and returns how many lines they stood for: a drop
// marker counts as the lines it reports. Its cost is a newline search per
// record, for a reader that has no room for the lines.
func (tr *TapReader) Skip() (uint64, error) {
	if tr.br.Buffered() == 0 {
		if _, err := tr.br.Peek(1); err != nil {
			if errors.Is(err, io.EOF) {
				return 0, io.EOF
			}
			return 0, err
		}
	}
	buf, _ := tr.br.Peek(tr.br.Buffered())
	var n uint64
	used := 0
	for {
		i := bytes.IndexByte(buf[used:], '\n')
		if i < 0 {
			break
		}
		rec := buf[used : used+i]
		used += i + 1
		if len(rec) > 0 && rec[0] == KindDrop {
			if sp := bytes.IndexByte(rec, ' '); sp > 0 {
				if d, err := strconv.ParseUint(string(rec[sp+1:]), 10, 64); err == nil {
					n += d
					continue
				}
			}
			return n, fmt.Errorf("log tap: malformed drop marker %q", truncate(rec, 40))
		}
		n++
	}
	if used == 0 {
		// Only part of a record is buffered: take it whole the usual way.
		rec, err := tr.Next()
		if err != nil {
			return 0, err
		}
		if rec.Kind == KindDrop {
			return rec.Dropped, nil
		}
		return 1, nil
	}
	_, _ = tr.br.Discard(used)
	return n, nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
