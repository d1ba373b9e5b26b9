package output

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/task"
	"github.com/fndeck/fndeck/ui/common"
)

func TestBurstArrivesAsOneMessage(t *testing.T) {
	src := newFakeSource(0)
	m := New(Options{Theme: theme()})
	m.SetSize(40, 6)
	cmd := m.SetSource("task-1", src, "build")
	burst := make([]string, 10000)
	for i := range burst {
		burst[i] = fmt.Sprintf("line %d", i)
	}
	src.Write(burst...)
	msg := runCmd(t, cmd)
	om, ok := msg.(outputMsg)
	if !ok {
		t.Fatalf("got %T, want outputMsg", msg)
	}
	if len(om.lines) != 10000 || om.next != 10000 {
		t.Fatalf("one message carries %d lines (next %d), want all 10000", len(om.lines), om.next)
	}
	_, cmd = m.Update(om)
	if m.Len() != 10000 {
		t.Fatalf("pane holds %d lines, want 10000", m.Len())
	}
	if cmd == nil {
		t.Fatal("pane did not re-arm its pending read for an open source")
	}
	lines := viewLines(m)
	if got := strings.TrimSpace(lines[4]); got != "line 9999" {
		t.Fatalf("follow mode bottom row = %q, want line 9999\n%s", got, m.View())
	}
	// The re-armed read blocks until the next write, then returns only it.
	src.Write("after")
	om = runCmd(t, cmd).(outputMsg)
	if len(om.lines) != 1 || om.lines[0].Text != "after" {
		t.Fatalf("second read = %+v, want just 'after'", om.lines)
	}
	m.Update(om)
	src.Close()
	_, cmd = m.Update(runCmd(t, waitOutput(m.id, m.gen, src, om.next, m.stop, 0)))
	if cmd != nil || !m.done {
		t.Fatal("a closed source must end the reads")
	}
}

func TestOtherIDsAndStaleReadsIgnored(t *testing.T) {
	a, b := newFakeSource(0), newFakeSource(0)
	m := New(Options{Theme: theme()})
	m.SetSize(40, 5)
	cmdA := m.SetSource("a", a, "a")
	a.Write("from a")
	msgA := runCmd(t, cmdA)
	m.SetSource("b", b, "b")
	if _, cmd := m.Update(msgA); cmd != nil || m.Len() != 0 {
		t.Fatal("a message for the previous source changed the pane")
	}
	// Re-selecting the same id and source keeps the pane as it is.
	if cmd := m.SetSource("b", b, "b"); cmd != nil {
		t.Fatal("setting the shown source again restarted it")
	}
	// The abandoned read of a source no longer shown returns on switch.
	c := newFakeSource(0)
	cmd := m.SetSource("c", c, "c")
	done := make(chan struct{})
	go func() { cmd(); close(done) }()
	m.SetSource("d", newFakeSource(0), "d")
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("abandoned read leaked")
	}
}

func TestRingBoundedAndDroppedShown(t *testing.T) {
	src := newFakeSource(100) // producer keeps 100
	m := New(Options{Theme: theme(), BufferLines: 50})
	m.SetSize(80, 4)
	cmd := m.SetSource("t", src, "t")
	for i := 0; i < 300; i++ {
		src.Write(fmt.Sprintf("l%d", i))
	}
	m.Update(runCmd(t, cmd))
	m.SetLogFile("/tmp/t.log")
	if m.Len() != 50 {
		t.Fatalf("ring holds %d, want 50", m.Len())
	}
	// 200 lost in the producer, 50 evicted here.
	if m.Dropped() != 250 {
		t.Fatalf("dropped = %d, want 250", m.Dropped())
	}
	lines := viewLines(m)
	status := lines[len(lines)-1]
	if !strings.Contains(status, "… 250 lines skipped on screen — full output in /tmp/t.log") {
		t.Fatalf("status %q lacks the dropped notice", status)
	}
	if got := strings.TrimSpace(lines[2]); got != "l299" {
		t.Fatalf("last row %q", got)
	}
}

