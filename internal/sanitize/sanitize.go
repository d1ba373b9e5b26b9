// Package sanitize makes text from outside (logs, build output, names,
// responses, errors) safe to put on a terminal. Both the TUI and the headless
// printers use it.
//
// What it does, and why:
//   - Escape sequences are removed whole, not just their ESC byte: CSI
//     (cursor moves, screen clears, SGR colours), OSC (titles, OSC 52
//     clipboard writes, OSC 8 links — whose visible text is kept because it
//     sits outside the sequence), DCS, APC, PM and SOS, ended by BEL, ST
//     (ESC \ or the C1 byte 0x9c), CAN/SUB, or left unterminated. An
//     unterminated string sequence swallows the rest of its line only, not the
//     rest of the log, so one broken line cannot hide everything after it.
//   - The 8-bit C1 introducers (CSI 0x9b, OSC 0x9d, DCS 0x90, SOS 0x98,
//     PM 0x9e, APC 0x9f), as raw bytes or as the code points U+0080–U+009F,
//     start a sequence that is removed like its 7-bit form; other C0 and C1
//     controls, DEL and NUL are removed.
//   - Bidi overrides, embeddings, isolates and marks (U+202A–202E,
//     U+2066–2069, U+200E, U+200F, U+061C) are removed: they can make text
//     read differently from what it is ("Trojan Source").
//   - "\r" behaves the way a reader of a terminal expects: the text after it
//     replaces what came before on the same line ("10%\r100%" shows "100%"),
//     while a "\r" that ends a line ("\r\n", or at the end) changes nothing.
//   - Tabs are expanded to the next multiple of 8 display columns (wide
//     characters count as two), so columns stay aligned without the terminal
//     interpreting a control character.
//   - Invalid UTF-8 bytes become U+FFFD; wide characters and emoji are kept.
//
// Clean input — printable ASCII and valid UTF-8 without any of the above —
// is returned as it is, without allocating: the sanitizer runs on every log
// line. All work is a single pass, linear in the input.
package sanitize

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/charmbracelet/x/ansi"
)

// LineSeparator replaces each run of newlines inside a string passed to
// Line. It is visible, so a reader sees where the original lines broke
// instead of reading two lines as one sentence.
const LineSeparator = " ⏎ "

// tabWidth is the distance between tab stops, in display columns.
const tabWidth = 8

// Line returns s as one safe line: escape sequences and control characters
// removed, tabs expanded, invalid UTF-8 replaced. Newlines inside s become
// LineSeparator; leading and trailing newlines are dropped.
func Line(s string) string {
	i := firstUnsafe(s, false)
	if i == len(s) {
		return s
	}
	if strings.Trim(s[i:], "\r\n") == "" {
		// Only a line ending left, as most log lines and error texts have:
		// cut it off without copying.
		return s[:i]
	}
	return sanitize(s, i, false)
}

// Text is Line for multi-line text: newlines are kept ("\r\n" becomes "\n")
// and tab stops restart on every line.
func Text(s string) string {
	i := firstUnsafe(s, true)
	if i == len(s) {
		return s
	}
	return sanitize(s, i, true)
}

// Truncate returns Line(s) cut to at most width display columns, ending in
// "…" when something was cut. Wide characters are never split.
func Truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	return ansi.Truncate(Line(s), width, "…")
}

// Width returns the number of display columns Line(s) takes.
func Width(s string) int {
	return ansi.StringWidth(Line(s))
}

// firstUnsafe returns the index of the first byte that needs work, or
// len(s) when s can be shown as it is.
func firstUnsafe(s string, keepNewlines bool) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		if c == '\n' && keepNewlines {
			i++
			continue
		}
		if c < 0x80 {
			return i
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || isC1(r) || isBidi(r) {
			return i
		}
		i += n
	}
	return len(s)
}

func isC1(r rune) bool { return r >= 0x80 && r <= 0x9f }

