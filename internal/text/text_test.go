package text

import (
	"testing"
	"time"
)

func TestJSONOrString(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"  \n":         "",
		`{"a":1}`:      `{"a":1}`,
		`[1, 2]`:       `[1, 2]`,
		"hello":        `"hello"`,
		"Internal\n":   `"Internal\n"`,
		"<b>\"x\"</b>": `"\u003cb\u003e\"x\"\u003c/b\u003e"`,
	} {
		if got := string(JSONOrString([]byte(in))); got != want {
			t.Errorf("JSONOrString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestOrDashShortID(t *testing.T) {
	if OrDash("") != "-" || OrDash("x") != "x" {
		t.Errorf("OrDash: %q %q", OrDash(""), OrDash("x"))
	}
	if got := ShortID("sha256:0123456789abcdef"); got != "0123456789ab" {
		t.Errorf("ShortID = %q", got)
	}
	if got := ShortID("abc"); got != "abc" {
		t.Errorf("ShortID(short) = %q", got)
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 999: "999B", 1000: "1.00kB", 1500000: "1.50MB", 25_300_000: "25.3MB", 999_499_999: "999MB", 2_000_000_000: "2.00GB", 45_000_000: "45.0MB", 123_400_000: "123MB", 1_500_000_000: "1.50GB"} {
		if got := HumanSize(n); got != want {
			t.Errorf("HumanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	if Ago(time.Time{}, now) != "" || AgoShort(time.Time{}, now) != "" {
		t.Error("zero time must print nothing")
	}
	long := map[time.Duration]string{30 * time.Second: "just now", 5 * time.Minute: "5 minutes ago", time.Hour: "1 hour ago", 3 * 24 * time.Hour: "3 days ago", 21 * 24 * time.Hour: "3 weeks ago", 400 * 24 * time.Hour: "1 year ago", -time.Hour: "in the future"}
	for d, want := range long {
		if got := Ago(now.Add(-d), now); got != want {
			t.Errorf("Ago(%v) = %q, want %q", d, got, want)
		}
	}
	short := map[time.Duration]string{30 * time.Second: "just now", 5 * time.Minute: "5m ago", 3 * time.Hour: "3h ago", 47 * time.Hour: "47h ago", 3 * 24 * time.Hour: "3d ago"}
	for d, want := range short {
		if got := AgoShort(now.Add(-d), now); got != want {
			t.Errorf("AgoShort(%v) = %q, want %q", d, got, want)
		}
	}
}
