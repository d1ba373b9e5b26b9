// Package actions runs fndeck's background work: task specs, the runner that
// admits and runs them, their output buffers and files, secret redaction,
// deploy history, per-target locks and invoke history. It knows nothing of
// the terminal: the UI pulls from it (Buffer.Since, Runner.Tasks) when a
// one-slot notify channel says something changed.
package actions

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/fndeck/fndeck/internal/task"
)

// ErrBufferClosed is returned by Write after Close.
var ErrBufferClosed = errors.New("output buffer closed")

// Default bounds, matching the config defaults logs.buffer_lines and logs.buffer_bytes.
const (
	DefaultBufferLines = 50_000
	DefaultBufferBytes = 64 << 20
)

// maxLineCap bounds one stored line whatever maxBytes is: a 90,000-character
// line froze lazydocker; a megabyte is already far more than a pane can show.
const maxLineCap = 1 << 20

// minLineCap keeps tiny test buffers usable.
const minLineCap = 64

// Buffer is a thread-safe ring of output lines bounded by a line count and a
// byte total. Writers never block on readers: old lines are evicted and
// counted. Readers pull with Since and wait on Notify.
//
// One stored line is capped at LineCap() bytes (min(maxBytes/4, 1 MiB), at
// least 64); the rest is cut and the line ends with a "… [N bytes cut]"
// marker. Task output files keep such lines whole.
type Buffer struct {
	mu       sync.Mutex
	maxLines int
	maxBytes int
	lineCap  int

	ring  []task.Line // grows to maxLines, then wraps
	head  int         // index of the oldest held line once the ring wraps
	count int         // lines held
	bytes int         // sum of len(Text) of held lines
	next  uint64      // seq of the next line written

	dropped uint64 // lines evicted so far

	partial    []byte // trailing partial line from Write
	partialCut int    // bytes of the partial line beyond lineCap, discarded

	closed bool
	notify chan struct{}
}

// NewBuffer returns a buffer holding at most maxLines lines and maxBytes bytes
// of text; a value <= 0 takes the default (50,000 lines, 64 MiB).
func NewBuffer(maxLines, maxBytes int) *Buffer {
	if maxLines <= 0 {
		maxLines = DefaultBufferLines
	}
	if maxBytes <= 0 {
		maxBytes = DefaultBufferBytes
	}
	lc := min(maxBytes/4, maxLineCap)
	if lc < minLineCap {
		lc = minLineCap
	}
	return &Buffer{
		maxLines: maxLines,
		maxBytes: maxBytes,
		lineCap:  lc,
		notify:   make(chan struct{}, 1),
	}
}

// LineCap is the most bytes one stored line keeps (before the cut marker).
func (b *Buffer) LineCap() int { return b.lineCap }

// Write splits p into lines on '\n' ("\r\n" loses its '\r'); a trailing
// partial line is held until its '\n' arrives or Close. It always consumes
// all of p unless the buffer is closed.
func (b *Buffer) Write(p []byte) (int, error) {
	n := len(p)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return 0, ErrBufferClosed
	}
	now := time.Now() // one clock read per Write: lines of one write share it
	wrote := false
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			b.holdPartial(p)
			break
		}
		seg := p[:i]
		p = p[i+1:]
		if len(b.partial) > 0 || b.partialCut > 0 {
			b.holdPartial(seg)
			b.pushBytes(now, b.partial, b.partialCut)
			b.partial = b.partial[:0]
			b.partialCut = 0
		} else {
			b.pushBytes(now, seg, 0)
		}
		wrote = true
	}
	b.mu.Unlock()
	if wrote {
		b.signal()
	}
	return n, nil
}

// holdPartial appends to the partial line, discarding (and counting) what
// goes beyond lineCap so an endless line cannot grow memory.
func (b *Buffer) holdPartial(p []byte) {
	room := b.lineCap - len(b.partial)
	if room < 0 {
		room = 0
	}
	if len(p) > room {
		b.partialCut += len(p) - room
		p = p[:room]
	}
	b.partial = append(b.partial, p...)
}

