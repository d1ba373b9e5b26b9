package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain ascii", "hello world", "hello world"},
		{"newlines kept", "a\nb\n", "a\nb\n"},
		{"empty", "", ""},
		// CSI
		{"sgr colour", "\x1b[31mred\x1b[0m plain", "red plain"},
		{"sgr 256 and truecolor", "\x1b[38;5;196mx\x1b[38;2;1;2;3my", "xy"},
		{"cursor move", "a\x1b[10;20Hb", "ab"},
		{"screen clear", "\x1b[2J\x1b[Hclean", "clean"},
		{"private mode", "\x1b[?1049halt\x1b[?25l", "alt"},
		{"csi with intermediate", "x\x1b[1 qy", "xy"},
		{"csi unterminated at end", "text\x1b[12;3", "text"},
		{"csi broken by newline", "a\x1b[12\nb", "a\nb"},
		{"8-bit csi raw byte", "a\x9b2Jb", "ab"},
		{"8-bit csi as code point", "a\u009b31mb", "ab"},
		// OSC
		{"osc title bel", "\x1b]0;evil title\x07after", "after"},
		{"osc title st", "\x1b]2;evil\x1b\\after", "after"},
		{"osc 52 clipboard", "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07ok", "ok"},
		{"osc 8 link keeps text", "see \x1b]8;;https://evil.example/\x1b\\the docs\x1b]8;;\x1b\\ now", "see the docs now"},
		{"osc 8 link bel", "\x1b]8;id=1;http://x\x07click\x1b]8;;\x07", "click"},
		{"osc ended by raw 0x9c", "\x1b]0;t\x9cafter", "after"},
		{"osc ended by U+009C", "\x1b]0;t\u009cafter", "after"},
		{"osc with utf-8 containing 0x9c byte", "\x1b]0;\u271c title\x07after", "after"},
		{"osc unterminated swallows only its line", "a\x1b]0;title\nnext line", "a\nnext line"},
		{"osc unterminated at end", "keep\x1b]0;never ends", "keep"},
		{"osc cancelled by CAN", "\x1b]0;t\x18after", "after"},
		{"osc then new escape", "\x1b]0;t\x1b[31mred", "red"},
		{"8-bit osc", "\u009d0;title\u009cafter", "after"},
		// DCS, APC, PM, SOS
		{"dcs", "a\x1bP1$r0m\x1b\\b", "ab"},
		{"apc", "a\x1b_Gf=24;AAAA\x1b\\b", "ab"},
		{"pm", "a\x1b^private\x1b\\b", "ab"},
		{"sos", "a\x1bXstring\x1b\\b", "ab"},
		{"8-bit dcs", "a\x90payload\x9cb", "ab"},
		{"8-bit apc code point", "a\u009fpayload\u009cb", "ab"},
		// other escapes
		{"charset designation", "\x1b(Bx", "x"},
		{"save cursor", "\x1b7x\x1b8", "x"},
		{"reset", "\x1bcx", "x"},
		{"lone esc at end", "x\x1b", "x"},
		{"esc before newline", "x\x1b\ny", "x\ny"},
		{"stray st", "x\x1b\\y", "xy"},
		// C0 / C1
		{"nul removed", "a\x00b", "ab"},
		{"bell backspace", "a\x07\x08b", "ab"},
		{"vertical tab form feed", "a\x0b\x0cb", "ab"},
		{"del", "a\x7fb", "ab"},
		{"c1 NEL code point", "a\u0085b", "ab"},
		{"stray st code point", "a\u009cb", "ab"},
		// carriage return
		{"progress", "progress 10%\rprogress 100%", "progress 100%"},
		{"progress many", "1%\r50%\r100%\ndone", "100%\ndone"},
		{"crlf", "line one\r\nline two\r\n", "line one\nline two\n"},
		{"trailing cr", "keep me\r", "keep me"},
		{"cr then escape then newline", "keep\r\x1b[32m\nnext", "keep\nnext"},
		{"cr only affects its line", "first\nsecond 1\rsecond 2", "first\nsecond 2"},
		// tabs
		{"tab at start", "\tx", "        x"},
		{"tab mid", "ab\tc", "ab      c"},
		{"tab at stop", "12345678\tx", "12345678        x"},
		{"tab after wide", "日本\tx", "日本    x"},
		{"tab per line", "abc\n\tx", "abc\n        x"},
		{"tab after cr", "xxxxxxxxxx\rab\tc", "ab      c"},
		{"tab after escape", "\x1b[31mab\x1b[0m\tc", "ab      c"},
		// unicode
		{"cjk kept", "ビルド完了", "ビルド完了"},
		{"emoji kept", "deploy 🚀 done 👍🏽", "deploy 🚀 done 👍🏽"},
		{"zwj emoji kept", "👩‍💻", "👩‍💻"},
		{"invalid utf-8", "a\xffb\xc3", "a\uFFFDb\uFFFD"},
		{"overlong", "\xc0\xaf", "\uFFFD\uFFFD"},
		{"real U+FFFD kept", "a\uFFFDb", "a\uFFFDb"},
		// bidi
		{"rlo override", "file\u202Etxt.exe", "filetxt.exe"},
		{"all overrides", "\u202A\u202B\u202C\u202D\u202Ex", "x"},
		{"isolates", "\u2066a\u2067b\u2068c\u2069", "abc"},
		{"marks", "a\u200Eb\u200Fc\u061Cd", "abcd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLine(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello", "hello"},
		{"newline separator", "a\nb", "a" + LineSeparator + "b"},
		{"crlf", "a\r\nb\r\n", "a" + LineSeparator + "b"},
		{"runs collapse", "a\n\n\nb", "a" + LineSeparator + "b"},
		{"leading and trailing dropped", "\n\nerror: x\n", "error: x"},
		{"cr in second segment", "a\nb 1\rb 2", "a" + LineSeparator + "b 2"},
		{"cr right after newline", "a\n\rb", "a" + LineSeparator + "b"},
		{"tab continues columns across separator", "ab\nc\td", "ab" + LineSeparator + "c  d"},
		{"escapes", "\x1b[1mbold\x1b[0m\x1b]0;t\x07", "bold"},
		{"unterminated osc ends at newline", "a\x1b]0;t\nb", "a" + LineSeparator + "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.in); got != tt.want {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"hello world", 20, "hello world"},
		{"hello world", 8, "hello w…"},
		{"\x1b[31mhello\x1b[0m world", 6, "hello…"},
		{"日本語テキスト", 7, "日本語…"},
		{"abc", 0, ""},
	}
	for _, tt := range tests {
		if got := Truncate(tt.in, tt.width); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
	if got := Width("日本\tx"); got != 9 {
		t.Errorf("Width = %d, want 9", got)
	}
}

// TestCleanInputIsNotCopied checks the fast path: clean input comes back as
// the same string, without an allocation.
func TestCleanInputIsNotCopied(t *testing.T) {
	for _, s := range []string{"plain ascii log line", "ünïcödé 日本 🚀", "multi\nline"} {
		allocs := testing.AllocsPerRun(100, func() { _ = Text(s) })
		if allocs != 0 {
			t.Errorf("Text(%q) allocated %v times, want 0", s, allocs)
		}
		if got := Text(s); got != s {
			t.Errorf("Text(%q) = %q", s, got)
		}
	}
	for _, s := range []string{"one line", "ends in a newline\n", "ends in crlf\r\n"} {
		if allocs := testing.AllocsPerRun(100, func() { _ = Line(s) }); allocs != 0 {
			t.Errorf("Line(%q) allocated %v times, want 0", s, allocs)
		}
	}
	if got := Line("ends in crlf\r\n"); got != "ends in crlf" {
		t.Errorf("Line = %q", got)
	}
}

// TestHugeLine makes sure a 1 MB line of hostile content is handled (the
// test guards only against a hang; speed is measured by the benchmarks).
func TestHugeLine(t *testing.T) {
	unit := "\x1b[31mred\x1b[0m\tdata 日本\r"
	s := strings.Repeat(unit, (1<<20)/len(unit))
	got := Line(s)
	if got != "red     data 日本" {
		t.Errorf("Line(1MB) = %q", Truncate(got, 80))
	}
	tabs := strings.Repeat("a\t", 1<<19)
	if got := Text(tabs); len(got) != 8*(1<<19) {
		t.Errorf("Text(tabs) has %d bytes, want %d", len(got), 8*(1<<19))
	}
}

// checkSafe verifies the sanitizer's promise on any output.
func checkSafe(t *testing.T, in, out string, keepNewlines bool) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("output of %q is not valid UTF-8: %q", in, out)
	}
	for _, r := range out {
		switch {
		case r == '\n' && keepNewlines:
		case r < 0x20 || r == 0x7f:
			t.Fatalf("output of %q holds control %U: %q", in, r, out)
		case isC1(r):
			t.Fatalf("output of %q holds C1 %U: %q", in, r, out)
		case isBidi(r):
			t.Fatalf("output of %q holds bidi control %U: %q", in, r, out)
		}
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{
		"", "plain", "\x1b[31mred", "\x1b]8;;http://x\x1b\\t\x1b]8;;\x1b\\", "a\rb\r\n", "\t日本\t",
		"\x9b2J", "\u009d0;x\u009c", "\u202Eabc", "\xff\xfe", "\x1bP\x1b_\x1b^\x1bX", "\x00\x07\x08",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		text := Text(s)
		checkSafe(t, s, text, true)
		line := Line(s)
		checkSafe(t, s, line, false)
		if strings.Contains(line, "\n") {
			t.Fatalf("Line(%q) holds a newline: %q", s, line)
		}
		// Sanitizing is idempotent: safe output passes through unchanged.
		if again := Text(text); again != text {
			t.Fatalf("Text not idempotent on %q: %q then %q", s, text, again)
		}
		if again := Line(line); again != line {
			t.Fatalf("Line not idempotent on %q: %q then %q", s, line, again)
		}
	})
}

func BenchmarkTextClean(b *testing.B) {
	s := "2026-11-25T10:00:00Z START RequestId: 8f1c2d3e Version: $LATEST duration 12.5 ms ünïcödé"
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		_ = Text(s)
	}
}

func BenchmarkTextHostile(b *testing.B) {
	s := "\x1b[32m2026-11-25T10:00:00Z\x1b[0m\tINFO\tprogress 10%\rprogress 100% \x1b]0;title\x07日本\n"
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		_ = Text(s)
	}
}

func BenchmarkLine1MB(b *testing.B) {
	unit := "\x1b[31mred\x1b[0m\tdata 日本 "
	s := strings.Repeat(unit, (1<<20)/len(unit))
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		_ = Line(s)
	}
}

func BenchmarkLine1MBClean(b *testing.B) {
	s := strings.Repeat("clean log text ", (1<<20)/15)
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		_ = Line(s)
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain: ok":              "plain: ok",
		"p\x1b]0;x\a\u202e":      `p\x1b]0;x\a\u202e`,
		"tab\there\r\n":          `tab\there\r\n`,
		"wide 漢字 ✓":              "wide 漢字 ✓",
		"c1 \u009b2J and \u200f": `c1 \u009b2J and \u200f`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}
