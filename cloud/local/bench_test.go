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
func BenchmarkWarmInvoke(b *testing.B) {
	c := newClient(b)
	image := buildImage(b, "./testdata/hello", "hello", `ENTRYPOINT ["/hello"]`)
	rieURL := runRIE(b, image)
	_, _, shimURL := deployHello(b, c, image, 30)
	hc := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2}}
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
