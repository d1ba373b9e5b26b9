package palette

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/ui/common"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden (run with -update): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from golden:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

type ranMsg struct{ name string }

func actions() []Action {
	var out []Action
	for _, n := range []struct{ name, key string }{{"quit", "q"}, {"help", "?"}, {"focus tasks", "3"}, {"images: build", "b"}, {"images: delete", "x"}, {"functions: invoke", "i"}} {
		name := n.name
		out = append(out, Action{Name: name, Key: n.key, Run: func() tea.Cmd { return func() tea.Msg { return ranMsg{name} } }})
	}
	return out
}

func typeIn(m *Model, s string) {
	for _, r := range s {
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func TestListsEverythingThenNarrows(t *testing.T) {
	m := New(actions(), common.NewTheme(true, true))
	if len(m.Matches()) != 6 {
		t.Fatalf("empty input lists %v", m.Matches())
	}
	golden(t, "palette", ansi.Strip(m.View(40, 8)))
	typeIn(m, "imdel")
	if got := m.Matches(); len(got) != 1 || got[0] != "images: delete" {
		t.Fatalf("imdel: %v", got)
	}
	cmd, done := m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	if !done || cmd == nil || cmd() != (ranMsg{"images: delete"}) {
		t.Fatalf("enter: done=%v", done)
	}
}

func TestCursorAndEsc(t *testing.T) {
	m := New(actions(), common.NewTheme(true, true))
	m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
	m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
	cmd, _ := m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	if cmd() != (ranMsg{"focus tasks"}) {
		t.Fatal("down down enter should run the third action")
	}
	m = New(actions(), common.NewTheme(true, true))
	cmd, done := m.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
	if !done || cmd != nil {
		t.Fatal("esc should close without running")
	}
	m = New(actions(), common.NewTheme(true, true))
	typeIn(m, "zzzz")
	if !strings.Contains(m.View(40, 4), "no action matches") {
		t.Fatal("no-match notice missing")
	}
	if _, done := m.Update(tea.KeyPressMsg{Code: tea.KeyEnter}); done {
		t.Fatal("enter with no match closed the palette")
	}
}