// isBidi reports the invisible characters that change the display order of
// text around them.
func isBidi(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// writer accumulates the sanitized output and the little terminal state
// needed for "\r" and tabs.
type writer struct {
	out          []byte
	keepNewlines bool

	lineStart    int  // index in out where the current line begins
	lineStartCol int  // display column at lineStart (non-zero only in Line)
	colBase      int  // display column at colMark
	colMark      int  // index in out up to which colBase is measured
	pendingCR    bool // a "\r" was seen; the next visible text rewrites the line
	pendingNL    bool // Line only: a newline was seen; emit a separator before more text
}

// begin settles pending "\r" and newline effects before visible output.
func (w *writer) begin() {
	if w.pendingNL {
		w.pendingNL = false
		w.column()
		w.out = append(w.out, LineSeparator...)
		w.colBase += ansi.StringWidth(LineSeparator)
		w.colMark = len(w.out)
		w.lineStart, w.lineStartCol = len(w.out), w.colBase
	}
	if w.pendingCR {
		w.pendingCR = false
		w.out = w.out[:w.lineStart]
		w.colBase, w.colMark = w.lineStartCol, w.lineStart
	}
}

func (w *writer) write(s string) {
	w.begin()
	w.out = append(w.out, s...)
}

// writeASCII is write for printable ASCII, whose width is its length: the
// column is kept current without measuring, unless wider text is pending.
func (w *writer) writeASCII(s string) {
	w.begin()
	measured := w.colMark == len(w.out)
	w.out = append(w.out, s...)
	if measured {
		w.colBase += len(s)
		w.colMark = len(w.out)
	}
}

// column brings colBase up to date with everything written. Measuring only
// the bytes since the last mark keeps tab expansion linear on huge lines.
func (w *writer) column() int {
	if w.colMark < len(w.out) {
		// A read-only view, not a copy: StringWidth keeps no reference and
		// w.out does not change during the call, and a copy per tab made a
		// tab-separated 1 MB line cost tens of thousands of allocations.
		seg := w.out[w.colMark:]
		w.colBase += ansi.StringWidth(unsafe.String(&seg[0], len(seg)))
		w.colMark = len(w.out)
	}
	return w.colBase
}

func (w *writer) tab() {
	w.begin()
	n := tabWidth - w.column()%tabWidth
	for range n {
		w.out = append(w.out, ' ')
	}
	w.colBase += n
	w.colMark = len(w.out)
}

func (w *writer) newline() {
	w.pendingCR = false
	if !w.keepNewlines {
		// Separators are emitted lazily so that leading/trailing newlines and
		// runs of them collapse.
		if len(w.out) > 0 {
			w.pendingNL = true
		}
		return
	}
	w.out = append(w.out, '\n')
	w.lineStart, w.lineStartCol = len(w.out), 0
	w.colBase, w.colMark = 0, len(w.out)
}

// sanitize does the full work; s[:start] is already known to be clean.
func sanitize(s string, start int, keepNewlines bool) string {
	w := writer{out: make([]byte, 0, len(s)+16), keepNewlines: keepNewlines}
	if start > 0 {
		w.write(s[:start])
		if keepNewlines {
			if nl := strings.LastIndexByte(s[:start], '\n'); nl >= 0 {
				w.lineStart, w.colMark = nl+1, nl+1
			}
		}
	}
	for i := start; i < len(s); {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f:
			j := i + 1
			for j < len(s) && s[j] >= 0x20 && s[j] < 0x7f {
				j++
			}
			w.writeASCII(s[i:j])
			i = j
		case c == '\n':
			w.newline()
			i++
		case c == '\r':
			w.pendingCR = true
			i++
		case c == '\t':
			w.tab()
			i++
		case c == 0x1b:
			i = skipEscape(s, i)
		case c < 0x80:
			i++ // other C0 controls, DEL
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && n == 1:
				// A lone byte 0x80-0xff. The C1 introducers among them still
				// mean something to some terminals, so their sequences go.
				if j, ok := skipC1(s, i+1, rune(c)); ok {
					i = j
					continue
				}
				w.write("\uFFFD")
				i++
			case isC1(r):
				if j, ok := skipC1(s, i+n, r); ok {
					i = j
				} else {
					i += n
				}
			case isBidi(r):
				i += n
			default:
				// Take the whole run of safe text in one write, so text in
				// non-Latin scripts costs one append per run, not per rune.
				j := i + n
				for j < len(s) {
					if b := s[j]; b >= 0x20 && b < 0x7f {
						j++
						continue
					} else if b < 0x80 {
						break
					}
					r, n := utf8.DecodeRuneInString(s[j:])
					if (r == utf8.RuneError && n == 1) || isC1(r) || isBidi(r) {
						break
					}
					j += n
				}
				w.write(s[i:j])
				i = j
			}
		}
	}
	return string(w.out)
}

