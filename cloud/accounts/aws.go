package accounts

import (
	"crypto/sha1" //nolint:gosec // the aws CLI names its SSO cache files by SHA-1; not a security use
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Kinds of AWS credentials a profile uses.
const (
	KindSSO         = "sso"
	KindAssumeRole  = "assumed role"
	KindStatic      = "static keys"
	KindProcess     = "credential process"
	KindWebIdentity = "web identity"
	KindEnv         = "environment"
	KindUnknown     = "unknown"
)

// AWSProfile is one profile of the shared config and credentials files.
type AWSProfile struct {
	Name          string
	Kind          string
	Region        string
	SSOSession    string // sso_session (the newer, refreshable form)
	SSOStartURL   string
	RoleARN       string
	SourceProfile string
	MFASerial     string
}

// AWSConfigFile is AWS_CONFIG_FILE, else ~/.aws/config.
func AWSConfigFile() string { return awsFile("AWS_CONFIG_FILE", "config") }

// AWSCredentialsFile is AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials.
func AWSCredentialsFile() string { return awsFile("AWS_SHARED_CREDENTIALS_FILE", "credentials") }

func awsFile(env, name string) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".aws", name)
}

// awsFiles holds both shared files, parsed.
type awsFiles struct {
	config, creds iniFile
}

