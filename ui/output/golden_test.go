package output

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/task"
)

func goldenPane(t *testing.T) *Model {
	t.Helper()
	m := New(Options{Theme: theme()})
	m.SetSize(48, 8)
	m.id = "task-7"
	m.title = "build web:dev"
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var ls []task.Line
	for i := 0; i < 12; i++ {
		ls = append(ls, task.Line{Time: at.Add(time.Duration(i) * time.Second), Text: fmt.Sprintf("Step %d/12 : RUN make target-%d", i+1, i)})
	}
	ls = append(ls, task.Line{Time: at.Add(20 * time.Second), Text: `{"msg":"built","ok":true,"layers":[1,2]}`})
	ls = append(ls, task.Line{Time: at.Add(21 * time.Second), Text: strings.Repeat("long-", 20) + "end"})
	m.AppendLines(ls)
	return m
}

func TestGoldenFollow(t *testing.T) {
	m := goldenPane(t)
	golden.RequireEqual(t, m.View())
}

func TestGoldenTimestampsWrapJSON(t *testing.T) {
	m := goldenPane(t)
	keys(t, m, "t", "w", "J")
	golden.RequireEqual(t, m.View())
}

func TestGoldenSearch(t *testing.T) {
	m := goldenPane(t)
	keys(t, m, "/")
	typeText(t, m, "target-1")
	keys(t, m, "enter")
	golden.RequireEqual(t, m.View())
}

func TestGoldenLogLines(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	m := New(Options{Theme: theme(), Now: func() time.Time { return at.Add(2500 * time.Millisecond) }})
	m.SetSize(48, 8)
	m.SetSource("logs", nil, "fn")
	m.AppendLines(logLines(
		cloud.LogLine{Time: at, Severity: "INFO", Message: "START RequestId: 1"},
		cloud.LogLine{Time: at, Severity: "ERROR", Stream: "web", Message: "boom\n  at handler (index.js:3)\n"},
		cloud.LogLine{Time: at, Notice: true, Message: "reconnecting"},
		cloud.LogLine{Time: at, Severity: "WARNING", Message: `{"a":1}`, JSON: json.RawMessage(`{"a":1}`)},
	))
	keys(t, m, "J")
	golden.RequireEqual(t, m.View())
}
