package local

import (
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// BenchmarkWarmInvoke compares a warm invoke round trip (HTTP POST →
// runtime → response) through fndeck's shim and through the AWS RIE, same
// image, same handler, side by side. Run with e.g.
//
//	FNDECK_RIE=/tmp/tools/aws-lambda-rie go test ./cloud/local -run '^$' -bench WarmInvoke -benchtime 500x
//
// warmInvokeTargets runs the hello handler under RIE and deployed through
// the shim, and returns both invoke URLs and a client for them.
func warmInvokeTargets(b *testing.B) (shimURL, rieURL string, hc *http.Client) {
	c := newClient(b)
	image := buildImage(b, "./testdata/hello", "hello", `ENTRYPOINT ["/hello"]`)
	rieURL = runRIE(b, image)
	_, _, shimURL = deployHello(b, c, image, 30)
	return shimURL, rieURL, &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2}}
}

func BenchmarkWarmInvoke(b *testing.B) {
	shimURL, rieURL, hc := warmInvokeTargets(b)
	for _, tc := range []struct{ name, url string }{{"shim", shimURL}, {"rie", rieURL}} {
		b.Run(tc.name, func(b *testing.B) {
			invoke := func() {
				resp, err := hc.Post(tc.url, "application/json", strings.NewReader(`{"name":"bench"}`))
				if err != nil {
					b.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(body) != `{"greeting":"hello bench"}` {
					b.Fatalf("invoke: %v %s", err, body)
				}
			}
			for range 5 { // warm: init done, connection open
				invoke()
			}
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				invoke()
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "median-µs")
				b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds()), "p99-µs")
			}
		})
	}
}

// BenchmarkWarmInvokeInterleaved is issue 4's "side by side in one run":
// each iteration invokes the shim and RIE once, alternating which goes
// first, so drift in the machine's load falls on both alike. It reports
// each one's median and p99 (the per-op time is the pair).
func BenchmarkWarmInvokeInterleaved(b *testing.B) {
	shimURL, rieURL, hc := warmInvokeTargets(b)
	invoke := func(url string) time.Duration {
		t0 := time.Now()
		resp, err := hc.Post(url, "application/json", strings.NewReader(`{"name":"bench"}`))
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(body) != `{"greeting":"hello bench"}` {
			b.Fatalf("invoke %s: %v %s", url, err, body)
		}
		return time.Since(t0)
	}
	for range 5 { // warm: init done, connections open
		invoke(shimURL)
		invoke(rieURL)
	}
	var shim, rie []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			shim = append(shim, invoke(shimURL))
			rie = append(rie, invoke(rieURL))
		} else {
			rie = append(rie, invoke(rieURL))
			shim = append(shim, invoke(shimURL))
		}
	}
	b.StopTimer()
	for _, s := range []struct {
		name string
		lat  []time.Duration
	}{{"shim", shim}, {"rie", rie}} {
		sort.Slice(s.lat, func(i, j int) bool { return s.lat[i] < s.lat[j] })
		if len(s.lat) > 0 {
			b.ReportMetric(float64(s.lat[len(s.lat)/2].Microseconds()), s.name+"-median-µs")
			b.ReportMetric(float64(s.lat[(len(s.lat)*99)/100].Microseconds()), s.name+"-p99-µs")
		}
	}
}
