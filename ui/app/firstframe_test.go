package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/fake"
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

// The repaint redraws in place: home, each line with its rest erased, the
// rest of the screen erased; never a full clear (a blank screen between
// two frames).
func TestRepaintBytesRedrawsInPlace(t *testing.T) {
	view := "\x1b[1mImages\x1b[m\nrow one\nrow two"
	got := string(repaintBytes(view, colorprofile.ANSI256))
	want := "\x1b[H" +
		"\x1b[1mImages\x1b[m\x1b[m\x1b[K\r\n" +
		"row one\x1b[m\x1b[K\r\n" +
		"row two\x1b[m\x1b[K" +
		"\x1b[m\x1b[J"
	if got != want {
		t.Fatalf("repaint:\n got %q\nwant %q", got, want)
	}
	if strings.Contains(got, "\x1b[2J") {
		t.Fatal("the repaint clears the screen")
	}
}

// PaintLoaded paints nothing unless PaintFirstFrame painted (a pipe, a
// test): the program's renderer then owns the screen from the start.
func TestPaintLoadedNeedsAPaintedFirstFrame(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := New(t.Context(), Options{Images: manyImages(3)})
	m.Start()
	PaintFirstFrame(m, f, f, colorprofile.ANSI256)()
	PaintLoaded(m, f, f, colorprofile.ANSI256, time.Second)
	if st, _ := f.Stat(); st.Size() != 0 {
		t.Fatalf("wrote %d bytes into a non-terminal", st.Size())
	}
}

// With a first frame painted, PaintLoaded waits for the image list and
// paints the frame that shows it.
func TestPaintLoadedPaintsTheListedImages(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	defer w.Close()
	m := New(t.Context(), Options{Images: manyImages(3)})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	m.Start()
	m.prepainted = true // as PaintFirstFrame on a terminal
	PaintLoaded(m, in, f, colorprofile.ANSI256, 5*time.Second)
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "\x1b[H") || !strings.Contains(string(b), "service-002") {
		t.Fatalf("no repaint with the listed images: %q", b[:min(len(b), 200)])
	}
}

// A key waiting on the input ends the wait at once (nothing is read: the
// program reads it); with none, the wait ends after its bound.
func TestInputWaiting(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	start := time.Now()
	<-inputWaiting(r, 30*time.Millisecond)
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("the wait ended after %v, before its bound, with no input", d)
	}
	ch := inputWaiting(r, time.Minute)
	if _, err := w.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("a waiting key did not end the wait")
	}
	buf := make([]byte, 1)
	if n, _ := r.Read(buf); n != 1 || buf[0] != 'q' {
		t.Fatalf("the key was consumed: read %q", buf[:n])
	}
}
