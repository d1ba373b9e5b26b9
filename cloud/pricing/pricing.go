// Package pricing estimates what one invocation costs from the figures
// fndeck already has: a Lambda REPORT line (billed duration, memory size)
// and the function's architecture and region, or a Cloud Run request's
// latency and the service's CPU and memory limits. The prices are a
// built-in, dated table of public list prices (first pricing tier, USD),
// overridable from the config's pricing: section. Free tiers, savings plans,
// committed-use discounts, data transfer and ephemeral storage are ignored:
// every figure is an estimate and is labelled so. The package is
// provider-neutral and links no SDK.
package pricing

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/fndeck/fndeck/cloud"
)

// Date is when the built-in prices were read from the public pricing pages
// (aws.amazon.com/lambda/pricing, cloud.google.com/run/pricing).
const Date = "2025-06"

// Architectures a Lambda price is given for.
const (
	ArchX86 = "x86_64"
	ArchARM = "arm64"
)

// LambdaPrice is one region's and architecture's on-demand price.
type LambdaPrice struct {
	GBSecond float64 // USD per GB-second of billed duration
	Request  float64 // USD per request
}

// CloudRunPrice is one region's request-based billing price.
type CloudRunPrice struct {
	VCPUSecond float64 // USD per vCPU-second
	GiBSecond  float64 // USD per GiB-second
	Request    float64 // USD per request
}

// Table holds prices by region (and architecture for Lambda).
type Table struct {
	Date     string
	Lambda   map[string]map[string]LambdaPrice // region → architecture → price
	CloudRun map[string]CloudRunPrice          // region → price
}

// Lambda's list price in the regions below (first tier: up to 6 billion
// GB-seconds a month for x86_64, 7.5 billion for arm64). Regions with a
// different list price (Cape Town, Hong Kong, Milan, Bahrain, Jakarta, …)
// are left out rather than guessed: add them under pricing.lambda.
var (
	lambdaStandard = map[string]LambdaPrice{
		ArchX86: {GBSecond: 0.0000166667, Request: 0.20 / 1e6},
		ArchARM: {GBSecond: 0.0000133334, Request: 0.20 / 1e6},
	}
	lambdaStandardRegions = []string{
		"us-east-1", "us-east-2", "us-west-1", "us-west-2",
		"ca-central-1", "sa-east-1",
		"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
		"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-south-1",
	}
)

// Cloud Run request-based billing ("CPU is only allocated during request
// processing"), tier 1 and tier 2 regions.
var (
	cloudRunTier1        = CloudRunPrice{VCPUSecond: 0.000024, GiBSecond: 0.0000025, Request: 0.40 / 1e6}
	cloudRunTier2        = CloudRunPrice{VCPUSecond: 0.0000336, GiBSecond: 0.0000035, Request: 0.40 / 1e6}
	cloudRunTier1Regions = []string{
		"asia-east1", "asia-northeast1", "asia-northeast2", "europe-north1", "europe-southwest1",
		"europe-west1", "europe-west4", "europe-west8", "europe-west9", "me-west1",
		"us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1",
	}
	cloudRunTier2Regions = []string{
		"africa-south1", "asia-east2", "asia-northeast3", "asia-south1", "asia-south2", "asia-southeast1", "asia-southeast2",
		"australia-southeast1", "australia-southeast2", "europe-central2", "europe-west2", "europe-west3", "europe-west6",
		"europe-west10", "europe-west12", "me-central1", "me-central2", "northamerica-northeast1", "northamerica-northeast2",
		"southamerica-east1", "southamerica-west1", "us-west2", "us-west3", "us-west4",
	}
)

// Builtin returns a fresh copy of the built-in table.
func Builtin() *Table {
	t := &Table{Date: Date, Lambda: map[string]map[string]LambdaPrice{}, CloudRun: map[string]CloudRunPrice{}}
	for _, r := range lambdaStandardRegions {
		t.Lambda[r] = map[string]LambdaPrice{ArchX86: lambdaStandard[ArchX86], ArchARM: lambdaStandard[ArchARM]}
	}
	for _, r := range cloudRunTier1Regions {
		t.CloudRun[r] = cloudRunTier1
	}
	for _, r := range cloudRunTier2Regions {
		t.CloudRun[r] = cloudRunTier2
	}
	return t
}

// Overrides replace prices of the table, field by field; nil fields keep
// the built-in price. They come from the config's pricing: section.
type Overrides struct {
	Lambda   map[string]map[string]LambdaOverride // region → architecture
	CloudRun map[string]CloudRunOverride          // region
}

