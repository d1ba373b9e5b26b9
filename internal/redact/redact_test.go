package redact

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	const awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	tests := []struct {
		name, in, want string
	}{
		{"plain text untouched", "Step 3/7 : RUN make build", "Step 3/7 : RUN make build"},
		{"aws secret in ini", "aws_secret_access_key = " + awsSecret, "aws_secret_access_key = [redacted]"},
		{"aws secret env", "AWS_SECRET_ACCESS_KEY=" + awsSecret, "AWS_SECRET_ACCESS_KEY=[redacted]"},
		{"aws secret json", `{"SecretAccessKey": "` + awsSecret + `"}`, `{"SecretAccessKey": "[redacted]"}`},
		{"session token", "aws_session_token: IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH", "aws_session_token: [redacted]"},
		{"access key id name shown, value hidden", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY_ID=[redacted]"},
		{"key id name shown", "KMS_KEY_ID=1234abcd session_id=s-42", "KMS_KEY_ID=1234abcd session_id=s-42"},
		{"access key id anywhere", "using key AKIAIOSFODNN7EXAMPLE for the request", "using key [redacted] for the request"},
		{"temporary access key id", "ASIAIOSFODNN7EXAMPLE", "[redacted]"},
		{"bare bearer", "retrying with bearer ya29.tok-9", "retrying with bearer [redacted]"},
		{"bare basic", `header "Basic dXNlcjpwYXNz"`, `header "Basic [redacted]"`},
		{"logfmt token", "level=DEBUG msg=x token=abc123", "level=DEBUG msg=x token=[redacted]"},
		{"yaml password", "password: hunter22", "password: [redacted]"},
		{"words that only contain a secret's name", "author: ann session: started tokenizer: bert authenticated: yes",
			"author: ann session: started tokenizer: bert authenticated: yes"},
		{"prefixed secret names", "client_secret=cs-1 session_token: st-2 db-password=pw3",
			"client_secret=[redacted] session_token: [redacted] db-password=[redacted]"},
		{"json password with space", `{"password": "hunter2"}`, `{"password": "[redacted]"}`},
		{"api-key header", "X-Api-Key: k-123456", "X-Api-Key: [redacted]"},
		{"credential query", "GET /?credential=c-1234&x=1", "GET /?credential=[redacted]&x=1"},
		{"bearer header", "Authorization: Bearer abc.def-123", "Authorization: Bearer [redacted]"},
		{"basic header", "authorization: Basic dXNlcjpwYXNz", "authorization: Basic [redacted]"},
		{"json password", `{"username":"u","password":"p@ss\"word"}`, `{"username":"u","password":"[redacted]"}`},
		{"json identitytoken", `{"IdentityToken": "tok-123456"}`, `{"IdentityToken": "[redacted]"}`},
		{"amz token query", "GET /x?X-Amz-Security-Token=FQoGZXIvYXdzEJr&X-Amz-Date=20261125", "GET /x?X-Amz-Security-Token=[redacted]&X-Amz-Date=20261125"},
		{"amz token header", "X-Amz-Security-Token: FQoGZXIvYXdzEJr", "X-Amz-Security-Token: [redacted]"},
		{"jwt", "token is " + jwt + " ok", "token is [redacted] ok"},
		{"env secret", "ENV DB_PASSWORD=hunter22 APP=web", "ENV DB_PASSWORD=[redacted] APP=web"},
		{"env quoted", `--build-arg API_TOKEN="a b c" --build-arg MODE=prod`, `--build-arg API_TOKEN=[redacted] --build-arg MODE=prod`},
		{"env key", "STRIPE_API_KEY=sk_live_1234", "STRIPE_API_KEY=[redacted]"},
		{"env key id shown", "KMS_KEY_ID=1234abcd", "KMS_KEY_ID=1234abcd"},
		{"env private", "GPG_PRIVATE=xyz123", "GPG_PRIVATE=[redacted]"},
		{"env credential", "GOOGLE_CREDENTIALS=xyz123", "GOOGLE_CREDENTIALS=[redacted]"},
		{"pwd shown", "PWD=/var/task", "PWD=/var/task"},
		{"password flag", "docker login --password hunter22 --username me", "docker login --password [redacted] --username me"},
		{"url userinfo", "pushing to https://user:s3cret@registry.example/v2/", "pushing to https://user:[redacted]@registry.example/v2/"},
	}
	r := New()
	for _, tc := range tests {
		if got := Patterns(tc.in); got != tc.want {
			t.Errorf("Patterns(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactRegisteredSecrets(t *testing.T) {
	r := New()
	r.Add("abc") // too short: ignored
	r.Add("tok-1234")
	r.Add("tok-12345678") // contains the other: replaced whole
	got := r.Redact("a tok-12345678 b tok-1234 c abc")
	if got != "a [redacted] b [redacted] c abc" {
		t.Fatalf("got %q", got)
	}
	child := r.Child()
	child.Add("child-only-secret")
	if got := child.Redact("tok-1234 child-only-secret"); got != "[redacted] [redacted]" {
		t.Fatalf("child: %q", got)
	}
	if got := r.Redact("child-only-secret"); got != "child-only-secret" {
		t.Fatalf("a child's value leaked into its parent: %q", got)
	}
	var nilR *Redactor
	if got := nilR.Redact("x PASSWORD=y"); got != "x PASSWORD=[redacted]" {
		t.Fatalf("nil redactor: %q", got)
	}
}

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"DB_PASSWORD": true, "GITHUB_TOKEN": true, "client_secret": true, "API_KEY": true,
		"SSH_PRIVATE": true, "AWS_ACCESS_KEY_ID": false, "KMS_KEY_ARN": false, "PATH": false,
		"HOME": false, "PWD": false, "KEY_FILE": false, "LOG_LEVEL": false,
	} {
		if got := SecretName(name); got != want {
			t.Errorf("SecretName(%q) = %v, want %v", name, got, want)
		}
	}
}

func BenchmarkRedactLine(b *testing.B) {
	r := New()
	r.Add("supersecretvalue")
	line := strings.Repeat("Step 3/7 : RUN go build -o /app ./cmd/app ", 2)
	b.ReportAllocs()
	for b.Loop() {
		r.Redact(line)
	}
}
