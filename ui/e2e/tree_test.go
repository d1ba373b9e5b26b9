package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fndeck/fndeck/internal/testsupport/gcpfake"
)

// treeRegions are the Cloud Run locations each of the three projects lists;
// services live in only two of them.
var treeRegions = []string{"asia-east1", "asia-northeast1", "europe-north1", "europe-west1", "europe-west4", "us-central1", "us-east1", "us-west1"}

// Issue 11: with three projects, the Cloud Run group shows only the regions
// holding services plus one folded line per project; enter opens a folded
// line; `/checkout` shows only the group holding checkout, and esc brings
// the folded tree back.
func TestTUIFunctionsTreeFoldsEmptyRegions(t *testing.T) {
	requireTmux(t)
	run := gcpfake.StartCloudRun(t)
	projects := []string{"acme-web", "acme-data", "acme-ops"}
	for _, p := range projects {
		for _, r := range treeRegions {
			run.AddRegion(p, r)
		}
	}
	svc := func(project, region, name string) {
		run.AddService(project, region, name, "gcr.io/"+project+"/"+name+":1", "https://"+name+"-"+project+".a.run.app")
	}
	svc("acme-web", "europe-west1", "checkout")
	svc("acme-web", "europe-west1", "api")
	svc("acme-data", "us-central1", "etl")

	env := isolatedEnv(t, "FNDECK_GCP_PROJECTS="+strings.Join(projects, ","), "FNDECK_GCP_RUN_ENDPOINT="+run.Addr)
	s := startTUI(t, env)
	focusFunctions(s)
	// Collapse local (the cursor starts on its row) so that containers of
	// other tests on the shared engine cannot push Cloud Run out of view.
	s.waitFor(`[▾▸] local \(`, 30*time.Second)
	s.keys("space")
	// Loaded once the count is final and no spinner follows it.
	screen := s.waitFor(`▸ local \((?s:.*)▾ Cloud Run \(3\)\s*┃`, 60*time.Second)
	empty := func(n int) string { return fmt.Sprintf("    ▸ %d regions without services", n) }
	folded := []string{
		"▾ Cloud Run (3)",
		"  ▾ acme-data (1)",
		"    ▾ us-central1 (1)",
		"      etl",
		empty(len(treeRegions) - 1),
		"  ▾ acme-ops (0)",
		empty(len(treeRegions)),
		"  ▾ acme-web (2)",
		"    ▾ europe-west1 (2)",
		"      api",
		"      checkout",
		empty(len(treeRegions) - 1),
	}
	sameRows(t, "the folded Cloud Run tree", treeSection(functionsOutline(t, screen), "Cloud Run"), folded, screen)

	// The filter shows the one group holding checkout, open, and nothing
	// else: no other project, no folded line, no local or AWS rows.
	s.keys("/")
	s.typeText("checkout")
	screen = s.waitFor(`┃/checkout█`, 10*time.Second)
	var rows []string
	for _, r := range functionsOutline(t, screen) {
		if !strings.HasPrefix(r, "/") {
			rows = append(rows, r)
		}
	}
	sameRows(t, "the tree filtered by checkout", rows, []string{
		"▾ Cloud Run (3)",
		"  ▾ acme-web (2)",
		"    ▾ europe-west1 (2)",
		"      checkout",
	}, screen)

	// esc clears the filter: the folded tree is back as it was.
	s.keys("Escape")
	screen = s.waitGone(`┃/checkout`, 10*time.Second)
	sameRows(t, "the Cloud Run tree after esc", treeSection(functionsOutline(t, screen), "Cloud Run"), folded, screen)

	// G goes to the last row, acme-web's folded line; enter opens it and
	// lists its empty regions (G again scrolls them all into view); back on
	// the line, enter folds them again.
	s.keys("G", "Enter")
	s.waitFor(`▾ 7 regions without services`, 10*time.Second)
	s.keys("G")
	screen = s.waitFor(`(?m)^┃      us-west1 \(0\)`, 10*time.Second)
	open := append([]string(nil), folded[:len(folded)-1]...)
	open = append(open, "    ▾ 7 regions without services")
	for _, r := range treeRegions {
		if r != "europe-west1" {
			open = append(open, "      "+r)
		}
	}
	got := treeSection(functionsOutline(t, screen), "Cloud Run")
	// The opened line may scroll the top of the tree away: compare its end.
	if len(got) < 9 {
		t.Fatalf("Cloud Run section too short: %q\n%s", got, screen)
	}
	sameRows(t, "acme-web's opened line", got[len(got)-8:], open[len(open)-8:], screen)
	if !strings.Contains(screen, "      asia-east1 (0)") {
		t.Errorf("an opened empty region does not read (0):\n%s", screen)
	}
	for range 7 {
		s.keys("k")
	}
	s.keys("Enter")
	screen = s.waitGone(`▾ 7 regions without services`, 10*time.Second)
	sameRows(t, "the Cloud Run tree folded again", treeSection(functionsOutline(t, screen), "Cloud Run"), folded, screen)
}
