package invoke

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// PayloadError is a payload that is not valid JSON, with the 1-based line and
// column (in characters) where the parser gave up.
type PayloadError struct {
	Line, Column int
	Msg          string
}

func (e *PayloadError) Error() string {
	if e.Line == 0 {
		return "invalid JSON payload: " + e.Msg
	}
	return fmt.Sprintf("invalid JSON payload at line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// ValidatePayload checks that b is one JSON value. Its error reads
// "invalid JSON payload at line L, column C: …"; the headless `invoke`
// command and the invoke pane share it so both say the same thing.
func ValidatePayload(b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return &PayloadError{Msg: "empty (send {} for an empty object)"}
	}
	if json.Valid(b) {
		return nil
	}
	var v any
	err := json.Unmarshal(b, &v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := se.Offset
		if strings.HasPrefix(se.Error(), "unexpected end of JSON input") {
			// Unexpected end of input: point just past the last character.
			off = int64(len(b)) + 1
		}
		line, col := Position(b, off)
		return &PayloadError{Line: line, Column: col, Msg: se.Error()}
	}
	return &PayloadError{Msg: err.Error()}
}

// Position turns a json.SyntaxError offset (bytes read when the error was
// found, so the offending byte is the one before it) into a 1-based line and
// character column.
func Position(b []byte, offset int64) (line, col int) {
	pos := int(offset) - 1
	if pos < 0 {
		pos = 0
	}
	if pos > len(b) {
		pos = len(b)
	}
	// At end of input the error is after the last character, not on it.
	if int(offset) > len(b) {
		pos = len(b)
	}
	line = 1 + bytes.Count(b[:pos], []byte{'\n'})
	start := bytes.LastIndexByte(b[:pos], '\n') + 1
	col = utf8.RuneCount(b[start:pos]) + 1
	return line, col
}