// skipC1 skips the body of the sequence started by the C1 control r, whose
// encoding ends just before j. ok is false when r starts no sequence.
func skipC1(s string, j int, r rune) (int, bool) {
	switch r {
	case 0x9b: // CSI
		return skipCSI(s, j), true
	case 0x9d, 0x90, 0x98, 0x9e, 0x9f: // OSC, DCS, SOS, PM, APC
		return skipString(s, j), true
	}
	return j, false
}

// skipEscape returns the index after the escape sequence starting with the
// ESC at s[i].
func skipEscape(s string, i int) int {
	j := i + 1
	if j >= len(s) {
		return j
	}
	switch b := s[j]; {
	case b == '[':
		return skipCSI(s, j+1)
	case b == ']' || b == 'P' || b == '_' || b == '^' || b == 'X':
		return skipString(s, j+1)
	case b >= 0x20 && b <= 0x2f: // intermediates, then a final byte (ESC ( B)
		for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
			j++
		}
		if j < len(s) && s[j] >= 0x30 && s[j] <= 0x7e {
			j++
		}
		return j
	case b >= 0x30 && b <= 0x7e: // two-byte escapes (ESC 7, ESC c, ESC =)
		return j + 1
	}
	// ESC followed by a control or non-ASCII: only the ESC goes, the rest is
	// handled on its own.
	return j
}

// skipCSI skips parameter, intermediate and final bytes of a control
// sequence whose introducer ends before j. A sequence broken by any other
// byte ends there; that byte is then handled normally.
func skipCSI(s string, j int) int {
	for j < len(s) && s[j] >= 0x30 && s[j] <= 0x3f {
		j++
	}
	for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
		j++
	}
	if j < len(s) && s[j] >= 0x40 && s[j] <= 0x7e {
		j++
	}
	return j
}

// skipString skips the body of an OSC/DCS/SOS/PM/APC string and its
// terminator: BEL, ESC \, ST (0x9c raw or U+009C), or CAN/SUB which cancel
// it. An ESC not followed by '\' or a newline ends it without being
// consumed, so a new sequence or the next line is handled normally.
func skipString(s string, j int) int {
	for j < len(s) {
		c := s[j]
		switch {
		case c == 0x07, c == 0x18, c == 0x1a:
			return j + 1
		case c == 0x1b:
			if j+1 < len(s) && s[j+1] == '\\' {
				return j + 2
			}
			return j
		case c == '\n':
			return j
		case c >= 0x80:
			r, n := utf8.DecodeRuneInString(s[j:])
			if r == 0x9c || (r == utf8.RuneError && n == 1 && c == 0x9c) {
				return j + n
			}
			j += n
		default:
			j++
		}
	}
	return j
}

// Escape writes control and invisible format characters (bidi overrides
// among them) in s as Go escapes (\x1b, \u202e) and keeps the rest. It is
// for messages that quote outside input — a config file from someone else's
// repository — where the reader should see what is there, not lose it, and
// the terminal must not act on it.
func Escape(s string) string {
	if !strings.ContainsFunc(s, escapable) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if escapable(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func escapable(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }
