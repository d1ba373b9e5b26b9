package output

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/task"
)

// TestViewIsExactlyTheSize renders many layouts of mixed content (wide
// characters, JSON, log lines, long lines) and checks every frame is exactly
// width × height, as the Pane contract requires.
func TestViewIsExactlyTheSize(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	pieces := []string{"a", "日本", "żółw", "{\"k\":[1,2]}", "\t", "x\x1b[31my", strings.Repeat("z", 300), "🙂", "é", " ", "e\u0301", "👍🏽", "🇵🇱", "👨‍👩‍👧"}
	for round := 0; round < 60; round++ {
		m := New(Options{Theme: theme(), BufferLines: 200})
		w, h := 1+rng.Intn(70), 1+rng.Intn(15)
		m.SetSize(w, h)
		m.SetSource("x", nil, "x")
		for i := 0; i < 150; i++ {
			var b strings.Builder
			for j := rng.Intn(12); j >= 0; j-- {
				b.WriteString(pieces[rng.Intn(len(pieces))])
			}
			if rng.Intn(3) == 0 {
				m.AppendLines(logLines(cloud.LogLine{Time: time.Unix(int64(i), 0), Severity: []string{"", "ERROR", "warning"}[rng.Intn(3)], Message: b.String() + "\n second"}))
			} else {
				m.AppendLines([]task.Line{{Text: b.String()}})
			}
		}
		for step := 0; step < 25; step++ {
			k := []string{"w", "t", "J", "k", "j", "pgup", "pgdown", "g", "G", "$", "0", "l", "h", "f"}[rng.Intn(14)]
			keys(t, m, k)
			v := m.View()
			lines := strings.Split(v, "\n")
			if len(lines) != h {
				t.Fatalf("round %d (%dx%d) after %q: %d lines", round, w, h, k, len(lines))
			}
			for i, l := range lines {
				if got := ansi.StringWidth(l); got != w {
					t.Fatalf("round %d (%dx%d) after %q: line %d width %d: %q", round, w, h, k, i, got, l)
				}
			}
		}
	}
}
