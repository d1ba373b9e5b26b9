package aws

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/accounts"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// TestMFALoginCachesAssumedRole: a profile with mfa_serial is flagged
// (needs a code) until LoginMFA assumes its role with the code against moto
// (AssumeRoleOptions.TokenProvider); the credentials are cached 0600 for
// their lifetime and a new backend lists with them, no code asked.
func TestMFALoginCachesAssumedRole(t *testing.T) {
	m := cloudtest.StartMoto(t)
	m.SetEnv(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_REGION", "")
	cfg := filepath.Join(home, "config")
	t.Setenv("AWS_CONFIG_FILE", cfg)
	writeFile(t, cfg, "[profile keys]\naws_access_key_id = testing\naws_secret_access_key = testing\nregion = us-east-1\n\n"+
		"[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = keys\nmfa_serial = arn:aws:iam::123456789012:mfa/me\nregion = us-east-1\n")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	b := New(Options{Profiles: []string{"admin"}})
	groups := collect(t, b, cloud.ListFilter{})
	if len(groups) != 1 || !errors.Is(groups[0].Err, cloud.ErrUnauthenticated) || !strings.Contains(groups[0].Hint, "--mfa-code") {
		t.Fatalf("before login: %+v", groups)
	}
	r, err := b.LoginMFA(ctx, "admin", "123456")
	if err != nil {
		t.Fatalf("LoginMFA: %v", err)
	}
	if !r.Expires.After(time.Now()) {
		t.Errorf("expires %v", r.Expires)
	}
	st, err := os.Stat(accounts.MFACachePath("admin"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cache file: %v %v", st, err)
	}
	if s := accounts.AWSSession(mustProfile(t, "admin"), time.Now()); s.State != accounts.StateValid || !s.Expires.Equal(r.Expires) {
		t.Errorf("session after login: %+v", s)
	}
	// The same backend and a fresh one (a later run) list with the cache.
	for i, bk := range []*Backend{b, New(Options{Profiles: []string{"admin"}})} {
		groups = collect(t, bk, cloud.ListFilter{})
		if len(groups) != 1 || groups[0].Err != nil || groups[0].Group.Scope != "admin (123456789012)" {
			t.Errorf("backend %d after login: %+v", i, groups)
		}
	}
	// Past the expiry (injected clock) the code is needed again.
	late := New(Options{Profiles: []string{"admin"}, Now: func() time.Time { return r.Expires.Add(time.Minute) }})
	groups = collect(t, late, cloud.ListFilter{})
	if len(groups) != 1 || !strings.Contains(groups[0].Hint, "--mfa-code") {
		t.Errorf("after expiry: %+v", groups)
	}
}

func mustProfile(t *testing.T, name string) accounts.AWSProfile {
	t.Helper()
	p, ok, err := accounts.LookupAWSProfile(name)
	if !ok || err != nil {
		t.Fatalf("profile %s: %v", name, err)
	}
	return p
}
