package help

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
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

func b(k, desc string) key.Binding { return key.NewBinding(key.WithKeys(k), key.WithHelp(k, desc)) }

func sections() []Section {
	disabled := b("z", "hidden")
	disabled.SetEnabled(false)
	return []Section{
		{Title: "global", Bindings: []key.Binding{b("tab", "next pane"), b("?", "help"), b("q", "quit")}},
		{Title: "images", Bindings: []key.Binding{b("b", "build"), b("x", "delete"), disabled}},
		{Title: "tasks", Bindings: nil},
		{Title: "functions", Bindings: []key.Binding{b("i", "invoke"), b("R", "rollback")}},
	}
}

func TestGolden(t *testing.T) {
	v := View(sections(), 80, 8, common.NewTheme(true, true))
	golden(t, "help", ansi.Strip(v))
	lines := strings.Split(v, "\n")
	if len(lines) != 8 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		if ansi.StringWidth(l) != 80 {
			t.Fatalf("line width %d: %q", ansi.StringWidth(l), l)
		}
	}
	if strings.Contains(v, "hidden") {
		t.Fatal("disabled binding shown")
	}
}

func TestSaysWhenTooSmall(t *testing.T) {
	v := View(sections(), 30, 4, common.NewTheme(true, true))
	if !strings.Contains(v, "not all fit") {
		t.Fatalf("no notice:\n%s", v)
	}
}
