package app

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

func TestLayoutTilesTheWindowExactly(t *testing.T) {
	for _, sz := range [][2]int{{40, 15}, {80, 24}, {99, 30}, {100, 30}, {120, 40}, {200, 60}, {333, 101}} {
		m := New(t.Context(), Options{Images: sampleImages(), NoColor: true})
		m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		// Every pane's outer box: inner + 2. Areas must tile the body.
		area := 0
		for _, s := range m.PaneSizes() {
			if s[0] < 1 || s[1] < 1 {
				t.Fatalf("%v: a pane got %v", sz, s)
			}
			area += (s[0] + 2) * (s[1] + 2)
		}
		if want := sz[0] * (sz[1] - chrome); area != want {
			t.Errorf("%v: panes cover %d cells, body has %d", sz, area, want)
		}
		lines := strings.Split(m.View().Content, "\n")
		if len(lines) != sz[1] {
			t.Errorf("%v: %d lines", sz, len(lines))
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w != sz[0] {
				t.Errorf("%v: line %d is %d wide: %q", sz, i, w, ansi.Strip(l))
				break
			}
		}
	}
}

func TestTinyWindowSaysTooSmall(t *testing.T) {
	m := New(t.Context(), Options{Images: sampleImages(), NoColor: true})
	m.Update(tea.WindowSizeMsg{Width: 30, Height: 10})
	v := m.View().Content
	if !strings.Contains(v, "too small") {
		t.Fatalf("tiny window:\n%s", v)
	}
	if n := len(strings.Split(v, "\n")); n > 10 {
		t.Fatalf("too-small message has %d lines for a 10-line window", n)
	}
}

func TestKeyPressRoundTrip(t *testing.T) {
	for _, k := range []string{"a", "G", "R", "/", ":", "?", "enter", "esc", "tab", "shift+tab", "ctrl+c", "pgdown", "space", "up"} {
		if got := keyPress(k).String(); got != k {
			t.Errorf("keyPress(%q).String() = %q", k, got)
		}
	}
}

func TestKeyActionsCoverRemaps(t *testing.T) {
	acts := KeyActions()
	for _, want := range []string{"quit", "help", "palette", "focus-tasks", "images.delete", "functions.invoke"} {
		found := false
		for _, a := range acts {
			found = found || a == want
		}
		if !found {
			t.Errorf("KeyActions lacks %q", want)
		}
	}
}

func TestNoEngineStillDraws(t *testing.T) {
	m := New(t.Context(), Options{NoColor: true})
	_ = m.Init()
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	if v := m.View().Content; !strings.Contains(v, "no Docker engine configured") || !strings.Contains(v, "AWS: no credentials found") {
		t.Fatalf("screen:\n%s", v)
	}
}
