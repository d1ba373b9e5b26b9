package local

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// TestLambdaHTTPFrontDoor deploys a real aws-lambda-go handler --as lambda
// --http and talks to it like curl: the handler decodes its event strictly
// as events.APIGatewayV2HTTPRequest and echoes what it saw in headers, and
// returns the binary body reversed, base64-encoded.
func TestLambdaHTTPFrontDoor(t *testing.T) {
	c := newClient(t)
	image := buildImage(t, "./testdata/urlecho", "urlecho", `ENTRYPOINT ["/urlecho"]`)
	ctx := testCtx(t)
	name := cloudtest.UniqueName("urlecho")
	removeOnCleanup(t, name)
	target := cloud.Address{Provider: cloud.Local, Function: name}
	b := newBackend(t, c, shimFromSource(t))

	sink := &lineSink{}
	res, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image, As: "lambda", HTTP: true, TimeoutS: 5}, sink)
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, strings.Join(sink.lines, "\n"))
	}
	if !strings.HasPrefix(res.FunctionURL, "http://127.0.0.1:") || !strings.HasSuffix(res.FunctionURL, "/") {
		t.Fatalf("deploy result has no function URL: %+v", res)
	}
	if !slices.ContainsFunc(sink.lines, func(l string) bool { return strings.Contains(l, res.FunctionURL) }) {
		t.Errorf("deploy output does not show the function URL %s: %q", res.FunctionURL, sink.lines)
	}
	f, err := b.Describe(ctx, target)
	if err != nil || f.FunctionURL != res.FunctionURL {
		t.Fatalf("describe: function URL %q, want %q (err %v)", f.FunctionURL, res.FunctionURL, err)
	}
	base := strings.TrimSuffix(res.FunctionURL, "/")

	body := []byte{0x00, 0xff, 0x10, 'h', 'i', 0x80, 0x7f}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, base+"/items/a%20b?a=1&a=2&b=x%2Fy", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-Custom", "yes")
	req.Header.Add("Cookie", "c1=v1; c2=v2")
	req.Header.Set("User-Agent", "curl/8.5.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 207 {
		t.Fatalf("status %d, body %q, headers %v", resp.StatusCode, got, resp.Header)
	}
	want := map[string]string{
		"Content-Type":     "application/octet-stream",
		"X-Version":        "2.0",
		"X-Route":          "$default $default",
		"X-Raw-Path":       "/items/a%20b",
		"X-Raw-Query":      "a=1&a=2&b=x%2Fy",
		"X-Query-A":        "1,2",
		"X-Query-B":        "x/y",
		"X-Custom":         "yes",
		"X-Cookies":        "c1=v1|c2=v2",
		"X-Method":         "PUT /items/a b",
		"X-Source":         "127.0.0.1",
		"X-Agent":          "curl/8.5.0",
		"X-Base64":         "true",
		"X-Epoch-Set":      "true",
		"X-Request-Id-Set": "true",
	}
	for k, v := range want {
		if g := resp.Header.Get(k); g != v {
			t.Errorf("header %s = %q, want %q", k, g, v)
		}
	}
	if g := resp.Header.Values("X-Multi"); !slices.Equal(g, []string{"one", "two"}) {
		t.Errorf("multi-value header X-Multi = %q", g)
	}
	if g := resp.Header.Values("Set-Cookie"); !slices.Equal(g, []string{"session=abc; Path=/", "theme=dark"}) {
		t.Errorf("Set-Cookie = %q", g)
	}
	wantBody := []byte{0x7f, 0x80, 'i', 'h', 0x10, 0xff, 0x00}
	if !bytes.Equal(got, wantBody) {
		t.Errorf("body % x, want % x", got, wantBody)
	}

	// A result that is not a structured response: 200 with it as JSON.
	resp, err = http.Get(base + "/plain")
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || string(got) != `["plain","GET"]` {
		t.Errorf("/plain: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), got)
	}
	// A function error: 502, as a function URL answers.
	resp, err = http.Post(base+"/fail", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(got), "Internal Server Error") {
		t.Errorf("/fail: %d %q", resp.StatusCode, got)
	}

	// The ordinary invoke endpoint still serves, and saw the front door's
	// invokes (REPORT lines are written for them like for any invoke).
	r, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target, Payload: []byte(`{"rawPath":"/plain","requestContext":{"http":{"method":"POST"}}}`)}, nil)
	if err != nil || string(r.Response) != `["plain","POST"]` || r.Report == nil {
		t.Errorf("invoke beside the front door: %s report %+v err %v", r.Response, r.Report, err)
	}

	// A redeploy keeps the function URL, as it keeps the invoke port.
	res2, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image, As: "lambda", HTTP: true, TimeoutS: 5}, nil)
	if err != nil || res2.FunctionURL != res.FunctionURL {
		t.Errorf("redeploy: function URL %q, want %q (err %v)", res2.FunctionURL, res.FunctionURL, err)
	}
	// --http is for lambda only.
	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image, As: "cloudrun", HTTP: true}, nil); err == nil || !strings.Contains(err.Error(), "--http") {
		t.Errorf("--as cloudrun --http: %v", err)
	}
}

// TestBuildContainerHTTP checks where the front door listens: on the
// host's 127.0.0.1 with the host network, published from 8081 on a bridge.
func TestBuildContainerHTTP(t *testing.T) {
	for _, tt := range []struct{ network, addr, published string }{
		{NetworkHost, "127.0.0.1:41003", ""},
		{NetworkBridge, "0.0.0.0:8081", "8081/tcp"},
	} {
		sp := containerSpec{name: "fn", network: tt.network, region: "eu-west-1", port: 41000, runtimePort: 41001, logPort: 41002, httpPort: 41003,
			st: settings{mode: ModeLambda, memoryMB: 128, timeoutS: 3, http: true}, shimHostPath: "/shim", labels: map[string]string{}}
		cfg, host := buildContainer(sp)
		i := slices.Index(cfg.Entrypoint, "--http-addr")
		if i < 0 || cfg.Entrypoint[i+1] != tt.addr || sp.labels[LabelHTTPPort] != "41003" {
			t.Errorf("%s: entrypoint %q labels %v", tt.network, cfg.Entrypoint, sp.labels)
		}
		var pub []string
		for p, b := range host.PortBindings {
			if b[0].HostPort == "41003" {
				pub = append(pub, p.String())
			}
		}
		if tt.published == "" && len(pub) != 0 || tt.published != "" && !slices.Equal(pub, []string{tt.published}) {
			t.Errorf("%s: published to 41003: %v", tt.network, pub)
		}
	}
}
