package actions

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fndeck/fndeck/internal/task"
)

func texts(ls []task.Line) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Text
	}
	return out
}

func TestBufferWriteSplitsAndHoldsPartial(t *testing.T) {
	b := NewBuffer(100, 1<<20)
	b.Write([]byte("one\ntw"))
	b.Write([]byte("o\r\nthree"))
	lines, next, dropped, done := b.Since(0)
	if got := strings.Join(texts(lines), "|"); got != "one|two" {
		t.Fatalf("lines = %q, want one|two", got)
	}
	if next != 2 || dropped != 0 || done {
		t.Fatalf("next=%d dropped=%d done=%v, want 2 0 false", next, dropped, done)
	}
	if lines[0].Seq != 0 || lines[1].Seq != 1 || lines[0].Time.IsZero() {
		t.Fatalf("bad seq/time: %+v", lines)
	}
	// Nothing new: no lines, same next.
	if l, n, _, d := b.Since(next); l != nil || n != 2 || d {
		t.Fatalf("Since(next) = %v %d %v", l, n, d)
	}
	b.Close()
	lines, next, _, done = b.Since(next)
	if len(lines) != 1 || lines[0].Text != "three" || next != 3 || !done {
		t.Fatalf("after Close: %q next=%d done=%v", texts(lines), next, done)
	}
	if _, err := b.Write([]byte("x\n")); err != ErrBufferClosed {
		t.Fatalf("Write after Close: %v, want ErrBufferClosed", err)
	}
}

func TestBufferEvictsByLines(t *testing.T) {
	b := NewBuffer(3, 1<<20)
	for i := range 5 {
		b.AddLine(fmt.Sprint(i))
	}
	if b.Len() != 3 || b.Dropped() != 2 {
		t.Fatalf("len=%d dropped=%d, want 3 2", b.Len(), b.Dropped())
	}
	lines, next, dropped, _ := b.Since(0)
	if got := strings.Join(texts(lines), ""); got != "234" || next != 5 || dropped != 2 {
		t.Fatalf("Since(0) = %q next=%d dropped=%d", got, next, dropped)
	}
	lines, _, dropped, _ = b.Since(1)
	if got := strings.Join(texts(lines), ""); got != "234" || dropped != 1 {
		t.Fatalf("Since(1) = %q dropped=%d", got, dropped)
	}
	lines, _, dropped, _ = b.Since(3)
	if got := strings.Join(texts(lines), ""); got != "34" || dropped != 0 || lines[0].Seq != 3 {
		t.Fatalf("Since(3) = %q dropped=%d", got, dropped)
	}
}

func TestBufferEvictsByBytes(t *testing.T) {
	b := NewBuffer(1000, 1000) // line cap 250
	line := strings.Repeat("x", 100)
	for range 25 {
		b.AddLine(line)
	}
	if b.Bytes() > 1000 || b.Len() != 10 || b.Dropped() != 15 {
		t.Fatalf("bytes=%d len=%d dropped=%d, want <=1000 10 15", b.Bytes(), b.Len(), b.Dropped())
	}
	// After byte evictions wrapped the ring, small lines still fill up to maxLines.
	for i := range 500 {
		b.AddLine(fmt.Sprint(i % 10))
	}
	// 500 one-byte lines push out five of the 100-byte lines.
	if b.Bytes() != 1000 || b.Len() != 505 {
		t.Fatalf("bytes=%d len=%d, want 1000 505", b.Bytes(), b.Len())
	}
	lines, next, dropped, _ := b.Since(0)
	if uint64(len(lines))+dropped != next {
		t.Fatalf("held %d + dropped %d != next %d", len(lines), dropped, next)
	}
	for i := 1; i < len(lines); i++ {
		if lines[i].Seq != lines[i-1].Seq+1 {
			t.Fatalf("seq gap at %d: %d after %d", i, lines[i].Seq, lines[i-1].Seq)
		}
	}
}

func TestBufferHugeLineIsCapped(t *testing.T) {
	b := NewBuffer(100, 64<<20)
	if b.LineCap() != 1<<20 {
		t.Fatalf("LineCap = %d, want 1 MiB", b.LineCap())
	}
	huge := strings.Repeat("a", 3<<20)
	// Arrives in pieces without a newline, as a container log would.
	for i := 0; i < len(huge); i += 64 << 10 {
		b.Write([]byte(huge[i : i+64<<10]))
	}
	b.Write([]byte("\nnext\n"))
	lines, _, _, _ := b.Since(0)
	if len(lines) != 2 || lines[1].Text != "next" {
		t.Fatalf("got %d lines", len(lines))
	}
	want := fmt.Sprintf("… [%d bytes cut]", 2<<20)
	if !strings.HasSuffix(lines[0].Text, want) || len(lines[0].Text) != 1<<20+len(want) {
		t.Fatalf("huge line: len %d, suffix %q", len(lines[0].Text), lines[0].Text[len(lines[0].Text)-30:])
	}
	// A line bigger than the whole byte budget is cut to a quarter of it.
	small := NewBuffer(100, 4096)
	small.AddLine(strings.Repeat("b", 10_000))
	small.AddLine("tail")
	if small.Bytes() > 4096 || small.Len() != 2 {
		t.Fatalf("bytes=%d len=%d", small.Bytes(), small.Len())
	}
}