func fill(m *Model, n int) {
	ls := make([]task.Line, n)
	for i := range ls {
		ls[i] = task.Line{Seq: uint64(i), Text: fmt.Sprintf("line %03d", i)}
	}
	m.id = "x"
	m.AppendLines(ls)
}

func TestScrollFollowAndJumps(t *testing.T) {
	m := New(Options{Theme: theme()})
	m.SetSize(20, 6) // 5 body rows
	fill(m, 100)
	if got := strings.TrimSpace(viewLines(m)[4]); got != "line 099" {
		t.Fatalf("follow bottom %q", got)
	}
	keys(t, m, "k")
	if m.Following() {
		t.Fatal("scrolling up must leave follow mode")
	}
	if got := strings.TrimSpace(viewLines(m)[4]); got != "line 098" {
		t.Fatalf("after k bottom %q", got)
	}
	// New lines do not move a view that is not following.
	m.AppendLines([]task.Line{{Text: "new"}})
	if got := strings.TrimSpace(viewLines(m)[4]); got != "line 098" {
		t.Fatalf("view moved while not following: %q", got)
	}
	keys(t, m, "g")
	if got := strings.TrimSpace(viewLines(m)[0]); got != "line 000" {
		t.Fatalf("g top %q", got)
	}
	keys(t, m, "pgdown")
	if got := strings.TrimSpace(viewLines(m)[0]); got != "line 004" {
		t.Fatalf("pgdown top %q", got)
	}
	keys(t, m, "j", "j")
	if got := strings.TrimSpace(viewLines(m)[0]); got != "line 006" {
		t.Fatalf("j top %q", got)
	}
	keys(t, m, "pgup", "pgup", "k")
	if got := strings.TrimSpace(viewLines(m)[0]); got != "line 000" {
		t.Fatalf("scrolling above the top: %q", got)
	}
	// Scrolling down never goes past the last row.
	for i := 0; i < 40; i++ {
		keys(t, m, "pgdown")
	}
	if got := strings.TrimSpace(viewLines(m)[4]); got != "new" {
		t.Fatalf("bottom after many pgdown %q", got)
	}
	keys(t, m, "G")
	if !m.Following() {
		t.Fatal("G must turn follow back on")
	}
	keys(t, m, "f")
	if m.Following() {
		t.Fatal("f toggles follow off")
	}
}

func TestSearchHighlightAndNN(t *testing.T) {
	m := New(Options{Theme: theme()})
	m.SetSize(30, 4) // 3 body rows
	m.id = "x"
	var ls []task.Line
	for i := 0; i < 50; i++ {
		txt := fmt.Sprintf("row %02d", i)
		if i == 10 || i == 20 || i == 40 {
			txt += " ERROR boom error"
		}
		ls = append(ls, task.Line{Text: txt})
	}
	m.AppendLines(ls)
	keys(t, m, "g", "/")
	if !m.Capturing() {
		t.Fatal("search prompt must capture keys")
	}
	typeText(t, m, "error")
	if !strings.Contains(viewLines(m)[3], "/error") {
		t.Fatalf("prompt not shown: %q", viewLines(m)[3])
	}
	keys(t, m, "enter")
	if m.Capturing() {
		t.Fatal("enter must close the prompt")
	}
	if got := viewLines(m)[0]; !strings.HasPrefix(got, "row 10") {
		t.Fatalf("first match not at top: %q", got)
	}
	// Both matches in the line are highlighted (smart case: lower-case query
	// matches ERROR and error).
	raw := strings.Split(m.View(), "\n")[0]
	if n := strings.Count(raw, "\x1b["); n < 4 {
		t.Fatalf("expected two highlighted matches in %q", raw)
	}
	keys(t, m, "n")
	if got := viewLines(m)[0]; !strings.HasPrefix(got, "row 20") {
		t.Fatalf("n: %q", got)
	}
	keys(t, m, "n")
	// row 40 is within the last 3 rows' reach: the view clamps to the bottom
	// but the match is on screen.
	if !strings.Contains(plain(m.View()), "row 40 ERROR") {
		t.Fatalf("n to row 40: %q", m.View())
	}
	keys(t, m, "n") // wraps around
	if got := viewLines(m)[0]; !strings.HasPrefix(got, "row 10") {
		t.Fatalf("n wrap: %q", got)
	}
	keys(t, m, "N") // back to 40
	if !strings.Contains(plain(m.View()), "row 40 ERROR") {
		t.Fatalf("N: %q", m.View())
	}
	keys(t, m, "N", "N")
	if got := viewLines(m)[0]; !strings.HasPrefix(got, "row 10") {
		t.Fatalf("N N: %q", got)
	}
	// Upper case query is case-sensitive.
	keys(t, m, "/")
	typeText(t, m, "Boom")
	keys(t, m, "enter")
	if !strings.Contains(viewLines(m)[3], "no match for Boom") {
		t.Fatalf("missing no-match status: %q", viewLines(m)[3])
	}
}