// AddLine appends one whole line. A trailing "\n" or "\r\n" is dropped; other
// newlines inside text are kept as they are (the caller said it is one line).
func (b *Buffer) AddLine(text string) {
	if l := len(text); l > 0 && text[l-1] == '\n' {
		text = text[:l-1]
		if l := len(text); l > 0 && text[l-1] == '\r' {
			text = text[:l-1]
		}
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	cut := 0
	if len(text) > b.lineCap {
		cut = len(text) - b.lineCap
		text = text[:b.lineCap]
	}
	b.push(time.Now(), text, cut)
	b.mu.Unlock()
	b.signal()
}

// AddEvent appends one log event with its structured fields (l.Log). Its
// Time is kept (the event's own timestamp; zero means now) and its Text
// may hold newlines (a multi-line event stays one line). Seq is assigned here.
func (b *Buffer) AddEvent(l task.Line) {
	text := strings.TrimRight(l.Text, "\r\n")
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	when := l.Time
	if when.IsZero() {
		when = time.Now()
	}
	cut := 0
	if len(text) > b.lineCap {
		cut = len(text) - b.lineCap
		text = text[:b.lineCap]
	}
	log := l.Log
	if log != nil && len(log.JSON) > b.lineCap {
		// A payload past the line cap is not kept whole in memory (the
		// file has it); the message still shows.
		c := *log
		c.JSON = ""
		log = &c
	}
	b.pushLine(when, text, cut, log)
	b.mu.Unlock()
	b.signal()
}

func (b *Buffer) pushBytes(now time.Time, p []byte, cut int) {
	if l := len(p); l > 0 && p[l-1] == '\r' {
		p = p[:l-1]
	}
	if len(p) > b.lineCap {
		cut += len(p) - b.lineCap
		p = p[:b.lineCap]
	}
	b.push(now, string(p), cut)
}

// push stores one line (lock held), evicting the oldest lines over the bounds.
func (b *Buffer) push(now time.Time, text string, cut int) { b.pushLine(now, text, cut, nil) }

func (b *Buffer) pushLine(now time.Time, text string, cut int, log *task.LogFields) {
	if cut > 0 {
		// Cut on a rune boundary so the kept part stays valid UTF-8.
		for k := 0; k < utf8.UTFMax && len(text) > 0; k++ {
			r, size := utf8.DecodeLastRuneInString(text)
			if r != utf8.RuneError || size != 1 {
				break
			}
			text = text[:len(text)-1]
			cut++
		}
		text += "… [" + strconv.Itoa(cut) + " bytes cut]"
	}
	ln := task.Line{Seq: b.next, Time: now, Text: text, Log: log}
	b.next++
	b.bytes += lineBytes(&ln)
	switch {
	case b.count < len(b.ring): // a free slot (bytes evicted some lines)
	case len(b.ring) < b.maxLines: // grow lazily: most tasks print little
		if b.head != 0 { // rare: linearize after byte evictions wrapped the ring
			lin := make([]task.Line, b.count, min(b.maxLines, 2*len(b.ring)))
			k := copy(lin, b.ring[b.head:])
			copy(lin[k:], b.ring[:b.head])
			b.ring, b.head = lin, 0
		}
		b.ring = append(b.ring, ln)
		b.count++
		b.trimBytes()
		return
	default: // full by lines: overwrite the oldest
		b.evictOldest()
	}
	b.ring[(b.head+b.count)%len(b.ring)] = ln
	b.count++
	b.trimBytes()
}

// lineBytes is what a held line counts against maxBytes: its text and a
// log event's JSON payload.
func lineBytes(l *task.Line) int {
	if l.Log != nil {
		return len(l.Text) + len(l.Log.JSON)
	}
	return len(l.Text)
}

func (b *Buffer) trimBytes() {
	for b.bytes > b.maxBytes && b.count > 1 {
		b.evictOldest()
	}
}

func (b *Buffer) evictOldest() {
	old := &b.ring[b.head]
	b.bytes -= lineBytes(old)
	old.Text, old.Log = "", nil // let the string be collected
	b.head = (b.head + 1) % len(b.ring)
	b.count--
	b.dropped++
}

func (b *Buffer) signal() {
	select {
	case b.notify <- struct{}{}:
	default:
	}
}

// Since returns copies of the held lines with Seq >= seq, the seq to ask for
// next time, how many lines in [seq, first held) were evicted, and whether
// the buffer is closed and the caller now has everything. With nothing new
// it takes the lock, compares two integers and allocates nothing.
func (b *Buffer) Since(seq uint64) (lines []task.Line, next uint64, dropped uint64, done bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if seq >= b.next {
		return nil, b.next, 0, b.closed
	}
	first := b.next - uint64(b.count)
	if seq < first {
		dropped = first - seq
		seq = first
	}
	n := int(b.next - seq)
	lines = make([]task.Line, n)
	start := b.count - n // offset from head
	if len(b.ring) > 0 {
		i := (b.head + start) % len(b.ring)
		k := copy(lines, b.ring[i:min(len(b.ring), i+n)])
		copy(lines[k:], b.ring[:n-k])
	}
	return lines, b.next, dropped, b.closed
}

// Notify returns the one-slot channel that receives after each write or close.
func (b *Buffer) Notify() <-chan struct{} { return b.notify }

// Close flushes a held partial line and marks the buffer done. It is idempotent.
func (b *Buffer) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	if len(b.partial) > 0 || b.partialCut > 0 {
		b.pushBytes(time.Now(), b.partial, b.partialCut)
		b.partial = nil
		b.partialCut = 0
	}
	b.closed = true
	b.mu.Unlock()
	b.signal()
}

// Len returns the number of lines held.
func (b *Buffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.count
}

// Dropped returns how many lines were evicted since the buffer was made.
func (b *Buffer) Dropped() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}

// Bytes returns the text bytes held (with log events' JSON payloads).
func (b *Buffer) Bytes() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bytes
}
