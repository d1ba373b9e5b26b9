package remote

import (
	"strings"
	"testing"

	"github.com/fndeck/fndeck/internal/redact"
)

func TestRedactHidesSecretsInHelperStderr(t *testing.T) {
	for in, secret := range map[string]string{
		`level=DEBUG msg=x token=abc123`:                 "abc123",
		`{"password": "hunter2"}`:                        "hunter2",
		`AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI`:            "wJalrXUtnFEMI",
		`using key AKIAIOSFODNN7EXAMPLE for the request`: "AKIAIOSFODNN7EXAMPLE",
		`Authorization: Bearer ya29.tok`:                 "ya29.tok",
	} {
		out := redact.Patterns(in)
		if strings.Contains(out, secret) || !strings.Contains(out, "[redacted]") {
			t.Errorf("redact(%q) = %q", in, out)
		}
	}
	if in := "panic: runtime error: index out of range"; redact.Patterns(in) != in {
		t.Errorf("redact changed a line without a secret: %q", redact.Patterns(in))
	}
}