func TestWrapToggleAndCache(t *testing.T) {
	m := New(Options{Theme: theme()})
	m.SetSize(10, 5)
	m.id = "x"
	m.AppendLines([]task.Line{{Text: "short"}, {Text: "abcdefghijklmnopqrstuvwxyz"}})
	got := viewLines(m)
	if got[0] != "short     " || got[1] != "abcdefghij" {
		t.Fatalf("nowrap view: %q", got)
	}
	keys(t, m, "w")
	got = viewLines(m)
	want := []string{"short     ", "abcdefghij", "klmnopqrst", "uvwxyz    "}
	for i, w := range want {
		if got[i] != w {
			t.Fatalf("wrap row %d = %q, want %q (%q)", i, got[i], w, got)
		}
	}
	e := m.at(1)
	rows := e.rows
	m.View()
	if &rows[0] != &e.rows[0] {
		t.Fatal("rows were re-wrapped without a layout change")
	}
	m.SetSize(13, 5)
	m.View()
	if len(e.rows) != 2 || e.rows[0] != "abcdefghijklm" {
		t.Fatalf("rows not re-wrapped on resize: %q", e.rows)
	}
	keys(t, m, "w")
	if got := viewLines(m)[1]; got != "abcdefghijklm" {
		t.Fatalf("unwrap: %q", got)
	}
}

func TestHugeLineEndReachable(t *testing.T) {
	m := New(Options{Theme: theme()})
	m.SetSize(80, 10)
	m.id = "x"
	huge := strings.Repeat("0123456789", 100000) + "THE-END"
	m.AppendLines([]task.Line{{Text: "before"}, {Text: huge}})
	// nowrap: a window of the start; `$` shows the end.
	if got := viewLines(m)[1]; !strings.HasPrefix(got, "0123456789") || len(got) != 80 {
		t.Fatalf("nowrap first window %q", got)
	}
	keys(t, m, "$")
	if got := viewLines(m)[1]; !strings.HasSuffix(got, "THE-END") {
		t.Fatalf("$ did not bring the line end on screen: %q", got)
	}
	keys(t, m, "0")
	// wrap + follow: the last rows of the wrapped line are on screen.
	keys(t, m, "w")
	lines := viewLines(m)
	if got := strings.TrimSpace(lines[8]); !strings.HasSuffix(got, "THE-END") {
		t.Fatalf("wrapped follow bottom %q", got)
	}
	// Not following, at the top of the huge line, `$` goes to its end.
	keys(t, m, "g", "j")
	if got := viewLines(m)[0]; !strings.HasPrefix(got, "0123456789") {
		t.Fatalf("top %q", got)
	}
	keys(t, m, "$")
	if got := strings.TrimSpace(viewLines(m)[8]); !strings.HasSuffix(got, "THE-END") {
		t.Fatalf("wrap $ bottom %q", got)
	}
}

