package config

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/fndeck/fndeck/cloud/pricing"
)

// The pricing: section overrides the built-in price table (package
// pricing), field by field:
//
//	pricing:
//	  lambda:                       # region → architecture → prices
//	    eu-west-1:
//	      arm64: {gb_second: 0.0000133334, requests_per_million: 0.20}
//	    af-south-1:                 # a region the table lacks: give every field
//	      x86_64: {gb_second: 0.0000221, requests_per_million: 0.28}
//	  cloudrun:                     # region → request-based billing prices
//	    us-central1: {vcpu_second: 0.000024, gib_second: 0.0000025, requests_per_million: 0.40}
//
// Prices are USD. It has no environment variable: maps of maps do not fit one.

var (
	lambdaPriceKeys   = []string{"gb_second", "requests_per_million"}
	cloudRunPriceKeys = []string{"vcpu_second", "gib_second", "requests_per_million"}
)

func applyPricing(c *collector, cfg *Config, v *value) {
	m, ok := c.mapping(v, "pricing", []string{"lambda", "cloudrun"})
	if !ok {
		return
	}
	builtin := pricing.Builtin()
	out := pricing.Overrides{}
	good := true
	if f := m["lambda"]; f != nil {
		out.Lambda = map[string]map[string]pricing.LambdaOverride{}
		for _, rf := range keyed(c, f.val, "pricing.lambda", "region") {
			what := "pricing.lambda." + rf.key
			if !reAWSRegion().MatchString(rf.key) {
				c.add(rf.keyPos, "pricing.lambda: %q is not an AWS region (like eu-west-1)", rf.key)
				good = false
				continue
			}
			archs, ok := c.mapping(rf.val, what, []string{pricing.ArchX86, pricing.ArchARM})
			if !ok {
				good = false
				continue
			}
			byArch := map[string]pricing.LambdaOverride{}
			for _, arch := range sortedFieldKeys(archs) {
				af := archs[arch]
				prices, ok := c.prices(af.val, what+"."+arch, lambdaPriceKeys, builtin.Lambda[rf.key][arch] == (pricing.LambdaPrice{}), af.keyPos)
				if !ok {
					good = false
					continue
				}
				byArch[arch] = pricing.LambdaOverride{GBSecond: prices["gb_second"], RequestsPerMillion: prices["requests_per_million"]}
			}
			out.Lambda[rf.key] = byArch
		}
	}
	if f := m["cloudrun"]; f != nil {
		out.CloudRun = map[string]pricing.CloudRunOverride{}
		for _, rf := range keyed(c, f.val, "pricing.cloudrun", "region") {
			what := "pricing.cloudrun." + rf.key
			if !reGCPRegion().MatchString(rf.key) {
				c.add(rf.keyPos, "pricing.cloudrun: %q is not a Google Cloud region (like us-central1)", rf.key)
				good = false
				continue
			}
			_, known := builtin.CloudRun[rf.key]
			prices, ok := c.prices(rf.val, what, cloudRunPriceKeys, !known, rf.keyPos)
			if !ok {
				good = false
				continue
			}
			out.CloudRun[rf.key] = pricing.CloudRunOverride{VCPUSecond: prices["vcpu_second"], GiBSecond: prices["gib_second"], RequestsPerMillion: prices["requests_per_million"]}
		}
	}
	if good {
		cfg.Pricing = out
	}
}

// keyed returns a mapping's fields in file order; its keys are names the
// caller checks (regions), not a fixed set.
func keyed(c *collector, v *value, what, keyKind string) []*field {
	switch v.kind {
	case kindNull:
		return nil
	case kindMap:
		return v.fields
	}
	c.add(v.pos, "%s: expected a mapping of %s to prices, got %s", what, keyKind, v.describe())
	return nil
}

func sortedFieldKeys(m map[string]*field) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// prices reads a mapping of price names to non-negative numbers; all of
// them are required when the table has no price to start from.
func (c *collector) prices(v *value, what string, keys []string, needAll bool, at pos) (map[string]*float64, bool) {
	m, ok := c.mapping(v, what, keys)
	if !ok {
		return nil, false
	}
	out := map[string]*float64{}
	good := true
	for _, k := range keys {
		f := m[k]
		if f == nil {
			if needAll {
				c.add(at, "%s: %q is required: the built-in table has no price here to keep", what, k)
				good = false
			}
			continue
		}
		n, ok := c.price(f.val, what+"."+k)
		if !ok {
			good = false
			continue
		}
		out[k] = &n
	}
	return out, good
}

// price reads a non-negative decimal number of dollars.
func (c *collector) price(v *value, what string) (float64, bool) {
	if v.kind == kindScalar {
		n, err := strconv.ParseFloat(strings.ReplaceAll(v.text, "_", ""), 64)
		if err == nil && n >= 0 && !math.IsInf(n, 0) && !math.IsNaN(n) {
			return n, true
		}
		if err == nil {
			c.add(v.pos, "%s: %s is not a price; use a number of US dollars, 0 or more", what, v.text)
			return 0, false
		}
	}
	c.add(v.pos, "%s: expected a number of US dollars, got %s", what, v.describe())
	return 0, false
}
