package prompt

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/ui/common"
)

func press(m *Model, s string) tea.Cmd {
	k := tea.KeyPressMsg{Code: []rune(s)[0], Text: s}
	switch s {
	case "enter":
		k = tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		k = tea.KeyPressMsg{Code: tea.KeyEscape}
	case "backspace":
		k = tea.KeyPressMsg{Code: tea.KeyBackspace}
	}
	return m.Update(k)
}

// Enter submits the edited, trimmed value once; the prompt is then done.
func TestEnterSubmitsTrimmedValue(t *testing.T) {
	var got []string
	m := New(common.PromptRequestMsg{Title: "Push app:v1", Label: "Push as", Value: "app:v",
		OnSubmit: func(v string) tea.Cmd { got = append(got, v); return nil }}, common.NewTheme(true, true))
	press(m, "backspace")
	for _, r := range "v2  " {
		press(m, string(r))
	}
	m.Update(tea.PasteMsg{Content: "-rc"})
	if m.Done() {
		t.Fatal("done before enter")
	}
	press(m, "enter")
	if !m.Done() || len(got) != 1 || got[0] != "app:v2  -rc" {
		t.Fatalf("done %v, submitted %q; want app:v2  -rc once", m.Done(), got)
	}
}

// Esc cancels: nothing runs.
func TestEscCancels(t *testing.T) {
	ran := false
	m := New(common.PromptRequestMsg{Value: "x", OnSubmit: func(string) tea.Cmd { ran = true; return nil }}, common.NewTheme(true, true))
	press(m, "esc")
	if !m.Done() || ran {
		t.Fatalf("done %v, ran %v; want done without running", m.Done(), ran)
	}
}

// The box shows title, label, value and help, with outside text
// sanitized, within the width asked for.
func TestViewShowsEverythingSanitized(t *testing.T) {
	m := New(common.PromptRequestMsg{Title: "Build \x1b[31mevil", Label: "Tag the image as", Value: "app:1",
		Help: []string{"context: /tmp/p"}}, common.NewTheme(true, true))
	v := ansi.Strip(m.View(60))
	for _, want := range []string{"Build", "Tag the image as", "> app:1", "context: /tmp/p", "enter ok · esc cancel"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(m.View(60), "\x1b[31m") {
		t.Error("the title's escape sequence reached the screen")
	}
	for _, l := range strings.Split(v, "\n") {
		if w := ansi.StringWidth(l); w > 60 {
			t.Errorf("line %q is %d wide, more than 60", l, w)
		}
	}
}

// A suggested value is replaced by what is typed or pasted first, kept by
// enter, and edited once a key that edits comes first.
func TestTypingReplacesTheSuggestion(t *testing.T) {
	submit := func(value string, keys func(m *Model)) string {
		var got string
		m := New(common.PromptRequestMsg{Label: "Build context", Value: value,
			OnSubmit: func(v string) tea.Cmd { got = v; return nil }}, common.NewTheme(true, true))
		keys(m)
		press(m, "enter")
		return got
	}
	typed := func(s string) func(m *Model) {
		return func(m *Model) {
			for _, r := range s {
				press(m, string(r))
			}
		}
	}
	if got := submit(".", typed("/tmp/ctx")); got != "/tmp/ctx" {
		t.Errorf("typed over the suggestion: %q, want /tmp/ctx", got)
	}
	if got := submit(".", func(*Model) {}); got != "." {
		t.Errorf("enter on the suggestion: %q, want .", got)
	}
	if got := submit(".", func(m *Model) { m.Update(tea.PasteMsg{Content: "/srv/app"}) }); got != "/srv/app" {
		t.Errorf("pasted over the suggestion: %q, want /srv/app", got)
	}
	if got := submit("app:v", func(m *Model) {
		m.Update(tea.KeyPressMsg{Code: tea.KeyLeft})
		m.Update(tea.KeyPressMsg{Code: tea.KeyRight})
		typed("1")(m)
	}); got != "app:v1" {
		t.Errorf("moved, then typed: %q, want app:v1", got)
	}
	m := New(common.PromptRequestMsg{Value: "."}, common.NewTheme(true, true))
	if !strings.Contains(ansi.Strip(m.View(80)), "typing replaces the suggestion") {
		t.Error("the prompt does not say typing replaces the suggestion")
	}
	press(m, "x")
	if strings.Contains(ansi.Strip(m.View(80)), "typing replaces the suggestion") {
		t.Error("the note stays after the suggestion was replaced")
	}
}
