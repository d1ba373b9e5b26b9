package app

import (
	"io"
	"os"
	"strings"
	"time"

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
	m.prepainted = true
	return restore
}

// PaintLoaded follows PaintFirstFrame: it waits for the loads Model.Start
// began (the engine's first image list) and, if they answer in time, paints
// the frame that shows them, again before the program starts.
//
// Why: a frame the program renders reaches the screen only on its
// renderer's next tick (up to 33 ms at 30 fps) and its first render is a
// cold, full one (10-20 ms here); the start-up budget for image names is
// 100 ms from exec, and the engine alone takes 25-45 ms to list 300 images.
// Painted here, the names show as soon as the list is decoded.
//
// The wait is bounded: it ends after d, or as soon as a key is waiting on
// in (the program then starts and reads it; the list's answer still arrives
// through it), whichever comes first. Nothing is painted unless
// PaintFirstFrame painted.
func PaintLoaded(m *Model, in, out *os.File, profile colorprofile.Profile, d time.Duration) {
	if !m.prepainted {
		return
	}
	if m.awaitStart(d, inputWaiting(in, d)) {
		_, _ = out.Write(repaintBytes(m.render(), profile))
	}
}

// awaitStart waits for the panes' start-up loads (see images.Pane.AwaitStart).
func (m *Model) awaitStart(d time.Duration, stop <-chan struct{}) bool {
	p, ok := m.panes[PaneImages].(interface {
		AwaitStart(time.Duration, <-chan struct{}) bool
	})
	return ok && p.AwaitStart(d, stop)
}

// repaintBytes redraws a painted frame in place: home, then each line with
// the rest of it erased, then everything below erased. The screen is never
// blank in between, as it would be after a clear.
func repaintBytes(view string, profile colorprofile.Profile) []byte {
	var b strings.Builder
	b.Grow(len(view) + len(view)/8 + 32)
	b.WriteString("\x1b[H")
	writeLines(&b, view, profile, "\x1b[m\x1b[K")
	b.WriteString("\x1b[m\x1b[J")
	return []byte(b.String())
}

// firstFrameBytes is the byte stream PaintFirstFrame writes: enter the
// alternate screen, hide the cursor, clear, then the frame's lines with
// explicit carriage returns (raw mode does not add them), downsampled to
// profile.
func firstFrameBytes(view string, profile colorprofile.Profile) []byte {
	var b strings.Builder
	b.Grow(len(view) + len(view)/8 + 32)
	b.WriteString("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J")
	writeLines(&b, view, profile, "")
	return []byte(b.String())
}

// writeLines writes view's lines downsampled to profile, each followed by
// eol, with explicit carriage returns between them (raw mode adds none).
func writeLines(b *strings.Builder, view string, profile colorprofile.Profile, eol string) {
	cw := &colorprofile.Writer{Forward: b, Profile: profile}
	for i, l := range strings.Split(view, "\n") {
		if i > 0 {
			b.WriteString("\r\n")
		}
		_, _ = io.WriteString(cw, l)
		b.WriteString(eol)
	}
}
