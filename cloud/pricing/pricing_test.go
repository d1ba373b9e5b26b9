package pricing

import (
	"math"
	"strings"
	"testing"

	"github.com/fndeck/fndeck/cloud"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b)) }

func ptr(f float64) *float64 { return &f }

// The figures below are worked out by hand from the list prices:
// x86_64 $0.0000166667 and arm64 $0.0000133334 per GB-second, $0.20 per
// million requests; Cloud Run tier 1 $0.000024 per vCPU-second and
// $0.0000025 per GiB-second, tier 2 $0.0000336 and $0.0000035, $0.40 per
// million requests.
func TestLambdaCost(t *testing.T) {
	tab := Builtin()
	tests := []struct {
		name, region, arch string
		billedMS           float64
		memoryMB           int
		want               float64
	}{
		// 0.1 s × 0.5 GB × 0.0000166667 + 0.0000002
		{"x86_64 us-east-1 512 MB 100 ms", "us-east-1", "x86_64", 100, 512, 0.000000833335 + 0.0000002},
		// 0.001 s × 0.125 GB × 0.0000166667 + 0.0000002
		{"x86_64 eu-west-1 128 MB 1 ms", "eu-west-1", "x86_64", 1, 128, 0.0000000020833375 + 0.0000002},
		// 0.25 s × 1 GB × 0.0000133334 + 0.0000002
		{"arm64 eu-west-1 1024 MB 250 ms", "eu-west-1", "arm64", 250, 1024, 0.00000333335 + 0.0000002},
		// 1.5 s × 2 GB × 0.0000133334 + 0.0000002
		{"arm64 us-east-1 2048 MB 1500 ms", "us-east-1", "arm64", 1500, 2048, 0.0000400002 + 0.0000002},
		{"image spelling amd64", "us-east-1", "amd64", 100, 512, 0.000000833335 + 0.0000002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tab.LambdaCost(tt.region, tt.arch, tt.billedMS, tt.memoryMB)
			if !e.OK || !near(e.USD, tt.want) || !near(e.PerMillionUSD, tt.want*1e6) {
				t.Errorf("got %+v, want $%.12g ($%.6g per million)", e, tt.want, tt.want*1e6)
			}
			if !strings.Contains(e.Note, "free tier ignored") || !strings.Contains(e.Note, Date) || !strings.Contains(e.Note, tt.region) {
				t.Errorf("note %q", e.Note)
			}
		})
	}
	// x86_64 and arm64 differ by the GB-second price only.
	x := tab.LambdaCost("eu-west-1", "x86_64", 1000, 1024)
	a := tab.LambdaCost("eu-west-1", "arm64", 1000, 1024)
	if !near(x.USD-a.USD, 0.0000166667-0.0000133334) {
		t.Errorf("x86_64 %v - arm64 %v", x.USD, a.USD)
	}
	for _, bad := range []struct{ region, arch, want string }{
		{"af-south-1", "x86_64", `no Lambda x86_64 price for region "af-south-1"`},
		{"us-east-1", "mips", `unknown architecture "mips"`},
	} {
		if e := tab.LambdaCost(bad.region, bad.arch, 10, 128); e.OK || !strings.Contains(e.Note, bad.want) {
			t.Errorf("%s/%s: %+v", bad.region, bad.arch, e)
		}
	}
}

func TestCloudRunCost(t *testing.T) {
	tab := Builtin()
	tests := []struct {
		name, region string
		latencyMS    float64
		vcpu         float64
		memMiB       int
		want         float64
	}{
		// 234 ms → 300 ms billed: 0.3 × (1 × 0.000024 + 0.5 × 0.0000025) + 0.0000004
		{"tier 1 us-central1", "us-central1", 234, 1, 512, 0.000007575 + 0.0000004},
		// 100 ms exactly: 0.1 × (2 × 0.0000336 + 1 × 0.0000035) + 0.0000004
		{"tier 2 europe-west2", "europe-west2", 100, 2, 1024, 0.00000707 + 0.0000004},
		// 100.1 ms → 200 ms: 0.2 × (1 × 0.0000336 + 0.5 × 0.0000035) + 0.0000004
		{"rounded up to 100 ms", "europe-west2", 100.1, 1, 512, 0.00000707 + 0.0000004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tab.CloudRunCost(tt.region, tt.latencyMS, tt.vcpu, tt.memMiB, false)
			if !e.OK || !near(e.USD, tt.want) || !near(e.PerMillionUSD, tt.want*1e6) {
				t.Errorf("got %+v, want $%.12g", e, tt.want)
			}
		})
	}
	if e := tab.CloudRunCost("us-central1", 234, 1, 512, true); e.OK || !strings.Contains(e.Note, "instance-based") {
		t.Errorf("instance-based billing: %+v", e)
	}
	if e := tab.CloudRunCost("mars-north1", 234, 1, 512, false); e.OK || !strings.Contains(e.Note, `"mars-north1"`) {
		t.Errorf("unknown region: %+v", e)
	}
	if e := tab.CloudRunCost("us-central1", 0, 1, 512, false); e.OK || !strings.Contains(e.Note, "httpRequest.latency") {
		t.Errorf("no latency: %+v", e)
	}
}