func readAWSFiles() (awsFiles, error) {
	var f awsFiles
	var errs []error
	for _, it := range []struct {
		path string
		dst  *iniFile
	}{{AWSConfigFile(), &f.config}, {AWSCredentialsFile(), &f.creds}} {
		if it.path == "" {
			continue
		}
		ini, err := readINI(it.path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		if ini == nil {
			ini = iniFile{}
		}
		*it.dst = ini
	}
	return f, errors.Join(errs...)
}

// section returns profile name's merged keys: the config file's
// [profile NAME] (or [default]) under the credentials file's [NAME].
func (f awsFiles) section(name string) map[string]string {
	out := map[string]string{}
	key := "profile " + name
	if name == "default" {
		if _, ok := f.config[key]; !ok {
			key = "default"
		}
	}
	for k, v := range f.config[key] {
		out[k] = v
	}
	for k, v := range f.creds[name] {
		out[k] = v
	}
	return out
}

func (f awsFiles) profile(name string) (AWSProfile, bool) {
	s := f.section(name)
	_, inConfig := f.config["profile "+name]
	if name == "default" {
		_, inConfig = f.config["default"]
		if !inConfig {
			_, inConfig = f.config["profile default"]
		}
	}
	_, inCreds := f.creds[name]
	if !inConfig && !inCreds {
		return AWSProfile{}, false
	}
	p := AWSProfile{Name: name, Region: s["region"], SSOSession: s["sso_session"], SSOStartURL: s["sso_start_url"],
		RoleARN: s["role_arn"], SourceProfile: s["source_profile"], MFASerial: s["mfa_serial"]}
	if p.SSOSession != "" && p.SSOStartURL == "" {
		p.SSOStartURL = f.config["sso-session "+p.SSOSession]["sso_start_url"]
	}
	switch {
	case p.RoleARN != "" && s["web_identity_token_file"] != "":
		p.Kind = KindWebIdentity
	case p.RoleARN != "":
		p.Kind = KindAssumeRole
	case p.SSOSession != "" || p.SSOStartURL != "":
		p.Kind = KindSSO
	case s["aws_access_key_id"] != "":
		p.Kind = KindStatic
	case s["credential_process"] != "":
		p.Kind = KindProcess
	default:
		p.Kind = KindUnknown
	}
	return p, true
}

// AWSProfiles lists every profile of the shared files, sorted by name.
func AWSProfiles() ([]AWSProfile, error) {
	f, err := readAWSFiles()
	names := map[string]bool{}
	for sec := range f.config {
		if n, ok := strings.CutPrefix(sec, "profile "); ok {
			names[n] = true
		} else if sec == "default" {
			names[sec] = true
		}
	}
	for sec := range f.creds {
		if sec != "" {
			names[sec] = true
		}
	}
	out := make([]AWSProfile, 0, len(names))
	for n := range names {
		if p, ok := f.profile(n); ok {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// LookupAWSProfile returns one profile; "" means AWS_PROFILE, else default.
func LookupAWSProfile(name string) (AWSProfile, bool, error) {
	if name == "" {
		name = cmpOr(os.Getenv("AWS_PROFILE"), os.Getenv("AWS_DEFAULT_PROFILE"), "default")
	}
	f, err := readAWSFiles()
	p, ok := f.profile(name)
	return p, ok, err
}

func cmpOr(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// Session states.
const (
	StateValid       = "valid"       // works now; Expires when known
	StateRefreshable = "refreshable" // no readable expiry, refreshes itself until a refresh fails
	StateExpired     = "expired"     // needs a login
	StateNeedsMFA    = "needs MFA code"
	StateUnknown     = "unknown" // nothing on disk says (the SDK's chain decides)
)

// Session is what can be told about a profile's or account's credentials
// without a network call.
type Session struct {
	Kind    string
	State   string
	Expires time.Time // zero when unknown or not expiring
	// Refreshable is true when an expired access token renews itself (an SSO
	// token with a valid refresh token and client registration).
	Refreshable bool
	// Hint is the command that logs in again.
	Hint string
}

// ExpiresWithin reports whether a session that cannot renew itself ends
// within d of now (the header's warning).
func (s Session) ExpiresWithin(now time.Time, d time.Duration) bool {
	return s.State == StateValid && !s.Refreshable && !s.Expires.IsZero() && s.Expires.Sub(now) <= d
}

// SSOCachePath is the aws CLI's cached token file for an SSO session name
// or, for legacy profiles, the start URL: ~/.aws/sso/cache/<sha1>.json.
func SSOCachePath(key string) string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	sum := sha1.Sum([]byte(key)) //nolint:gosec // the CLI's file naming
	return filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
}

// ssoToken is the aws CLI's SSO token cache file.
type ssoToken struct {
	AccessToken           string `json:"accessToken"`
	ExpiresAt             string `json:"expiresAt"`
	RefreshToken          string `json:"refreshToken"`
	RegistrationExpiresAt string `json:"registrationExpiresAt"`
}

// parseAWSTime reads the CLI's timestamps ("2024-01-02T03:04:05Z", or the
// older "...UTC" suffix).
func parseAWSTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "UTC") {
		s = strings.TrimSuffix(s, "UTC") + "Z"
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// AWSSession says where profile p's credentials come from and whether they
// still work at now. Assumed roles inherit their source profile's state.
func AWSSession(p AWSProfile, now time.Time) Session {
	return awsSession(p, now, 0)
}

func awsSession(p AWSProfile, now time.Time, depth int) Session {
	s := Session{Kind: p.Kind, State: StateUnknown}
	switch p.Kind {
	case KindSSO:
		key, hint := p.SSOStartURL, "aws sso login --profile "+p.Name
		if p.SSOSession != "" {
			key = p.SSOSession
		}
		s.Hint = hint
		b, err := os.ReadFile(SSOCachePath(key))
		if err != nil {
			s.State = StateExpired // never logged in on this machine
			return s
		}
		var tok ssoToken
		if json.Unmarshal(b, &tok) != nil || tok.AccessToken == "" {
			s.State = StateExpired
			return s
		}
		exp, ok := parseAWSTime(tok.ExpiresAt)
		if !ok {
			return s
		}
		s.Expires = exp
		regExp, regOK := parseAWSTime(tok.RegistrationExpiresAt)
		s.Refreshable = p.SSOSession != "" && tok.RefreshToken != "" && regOK && now.Before(regExp)
		switch {
		case now.Before(exp):
			s.State = StateValid
		case s.Refreshable:
			s.State = StateRefreshable
		default:
			s.State = StateExpired
		}
	case KindAssumeRole:
		if p.MFASerial != "" {
			s.Hint = "fndeck login aws --profile " + p.Name + " --mfa-code CODE"
			if c, ok := ReadMFACache(p.Name, now); ok {
				s.State, s.Expires = StateValid, c.Expiration
				return s
			}
			s.State = StateNeedsMFA
			return s
		}
		if p.SourceProfile != "" && p.SourceProfile != p.Name && depth < 8 {
			if src, ok, _ := LookupAWSProfile(p.SourceProfile); ok {
				inner := awsSession(src, now, depth+1)
				inner.Kind = KindAssumeRole
				return inner
			}
		}
	case KindStatic:
		s.State = StateValid
	}
	return s
}
