package actions

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
)

func TestColdStartsPerImage(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	deploys := []HistoryEntry{
		{Time: at(10), Result: cloud.DeployResult{NewImage: "app:v2"}}, // out of order on purpose
		{Time: at(0), Result: cloud.DeployResult{NewImage: "app:v1"}},
	}
	rec := func(min int, initMS, durMS float64) InvokeRecord {
		return InvokeRecord{Time: at(min), Report: &cloud.Report{InitMS: initMS, DurationMS: durMS}}
	}
	invokes := []InvokeRecord{
		rec(-5, 900, 10),                               // before fndeck's first deploy
		rec(1, 610, 12), rec(2, 650, 11), rec(3, 0, 4), // v1: 2 cold, 1 warm
		{Time: at(4)}, // an invoke that failed: no REPORT
		// v2: 3 cold (Init 400, 420, 500) and 5 warm (Duration 3, 5, 4, 6, 2)
		rec(11, 420, 10), rec(12, 0, 3), rec(13, 400, 9), rec(14, 0, 5), rec(15, 0, 4), rec(16, 500, 8), rec(17, 0, 6), rec(18, 0, 2),
	}
	got := ColdStarts(deploys, invokes)
	want := []ImageStarts{
		// nearest rank: p50 of 3 is the 2nd (420), p95 the 3rd (500); warm p50 of 5 is the 3rd (4)
		{Image: "app:v2", Since: at(10), Cold: 3, Warm: 5, InitP50: 420, InitP95: 500, InitMax: 500, WarmP50: 4},
		// p50 of 2 is the 1st (610)
		{Image: "app:v1", Since: at(0), Cold: 2, Warm: 1, InitP50: 610, InitP95: 650, InitMax: 650, WarmP50: 4},
		{Image: "", Cold: 1, InitP50: 900, InitP95: 900, InitMax: 900},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	lines := ColdStartLines(got, nil)
	wantLines := []string{
		"app:v2: 3 cold, 5 warm; Init Duration p50 420 ms, p95 500 ms, max 500 ms; warm Duration p50 4.00 ms",
		"cold start p50 420 ms, was 610 ms with app:v1",
		"app:v1: 2 cold, 1 warm; Init Duration p50 610 ms, p95 650 ms, max 650 ms; warm Duration p50 4.00 ms",
		"(before fndeck's first deploy): 1 cold, 0 warm; Init Duration p50 900 ms, p95 900 ms, max 900 ms",
	}
	if !reflect.DeepEqual(lines, wantLines) {
		t.Errorf("lines\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
	}
	if ColdStartLines(ColdStarts(deploys, nil), nil) != nil {
		t.Error("no REPORTs must give no lines")
	}
	sizes := map[string]int64{"app:v1": 70_000_000, "app:v2": 10_000_000}
	lines = ColdStartLines(got, func(img string) (int64, bool) { n, ok := sizes[img]; return n, ok })
	if lines[1] != "cold start p50 420 ms, was 610 ms with app:v1, the image 60.0 MB larger" {
		t.Errorf("with sizes: %q", lines[1])
	}
}
