package accounts

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// MFACredentials are a role's temporary credentials obtained with an MFA
// code, cached for their lifetime as the aws CLI does (its cache is keyed
// differently; fndeck keeps its own). They are secrets: never print them.
type MFACredentials struct {
	AccessKeyID     string    `json:"access_key_id"`
	SecretAccessKey string    `json:"secret_access_key"`
	SessionToken    string    `json:"session_token"`
	Expiration      time.Time `json:"expiration"`
}

// MFACachePath is $XDG_CACHE_HOME/fndeck/aws-mfa/PROFILE.json (default
// ~/.cache/...).
func MFACachePath(profile string) string {
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "fndeck", "aws-mfa", filepath.Base(profile)+".json")
}

// ReadMFACache returns the profile's cached MFA credentials while they are
// valid at now.
func ReadMFACache(profile string, now time.Time) (MFACredentials, bool) {
	b, err := os.ReadFile(MFACachePath(profile))
	if err != nil {
		return MFACredentials{}, false
	}
	var c MFACredentials
	if json.Unmarshal(b, &c) != nil || c.AccessKeyID == "" || !now.Before(c.Expiration) {
		return MFACredentials{}, false
	}
	return c, true
}

// WriteMFACache stores the credentials 0600 in a 0700 directory.
func WriteMFACache(profile string, c MFACredentials) error {
	p := MFACachePath(profile)
	if p == "" {
		return fmt.Errorf("caching mfa credentials: no home directory")
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("caching mfa credentials: %w", err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("caching mfa credentials: %w", err)
	}
	return os.Rename(tmp, p)
}
