// Package sanitize makes text from outside (logs, build output, names,
// responses, errors) safe to put on a terminal. Both the TUI and the headless
// printers use it.
package sanitize

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Line returns s as one safe line: escape sequences and control characters
// removed, tabs expanded, newlines shown as spaces, invalid UTF-8 replaced.
//
// Initial version; the full table-tested implementation replaces it.
func Line(s string) string {
	return strings.ReplaceAll(Text(s), "\n", " ")
}

// Text is Line for multi-line text: newlines are kept.
func Text(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = ansi.Strip(s)
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		s = s[n:]
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r == '\t':
			b.WriteString("    ")
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