// LambdaOverride replaces a Lambda price's fields that are set.
type LambdaOverride struct {
	GBSecond           *float64
	RequestsPerMillion *float64
}

// CloudRunOverride replaces a Cloud Run price's fields that are set.
type CloudRunOverride struct {
	VCPUSecond         *float64
	GiBSecond          *float64
	RequestsPerMillion *float64
}

// IsZero reports whether o overrides nothing.
func (o Overrides) IsZero() bool { return len(o.Lambda) == 0 && len(o.CloudRun) == 0 }

// With returns a copy of t with o applied. A region or architecture the
// table lacks starts from zero prices, so its overrides must give every
// field (the config checks that).
func (t *Table) With(o Overrides) *Table {
	n := &Table{Date: t.Date, Lambda: map[string]map[string]LambdaPrice{}, CloudRun: map[string]CloudRunPrice{}}
	for r, byArch := range t.Lambda {
		n.Lambda[r] = map[string]LambdaPrice{}
		for a, p := range byArch {
			n.Lambda[r][a] = p
		}
	}
	for r, p := range t.CloudRun {
		n.CloudRun[r] = p
	}
	for r, byArch := range o.Lambda {
		if n.Lambda[r] == nil {
			n.Lambda[r] = map[string]LambdaPrice{}
		}
		for a, ov := range byArch {
			p := n.Lambda[r][a]
			if ov.GBSecond != nil {
				p.GBSecond = *ov.GBSecond
			}
			if ov.RequestsPerMillion != nil {
				p.Request = *ov.RequestsPerMillion / 1e6
			}
			n.Lambda[r][a] = p
		}
	}
	for r, ov := range o.CloudRun {
		p := n.CloudRun[r]
		if ov.VCPUSecond != nil {
			p.VCPUSecond = *ov.VCPUSecond
		}
		if ov.GiBSecond != nil {
			p.GiBSecond = *ov.GiBSecond
		}
		if ov.RequestsPerMillion != nil {
			p.Request = *ov.RequestsPerMillion / 1e6
		}
		n.CloudRun[r] = p
	}
	if !o.IsZero() {
		n.Date += " with overrides from the config"
	}
	return n
}

// Estimate is the cost of one invocation, or why there is none.
type Estimate struct {
	OK            bool
	USD           float64 // this invocation
	PerMillionUSD float64 // a million invocations like it
	// Note says what the figure rests on when OK ("arm64 eu-west-1,
	// 512 MB × 12 ms billed"), else why there is no figure.
	Note string
}

// FreeTierNote is appended to every estimate's note.
const FreeTierNote = "list prices, free tier ignored"

// NormalizeArch maps image and platform spellings to Lambda's.
func NormalizeArch(a string) string {
	switch strings.ToLower(a) {
	case "arm64", "aarch64", "arm64/v8":
		return ArchARM
	case "x86_64", "amd64", "x86-64":
		return ArchX86
	}
	return ""
}

// LambdaCost prices one Lambda invocation: billed duration × memory × the
// GB-second price + the request price.
func (t *Table) LambdaCost(region, arch string, billedMS float64, memoryMB int) Estimate {
	a := NormalizeArch(arch)
	if a == "" {
		return Estimate{Note: fmt.Sprintf("not estimated: unknown architecture %q", arch)}
	}
	p, ok := t.Lambda[region][a]
	if !ok {
		return Estimate{Note: fmt.Sprintf("not estimated: no Lambda %s price for region %q (add it under pricing.lambda in the config)", a, region)}
	}
	if memoryMB <= 0 || billedMS < 0 {
		return Estimate{Note: "not estimated: the REPORT line has no billed duration or memory size"}
	}
	usd := billedMS / 1000 * float64(memoryMB) / 1024 * p.GBSecond
	usd += p.Request
	return Estimate{OK: true, USD: usd, PerMillionUSD: usd * 1e6,
		Note: fmt.Sprintf("Lambda %s %s, %d MB × %s ms billed; %s prices of %s", a, region, memoryMB, trimFloat(billedMS), FreeTierNote, t.Date)}
}