func TestOverrides(t *testing.T) {
	base := Builtin()
	tab := base.With(Overrides{
		Lambda: map[string]map[string]LambdaOverride{
			"eu-west-1":  {"arm64": {GBSecond: ptr(0.00001), RequestsPerMillion: ptr(0.25)}},
			"af-south-1": {"x86_64": {GBSecond: ptr(0.0000221), RequestsPerMillion: ptr(0.28)}},
			"us-east-1":  {"x86_64": {RequestsPerMillion: ptr(0)}}, // only the request price
		},
		CloudRun: map[string]CloudRunOverride{"us-central1": {VCPUSecond: ptr(0.00001)}},
	})
	// 0.25 s × 1 GB × 0.00001 + 0.25 / 1e6
	if e := tab.LambdaCost("eu-west-1", "arm64", 250, 1024); !e.OK || !near(e.USD, 0.0000025+0.00000025) || !strings.Contains(e.Note, "overrides") {
		t.Errorf("overridden eu-west-1 arm64: %+v", e)
	}
	// eu-west-1 x86_64 keeps the built-in price.
	if e := tab.LambdaCost("eu-west-1", "x86_64", 100, 512); !near(e.USD, 0.000000833335+0.0000002) {
		t.Errorf("eu-west-1 x86_64: %+v", e)
	}
	// A region the table lacks: 0.1 s × 0.5 GB × 0.0000221 + 0.28 / 1e6
	if e := tab.LambdaCost("af-south-1", "x86_64", 100, 512); !e.OK || !near(e.USD, 0.000001105+0.00000028) {
		t.Errorf("added af-south-1: %+v", e)
	}
	if e := tab.LambdaCost("us-east-1", "x86_64", 100, 512); !near(e.USD, 0.000000833335) {
		t.Errorf("us-east-1 without request price: %+v", e)
	}
	// 0.3 × (1 × 0.00001 + 0.5 × 0.0000025) + 0.0000004
	if e := tab.CloudRunCost("us-central1", 300, 1, 512, false); !near(e.USD, 0.000003375+0.0000004) {
		t.Errorf("overridden us-central1: %+v", e)
	}
	// The built-in table is untouched.
	if e := base.LambdaCost("eu-west-1", "arm64", 250, 1024); !near(e.USD, 0.00000333335+0.0000002) {
		t.Errorf("With changed the base table: %+v", e)
	}
}

func TestForInvoke(t *testing.T) {
	tab := Builtin()
	rep := &cloud.Report{BilledMS: 100, MemoryMB: 512, DurationMS: 99.2}
	want := 0.000000833335 + 0.0000002
	lam := cloud.Address{Provider: cloud.AWS, Region: "eu-west-1", Function: "f"}

	e := tab.ForInvoke(lam, cloud.InvokeResult{Report: rep}, nil)
	if !e.OK || !near(e.USD, want) || !strings.Contains(e.Note, "x86_64 assumed") {
		t.Errorf("lambda, architecture unknown: %+v", e)
	}
	e = tab.ForInvoke(lam, cloud.InvokeResult{Report: rep}, &cloud.Function{Architecture: "arm64"})
	if !e.OK || !near(e.USD, 0.05*0.0000133334+0.0000002) || strings.Contains(e.Note, "assumed") {
		t.Errorf("lambda arm64: %+v", e)
	}
	local := cloud.Address{Provider: cloud.Local, Function: "f"}
	e = tab.ForInvoke(local, cloud.InvokeResult{Report: rep}, &cloud.Function{Architecture: "amd64"})
	if !e.OK || !near(e.USD, want) || !strings.HasPrefix(e.Note, "as on Lambda x86_64 us-east-1") {
		t.Errorf("local lambda: %+v", e)
	}
	for _, tt := range []struct {
		addr cloud.Address
		want string
	}{
		{lam, "no REPORT line"},
		{local, "run as cloudrun"},
		{cloud.Address{Provider: cloud.GCP, Project: "p", Region: "us-central1", Function: "s"}, "httpRequest.latency"},
	} {
		if e := tab.ForInvoke(tt.addr, cloud.InvokeResult{}, nil); e.OK || !strings.Contains(e.Note, tt.want) {
			t.Errorf("%s: %+v", tt.addr, e)
		}
	}

	var res cloud.InvokeResult
	Apply(&res, tab.ForInvoke(lam, cloud.InvokeResult{Report: rep}, nil))
	if res.CostUSD == nil || !near(*res.CostUSD, want) || res.CostPerMillionUSD == nil || !near(*res.CostPerMillionUSD, want*1e6) || res.CostNote == "" {
		t.Errorf("apply: %+v", res)
	}
	Apply(&res, Estimate{Note: "not estimated: x"})
	if res.CostUSD != nil || res.CostPerMillionUSD != nil || res.CostNote != "not estimated: x" {
		t.Errorf("apply without a figure: %+v", res)
	}
}

func TestFormatUSD(t *testing.T) {
	for v, want := range map[float64]string{
		0: "$0", 0.0000010333: "$0.00000103", 1.033335: "$1.03", 0.0208: "$0.0208", 1234.5: "$1234.50", 0.5: "$0.500",
	} {
		if got := FormatUSD(v); got != want {
			t.Errorf("FormatUSD(%v) = %q, want %q", v, got, want)
		}
	}
}
