package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/fndeck/fndeck/ui/sanitize"
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

func humanSize(n int64) string {
	const unit = 1000 // docker prints decimal units
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.3g%cB", float64(n)/float64(div), "kMGTPE"[exp])
}

func ago(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d seconds ago", int(d.Seconds()))
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute")
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour")
	case d < 14*24*time.Hour:
		return plural(int(d.Hours()/24), "day")
	case d < 60*24*time.Hour:
		return plural(int(d.Hours()/24/7), "week")
	case d < 730*24*time.Hour:
		return plural(int(d.Hours()/24/30), "month")
	}
	return plural(int(d.Hours()/24/365), "year")
}

func plural(n int, unit string) string {
	if n == 1 {
		if unit == "hour" {
			return "an hour ago"
		}
		return "1 " + unit + " ago"
	}
	return fmt.Sprintf("%d %ss ago", n, unit)
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// sanitizeText sanitizes multi-line outside text (a response body).
func sanitizeText(v string) string { return sanitize.Text(v) }
