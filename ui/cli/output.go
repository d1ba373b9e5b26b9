package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/fndeck/fndeck/internal/sanitize"
)

// jsonWriter writes one JSON value per line. encoding/json already escapes
// C0 controls; it leaves C1 controls and bidi overrides as raw UTF-8, which
// some terminals act on, so those are escaped too (\u009b …): the value is
// unchanged, the bytes are harmless on a terminal.
type jsonWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (j *jsonWriter) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = escapeUnsafeRunes(b)
	j.mu.Lock()
	defer j.mu.Unlock()
	_, err = j.w.Write(append(b, '\n'))
	return err
}

func escapeUnsafeRunes(b []byte) []byte {
	if isPlainASCII(b) {
		return b
	}
	var out bytes.Buffer
	out.Grow(len(b) + 16)
	for _, r := range string(b) {
		if (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
			r == 0x200e || r == 0x200f || r == 0x061c {
			fmt.Fprintf(&out, `\u%04x`, r)
			continue
		}
		out.WriteRune(r)
	}
	return out.Bytes()
}

func isPlainASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// human prints sanitized text lines for people.
type human struct {
	mu sync.Mutex
	w  io.Writer
}

// linef prints one line; every argument that came from outside must be
// passed through s() (sanitize.Line) by the caller or given via outside().
func (h *human) linef(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(h.w, format+"\n", args...)
}

// s sanitizes one outside string for a single line of output.
func s(v string) string { return sanitize.Line(v) }

// sanitizeText sanitizes multi-line outside text (a response body).
func sanitizeText(v string) string { return sanitize.Text(v) }
