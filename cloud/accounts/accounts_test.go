package accounts

import (
	"crypto/sha1" //nolint:gosec
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// home gives the test its own HOME and clears every variable that would
// point the readers elsewhere.
func home(t *testing.T) string {
	t.Helper()
	h := t.TempDir()
	t.Setenv("HOME", h)
	for _, k := range []string{"XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "CLOUDSDK_CONFIG", "AWS_CONFIG_FILE",
		"AWS_SHARED_CREDENTIALS_FILE", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT",
		"CLOUDSDK_ACTIVE_CONFIG_NAME", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "DOCKER_CONFIG"} {
		t.Setenv(k, "")
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(h, ".config"))
	t.Setenv("DOCKER_CONFIG", filepath.Join(h, ".docker"))
	return h
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

const adcUser = `{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"r","quota_project_id":"acme-quota"}`

func TestGCPProjectOrder(t *testing.T) {
	h := home(t)
	gdir := filepath.Join(h, ".config", "gcloud")
	if _, ok := DiscoverGCPProject(); ok {
		t.Fatal("a project was found in an empty home")
	}
	if GCPConfigured() {
		t.Error("an empty home reads as configured")
	}

	// ADC from `gcloud auth application-default login`: no project_id.
	write(t, filepath.Join(gdir, "application_default_credentials.json"), adcUser)
	if p, _ := DiscoverGCPProject(); p.ID != "acme-quota" || p.Source != SourceQuotaProject {
		t.Errorf("ADC only: %+v, want acme-quota from the quota project", p)
	}
	adc, ok, err := ReadADC()
	if err != nil || !ok || adc.Type != "authorized_user" || !adc.HasRefresh || adc.ProjectID != "" {
		t.Errorf("ReadADC = %+v %v %v", adc, ok, err)
	}

	// gcloud's active configuration wins over ADC: the active_config file
	// names "work", whose [core] project is acme-web.
	write(t, filepath.Join(gdir, "active_config"), "work\n")
	write(t, filepath.Join(gdir, "configurations", "config_default"), "[core]\nproject = acme-default\n")
	write(t, filepath.Join(gdir, "configurations", "config_work"), "[core]\naccount = dev@example.com\nproject = acme-web\n\n[compute]\nregion = europe-west1\n")
	if p, _ := DiscoverGCPProject(); p.ID != "acme-web" || p.Source != SourceGcloud {
		t.Errorf("gcloud config: %+v, want acme-web from gcloud config", p)
	}
	props, _ := ReadGcloudProperties()
	if props.Account != "dev@example.com" || props.Config != "work" {
		t.Errorf("properties = %+v", props)
	}
	// CLOUDSDK_ACTIVE_CONFIG_NAME beats the active_config file.
	t.Setenv("CLOUDSDK_ACTIVE_CONFIG_NAME", "default")
	if p, _ := DiscoverGCPProject(); p.ID != "acme-default" {
		t.Errorf("CLOUDSDK_ACTIVE_CONFIG_NAME=default: %+v", p)
	}
	// The environment beats everything.
	t.Setenv("CLOUDSDK_CORE_PROJECT", "acme-env")
	if p, _ := DiscoverGCPProject(); p.ID != "acme-env" || p.Source != SourceEnv || p.Detail != "CLOUDSDK_CORE_PROJECT" {
		t.Errorf("env: %+v", p)
	}

	// CLOUDSDK_CONFIG moves the whole directory; GOOGLE_APPLICATION_CREDENTIALS the ADC file.
	t.Setenv("CLOUDSDK_CORE_PROJECT", "")
	t.Setenv("CLOUDSDK_ACTIVE_CONFIG_NAME", "")
	other := t.TempDir()
	t.Setenv("CLOUDSDK_CONFIG", other)
	if _, ok := DiscoverGCPProject(); ok {
		t.Error("a project was found in an empty CLOUDSDK_CONFIG")
	}
	sa := filepath.Join(t.TempDir(), "key.json")
	write(t, sa, `{"type":"service_account","project_id":"acme-sa","client_email":"ci@acme-sa.iam.gserviceaccount.com"}`)
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", sa)
	if p, _ := DiscoverGCPProject(); p.ID != "acme-sa" || p.Source != SourceCredentials {
		t.Errorf("service account key: %+v", p)
	}
	write(t, sa, `not json`)
	if _, _, err := ReadADC(); err == nil {
		t.Error("a broken ADC file reads without error")
	}
}

func cacheKey(k string) string {
	s := sha1.Sum([]byte(k)) //nolint:gosec
	return hex.EncodeToString(s[:])
}

func TestAWSProfilesAndSessions(t *testing.T) {
	h := home(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg := filepath.Join(h, "aws-config")
	t.Setenv("AWS_CONFIG_FILE", cfg)
	write(t, cfg, `[default]
region = eu-west-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Dev
region = eu-west-1

[profile stale]
sso_session = stale-sess
sso_account_id = 222222222222
sso_role_name = Dev

[sso-session stale-sess]
sso_start_url = https://stale.awsapps.com/start

[profile legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_account_id = 333333333333
sso_role_name = Admin

[profile renewing]
sso_session = renew

[sso-session renew]
sso_start_url = https://renew.awsapps.com/start

[profile admin]
role_arn = arn:aws:iam::444444444444:role/Admin
source_profile = default
mfa_serial = arn:aws:iam::444444444444:mfa/me

[profile ops]
role_arn = arn:aws:iam::555555555555:role/Ops
source_profile = dev

[profile tool]
credential_process = /usr/bin/true
`)
	write(t, filepath.Join(h, ".aws", "credentials"), "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n")
	cache := filepath.Join(h, ".aws", "sso", "cache")
	// dev: valid for one more hour. stale: expired, no refresh token.
	// legacy: expired (legacy tokens never refresh). renewing: expired
	// access token with a live refresh token and registration.
	write(t, filepath.Join(cache, cacheKey("corp")+".json"), `{"accessToken":"a","expiresAt":"2026-03-01T13:00:00Z","region":"eu-west-1","startUrl":"https://corp.awsapps.com/start"}`)
	write(t, filepath.Join(cache, cacheKey("stale-sess")+".json"), `{"accessToken":"a","expiresAt":"2026-03-01T11:00:00Z"}`)
	write(t, filepath.Join(cache, cacheKey("https://legacy.awsapps.com/start")+".json"), `{"accessToken":"a","expiresAt":"2026-03-01T11:59:59UTC"}`)
	write(t, filepath.Join(cache, cacheKey("renew")+".json"), `{"accessToken":"a","expiresAt":"2026-03-01T11:00:00Z","refreshToken":"r","clientId":"c","clientSecret":"s","registrationExpiresAt":"2026-06-01T00:00:00Z"}`)

	ps, err := AWSProfiles()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]AWSProfile{}
	for _, p := range ps {
		got[p.Name] = p
	}
	want := map[string]string{"default": KindStatic, "dev": KindSSO, "stale": KindSSO, "legacy": KindSSO, "renewing": KindSSO,
		"admin": KindAssumeRole, "ops": KindAssumeRole, "tool": KindProcess}
	if len(got) != len(want) {
		t.Errorf("profiles = %v", ps)
	}
	for n, k := range want {
		if got[n].Kind != k {
			t.Errorf("profile %s kind = %q, want %q", n, got[n].Kind, k)
		}
	}
	if got["dev"].SSOStartURL != "https://corp.awsapps.com/start" || got["default"].Region != "eu-west-1" {
		t.Errorf("dev = %+v, default = %+v", got["dev"], got["default"])
	}

	cases := []struct {
		profile, state string
		refreshable    bool
		hint           string
	}{
		{"dev", StateValid, false, "aws sso login --profile dev"},
		{"stale", StateExpired, false, "aws sso login --profile stale"},
		{"legacy", StateExpired, false, "aws sso login --profile legacy"},
		{"renewing", StateRefreshable, true, "aws sso login --profile renewing"},
		{"admin", StateNeedsMFA, false, "fndeck login aws --profile admin --mfa-code CODE"},
		{"ops", StateValid, false, "aws sso login --profile dev"}, // the source profile's session
		{"default", StateValid, false, ""},
		{"tool", StateUnknown, false, ""},
	}
	for _, c := range cases {
		s := AWSSession(got[c.profile], now)
		if s.State != c.state || s.Refreshable != c.refreshable || s.Hint != c.hint {
			t.Errorf("%s: session %+v, want state %q refreshable %v hint %q", c.profile, s, c.state, c.refreshable, c.hint)
		}
	}
	dev := AWSSession(got["dev"], now)
	if !dev.Expires.Equal(time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("dev expires %v", dev.Expires)
	}
	if dev.ExpiresWithin(now, 5*time.Minute) || !dev.ExpiresWithin(now.Add(56*time.Minute), 5*time.Minute) {
		t.Error("the five-minute warning is wrong")
	}
	// A profile never logged in on this machine (no cache file) is expired.
	if err := os.Remove(filepath.Join(cache, cacheKey("corp")+".json")); err != nil {
		t.Fatal(err)
	}
	if s := AWSSession(got["dev"], now); s.State != StateExpired {
		t.Errorf("no token cache: %+v", s)
	}
	p, ok, _ := LookupAWSProfile("")
	if !ok || p.Name != "default" {
		t.Errorf("LookupAWSProfile(\"\") = %+v %v", p, ok)
	}
}

func TestSessionWarnings(t *testing.T) {
	h := home(t)
	cfg := filepath.Join(h, "aws-config")
	t.Setenv("AWS_CONFIG_FILE", cfg)
	write(t, cfg, "[profile dev]\nsso_session = corp\n\n[sso-session corp]\nsso_start_url = https://corp.example/start\n\n"+
		"[profile old]\nsso_start_url = https://old.example/start\n\n[profile keys]\naws_access_key_id = A\naws_secret_access_key = s\n")
	cache := filepath.Join(h, ".aws", "sso", "cache")
	write(t, filepath.Join(cache, cacheKey("corp")+".json"), `{"accessToken":"a","expiresAt":"2026-03-01T12:04:00Z"}`)
	write(t, filepath.Join(cache, cacheKey("https://old.example/start")+".json"), `{"accessToken":"a","expiresAt":"2026-03-01T10:00:00Z"}`)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	got := SessionWarnings([]string{"all"}, now)
	want := []string{"aws dev: session expires in 4m", "aws old: session expired — aws sso login --profile old"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("warnings = %q, want %q", got, want)
	}
	// Ten minutes earlier nothing warns about dev; only the named profile is read.
	if got := SessionWarnings([]string{"dev"}, now.Add(-10*time.Minute)); len(got) != 0 {
		t.Errorf("warnings ten minutes before = %q", got)
	}
}
