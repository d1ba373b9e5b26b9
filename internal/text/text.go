// Package text holds the small formatting helpers every layer shares (the
// CLI, the panes, the backends). It links no SDK and no Bubble Tea, so
// cloud/ and actions/ may use it as freely as ui/.
package text

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// JSONOrString returns body as JSON: itself when it is valid JSON, else the
// body as a JSON string; nil when the body is empty or only white space.
// It is what an invocation result's "response" field holds.
func JSONOrString(body []byte) json.RawMessage {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if json.Valid(body) {
		return json.RawMessage(body)
	}
	s, _ := json.Marshal(string(body))
	return s
}

// OrDash returns v, or "-" when v is empty (a table cell with no value).
func OrDash(v string) string {
	if v == "" {
		return "-"
	}
	return v
}

// ShortID is the 12-character image or container ID docker shows.
func ShortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// HumanSize prints bytes the way docker does (decimal units: 1.5MB).
func HumanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	units := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	f := float64(n) / unit
	i := 0
	for f >= unit && i < len(units)-1 {
		f /= unit
		i++
	}
	switch {
	case f < 10:
		return fmt.Sprintf("%.2f%s", f, units[i])
	case f < 100:
		return fmt.Sprintf("%.1f%s", f, units[i])
	}
	return fmt.Sprintf("%.0f%s", f, units[i])
}

// Ago prints t relative to now in words: "just now", "5 minutes ago",
// "3 days ago"; "" for a zero t.
func Ago(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	if d < 0 {
		return "in the future"
	}
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit + " ago"
		}
		return fmt.Sprintf("%d %ss ago", n, unit)
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour")
	case d < 14*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day")
	case d < 60*24*time.Hour:
		return plural(int(d/(7*24*time.Hour)), "week")
	case d < 365*24*time.Hour:
		return plural(int(d/(30*24*time.Hour)), "month")
	}
	return plural(int(d/(365*24*time.Hour)), "year")
}

// AgoShort is Ago for a narrow column: "just now", "5m ago", "3h ago",
// "4d ago"; "" for a zero t.
func AgoShort(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}
