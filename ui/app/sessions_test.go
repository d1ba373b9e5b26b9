package app

import (
	"crypto/sha1" //nolint:gosec // the aws CLI's cache naming
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud/accounts"
)

// TestHeaderWarnsBeforeSessionExpiry: an SSO session ending in four
// minutes is warned about in the header, from the aws CLI's token cache
// (no call); once the injected clock passes its expiry the header says it
// expired and how to log in again.
func TestHeaderWarnsBeforeSessionExpiry(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "none"))
	mustWrite := func(path, content string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(filepath.Join(home, "aws-config"), "[profile dev]\nsso_start_url = https://corp.example/start\nsso_region = eu-west-1\n")
	sum := sha1.Sum([]byte("https://corp.example/start")) //nolint:gosec
	mustWrite(filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json"), `{"accessToken":"a","expiresAt":"2026-03-01T12:04:00Z"}`)

	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := start(t, Options{Listers: sampleListers(), HeaderAWS: "dev", SessionsEvery: 20 * time.Millisecond, Now: clock,
		Sessions: func(at time.Time) []string { return accounts.SessionWarnings([]string{"dev"}, at) }}, 160, 34)
	h.waitText("aws dev: session expires in 4m")
	mu.Lock()
	now = now.Add(5 * time.Minute)
	mu.Unlock()
	h.waitText("aws dev: session expired — aws sso login --profile dev")
}
