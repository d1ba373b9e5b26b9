// Package help renders the `?` screen from the key bindings themselves, so
// remapped keys show as they are and no list of keys is kept by hand.
package help

import (
	"strings"

	"charm.land/bubbles/v2/key"

	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/table"
)

// Section is one titled group of bindings ("global", "images", …).
type Section struct {
	Title    string
	Bindings []key.Binding
}

// View lays the sections out in columns to fit width x height exactly.
// Disabled bindings are left out; when everything cannot fit, the last
// line says so rather than cutting silently.
func View(sections []Section, width, height int, theme common.Theme) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	type entry struct {
		key, desc string
		title     bool
	}
	var blocks [][]entry // one per section: title then its keys
	for _, s := range sections {
		var es []entry
		for _, b := range s.Bindings {
			if !b.Enabled() || len(b.Keys()) == 0 {
				continue
			}
			h := b.Help()
			k := h.Key
			if k == "" {
				k = strings.Join(b.Keys(), "/")
			}
			es = append(es, entry{key: k, desc: h.Desc})
		}
		if len(es) > 0 {
			blocks = append(blocks, append([]entry{{key: s.Title, title: true}}, es...))
		}
	}
	colW := 34
	cols := max(width/colW, 1)
	if cols == 1 {
		colW = width
	}
	body := height - 1
	grid := make([][]string, body)
	col, rowi := 0, 0
	truncated := false
	place := func(e entry) bool {
		if rowi >= body {
			col++
			rowi = 0
		}
		if col >= cols {
			return false
		}
		var cell string
		switch {
		case e.title:
			cell = theme.Header.Render(table.Fit(e.key, colW-1, false)) + " "
		case e.key == "":
			cell = strings.Repeat(" ", colW)
		default:
			kw := min(12, colW/3)
			cell = theme.Key.Render(table.Fit(e.key, kw, false)) + " " + table.Fit(e.desc, colW-kw-2, false) + " "
		}
		// Pad columns that ended short so this cell lands in its column.
		for len(grid[rowi]) < col {
			grid[rowi] = append(grid[rowi], strings.Repeat(" ", colW))
		}
		grid[rowi] = append(grid[rowi], cell)
		rowi++
		return true
	}
	for _, blk := range blocks {
		// Keep a section in one column when it fits in one.
		if rowi > 0 && rowi+1+len(blk) > body && len(blk) <= body {
			col++
			rowi = 0
		}
		if rowi > 0 && !place(entry{}) {
			truncated = true
			break
		}
		ok := true
		for _, e := range blk {
			if ok = place(e); !ok {
				break
			}
		}
		if !ok {
			truncated = true
			break
		}
	}
	var b strings.Builder
	title := "keys — esc closes"
	if truncated {
		title = "keys (not all fit: enlarge the window) — esc closes"
	}
	b.WriteString(theme.TitleFocus.Render(table.Fit(title, width, false)))
	for _, cells := range grid {
		line := strings.Join(cells, "")
		b.WriteByte('\n')
		b.WriteString(fitStyled(line, width))
	}
	return b.String()
}

// fitStyled pads or cuts a line that may hold styling to width cells.
func fitStyled(s string, w int) string {
	return table.Fit(s, w, false)
}
