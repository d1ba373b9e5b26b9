package invoke

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/pricing"
	"github.com/fndeck/fndeck/ui/common"
)

func TestCostShown(t *testing.T) {
	m := newPane(Options{})
	_, cmd := m.Update(press("enter"))
	msgOf(t, cmd)
	res := cloud.InvokeResult{StatusCode: 200, Body: []byte(`{}`), Report: &cloud.Report{DurationMS: 99.1, BilledMS: 100, MemoryMB: 512}}
	pricing.Apply(&res, pricing.Builtin().ForInvoke(cloud.Address{Provider: cloud.AWS, Region: "eu-west-1", Function: "f"}, res, &cloud.Function{Architecture: "arm64"}))
	m.Update(common.InvokeDoneMsg{Address: fn, Result: res})
	v := ansi.Strip(m.View())
	// 0.1 s × 0.5 GB × 0.0000133334 + 0.0000002 = 0.0000008666700
	if !strings.Contains(v, "≈ $0.000000867 (estimate)") || !strings.Contains(v, "$0.867 per million") || !strings.Contains(v, "free tier ignored") {
		t.Fatalf("cost not shown:\n%s", v)
	}

	_, cmd = m.Update(press("enter"))
	msgOf(t, cmd)
	res = cloud.InvokeResult{StatusCode: 200, Body: []byte(`ok`)}
	pricing.Apply(&res, pricing.Builtin().ForInvoke(cloud.Address{Provider: cloud.GCP, Project: "p", Region: "us-central1", Function: "s"}, res, nil))
	m.Update(common.InvokeDoneMsg{Address: fn, Result: res})
	if v := ansi.Strip(m.View()); !strings.Contains(v, "cost not estimated:") || strings.Contains(v, "(estimate)") {
		t.Fatalf("no-estimate reason not shown:\n%s", v)
	}
}
