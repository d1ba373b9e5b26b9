package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/fndeck/fndeck/internal/sanitize"
)

// Text here is already sanitized: no escapes or control characters. ASCII is
// one byte per column; anything else is measured per grapheme cluster the way
// the renderer (x/ansi) measures it, so an emoji sequence or a combining
// accent never makes a row wider than the pane.

// cluster returns the first grapheme cluster of s and its width.
func cluster(s string) (string, int) {
	if s[0] < utf8.RuneSelf && (len(s) == 1 || s[1] < utf8.RuneSelf) {
		return s[:1], 1 // an ASCII byte not followed by a combining mark
	}
	c, w := ansi.FirstGraphemeCluster(s, ansi.GraphemeWidth)
	if c == "" {
		_, n := utf8.DecodeRuneInString(s)
		return s[:n], 1
	}
	return c, w
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// textWidth is the display width of sanitized text.
func textWidth(s string, ascii bool) int {
	if ascii {
		return len(s)
	}
	w := 0
	for s != "" {
		c, cw := cluster(s)
		w += cw
		s = s[len(c):]
	}
	return w
}

// wrapRows hard-wraps s into rows of at most w columns. Rows are substrings
// of s, so wrapping a 1 MB line costs one pass and row headers, not a copy.
func wrapRows(s string, w int, ascii bool) []string {
	if w < 1 {
		w = 1
	}
	if s == "" {
		return []string{""}
	}
	if ascii {
		rows := make([]string, 0, (len(s)+w-1)/w)
		for len(s) > w {
			rows = append(rows, s[:w])
			s = s[w:]
		}
		return append(rows, s)
	}
	var rows []string
	start, cols := 0, 0
	for i := 0; i < len(s); {
		c, cw := cluster(s[i:])
		if cols+cw > w && i > start {
			rows = append(rows, s[start:i])
			start, cols = i, 0
		}
		cols += cw
		i += len(c)
	}
	return append(rows, s[start:])
}

// window returns the part of s from column off that fits in w columns, and
// its width. Only the bytes up to the window's end are looked at.
func window(s string, off, w int, ascii bool) (string, int) {
	if ascii {
		if off >= len(s) {
			return "", 0
		}
		s = s[off:]
		if len(s) > w {
			s = s[:w]
		}
		return s, len(s)
	}
	start, cols := -1, 0
	end := len(s)
	used := 0
	for i := 0; i < len(s); {
		c, cw := cluster(s[i:])
		if start < 0 {
			if cols >= off {
				start = i
			} else {
				cols += cw
				i += len(c)
				continue
			}
		}
		if used+cw > w {
			end = i
			break
		}
		used += cw
		i += len(c)
	}
	if start < 0 {
		return "", 0
	}
	return s[start:end], used
}

// indexFold finds q in s, ignoring ASCII case (queries are smart-cased by the
// caller). It allocates nothing, so searching a 1 MB line is one scan.
func indexFold(s, q string) int {
	n := len(q)
	if n == 0 || n > len(s) {
		return -1
	}
	c0 := q[0]
	lo, up := c0, c0
	if c0 >= 'a' && c0 <= 'z' {
		up = c0 - 'a' + 'A'
	} else if c0 >= 'A' && c0 <= 'Z' {
		lo = c0 - 'A' + 'a'
	}
	for i := 0; i+n <= len(s); i++ {
		b := s[i]
		if b != lo && b != up {
			continue
		}
		if strings.EqualFold(s[i:i+n], q) {
			return i
		}
	}
	return -1
}

// matcher finds the query in text: case-sensitive when the query has an
// upper-case letter, case-insensitive otherwise (smart case).
type matcher struct {
	q    string
	fold bool
}

func newMatcher(q string) matcher {
	return matcher{q: q, fold: strings.ToLower(q) == q}
}

func (m matcher) index(s string) int {
	if m.q == "" {
		return -1
	}
	if m.fold {
		return indexFold(s, m.q)
	}
	return strings.Index(s, m.q)
}

// prettyJSON returns s indented over several lines when it is a JSON object
// or array, nil otherwise. Each line is sanitized: JSON cannot hold raw
// control characters, but escapes decoded nowhere here stay text anyway.
func prettyJSON(s string) []string {
	t := strings.TrimSpace(s)
	if len(t) < 2 || (t[0] != '{' && t[0] != '[') {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(t), "", "  "); err != nil {
		return nil
	}
	lines := strings.Split(buf.String(), "\n")
	for i, l := range lines {
		lines[i] = sanitize.Line(l)
	}
	return lines
}