func TestBufferNotify(t *testing.T) {
	b := NewBuffer(10, 1000)
	select {
	case <-b.Notify():
		t.Fatal("notified before any write")
	default:
	}
	b.AddLine("a")
	b.AddLine("b") // one slot: the second send is dropped, not blocked
	<-b.Notify()
	select {
	case <-b.Notify():
		t.Fatal("two notifications from one slot")
	default:
	}
	b.Write([]byte("partial")) // no complete line: no notify
	select {
	case <-b.Notify():
		t.Fatal("notified for a partial line")
	default:
	}
	b.Close()
	select {
	case <-b.Notify():
	case <-time.After(30 * time.Second):
		t.Fatal("no notification on Close")
	}
}

func TestBufferConcurrentWriters(t *testing.T) {
	b := NewBuffer(1000, 1<<20)
	const writers, per = 8, 2000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	readerDone := make(chan uint64)
	go func() { // a reader pulling like the output pane
		var seq, seen uint64
		for {
			lines, next, dropped, done := b.Since(seq)
			seen += uint64(len(lines)) + dropped
			seq = next
			if done {
				readerDone <- seen
				return
			}
			select {
			case <-b.Notify():
			case <-stop:
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if i%2 == 0 {
					fmt.Fprintf(b, "w%d line %d\n", w, i)
				} else {
					b.AddLine(fmt.Sprintf("w%d line %d", w, i))
				}
			}
		}()
	}
	wg.Wait()
	b.Close()
	close(stop)
	if seen := <-readerDone; seen != writers*per {
		t.Fatalf("reader accounted for %d lines, want %d", seen, writers*per)
	}
	if b.Len() != 1000 || b.Dropped() != writers*per-1000 {
		t.Fatalf("len=%d dropped=%d", b.Len(), b.Dropped())
	}
}

func BenchmarkBufferWrite(b *testing.B) {
	buf := NewBuffer(DefaultBufferLines, DefaultBufferBytes)
	// 64 lines per Write, like a chunk from a container log stream.
	var chunk []byte
	for i := range 64 {
		chunk = fmt.Appendf(chunk, "2026-11-25T10:00:00Z INFO request %d handled in 12ms path=/api/v1/items\n", i)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	for b.Loop() {
		buf.Write(chunk)
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkBufferAddLine(b *testing.B) {
	buf := NewBuffer(DefaultBufferLines, DefaultBufferBytes)
	b.ReportAllocs()
	for b.Loop() {
		buf.AddLine("2026-11-25T10:00:00Z INFO request handled in 12ms path=/api/v1/items")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkBufferSinceFull(b *testing.B) {
	buf := NewBuffer(DefaultBufferLines, DefaultBufferBytes)
	for i := range DefaultBufferLines + 10 {
		buf.AddLine(fmt.Sprintf("line %d", i))
	}
	b.Run("all", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if l, _, _, _ := buf.Since(0); len(l) != DefaultBufferLines {
				b.Fatal(len(l))
			}
		}
	})
	b.Run("nothing-new", func(b *testing.B) {
		_, next, _, _ := buf.Since(0)
		b.ReportAllocs()
		for b.Loop() {
			if l, _, _, _ := buf.Since(next); l != nil {
				b.Fatal(len(l))
			}
		}
	})
}

func TestBufferCutKeepsUTF8(t *testing.T) {
	b := NewBuffer(10, 256) // line cap 64
	b.AddLine(strings.Repeat("a", 63) + strings.Repeat("é", 10))
	lines, _, _, _ := b.Since(0)
	kept, _, _ := strings.Cut(lines[0].Text, "…")
	if !utf8.ValidString(lines[0].Text) || kept != strings.Repeat("a", 63)+" [" && kept != strings.Repeat("a", 63) {
		t.Fatalf("cut line %q", lines[0].Text)
	}
	if !strings.HasSuffix(lines[0].Text, "[20 bytes cut]") {
		t.Fatalf("cut line %q", lines[0].Text)
	}
}

// A log event keeps its time and fields; its JSON payload counts against
// the byte bound, and one past the line cap is not held in memory.
func TestBufferAddEventKeepsFieldsAndCountsPayload(t *testing.T) {
	b := NewBuffer(100, 1024) // line cap 256
	at := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	b.AddEvent(task.Line{Time: at, Text: "a\nb\n", Log: &task.LogFields{Severity: "INFO", JSON: strings.Repeat("j", 200)}})
	if got := b.Bytes(); got != 3+200 {
		t.Fatalf("bytes %d, want text 3 + payload 200", got)
	}
	lines, _, _, _ := b.Since(0)
	if len(lines) != 1 || lines[0].Text != "a\nb" || !lines[0].Time.Equal(at) || lines[0].Log.Severity != "INFO" {
		t.Fatalf("event %+v", lines)
	}
	big := &task.LogFields{JSON: strings.Repeat("k", 300)}
	b.AddEvent(task.Line{Text: "big", Log: big})
	lines, _, _, _ = b.Since(1)
	if lines[0].Log.JSON != "" || big.JSON == "" {
		t.Fatalf("a payload past the line cap is held (or the caller's fields changed)")
	}
	for range 5 {
		b.AddEvent(task.Line{Text: "x", Log: &task.LogFields{JSON: strings.Repeat("p", 250)}})
	}
	if b.Bytes() > 1024 || b.Dropped() == 0 {
		t.Fatalf("bytes %d dropped %d: payloads not bounded", b.Bytes(), b.Dropped())
	}
}
