package output

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fndeck/fndeck/internal/task"
)

func fullPane(b *testing.B) *Model {
	m := New(Options{Theme: theme(), BufferLines: 50000})
	m.SetSize(160, 40)
	m.id = "x"
	ls := make([]task.Line, 60000)
	at := time.Now()
	for i := range ls {
		ls[i] = task.Line{Seq: uint64(i), Time: at, Text: fmt.Sprintf("2026-11-25T10:00:00Z INFO request %d handled in %dms path=/api/v1/items/%d", i, i%97, i)}
	}
	m.AppendLines(ls)
	if m.Len() != 50000 {
		b.Fatalf("len %d", m.Len())
	}
	return m
}

// BenchmarkFrameFull50k: one frame of a full 50,000-line buffer (budget 1 ms).
func BenchmarkFrameFull50k(b *testing.B) {
	m := fullPane(b)
	m.query, m.match = "item", newMatcher("item")
	m.View()
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkFrameFull50kScrolled: frames while scrolling through the middle.
func BenchmarkFrameFull50kScrolled(b *testing.B) {
	m := fullPane(b)
	keys(b, m, "g")
	b.ReportAllocs()
	for b.Loop() {
		m.scroll(7)
		_ = m.View()
	}
}

// BenchmarkIngestBurst10k: a 10,000-line burst arriving as one message and
// the frame after it.
func BenchmarkIngestBurst10k(b *testing.B) {
	burst := make([]task.Line, 10000)
	for i := range burst {
		burst[i] = task.Line{Seq: uint64(i), Text: fmt.Sprintf("Step %d : RUN go build ./... \x1b[32mok\x1b[0m", i)}
	}
	m := New(Options{Theme: theme()})
	m.SetSize(160, 40)
	m.id = "x"
	m.src = newFakeSource(0)
	b.ReportAllocs()
	for b.Loop() {
		m.Update(outputMsg{id: "x", gen: m.gen, lines: burst, next: 10000})
		_ = m.View()
	}
}

// BenchmarkHugeLine1MB: a 1 MB line arrives, is shown wrapped in follow mode
// (its end on screen), then unwrapped with `$` (budget 100 ms).
func BenchmarkHugeLine1MB(b *testing.B) {
	huge := strings.Repeat("abcdefghij", 100000) + "END"
	b.ReportAllocs()
	for b.Loop() {
		m := New(Options{Theme: theme()})
		m.SetSize(160, 40)
		m.id = "x"
		m.src = newFakeSource(0)
		m.wrap = true
		m.Update(outputMsg{id: "x", gen: m.gen, lines: []task.Line{{Text: huge}}, next: 1})
		v := m.View()
		if !strings.Contains(v, "END") {
			b.Fatal("end not on screen")
		}
		m.wrap = false
		m.toLineEnd()
		if v := m.View(); !strings.Contains(v, "END") {
			b.Fatal("end not on screen without wrap")
		}
	}
}

// BenchmarkHugeLine1MBUnicode: the same with multi-byte text.
func BenchmarkHugeLine1MBUnicode(b *testing.B) {
	huge := strings.Repeat("żółw日本", 60000) + "END"
	b.ReportAllocs()
	for b.Loop() {
		m := New(Options{Theme: theme()})
		m.SetSize(160, 40)
		m.id = "x"
		m.src = newFakeSource(0)
		m.wrap = true
		m.Update(outputMsg{id: "x", gen: m.gen, lines: []task.Line{{Text: huge}}, next: 1})
		if v := m.View(); !strings.Contains(v, "END") {
			b.Fatal("end not on screen")
		}
	}
}

// BenchmarkFrameHugeUnicodeLineScrolled: frames of a 1 MB non-ASCII line
// shown from its end without wrap (the window is cached per line).
func BenchmarkFrameHugeUnicodeLineScrolled(b *testing.B) {
	m := New(Options{Theme: theme()})
	m.SetSize(160, 40)
	m.id = "x"
	m.AppendLines([]task.Line{{Text: strings.Repeat("żółw日本", 60000) + "END"}})
	m.toLineEnd()
	if !strings.Contains(m.View(), "END") {
		b.Fatal("end not on screen")
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}
