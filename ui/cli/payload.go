package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/fndeck/fndeck/ui/invoke"
)

// PayloadError is an invalid JSON payload, with where the problem is.
type PayloadError struct {
	Source string // "--payload", "@FILE" or "stdin"
	Line   int
	Column int
	Msg    string
}

func (e *PayloadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("invalid JSON payload (%s) at line %d, column %d: %s", e.Source, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("invalid JSON payload (%s): %s", e.Source, e.Msg)
}

// ReadPayload resolves --payload: text that starts like JSON is JSON, @FILE
// reads a file, - reads stdin. The result is validated; invalid JSON is
// refused with its line and column before anything is sent.
func ReadPayload(arg string, stdin io.Reader) ([]byte, error) {
	var body []byte
	source := "--payload"
	switch {
	case arg == "":
		return []byte("{}"), nil
	case arg == "-":
		source = "stdin"
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading payload from stdin: %w", err)
		}
		body = b
	case strings.HasPrefix(arg, "@"):
		source = arg
		b, err := os.ReadFile(arg[1:])
		if err != nil {
			return nil, fmt.Errorf("reading payload file %s: %w", arg[1:], err)
		}
		body = b
	case looksLikeJSON(arg):
		body = []byte(arg)
	default:
		return nil, &PayloadError{Source: source, Msg: fmt.Sprintf("%q is neither JSON, @FILE nor - (stdin)", truncate(arg, 40))}
	}
	if err := ValidateJSON(body); err != nil {
		var pe *PayloadError
		if errors.As(err, &pe) {
			pe.Source = source
		}
		return nil, err
	}
	return bytes.TrimSpace(body), nil
}

func looksLikeJSON(s string) bool {
	t := strings.TrimLeft(s, " \t\r\n")
	if t == "" {
		return false
	}
	switch c := t[0]; {
	case c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9'):
		return true
	}
	for _, lit := range []string{"true", "false", "null"} {
		if strings.HasPrefix(t, lit) {
			return true
		}
	}
	return false
}

// ValidateJSON checks body is exactly one JSON value; the error carries the
// 1-based line and column of the problem.
func ValidateJSON(body []byte) error {
	if !utf8.Valid(body) {
		off := 0
		for off < len(body) {
			r, n := utf8.DecodeRune(body[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		l, c := lineCol(body, off)
		return &PayloadError{Line: l, Column: c, Msg: "invalid UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			l, c := lineCol(body, int(se.Offset)-1)
			return &PayloadError{Line: l, Column: c, Msg: se.Error()}
		case errors.Is(err, io.EOF):
			return &PayloadError{Msg: "empty payload"}
		case errors.Is(err, io.ErrUnexpectedEOF):
			l, c := lineCol(body, len(body))
			return &PayloadError{Line: l, Column: c, Msg: "unexpected end of JSON input"}
		}
		return &PayloadError{Msg: err.Error()}
	}
	// Anything but white space after the value is an error too.
	rest := body[dec.InputOffset():]
	if i := bytes.IndexFunc(rest, func(r rune) bool { return !strings.ContainsRune(" \t\r\n", r) }); i >= 0 {
		l, c := lineCol(body, int(dec.InputOffset())+i)
		return &PayloadError{Line: l, Column: c, Msg: "unexpected data after the JSON value"}
	}
	return nil
}

// lineCol turns the byte offset of the offending byte into a 1-based line
// and column, counting columns as the invoke pane does (one rule for both).
func lineCol(b []byte, off int) (int, int) {
	return invoke.Position(b, int64(off)+1)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
