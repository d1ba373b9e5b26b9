package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/fndeck/fndeck/actions"
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// TestColdStartsPerImage: a local --as lambda function invoked cold 3 times
// and warm 5 times through the binary; the invoke and deploy history it
// leaves give, per image, the counts and the Init Duration / Duration
// percentiles of exactly those REPORT lines; after a redeploy of a bigger
// image and a cold invoke, the comparison line names the previous image.
func TestColdStartsPerImage(t *testing.T) {
	ref := helloImage(t)
	// A bigger image: the same handler and 8 MB more.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pad"), make([]byte, 8<<20), 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+ref+"\nCOPY pad /var/task/pad\n"), 0o644)
	big := cloudtest.UniqueName("fndeck-e2e-hello-big") + ":v2"
	cloudtest.Docker(t, "build", "-q", "-t", big, dir)
	t.Cleanup(func() { _, _, _ = runDocker("rmi", "-f", big) })

	state := t.TempDir()
	name := strings.ToLower(strings.ReplaceAll(cloudtest.UniqueName("cold"), "_", "-"))
	env := isolatedEnv(t, "FNDECK_LOCAL_NETWORK=host", "XDG_STATE_HOME="+state)
	addr := "local:" + name
	t.Cleanup(func() { _, _, _ = runDocker("rm", "-f", "fndeck-"+name) })

	if out, errOut, code := runCLI(t, env, "", "deploy", ref, addr, "--as", "lambda"); code != 0 {
		t.Fatalf("deploy exited %d\n%s\n%s", code, out, errOut)
	}
	type report struct {
		Report *struct {
			DurationMS float64 `json:"duration_ms"`
			InitMS     float64 `json:"init_ms"`
		} `json:"report"`
	}
	var inits, warms []float64
	invoke := func(cold bool) {
		t.Helper()
		args := []string{"invoke", addr, "--json", "--payload", `{"name":"x"}`}
		if cold {
			args = append(args, "--cold")
		}
		out, errOut, code := runCLI(t, env, "", args...)
		var r report
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Report == nil {
			t.Fatalf("invoke (cold %v) exited %d\n%s\n%s", cold, code, out, errOut)
		}
		if cold != (r.Report.InitMS > 0) {
			t.Fatalf("invoke (cold %v) reported Init Duration %v", cold, r.Report.InitMS)
		}
		if cold {
			inits = append(inits, r.Report.InitMS)
		} else {
			warms = append(warms, r.Report.DurationMS)
		}
	}
	for range 3 {
		invoke(true)
	}
	for range 5 {
		invoke(false)
	}

	target, _ := cloud.ParseAddress(addr)
	fndeckState := filepath.Join(state, "fndeck")
	starts := func() []actions.ImageStarts {
		deploys, _, err := actions.NewHistory(fndeckState, nil).Entries(context.Background(), target)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := actions.NewInvokeStore(fndeckState, nil).Recent(context.Background(), target)
		if err != nil {
			t.Fatal(err)
		}
		return actions.ColdStarts(deploys, recs)
	}
	got := starts()
	sortF := func(v []float64) []float64 { s := append([]float64(nil), v...); sort.Float64s(s); return s }
	si, sw := sortF(inits), sortF(warms)
	// Nearest rank over 3 cold starts: p50 the 2nd, p95 and max the 3rd; over 5 warm: p50 the 3rd.
	if len(got) != 1 || got[0].Image != ref || got[0].Cold != 3 || got[0].Warm != 5 ||
		got[0].InitP50 != si[1] || got[0].InitP95 != si[2] || got[0].InitMax != si[2] || got[0].WarmP50 != sw[2] {
		t.Fatalf("per image %+v\nfrom init %v warm %v", got, inits, warms)
	}

	if out, errOut, code := runCLI(t, env, "", "deploy", big, addr, "--as", "lambda"); code != 0 {
		t.Fatalf("redeploy exited %d\n%s\n%s", code, out, errOut)
	}
	inits = nil
	invoke(true)
	sizeOf := func(img string) (int64, bool) {
		out, _, err := runDocker("image", "inspect", "-f", "{{.Size}}", img)
		n, perr := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
		return n, err == nil && perr == nil
	}
	lines := actions.ColdStartLines(starts(), sizeOf)
	want := fmt.Sprintf("cold start p50 %s, was %s with %s, the image ", fmtMS(inits[0]), fmtMS(si[1]), ref)
	if len(lines) < 2 || !strings.HasPrefix(lines[0], big+": 1 cold, 0 warm") || !strings.HasPrefix(lines[1], want) || !strings.HasSuffix(lines[1], "MB smaller") {
		t.Errorf("lines after the redeploy:\n%s\nwant second line %q", strings.Join(lines, "\n"), want)
	}
}

// fmtMS formats like actions' detail lines.
func fmtMS(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}
