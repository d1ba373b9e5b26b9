package app

import (
	"io"
	"os"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/term"
)

// PaintFirstFrame draws the model's first frame on the terminal at once,
// before the Bubble Tea program starts, and returns what undoes its
// terminal change; call it after the program has ended.
//
// Why: Bubble Tea's renderer writes only on its frame ticker, so its first
// frame reaches the screen one or two ticks (up to 66 ms at 30 fps) after
// Program.Run, and the start-up budget is 50 ms from exec to first frame.
// The frame painted here is the program's own first View at the terminal's
// size, in the alternate screen, with the colours downsampled to the same
// profile the program uses; the renderer's first flush then clears and
// redraws the same picture in one write, so nothing visibly changes.
//
// A frame on screen invites keys, so the input terminal goes into raw mode
// first: keys typed before the program's reader starts wait in the
// terminal's queue for it, instead of being echoed and held in a cooked
// line. The program saves that raw state and restores it when it ends; the
// returned function then restores the terminal as fndeck found it.
//
// Nothing is done (and the returned function does nothing) unless in and
// out are terminals of a usable size: piped output must stay free of
// escape sequences.
func PaintFirstFrame(m *Model, in, out *os.File, profile colorprofile.Profile) (restore func()) {
	restore = func() {}
	if in == nil || out == nil || !term.IsTerminal(in.Fd()) || !term.IsTerminal(out.Fd()) {
		return restore
	}
	w, h, err := term.GetSize(out.Fd())
	if err != nil || w <= 0 || h <= 0 {
		return restore
	}
	prev, err := term.MakeRaw(in.Fd())
	if err != nil {
		return restore
	}
	restore = func() { _ = term.Restore(in.Fd(), prev) }
	// The program sends the same size again when it starts; the command a
	// resize returns (none today) is its to run.
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	_, _ = out.Write(firstFrameBytes(m.render(), profile))
	return restore
}

// firstFrameBytes is the byte stream PaintFirstFrame writes: enter the
// alternate screen, hide the cursor, clear, then the frame's lines with
// explicit carriage returns (raw mode does not add them), downsampled to
// profile.
func firstFrameBytes(view string, profile colorprofile.Profile) []byte {
	var b strings.Builder
	b.Grow(len(view) + len(view)/8 + 32)
	b.WriteString("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J")
	cw := &colorprofile.Writer{Forward: &b, Profile: profile}
	lines := strings.Split(view, "\n")
	for i, l := range lines {
		if i > 0 {
			b.WriteString("\r\n")
		}
		_, _ = io.WriteString(cw, l)
	}
	return []byte(b.String())
}