func TestHostileLineRendersHarmlessly(t *testing.T) {
	m := New(Options{Theme: theme()})
	m.SetSize(60, 4)
	m.id = "x"
	hostile := "ok \x1b]52;c;ZWNobyBwd25lZA==\x07 \x1b[2J\x1b[H gone \x9b31m \b bidi\u202e\r"
	m.AppendLines([]task.Line{{Text: hostile}})
	m.AppendLines(logLines(cloud.LogLine{Message: "log \x1b[2J msg", Severity: "error\x1b[31m"}))
	v := m.View()
	for _, bad := range []string{"\x1b]", "\x07", "\x1b[2J", "\x1b[H", "\x9b", "\r", "\b", "\u202e"} {
		if strings.Contains(v, bad) {
			t.Fatalf("view contains %q: %q", bad, v)
		}
	}
	if !strings.Contains(v, "ok") || !strings.Contains(v, "gone") {
		t.Fatalf("visible text lost: %q", v)
	}
	for _, l := range strings.Split(v, "\n") {
		if w := ansi.StringWidth(l); w != 60 {
			t.Fatalf("row width %d != 60: %q", w, l)
		}
	}
}

func TestPrettyJSONAndLogLines(t *testing.T) {
	m := New(Options{Theme: theme()})
	m.SetSize(40, 10)
	src := newFakeSource(0)
	at := time.Date(2026, 11, 25, 9, 8, 7, 6_000_000, time.UTC)
	payload := json.RawMessage(`{"level":"info","n":1}`)
	src.WriteLines(logLines(
		cloud.LogLine{Time: at, Severity: "ERROR", Stream: "s1", Message: "failed"},
		cloud.LogLine{Time: at, Severity: "info", Message: `{"level":"info","n":1}`, JSON: payload},
	)...)
	cmd := m.SetSource("task:7", src, "logs fn")
	m.Update(cmd())
	if m.Len() != 2 {
		t.Fatalf("len %d", m.Len())
	}
	keys(t, m, "t", "J")
	v := plain(m.View())
	for _, want := range []string{
		"09:08:07.006 ERROR s1 failed",
		"09:08:07.006 INFO  {",
		`                     "level": "info",`,
		`                     "n": 1`,
		"                   }",
	} {
		if !strings.Contains(v, want) {
			t.Fatalf("view lacks %q:\n%s", want, v)
		}
	}
	// Severity is coloured with the theme's error style.
	if !strings.Contains(m.View(), m.theme.Error.Render("ERROR")) {
		t.Fatal("severity not styled")
	}
}

func TestSaveWritesFile(t *testing.T) {
	dir := t.TempDir()
	m := New(Options{Theme: theme(), Now: func() time.Time { return time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC) }})
	m.SetSize(60, 5)
	m.id = "x"
	m.AppendLines([]task.Line{{Text: "one"}, {Text: "two \x1b[31mred\x1b[0m"}})
	keys(t, m, "s")
	if !strings.HasSuffix(m.promptInput, "fndeck-output-20261125-010203.log") {
		t.Fatalf("default path %q", m.promptInput)
	}
	path := filepath.Join(dir, "out.log")
	m.Update(press("ctrl+u"))
	typeText(t, m, path)
	_, cmd := m.Update(press("enter"))
	if cmd == nil {
		t.Fatal("no save command")
	}
	_, cmd = m.Update(runCmd(t, cmd))
	status, ok := runCmd(t, cmd).(common.StatusMsg)
	if !ok || !strings.Contains(status.Text, path) {
		t.Fatalf("status %+v", status)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "one\ntwo red\n" {
		t.Fatalf("saved %q", b)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	// A bad path is an error message, not a crash.
	m.prompt, m.promptInput = promptSave, filepath.Join(dir, "missing", "x.log")
	_, cmd = m.Update(press("enter"))
	_, cmd = m.Update(runCmd(t, cmd))
	if em, ok := runCmd(t, cmd).(common.ErrorMsg); !ok || !strings.Contains(em.Err.Error(), "saving output to") {
		t.Fatalf("want ErrorMsg, got %+v", em)
	}
}

func TestFlushCoalescesChattySource(t *testing.T) {
	src := newFakeSource(0)
	m := New(Options{Theme: theme(), Flush: 200 * time.Millisecond})
	m.SetSize(40, 5)
	cmd := m.SetSource("t", src, "t")
	src.Write("first")
	_, cmd = m.Update(runCmd(t, cmd)) // the first read is immediate
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	for i := 0; i < 5; i++ {
		src.Write(fmt.Sprintf("w%d", i))
		time.Sleep(5 * time.Millisecond)
	}
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("read hung")
	}
	if om := msg.(outputMsg); len(om.lines) != 5 {
		t.Fatalf("writes inside one flush interval arrived as %d lines in one message, want 5", len(om.lines))
	}
}