// CloudRunCost prices one request to a Cloud Run service with request-based
// billing: the request's latency rounded up to 100 ms × (vCPU × the
// vCPU-second price + GiB × the GiB-second price) + the request price.
// Concurrent requests on one instance share its billable time, so for a
// busy service this is an upper bound. Instance-based billing charges for
// the instance's whole life and has no per-request figure.
func (t *Table) CloudRunCost(region string, latencyMS, vcpu float64, memoryMiB int, instanceBilling bool) Estimate {
	if instanceBilling {
		return Estimate{Note: "not estimated: instance-based billing charges for the instance's lifetime, not per request"}
	}
	p, ok := t.CloudRun[region]
	if !ok {
		return Estimate{Note: fmt.Sprintf("not estimated: no Cloud Run price for region %q (add it under pricing.cloudrun in the config)", region)}
	}
	if latencyMS <= 0 || vcpu <= 0 || memoryMiB <= 0 {
		return Estimate{Note: "not estimated: needs the request's latency (httpRequest.latency in the logs) and the service's CPU and memory limits"}
	}
	billedMS := math.Ceil(latencyMS/100) * 100
	s := billedMS / 1000
	usd := s*(vcpu*p.VCPUSecond+float64(memoryMiB)/1024*p.GiBSecond) + p.Request
	return Estimate{OK: true, USD: usd, PerMillionUSD: usd * 1e6,
		Note: fmt.Sprintf("Cloud Run %s, %s vCPU %d MiB × %s ms billed (request-based, one request per instance); %s prices of %s",
			region, trimFloat(vcpu), memoryMiB, trimFloat(billedMS), FreeTierNote, t.Date)}
}

// LocalLambdaRegion is the region whose Lambda prices a local --as lambda
// function's REPORT is priced at: what the same invocation would cost there.
const LocalLambdaRegion = "us-east-1"

// ForInvoke estimates an invoke result of addr. fn, when known, gives the
// architecture; without it x86_64 (Lambda's default) is assumed and the
// note says so. Cloud Run results are not estimated here: the invoke
// result lacks the log's request latency and the service's CPU limit.
func (t *Table) ForInvoke(addr cloud.Address, res cloud.InvokeResult, fn *cloud.Function) Estimate {
	arch, assumed := ArchX86, true
	if fn != nil && NormalizeArch(fn.Architecture) != "" {
		arch, assumed = NormalizeArch(fn.Architecture), false
	}
	var e Estimate
	switch addr.Provider {
	case cloud.AWS, cloud.Local:
		if res.Report == nil {
			if addr.Provider == cloud.Local {
				return Estimate{Note: "not estimated: no REPORT line (a local function run as cloudrun has no Lambda billing record)"}
			}
			return Estimate{Note: "not estimated: no REPORT line for this invocation"}
		}
		region := addr.Region
		if addr.Provider == cloud.Local {
			region = LocalLambdaRegion
		}
		e = t.LambdaCost(region, arch, res.Report.BilledMS, res.Report.MemoryMB)
		if e.OK && addr.Provider == cloud.Local {
			e.Note = "as on " + e.Note
		}
	case cloud.GCP:
		return Estimate{Note: "not estimated: Cloud Run is priced from the request's httpRequest.latency in the logs and the service's CPU limit, which this invoke result lacks"}
	default:
		return Estimate{Note: "not estimated: unknown provider"}
	}
	if e.OK && assumed {
		e.Note += "; x86_64 assumed"
	}
	return e
}

// Apply records e on res (cost_usd, cost_per_million_usd, cost_note).
func Apply(res *cloud.InvokeResult, e Estimate) {
	res.CostNote = e.Note
	if !e.OK {
		res.CostUSD, res.CostPerMillionUSD = nil, nil
		return
	}
	usd, perM := e.USD, e.PerMillionUSD
	res.CostUSD, res.CostPerMillionUSD = &usd, &perM
}

// FormatUSD writes an amount with three significant digits and no
// exponent: "$0.00000208", "$2.08", "$1234.50".
func FormatUSD(v float64) string {
	if v == 0 {
		return "$0"
	}
	if v >= 1 {
		return "$" + strconv.FormatFloat(v, 'f', 2, 64)
	}
	decimals := int(-math.Floor(math.Log10(v))) + 2
	return "$" + strconv.FormatFloat(v, 'f', decimals, 64)
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Annotate estimates res's cost and records it on res (Apply). d, when not
// nil, is asked once for the function's architecture when the result has
// a REPORT line to price; if it cannot say, x86_64 is assumed and the note
// says so.
func (t *Table) Annotate(ctx context.Context, addr cloud.Address, res *cloud.InvokeResult, d cloud.Describer) {
	var fn *cloud.Function
	if d != nil && res.Report != nil && (addr.Provider == cloud.AWS || addr.Provider == cloud.Local) {
		if f, err := d.Describe(ctx, addr); err == nil {
			fn = &f
		}
	}
	Apply(res, t.ForInvoke(addr, *res, fn))
}
