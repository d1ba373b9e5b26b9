package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/fake"
)

func TestFirstFrameBytesIsTheViewInTheAltScreen(t *testing.T) {
	m := New(t.Context(), Options{Images: manyImages(3), Listers: []cloud.Lister{&fake.Lister{Prov: cloud.Local}}})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	view := m.render()
	got := string(firstFrameBytes(view, colorprofile.ANSI256))
	if !strings.HasPrefix(got, "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J") {
		t.Fatalf("frame does not start by entering the alternate screen and clearing it: %q", got[:min(len(got), 40)])
	}
	body := strings.TrimPrefix(got, "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J")
	if n := strings.Count(body, "\r\n"); n != 29 {
		t.Fatalf("frame has %d line breaks, want 29 (30 rows)", n)
	}
	if strings.Contains(strings.ReplaceAll(body, "\r\n", ""), "\n") {
		t.Fatal("a bare newline left in the frame: in raw mode it would not return the carriage")
	}
	// At 256 colours the frame is the view itself, line for line.
	if strings.ReplaceAll(body, "\r\n", "\n") != view {
		t.Fatal("the painted frame differs from the view at the program's colour profile")
	}
	if !strings.Contains(body, "Images") {
		t.Fatal("the first frame lacks the Images pane")
	}
}

func TestFirstFrameBytesDownsamplesToTheProfile(t *testing.T) {
	got := string(firstFrameBytes("\x1b[38;2;255;0;0mred\x1b[m", colorprofile.Ascii))
	if strings.Contains(got, "38;2") || !strings.Contains(got, "red") {
		t.Fatalf("true colour not stripped for the no-colour profile: %q", got)
	}
	got = string(firstFrameBytes("\x1b[38;2;255;0;0mred\x1b[m", colorprofile.ANSI256))
	if strings.Contains(got, "38;2") || !strings.Contains(got, "38;5;") {
		t.Fatalf("true colour not downsampled to 256 colours: %q", got)
	}
}

func TestPaintFirstFrameLeavesNonTerminalsAlone(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := New(t.Context(), Options{Images: manyImages(1)})
	PaintFirstFrame(m, f, f, colorprofile.ANSI256)()
	if st, _ := f.Stat(); st.Size() != 0 {
		t.Fatalf("wrote %d bytes into a non-terminal", st.Size())
	}
}
