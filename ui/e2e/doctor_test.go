package e2e

import (
	"crypto/sha1" //nolint:gosec // the aws CLI's cache naming
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
	"github.com/fndeck/fndeck/internal/testsupport/gcpfake"
)

type doctorOut struct {
	Checks []struct {
		ID, Level, Message, Hint string
	} `json:"checks"`
}

func (d doctorOut) find(t *testing.T, id string) (level, message, hint string) {
	t.Helper()
	for _, c := range d.Checks {
		if c.ID == id {
			return c.Level, c.Message, c.Hint
		}
	}
	t.Fatalf("no check %q in %+v", id, d.Checks)
	return
}

// doctorEnv: moto for STS, an AWS config with a static-key profile (dev)
// and an SSO profile whose cached token expired (gone), the GCP fakes with
// the project from the environment, its own HOME and state dir.
func doctorEnv(t *testing.T) []string {
	cloudtest.RequireDocker(t)
	moto := cloudtest.StartMoto(t)
	run := gcpfake.StartCloudRun(t)
	run.AddService("acme-web", "europe-west1", "api", "gcr.io/acme-web/api:v1", "https://api")
	logs := gcpfake.StartLogging(t)
	home := t.TempDir()
	cfg := filepath.Join(home, ".aws", "config")
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(cfg, "[profile dev]\nregion = us-east-1\n\n[profile gone]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Dev\nregion = eu-west-1\n\n"+
		"[sso-session corp]\nsso_start_url = https://corp.example/start\nsso_region = eu-west-1\n")
	write(filepath.Join(home, ".aws", "credentials"), "[dev]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
	sum := sha1.Sum([]byte("corp")) //nolint:gosec
	write(filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json"), `{"accessToken":"x","expiresAt":"2020-01-01T00:00:00Z"}`)
	state := t.TempDir()
	return []string{
		"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_STATE_HOME=" + state,
		"AWS_CONFIG_FILE=" + cfg, "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, ".aws", "credentials"),
		"AWS_ENDPOINT_URL=" + moto.Endpoint, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_PROFILE=", "AWS_REGION=",
		"CLOUDSDK_CONFIG=" + filepath.Join(home, "gcloud"), "GOOGLE_APPLICATION_CREDENTIALS=",
		"GOOGLE_CLOUD_PROJECT=acme-web", "FNDECK_GCP_RUN_ENDPOINT=" + run.Addr, "FNDECK_GCP_LOGGING_ENDPOINT=" + logs.Addr,
		"FNDECK_GCP_REGIONS=europe-west1", "DOCKER_CONFIG=" + filepath.Join(home, ".docker"),
	}
}

// TestDoctorEnvironment runs `fndeck doctor --json` for real: Docker up
// (version, API, storage driver, image store), the cloud helper, STS
// GetCallerIdentity against moto, the expired SSO profile flagged from its
// token cache, the GCP project with its source and both APIs answering, the
// state dir. Then the same with a dead DOCKER_HOST.
func TestDoctorEnvironment(t *testing.T) {
	env := doctorEnv(t)
	fndeckBin(t) // build outside the timing

	start := time.Now()
	stdout, stderr, code := runCLI(t, append(env, "FNDECK_AWS_PROFILES=dev"), "", "doctor", "--json")
	t.Logf("fndeck doctor --json took %s", time.Since(start))
	if code != 0 {
		t.Fatalf("doctor exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	var d doctorOut
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("doctor --json is not JSON: %v\n%s", err, stdout)
	}
	if lv, msg, _ := d.find(t, "docker"); lv != "ok" || !strings.Contains(msg, "API 1.") || !strings.Contains(msg, "storage driver") || !strings.Contains(msg, "image store") {
		t.Errorf("docker check: %s %s", lv, msg)
	}
	if lv, msg, _ := d.find(t, "cloud-helper"); lv != "ok" || !strings.Contains(msg, "fndeck-cloud") {
		t.Errorf("helper check: %s %s", lv, msg)
	}
	if lv, msg, _ := d.find(t, "aws:dev"); lv != "ok" || !strings.Contains(msg, "account 123456789012") || !strings.Contains(msg, "arn:aws:") || !strings.Contains(msg, "static keys") {
		t.Errorf("aws:dev check: %s %s", lv, msg)
	}
	if lv, msg, _ := d.find(t, "gcp:acme-web"); lv != "ok" || !strings.Contains(msg, "acme-web (GOOGLE_CLOUD_PROJECT)") || !strings.Contains(msg, "cloud logging answer") {
		t.Errorf("gcp check: %s %s", lv, msg)
	}
	if lv, msg, _ := d.find(t, "state-dir"); lv == "error" {
		t.Errorf("state-dir check: %s %s", lv, msg)
	}

	// The human form says the same, one check a line.
	start = time.Now()
	human, _, code := runCLI(t, append(env, "FNDECK_AWS_PROFILES=dev"), "", "doctor")
	t.Logf("fndeck doctor (second run) took %s", time.Since(start))
	if code != 0 || !strings.Contains(human, "aws:dev") || !strings.Contains(human, "account 123456789012") {
		t.Errorf("doctor (text) exit %d:\n%s", code, human)
	}

	// Docker down and an expired SSO profile: both errors, with hints, exit 1.
	dead := "unix://" + filepath.Join(t.TempDir(), "no-docker.sock")
	stdout, stderr, code = runCLI(t, append(env, "FNDECK_AWS_PROFILES=dev,gone", "DOCKER_HOST="+dead), "", "doctor", "--json")
	if code != 1 {
		t.Fatalf("doctor with a dead engine exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	d = doctorOut{}
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("doctor --json is not JSON: %v\n%s", err, stdout)
	}
	if lv, msg, hint := d.find(t, "docker"); lv != "error" || !strings.Contains(msg, "no-docker.sock") || hint == "" {
		t.Errorf("dead docker check: %s %s (hint %q)", lv, msg, hint)
	}
	if lv, msg, hint := d.find(t, "aws:gone"); lv != "error" || !strings.Contains(msg, "expired") || hint != "aws sso login --profile gone" {
		t.Errorf("aws:gone check: %s %s (hint %q)", lv, msg, hint)
	}
	if lv, _, _ := d.find(t, "aws:dev"); lv != "ok" {
		t.Errorf("aws:dev with docker down: %s", lv)
	}
}
