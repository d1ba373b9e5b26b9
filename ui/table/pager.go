package table

import (
	"strings"

	tea "charm.land/bubbletea/v2"
)

// Pager shows prepared lines (a detail view) scrolled within a fixed size.
// Lines may carry styling; they are cut to the width when drawn.
type Pager struct {
	Lines  []string
	offset int
	w, h   int
}

// SetSize sets the drawn size (the title takes the first line).
func (p *Pager) SetSize(w, h int) { p.w, p.h = w, h; p.clamp() }

// SetLines replaces the content, keeping the scroll position when possible.
func (p *Pager) SetLines(lines []string) { p.Lines = lines; p.clamp() }

func (p *Pager) clamp() { p.offset = max(min(p.offset, len(p.Lines)-(p.h-1)), 0) }

// HandleKey scrolls: j/k, arrows, pgup/pgdn, g/G; reports whether used.
func (p *Pager) HandleKey(msg tea.KeyPressMsg) bool {
	page := max(p.h-2, 1)
	switch msg.String() {
	case "j", "down":
		p.offset++
	case "k", "up":
		p.offset--
	case "pgdown", "ctrl+f", "space":
		p.offset += page
	case "pgup", "ctrl+b":
		p.offset -= page
	case "g", "home":
		p.offset = 0
	case "G", "end":
		p.offset = len(p.Lines)
	default:
		return false
	}
	p.clamp()
	return true
}

// View draws title then the visible lines, exactly w x h.
func (p *Pager) View(title string) string {
	if p.w <= 0 || p.h <= 0 {
		return ""
	}
	out := make([]string, 0, p.h)
	out = append(out, Fit(title, p.w, false))
	end := min(p.offset+p.h-1, len(p.Lines))
	for _, l := range p.Lines[p.offset:end] {
		out = append(out, Fit(l, p.w, false))
	}
	for len(out) < p.h {
		out = append(out, strings.Repeat(" ", p.w))
	}
	return strings.Join(out, "\n")
}
