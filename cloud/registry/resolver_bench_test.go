package registry_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/docker"
	"github.com/fndeck/fndeck/cloud/registry"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// countingTransport counts the HTTP requests a resolution makes.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// bearerFront puts a Bearer token challenge (as Docker Hub, GCR and
// Artifact Registry answer) in front of the registry at addr: /v2/
// requests without the token get a 401 naming /token, which hands one out.
func bearerFront(b *testing.B, addr string) string {
	target, _ := url.Parse("http://" + addr)
	rp := httputil.NewSingleHostReverseProxy(target)
	var front *httptest.Server
	front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			_ = json.NewEncoder(w).Encode(map[string]any{"token": "t0ken", "expires_in": 300})
			return
		}
		if r.Header.Get("Authorization") != "Bearer t0ken" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+front.URL+`/token",service="bench",scope="repository:bench:pull"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	b.Cleanup(front.Close)
	return strings.TrimPrefix(front.URL, "http://")
}

// BenchmarkResolverPerDeploy is the digest resolution one Lambda or Cloud
// Run deploy pays (cloud.DigestResolver over cloud/registry, a client as
// the helper builds it): a tag naming an OCI index (amd64, arm64, an
// attestation) resolved to its linux/amd64 child, against the local
// distribution registry — anonymous, behind htpasswd (Basic, as ECR), and
// behind a Bearer token challenge (as Docker Hub, GCR, Artifact Registry);
// and a tag naming a single image. reqs/op counts the HTTP requests.
func BenchmarkResolverPerDeploy(b *testing.B) {
	plain := cloudtest.StartRegistry(b, false)
	basicReg := cloudtest.StartRegistry(b, true)
	idx := cloudtest.PushIndex(b, plain.Addr, "bench", "multi", "linux/amd64", "linux/arm64")
	single := cloudtest.PushImage(b, plain.Addr, "bench", "single", "linux", "amd64")
	p := pushIndex(b, basicReg, "bench", "multi")
	dir := b.TempDir()
	cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{basicReg.Addr: basic(basicReg.User, basicReg.Password)}})
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o600); err != nil {
		b.Fatal(err)
	}
	bearer := bearerFront(b, plain.Addr)
	for _, bc := range []struct {
		name, ref, want string
		auth            cloud.AuthProvider
	}{
		{"index/anonymous", plain.Addr + "/bench:multi", idx.Children["linux/amd64"], nil},
		{"index/basic", basicReg.Addr + "/bench:multi", p.amd64, cloud.AuthChain{&docker.DockerConfigAuth{Dir: dir}}},
		{"index/bearer", bearer + "/bench:multi", idx.Children["linux/amd64"], nil},
		{"single/anonymous", plain.Addr + "/bench:single", single, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tr := &countingTransport{}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				r := registry.NewResolver(registry.New(registry.Options{Auth: bc.auth, Transport: tr}))
				got, err := r.Resolve(ctx, bc.ref, "linux/amd64")
				if err != nil || got.Digest != bc.want {
					b.Fatal(got, err)
				}
			}
			b.ReportMetric(float64(tr.n.Load())/float64(b.N), "reqs/op")
		})
	}
}
