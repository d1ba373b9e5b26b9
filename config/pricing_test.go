package config

import (
	"strings"
	"testing"

	"github.com/fndeck/fndeck/cloud/pricing"
)

func TestPricingOverrides(t *testing.T) {
	path := writeFile(t, "config.yaml", `pricing:
  lambda:
    eu-west-1:
      arm64: {gb_second: 0.00001, requests_per_million: 0.25}
    af-south-1:
      x86_64: {gb_second: 0.0000221, requests_per_million: 0.28}
  cloudrun:
    us-central1: {vcpu_second: 1e-5}
`)
	cfg, err := Load(LoadOptions{Path: path, Explicit: true})
	if err != nil {
		t.Fatal(err)
	}
	tab := pricing.Builtin().With(cfg.Pricing)
	// 0.25 s × 1 GB × 0.00001 + 0.25 / 1e6
	if e := tab.LambdaCost("eu-west-1", "arm64", 250, 1024); !e.OK || e.USD < 0.00000274999 || e.USD > 0.00000275001 {
		t.Errorf("eu-west-1 arm64 from the config: %+v", e)
	}
	if e := tab.LambdaCost("af-south-1", "x86_64", 100, 512); !e.OK {
		t.Errorf("af-south-1 from the config: %+v", e)
	}
	if p := tab.CloudRun["us-central1"]; p.VCPUSecond != 1e-5 || p.GiBSecond != 0.0000025 {
		t.Errorf("us-central1: %+v", p)
	}
	if d, _ := Load(LoadOptions{}); !d.Pricing.IsZero() {
		t.Errorf("default config overrides prices: %+v", d.Pricing)
	}
}

func TestPricingProblems(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown section key", "pricing:\n  lamda: {}\n", `2:3: unknown key "lamda" in pricing (did you mean "lambda"?)`},
		{"bad aws region", "pricing:\n  lambda:\n    eu-west: {x86_64: {gb_second: 1}}\n", `3:5: pricing.lambda: "eu-west" is not an AWS region`},
		{"bad arch", "pricing:\n  lambda:\n    eu-west-1: {amd64: {gb_second: 1}}\n", `3:17: unknown key "amd64" in pricing.lambda.eu-west-1 (did you mean "arm64"?)`},
		{"bad price key", "pricing:\n  lambda:\n    eu-west-1: {arm64: {gb_seconds: 1}}\n", `3:25: unknown key "gb_seconds" in pricing.lambda.eu-west-1.arm64`},
		{"negative", "pricing:\n  lambda:\n    eu-west-1: {arm64: {gb_second: -1}}\n", `3:36: pricing.lambda.eu-west-1.arm64.gb_second: -1 is not a price`},
		{"not a number", "pricing:\n  cloudrun:\n    us-central1: {vcpu_second: cheap}\n", `3:32: pricing.cloudrun.us-central1.vcpu_second: expected a number of US dollars, got "cheap"`},
		{"new region needs every field", "pricing:\n  lambda:\n    af-south-1: {x86_64: {gb_second: 0.0000221}}\n", `3:18: pricing.lambda.af-south-1.x86_64: "requests_per_million" is required`},
		{"new cloudrun region needs every field", "pricing:\n  cloudrun:\n    mars-north1: {vcpu_second: 1, requests_per_million: 0.4}\n", `3:5: pricing.cloudrun.mars-north1: "gib_second" is required`},
		{"bad gcp region", "pricing:\n  cloudrun:\n    us-central: {vcpu_second: 1}\n", `3:5: pricing.cloudrun: "us-central" is not a Google Cloud region`},
		{"regions not a map", "pricing:\n  lambda: [eu-west-1]\n", `2:11: pricing.lambda: expected a mapping of region to prices, got a list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "config.yaml", tt.yaml)
			_, err := Load(LoadOptions{Path: path, Explicit: true})
			ps := problemsOf(t, err)
			if len(ps) < 1 {
				t.Fatalf("want a problem, got none")
			}
			if got, want := ps[0].Error(), path+":"+tt.want; !strings.HasPrefix(got, want) {
				t.Errorf("got  %s\nwant %s…", got, want)
			}
			if len(ps) != 1 {
				t.Errorf("want one problem, got %d: %v", len(ps), err)
			}
		})
	}
}
