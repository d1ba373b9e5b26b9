package cli

import (
	"bytes"
	"context"
	"crypto/sha1" //nolint:gosec // the aws CLI's cache naming
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func runLogin(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	deps := Deps{Stdout: &stdout, Stderr: &stderr, Stdin: strings.NewReader(stdin),
		Open: func(context.Context, Globals) (*Session, error) { t.Fatal("login opened a session"); return nil, nil }}
	code := Execute(context.Background(), deps, append([]string{"login"}, args...))
	return stdout.String(), stderr.String(), code
}

func writeT(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// TestLoginAWSRunsSSOLoginWithDeviceCode: over SSH, `fndeck login aws
// --profile dev` runs the stub aws CLI's `sso login --profile dev
// --use-device-code`, shows its URL and code, and reads the fresh token
// cache it wrote.
func TestLoginAWSRunsSSOLoginWithDeviceCode(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "none"))
	t.Setenv("SSH_CONNECTION", "10.0.0.1 50000 10.0.0.2 22")
	writeT(t, filepath.Join(home, "aws-config"), "[profile dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Dev\n\n[sso-session corp]\nsso_start_url = https://corp.example/start\nsso_region = eu-west-1\n", 0o600)
	sum := sha1.Sum([]byte("corp")) //nolint:gosec
	cache := filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
	writeT(t, cache, `{"accessToken":"old","expiresAt":"2020-01-01T00:00:00Z"}`, 0o600)
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	expires := time.Now().Add(8 * time.Hour).UTC().Format(time.RFC3339)
	writeT(t, filepath.Join(bin, "aws"), "#!/bin/sh\necho \"$*\" >> "+calls+"\n"+
		"echo 'Browser will not be automatically opened.'\necho 'Please visit the following URL:'\necho\necho 'https://device.sso.eu-west-1.amazonaws.com/'\necho\necho 'Then enter the code:'\necho\necho 'WXYZ-ABCD'\n"+
		"printf '\\033]0;title\\007'\n"+
		"printf '%s' '{\"accessToken\":\"new\",\"expiresAt\":\""+expires+"\",\"refreshToken\":\"r\",\"registrationExpiresAt\":\""+expires+"\"}' > "+cache+"\n"+
		"echo 'Successfully logged into Start URL: https://corp.example/start'\n", 0o755)
	t.Setenv("PATH", bin+":/usr/bin:/bin")

	out, errOut, code := runLogin(t, "", "aws", "--profile", "dev")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	b, _ := os.ReadFile(calls)
	if strings.TrimSpace(string(b)) != "sso login --profile dev --use-device-code" {
		t.Errorf("aws called with %q", b)
	}
	for _, want := range []string{"WXYZ-ABCD", "https://device.sso.eu-west-1.amazonaws.com/", "aws dev: session valid until"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("the child's escape sequence reached the terminal: %q", out)
	}
	if !strings.Contains(errOut, "running: aws sso login --profile dev --use-device-code") {
		t.Errorf("stderr: %s", errOut)
	}

	// With a display and no SSH, the browser flow (no --use-device-code).
	t.Setenv("SSH_CONNECTION", "")
	t.Setenv("SSH_TTY", "")
	t.Setenv("DISPLAY", ":0")
	if _, _, code := runLogin(t, "", "aws", "--profile", "dev"); code != ExitOK {
		t.Fatal("second login failed")
	}
	b, _ = os.ReadFile(calls)
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); lines[len(lines)-1] != "sso login --profile dev" {
		t.Errorf("with a display: %q", lines)
	}
}

// TestLoginGCPAndMissingCLI: gcloud without a browser gets
// --no-launch-browser and the code typed on stdin; a missing CLI is named
// with what to install; an MFA profile without a code says which flag.
func TestLoginGCPAndMissingCLI(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("SSH_CONNECTION", "1 2 3 4")
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	writeT(t, filepath.Join(bin, "gcloud"), "#!/bin/sh\necho \"$*\" >> "+calls+"\necho 'Go to the following link in your browser: https://accounts.google.com/o/oauth2/auth?x=1'\n"+
		"echo 'Enter authorization code:'\nread code\necho \"got $code\" >> "+calls+"\necho 'Credentials saved to file'\n", 0o755)
	t.Setenv("PATH", bin+":/usr/bin:/bin")
	out, errOut, code := runLogin(t, "4/0AbCdEf\n", "gcp")
	if code != ExitOK || !strings.Contains(out, "https://accounts.google.com/o/oauth2/auth") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	b, _ := os.ReadFile(calls)
	if got := string(b); got != "auth application-default login --no-launch-browser\ngot 4/0AbCdEf\n" {
		t.Errorf("gcloud calls %q", got)
	}

	t.Setenv("PATH", t.TempDir())
	_, errOut, code = runLogin(t, "", "aws", "--profile", "dev")
	if code != ExitFailure || !strings.Contains(errOut, "aws") || !strings.Contains(errOut, "install the AWS CLI v2") {
		t.Errorf("missing aws: exit %d\n%s", code, errOut)
	}

	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "cfg"))
	writeT(t, filepath.Join(home, "cfg"), "[profile admin]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = k\nmfa_serial = arn:aws:iam::1:mfa/me\n", 0o600)
	_, errOut, code = runLogin(t, "", "aws", "--profile", "admin")
	if code != ExitUsage || !strings.Contains(errOut, "--mfa-code") {
		t.Errorf("mfa without a code: exit %d\n%s", code, errOut)
	}
}
