package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadPayload(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(good, []byte("{\n  \"a\": 1\n}\n"), 0o600)
	os.WriteFile(bad, []byte("{\n  \"a\": 1,\n  \"b\": tru\n}\n"), 0o600)

	cases := []struct {
		arg, stdin string
		want       string // body, when ok
		errHas     string
	}{
		{arg: `{"name":"x"}`, want: `{"name":"x"}`},
		{arg: `[1,2]`, want: `[1,2]`},
		{arg: `"hi"`, want: `"hi"`},
		{arg: `42`, want: `42`},
		{arg: `-1.5`, want: `-1.5`},
		{arg: `true`, want: `true`},
		{arg: `null`, want: `null`},
		{arg: "", want: `{}`},
		{arg: "@" + good, want: "{\n  \"a\": 1\n}"},
		{arg: "-", stdin: `{"from":"stdin"}`, want: `{"from":"stdin"}`},
		{arg: `{"name": }`, errHas: "line 1, column 10"},
		{arg: "@" + bad, errHas: "(@" + bad + ") at line 3, column 11"},
		{arg: `{"a":1} x`, errHas: "line 1, column 9: unexpected data after the JSON value"},
		{arg: `{"a":`, errHas: "unexpected end of JSON input"},
		{arg: "-", stdin: "{\n\"x\":\n", errHas: "stdin"},
		{arg: `hello`, errHas: "neither JSON, @FILE nor -"},
		{arg: "@" + filepath.Join(dir, "missing.json"), errHas: "reading payload file"},
	}
	for _, c := range cases {
		got, err := ReadPayload(c.arg, strings.NewReader(c.stdin))
		if c.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Errorf("ReadPayload(%q) err = %v, want it to contain %q", c.arg, err, c.errHas)
			}
			continue
		}
		if err != nil {
			t.Errorf("ReadPayload(%q): %v", c.arg, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("ReadPayload(%q) = %q, want %q", c.arg, got, c.want)
		}
	}
}

func TestValidateJSONPosition(t *testing.T) {
	err := ValidateJSON([]byte("{\n  \"é\": [1, 2,, 3]\n}"))
	var pe *PayloadError
	if !errors.As(err, &pe) {
		t.Fatalf("want PayloadError, got %v", err)
	}
	if pe.Line != 2 || pe.Column != 14 {
		t.Fatalf("position = %d:%d, want 2:14 (%v)", pe.Line, pe.Column, err)
	}
}
