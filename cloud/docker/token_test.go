package docker

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// tokenGate puts distribution's bearer token flow in front of a real
// registry: /v2/ requests need "Bearer <token>", and /token hands the token
// out for Basic credentials (GET) or an identity token (POST refresh_token
// grant). dockerd and fndeck's manifest lookup both have to go through it.
type tokenGate struct {
	srv                  *httptest.Server
	user, pass, identity string
	token                string
	issued               atomic.Int32
}

func startTokenGate(t *testing.T, registryAddr string) *tokenGate {
	t.Helper()
	upstream, _ := url.Parse("http://" + registryAddr)
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	g := &tokenGate{user: "tok-user", pass: fmt.Sprintf("tok-pass-%d", cloudtest.FreePort(t)), identity: "refresh-abc", token: "access-xyz"}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			ok := false
			switch r.Method {
			case http.MethodGet:
				u, p, has := r.BasicAuth()
				ok = has && u == g.user && p == g.pass
			case http.MethodPost:
				_ = r.ParseForm()
				ok = r.PostForm.Get("grant_type") == "refresh_token" && r.PostForm.Get("refresh_token") == g.identity
			}
			if !ok {
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
				return
			}
			g.issued.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"token": g.token, "access_token": g.token})
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+g.token {
			scope := ""
			if parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/v2/"), "/manifests/"); len(parts) == 2 {
				scope = fmt.Sprintf(`,scope="repository:%s:pull,push"`, parts[0])
			}
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="fndeck-test"%s`, g.srv.URL, scope))
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func TestPushBearerTokenRegistry(t *testing.T) {
	reg := cloudtest.StartRegistry(t, false)
	g := startTokenGate(t, reg.Addr)
	addr := strings.TrimPrefix(g.srv.URL, "http://")
	ctx := testCtx(t)
	src := cloudtest.UniqueName("fndeck-docker-bearer") + ":src"
	buildTiny(t, newEngine(t), src)

	for _, tc := range []struct{ name, config string }{
		{"password", fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, addr, b64(g.user+":"+g.pass))},
		{"identity token", fmt.Sprintf(`{"auths":{%q:{"identitytoken":%q}}}`, addr, g.identity)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, WithAuth(cloud.AuthChain{&DockerConfigAuth{Dir: writeConfig(t, tc.config)}}))
			repoTag := "fndeck/bearer:" + strings.ReplaceAll(tc.name, " ", "-")
			to := addr + "/" + repoTag
			removeImageAtEnd(t, to)
			before := g.issued.Load()
			sink := &recSink{}
			res, err := e.Push(ctx, cloud.PushOptions{Ref: src, To: to}, sink)
			if err != nil {
				t.Fatalf("Push: %v\n%s", err, sink.text())
			}
			repo, tag, _ := strings.Cut(repoTag, ":")
			digest, mt := registryManifest(t, reg.Addr, repo, tag, "", "")
			if res.Digest != digest || res.MediaType != mt || mt == "" {
				t.Fatalf("PushResult %+v, registry holds %s %s", res, digest, mt)
			}
			// Push returns an error when its own manifest lookup cannot pass
			// the gate, so the media type above proves fndeck's token flow.
			if g.issued.Load() == before {
				t.Fatal("no token was issued: the bearer flow was not exercised")
			}
		})
	}
}