func TestRingByteBoundKeepsOrder(t *testing.T) {
	m := New(Options{Theme: theme(), BufferLines: 8, BufferBytes: 30})
	m.SetSize(20, 10)
	m.id = "x"
	// Ten-byte lines: three fit in 30 bytes.
	for i := 0; i < 5; i++ {
		m.AppendLines([]task.Line{{Text: fmt.Sprintf("line-%04d", i) + "."}})
	}
	if m.Len() != 3 || m.Dropped() != 2 {
		t.Fatalf("len %d dropped %d, want 3 and 2", m.Len(), m.Dropped())
	}
	// Short lines now let the ring grow past the evicted slots: the order
	// must survive the ring unrolling itself.
	for i := 0; i < 6; i++ {
		m.AppendLines([]task.Line{{Text: fmt.Sprint(i)}})
	}
	var got []string
	for abs := m.base; abs <= m.lastAbs(); abs++ {
		got = append(got, m.at(abs).text)
	}
	want := []string{"line-0003.", "line-0004.", "0", "1", "2", "3", "4", "5"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("ring order %q, want %q", got, want)
	}
	// The line bound still holds, and a single line bigger than the byte
	// bound is kept (the newest line always stays).
	m.AppendLines([]task.Line{{Text: strings.Repeat("x", 100)}})
	if m.Len() != 1 || m.at(m.lastAbs()).text != strings.Repeat("x", 100) {
		t.Fatalf("len %d after a huge line", m.Len())
	}
	if v := viewLines(m); !strings.HasPrefix(v[0], "xxxx") {
		t.Fatalf("view %q", v[0])
	}
}

// While following a log tail, the status says how live it is: the source's
// latest notice (waiting for the first invocation, reconnecting) until an
// event follows, then how far behind real time the newest event arrived.
func TestStatusSaysHowLiveTheTailIs(t *testing.T) {
	now := time.Date(2026, 11, 26, 3, 0, 10, 0, time.UTC)
	m := New(Options{Theme: theme(), Now: func() time.Time { return now }})
	m.SetSize(80, 5)
	m.SetSource("task:1", nil, "logs fn")
	m.AppendLines([]task.Line{{Text: "following local:fn"}})
	if st := plain(viewLines(m)[4]); strings.Contains(st, "lag") || strings.Contains(st, "waiting") {
		t.Fatalf("plain output shows liveness: %q", st)
	}
	m.AppendLines(logLines(cloud.LogLine{Time: now, Notice: true, Message: cloud.WaitingNotice}))
	if st := plain(viewLines(m)[4]); !strings.Contains(st, cloud.WaitingNotice) {
		t.Fatalf("status %q lacks the waiting notice", st)
	}
	m.AppendLines(logLines(cloud.LogLine{Time: now.Add(-1200 * time.Millisecond), Message: "first"}))
	st := plain(viewLines(m)[4])
	if !strings.Contains(st, "lag 1.2s") || strings.Contains(st, cloud.WaitingNotice) {
		t.Fatalf("status %q: want the newest event's lag, no notice", st)
	}
	m.AppendLines(logLines(cloud.LogLine{Time: now, Notice: true, Message: "reconnecting to the log stream"}))
	if st := plain(viewLines(m)[4]); !strings.Contains(st, "reconnecting") {
		t.Fatalf("status %q lacks reconnecting", st)
	}
}
