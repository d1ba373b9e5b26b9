package e2e

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// TestLocalHTTPFrontDoorAndCost goes through the real binary: deploy
// --as lambda --http prints the function URL, curl reaches the handler
// through it, and invoke prices the REPORT line (cost_usd,
// cost_per_million_usd), with the price table overridden from the config.
func TestLocalHTTPFrontDoorAndCost(t *testing.T) {
	cloudtest.RequireDocker(t)
	dir := t.TempDir()
	cloudtest.BuildStatic(t, "github.com/fndeck/fndeck/cloud/local/testdata/urlecho", dir, "urlecho")
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY urlecho /urlecho\nENTRYPOINT [\"/urlecho\"]\n"), 0o644)
	ref := cloudtest.UniqueName("fndeck-e2e-urlecho") + ":v1"
	cloudtest.Docker(t, "build", "-q", "--no-cache", "-t", ref, dir)
	t.Cleanup(func() { _, _, _ = runDocker("rmi", "-f", ref) })

	// The config doubles us-east-1's x86_64 GB-second price and drops the
	// request price: the figure below proves the override is used.
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte("pricing:\n  lambda:\n    us-east-1:\n      x86_64: {gb_second: 0.0000333334, requests_per_million: 0}\n"), 0o600)
	name := strings.ToLower(strings.ReplaceAll(cloudtest.UniqueName("urlecho"), "_", "-"))
	env := isolatedEnv(t, "FNDECK_LOCAL_NETWORK=host", "FNDECK_CONFIG="+cfg)
	addr := "local:" + name
	t.Cleanup(func() { _, _, _ = runDocker("rm", "-f", "fndeck-"+name) })

	out, errOut, code := runCLI(t, env, "", "deploy", ref, addr, "--as", "lambda", "--http", "--memory", "256")
	if code != 0 {
		t.Fatalf("deploy exited %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	m := regexp.MustCompile(`function URL: (http://127\.0\.0\.1:\d+/)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("deploy does not print the function URL:\n%s", out)
	}
	resp, err := http.Get(m[1] + "plain?x=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `["plain","GET"]` {
		t.Errorf("GET through the function URL: %d %q", resp.StatusCode, body)
	}
	out, _, _ = runCLI(t, env, "", "functions", "--json")
	if !strings.Contains(out, `"function_url":"`+m[1]+`"`) && !strings.Contains(out, `"function_url": "`+m[1]+`"`) {
		t.Errorf("functions --json does not show the function URL %s:\n%s", m[1], out)
	}

	out, errOut, code = runCLI(t, env, "", "invoke", addr, "--json", "--payload", `{"rawPath":"/plain","requestContext":{"http":{"method":"POST"}}}`)
	if code != 0 {
		t.Fatalf("invoke exited %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var res struct {
		Report *struct {
			BilledMS float64 `json:"billed_ms"`
			MemoryMB int     `json:"memory_mb"`
		} `json:"report"`
		CostUSD    *float64 `json:"cost_usd"`
		PerMillion *float64 `json:"cost_per_million_usd"`
		CostNote   string   `json:"cost_note"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Report == nil || res.CostUSD == nil || res.PerMillion == nil {
		t.Fatalf("invoke --json lacks the report or the cost (%v):\n%s", err, out)
	}
	want := res.Report.BilledMS / 1000 * float64(res.Report.MemoryMB) / 1024 * 0.0000333334
	if res.Report.MemoryMB != 256 || math.Abs(*res.CostUSD-want) > 1e-12*want || math.Abs(*res.PerMillion-want*1e6) > 1e-6*want*1e6 {
		t.Errorf("cost %v (per million %v) for %+v, want %v", *res.CostUSD, *res.PerMillion, *res.Report, want)
	}
	if !strings.Contains(res.CostNote, "as on Lambda x86_64 us-east-1") || !strings.Contains(res.CostNote, "overrides from the config") || !strings.Contains(res.CostNote, "free tier ignored") {
		t.Errorf("cost note %q", res.CostNote)
	}
	_, errOut, code = runCLI(t, env, "", "invoke", addr, "--payload", `{"rawPath":"/plain"}`)
	if code != 0 || !regexp.MustCompile(`cost: ≈ \$0\.0\d* \(estimate\), \$[\d.]+ per million`).MatchString(errOut) {
		t.Errorf("invoke does not print the cost (exit %d):\n%s", code, errOut)
	}

	_, errOut, code = runCLI(t, env, "", "deploy", ref, addr, "--as", "cloudrun", "--http")
	if code != 2 || !strings.Contains(errOut, "--http") {
		t.Errorf("--as cloudrun --http: exit %d, stderr %s", code, errOut)
	}
}
