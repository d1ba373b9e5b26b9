package aws

import (
	"crypto/sha1" //nolint:gosec // the aws CLI's cache naming
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/fndeck/fndeck/cloud"
)

// TestOptInRegions: with regions "all" and the Account API denying
// ListRegions, the fallback list leaves opt-in regions out unless named;
// a named opt-in region whose Lambda answers UnrecognizedClientException
// (the same keys working elsewhere) reads "not enabled", not unauthenticated.
func TestOptInRegions(t *testing.T) {
	f := newFakeAWS(t)
	f.accounts["AK1"] = acctA
	f.env(t, "AK1")
	f.hook = func(w http.ResponseWriter, r *http.Request, region, service string) bool {
		switch {
		case r.URL.Path == "/listRegions":
			f.op("ListRegions")
			f.apiErr(w, 403, "AccessDeniedException", "User is not authorized to perform: account:ListRegions")
			return true
		case region == "af-south-1" && service == "lambda":
			f.apiErr(w, 403, "UnrecognizedClientException", "The security token included in the request is invalid.")
			return true
		}
		return false
	}
	f.add(&fakeFn{Name: "n", Account: acctA, Region: "eu-west-1"})

	b := New(Options{Regions: []string{"all"}})
	groups := collect(t, b, cloud.ListFilter{})
	var regions []string
	for _, g := range groups {
		if g.Err != nil {
			t.Errorf("group %s: %v", g.Group.Region, g.Err)
		}
		regions = append(regions, g.Group.Region)
	}
	if f.count("ListRegions") != 1 {
		t.Errorf("ListRegions asked %d times", f.count("ListRegions"))
	}
	for _, r := range regions {
		if optInRegions[r] {
			t.Errorf("opt-in region %s listed without the Account API", r)
		}
	}
	for _, r := range []string{"us-east-1", "eu-west-1", "ap-northeast-3", "sa-east-1"} {
		if !slices.Contains(regions, r) {
			t.Errorf("default region %s missing from %v", r, regions)
		}
	}

	// Named alongside "all", an opt-in region is listed; it answers
	// UnrecognizedClientException while the keys work elsewhere.
	b2 := New(Options{Regions: []string{"all", "af-south-1"}})
	var af *cloud.GroupResult
	groups = collect(t, b2, cloud.ListFilter{})
	for i, g := range groups {
		if g.Group.Region == "af-south-1" {
			af = &groups[i]
		} else if g.Err != nil {
			t.Errorf("group %s: %v", g.Group.Region, g.Err)
		}
	}
	if af == nil {
		t.Fatalf("af-south-1 not listed: %d groups", len(groups))
	}
	if af.Err == nil || !strings.Contains(af.Err.Error(), "not enabled for this account") ||
		errors.Is(af.Err, cloud.ErrUnauthenticated) || !strings.Contains(af.Hint, "enable af-south-1") {
		t.Errorf("af-south-1: err %v, hint %q", af.Err, af.Hint)
	}
	// A default-enabled region answering the same is still bad credentials.
	if err := regionNotEnabled(&smithy.GenericAPIError{Code: "UnrecognizedClientException"}, "", "us-east-1", acctA); errors.Is(err, cloud.ErrPermission) {
		t.Error("a default region's UnrecognizedClientException read as not enabled")
	}
}

// TestExpiredSSOFlaggedWithoutACall: an SSO profile whose cached token has
// expired (no refresh token) is an error group at once, with the login
// hint, and nothing is sent; a valid one lists.
func TestExpiredSSOFlaggedWithoutACall(t *testing.T) {
	f := newFakeAWS(t)
	f.accounts["AK1"] = acctA
	f.env(t, "unused")
	home := t.TempDir()
	t.Setenv("HOME", home)
	cfg := filepath.Join(home, "aws-config")
	t.Setenv("AWS_CONFIG_FILE", cfg)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_REGION", "")
	writeFile(t, cfg, "[profile gone]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Dev\nregion = eu-west-1\n\n"+
		"[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\n"+
		"[profile mfa]\nrole_arn = arn:aws:iam::111111111111:role/Admin\nsource_profile = keys\nmfa_serial = arn:aws:iam::111111111111:mfa/me\nregion = eu-west-1\n\n"+
		"[profile keys]\naws_access_key_id = AK1\naws_secret_access_key = s\nregion = eu-west-1\n")
	sum := sha1.Sum([]byte("corp")) //nolint:gosec
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	writeFile(t, filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json"),
		`{"accessToken":"x","expiresAt":"2026-03-01T11:00:00Z"}`)
	f.add(&fakeFn{Name: "k", Account: acctA, Region: "eu-west-1"})

	b := New(Options{Profiles: []string{"gone", "mfa", "keys"}, Now: func() time.Time { return now }})
	groups := collect(t, b, cloud.ListFilter{})
	byScope := map[string]cloud.GroupResult{}
	for _, g := range groups {
		byScope[g.Group.Scope] = g
	}
	gone := byScope["gone"]
	if gone.Group.Region != "eu-west-1" {
		t.Errorf("gone's group region = %q, want the profile's eu-west-1", gone.Group.Region)
	}
	if !errors.Is(gone.Err, cloud.ErrUnauthenticated) || gone.Hint != "aws sso login --profile gone" || !strings.Contains(gone.Err.Error(), "expired") {
		t.Errorf("gone: %+v", gone)
	}
	mfa := byScope["mfa"]
	if !errors.Is(mfa.Err, cloud.ErrUnauthenticated) || mfa.Hint != "fndeck login aws --profile mfa --mfa-code CODE" ||
		strings.Contains(mfa.Err.Error(), "token provider") {
		t.Errorf("mfa: %+v", mfa)
	}
	if k := byScope["keys ("+acctA+")"]; k.Err != nil || len(k.Functions) != 1 {
		t.Errorf("keys: %+v (groups %v)", k, groups)
	}
	// Only the static-key profile reached the network.
	if n := f.count("GetCallerIdentity"); n != 1 {
		t.Errorf("GetCallerIdentity called %d times, want 1 (keys only)", n)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMFAProfileErrorIsClear: outside a listing (invoke, deploy, logs), a
// profile with mfa_serial fails with what it needs and the login command,
// not the SDK's "token provider not set".
func TestMFAProfileErrorIsClear(t *testing.T) {
	f := newFakeAWS(t)
	f.env(t, "unused")
	cfg := filepath.Join(t.TempDir(), "config")
	t.Setenv("AWS_CONFIG_FILE", cfg)
	writeFile(t, cfg, "[profile admin]\nrole_arn = arn:aws:iam::111111111111:role/Admin\nsource_profile = keys\nmfa_serial = arn:aws:iam::111111111111:mfa/me\nregion = eu-west-1\n\n"+
		"[profile keys]\naws_access_key_id = AK1\naws_secret_access_key = s\n")
	b := New(Options{Profiles: []string{"admin"}})
	_, err := b.Describe(testCtx(t), cloud.Address{Provider: cloud.AWS, Profile: "admin", Region: "eu-west-1", Function: "fn"})
	if !errors.Is(err, cloud.ErrUnauthenticated) || !strings.Contains(err.Error(), "needs a code") ||
		cloud.Hint(err) != "fndeck login aws --profile admin --mfa-code CODE" {
		t.Errorf("Describe with an MFA profile: %v (hint %q)", err, cloud.Hint(err))
	}
}
