package aws

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// benchFake is the performance fixture: every call answered after
// 100 ms; 3 profiles on 3 accounts × 17 regions × 20 Image functions.
func benchFake(b *testing.B) {
	f := newFakeAWS(b)
	f.delay = 100 * time.Millisecond
	profiles := map[string]string{}
	for i := range 3 {
		ak := fmt.Sprintf("AKBENCH%d", i)
		acct := fmt.Sprintf("%012d", 100+i)
		f.accounts[ak] = acct
		profiles[fmt.Sprintf("p%d", i)] = ak
	}
	f.env(b, "unused")
	writeProfiles(b, profiles)
	f.regions = partitionRegions[:17]
	for _, acct := range f.accounts {
		for _, r := range f.regions {
			for i := range 20 {
				f.add(&fakeFn{Name: fmt.Sprintf("fn-%02d", i), Account: acct, Region: r, ImageURI: fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/app:%d", acct, r, i)})
			}
		}
	}
}

// listOnce lists with a fresh Backend (cold caches, STS included) and
// returns when the first group arrived and how many rows came.
func listOnce(b *testing.B, opts Options, f cloud.ListFilter) (first time.Duration, rows int) {
	be := New(opts)
	start := time.Now()
	var mu sync.Mutex
	err := be.List(context.Background(), f, func(g cloud.GroupResult) {
		mu.Lock()
		defer mu.Unlock()
		if g.Err != nil {
			b.Errorf("group %+v: %v", g.Group, g.Err)
		}
		if first == 0 {
			first = time.Since(start)
		}
		rows += len(g.Functions)
		if opts.DescribeAll {
			for _, fn := range g.Functions {
				if fn.Partial || (fn.PackageType == "Image" && fn.ImageURI == "") {
					b.Errorf("row %s not described", fn.Address)
				}
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	return first, rows
}

// BenchmarkListAll lists 3 profiles × 17 regions × 20 functions against a
// server answering every call after 100 ms: concurrently (first rows, and
// full --json with image URIs) and region by region for comparison.
func BenchmarkListAll(b *testing.B) {
	benchFake(b)
	all := Options{Profiles: []string{"all"}, Regions: []string{"all"}}
	for _, c := range []struct {
		name     string
		describe bool
	}{{"concurrent/first-rows", false}, {"concurrent/json", true}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			opts := all
			opts.DescribeAll = c.describe
			var first time.Duration
			for b.Loop() {
				fr, rows := listOnce(b, opts, cloud.ListFilter{})
				if rows != 1020 {
					b.Fatalf("listed %d rows, want 1020", rows)
				}
				first += fr
			}
			b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "first-group-ms")
		})
	}
	for _, c := range []struct {
		name     string
		describe bool
	}{{"region-by-region/first-rows", false}, {"region-by-region/json", true}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				opts := all
				opts.DescribeAll = c.describe
				be := New(opts)
				rows := 0
				for p := range 3 {
					for _, r := range partitionRegions[:17] {
						err := be.List(context.Background(), cloud.ListFilter{Profiles: []string{fmt.Sprintf("p%d", p)}, Regions: []string{r}}, func(g cloud.GroupResult) {
							if g.Err != nil {
								b.Errorf("%+v: %v", g.Group, g.Err)
							}
							rows += len(g.Functions)
						})
						if err != nil {
							b.Fatal(err)
						}
					}
				}
				if rows != 1020 {
					b.Fatalf("listed %d rows, want 1020", rows)
				}
			}
		})
	}
}

// BenchmarkListMoto lists the moto fixture of 3 regions × 20 functions:
// ListFunctions only (what `aws lambda list-functions` does), with full
// descriptions (as --json does), and region by region.
func BenchmarkListMoto(b *testing.B) {
	m := cloudtest.StartMoto(b)
	for _, kv := range m.Env() {
		k, v, _ := cut(kv)
		b.Setenv(k, v)
	}
	b.Setenv("AWS_CONFIG_FILE", b.TempDir()+"/none")
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", b.TempDir()+"/none")
	seedMoto(b, 20)
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	b.Run("concurrent/first-rows", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, rows := listOnce(b, Options{Regions: regions}, cloud.ListFilter{}); rows != 60 {
				b.Fatalf("rows = %d", rows)
			}
		}
	})
	b.Run("concurrent/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, rows := listOnce(b, Options{Regions: regions, DescribeAll: true}, cloud.ListFilter{}); rows != 60 {
				b.Fatalf("rows = %d", rows)
			}
		}
	})
	// The reference the issue sets: the AWS CLI, region by region.
	b.Run("aws-cli/region-by-region", func(b *testing.B) {
		cli, err := exec.LookPath("aws")
		if err != nil {
			b.Skip("needs the aws CLI on PATH for the reference figure")
		}
		for b.Loop() {
			for _, r := range regions {
				out, err := exec.Command(cli, "lambda", "list-functions", "--region", r, "--output", "json").CombinedOutput()
				if err != nil || !strings.Contains(string(out), "fn-"+r+"-19") {
					b.Fatalf("aws lambda list-functions --region %s: %v: %.300s", r, err, out)
				}
			}
		}
	})
	b.Run("region-by-region/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rows := 0
			be := New(Options{DescribeAll: true, Concurrency: 1})
			for _, r := range regions {
				_ = be.List(context.Background(), cloud.ListFilter{Regions: []string{r}}, func(g cloud.GroupResult) { rows += len(g.Functions) })
			}
			if rows != 60 {
				b.Fatalf("rows = %d", rows)
			}
		}
	})
}

func cut(kv string) (string, string, bool) {
	for i := range kv {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}
