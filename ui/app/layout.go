package app

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/table"
)

// Smallest usable terminal; below it the screen says so instead of
// drawing broken boxes.
const (
	MinWidth  = 40
	MinHeight = 15
	// wideFrom is the width from which panes sit in two columns.
	wideFrom = 100
	chrome   = 3 // header line + two footer lines
)

// rect is a pane's outer box (border included).
type rect struct{ x, y, w, h int }

// layout places the four panes (images, functions, tasks, output) in the
// body, which starts at line 1. Outer sizes tile the body exactly.
func layout(w, h int) ([4]rect, bool) {
	var r [4]rect
	if w < MinWidth || h < MinHeight {
		return r, false
	}
	body := h - chrome
	if w >= wideFrom {
		lw := w * 3 / 5
		rw := w - lw
		ih := body / 2
		th := max(body/3, 3)
		r[0] = rect{0, 1, lw, ih}
		r[1] = rect{0, 1 + ih, lw, body - ih}
		r[2] = rect{lw, 1, rw, th}
		r[3] = rect{lw, 1 + th, rw, body - th}
		return r, true
	}
	ih := body * 3 / 10
	fh := body * 3 / 10
	th := max(body*15/100, 3)
	oh := body - ih - fh - th
	r[0] = rect{0, 1, w, ih}
	r[1] = rect{0, 1 + ih, w, fh}
	r[2] = rect{0, 1 + ih + fh, w, th}
	r[3] = rect{0, 1 + ih + fh + th, w, oh}
	return r, true
}

// boxed draws content inside a rounded border with the title on the top
// edge; every line is made exactly r.w cells wide.
func boxed(content, title string, r rect, focused bool, th common.Theme) []string {
	bs, ts := th.Border, th.Title
	if focused {
		bs, ts = th.BorderFocus, th.TitleFocus
	}
	// The focused box is drawn with heavy lines so focus shows without
	// colour too (NO_COLOR).
	tl, tr, bl, br, hz, vt := "╭", "╮", "╰", "╯", "─", "│"
	if focused {
		tl, tr, bl, br, hz, vt = "┏", "┓", "┗", "┛", "━", "┃"
	}
	inner := r.w - 2
	title = ansi.Truncate(title, max(inner-2, 0), "…")
	tw := ansi.StringWidth(title)
	top := bs.Render(tl+hz) + ts.Render(title) + bs.Render(strings.Repeat(hz, max(inner-1-tw, 0))+tr)
	if inner-1-tw < 0 {
		top = bs.Render(tl + strings.Repeat(hz, inner) + tr)
	}
	lines := make([]string, 0, r.h)
	lines = append(lines, top)
	body := strings.Split(content, "\n")
	side := bs.Render(vt)
	for i := 0; i < r.h-2; i++ {
		l := ""
		if i < len(body) {
			l = body[i]
		}
		// Panes promise exact sizes; this only guards against one that
		// does not keep it, so the frame never tears.
		if ansi.StringWidth(l) != inner {
			l = table.Fit(l, inner, false)
		}
		lines = append(lines, side+l+side)
	}
	lines = append(lines, bs.Render(bl+strings.Repeat(hz, inner)+br))
	return lines
}
