package gcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
	"github.com/fndeck/fndeck/internal/testsupport/gcpfake"
)

// fakeTokenEndpoint answers the OAuth refresh exchange of authorized_user
// credentials the way oauth2.googleapis.com does, with an id_token.
func fakeTokenEndpoint(t *testing.T, ok bool) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "refresh_token" ||
			r.Form.Get("refresh_token") != "rt-1" || r.Form.Get("client_id") != "cid.apps.googleusercontent.com" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"ya29.at","expires_in":3599,"token_type":"Bearer","id_token":"eyJ.user-id-token.sig"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func userCredentials(tokenURI string) []byte {
	return []byte(fmt.Sprintf(`{"type":"authorized_user","client_id":"cid.apps.googleusercontent.com","client_secret":"cs","refresh_token":"rt-1","token_uri":%q}`, tokenURI))
}

func TestInvokeStreamsChunkedResponse(t *testing.T) {
	tokens, tokenCalls := fakeTokenEndpoint(t, true)
	ack := make(chan struct{})
	var gotAuth, gotMethod, gotPath, gotHeader, gotBody atomic.Value
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth.Store(r.Header.Get("Authorization"))
		gotMethod.Store(r.Method)
		gotPath.Store(r.URL.RequestURI())
		gotHeader.Store(r.Header.Get("X-Test"))
		body, _ := io.ReadAll(r.Body)
		gotBody.Store(string(body))
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Cloud-Trace-Context", "trace-1")
		cloudtest.WriteAckedLines(w, 3, ack)
	}))
	defer app.Close()

	f := gcpfake.StartCloudRun(t)
	addr := f.Addr
	f.AddService("acme-web", "europe-west1", "api", "gcr.io/acme-web/api:1", app.URL)
	b := New(Options{RunEndpoint: addr, CredentialsJSON: userCredentials(tokens.URL + "/token")})
	defer b.Close()

	var chunks []string
	req := cloud.InvokeRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"), Payload: []byte(`{"a":1}`),
		Method: "PUT", Path: "/echo?x=1", Headers: http.Header{"X-Test": {"yes"}}}
	res, err := b.Invoke(context.Background(), req, func(p []byte) {
		chunks = append(chunks, string(p))
		ack <- struct{}{}
	})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if strings.Join(chunks, "|") != "line 1\n|line 2\n|line 3\n" {
		t.Errorf("chunks = %q, want each line separately", chunks)
	}
	if res.StatusCode != 200 || string(res.Body) != "line 1\nline 2\nline 3\n" || res.Headers.Get("Content-Type") != "text/plain" {
		t.Errorf("result = %d %q %v", res.StatusCode, res.Body, res.Headers)
	}
	if string(res.Response) != `"line 1\nline 2\nline 3\n"` || res.ElapsedMS <= 0 || res.RequestID != "trace-1" || res.Address != "cloudrun:acme-web/europe-west1/api" {
		t.Errorf("response %s, elapsed %v, request id %q", res.Response, res.ElapsedMS, res.RequestID)
	}
	if gotAuth.Load() != "Bearer eyJ.user-id-token.sig" {
		t.Errorf("Authorization = %q, want the id_token of the refresh exchange", gotAuth.Load())
	}
	if gotMethod.Load() != "PUT" || gotPath.Load() != "/echo?x=1" || gotHeader.Load() != "yes" || gotBody.Load() != `{"a":1}` {
		t.Errorf("request: %v %v %v %v", gotMethod.Load(), gotPath.Load(), gotHeader.Load(), gotBody.Load())
	}
	// A second invoke reuses the cached ID token.
	if _, err := b.Invoke(context.Background(), req, func([]byte) { ack <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	if n := tokenCalls.Load(); n != 1 {
		t.Errorf("token endpoint called %d times, want 1", n)
	}
	// ... and the remembered service URL.
	if n := f.GetCalls(); n != 1 {
		t.Errorf("GetService called %d times for two invokes, want 1", n)
	}
}

func TestInvokeJSONResponseAndUnauthenticated(t *testing.T) {
	tokens, _ := fakeTokenEndpoint(t, false)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			http.Error(w, "Your client does not have permission", http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer app.Close()
	f := gcpfake.StartCloudRun(t)
	addr := f.Addr
	f.AddService("acme-web", "europe-west1", "api", "gcr.io/acme-web/api:1", app.URL)
	b := New(Options{RunEndpoint: addr, CredentialsJSON: userCredentials(tokens.URL + "/token")})
	defer b.Close()
	res, err := b.Invoke(context.Background(), cloud.InvokeRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api")}, nil)
	if !errors.Is(err, cloud.ErrUnauthenticated) || cloud.Hint(err) != hintLogin || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("invoke with revoked credentials against a private service = %v (hint %q)", err, cloud.Hint(err))
	}
	if res.StatusCode != http.StatusForbidden || res.FunctionError == "" {
		t.Errorf("result = %+v", res)
	}
	if strings.Contains(err.Error(), "rt-1") || strings.Contains(err.Error(), `"cs"`) {
		t.Errorf("error leaks a secret: %v", err)
	}

	// An explicit Authorization header is sent as given, and JSON stays JSON.
	res, err = b.Invoke(context.Background(), cloud.InvokeRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"),
		Headers: http.Header{"Authorization": {"Bearer mine"}}}, nil)
	if err != nil || string(res.Response) != `{"ok":true}` || res.FunctionError != "" {
		t.Errorf("invoke with own token = %s, %v", res.Response, err)
	}
}

func TestInvokeAgainstLoopbackEmulatorSendsNoToken(t *testing.T) {
	var auth atomic.Value
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		_, _ = w.Write([]byte("ok"))
	}))
	defer app.Close()
	f := gcpfake.StartCloudRun(t)
	addr := f.Addr
	f.AddService("acme-web", "europe-west1", "api", "gcr.io/acme-web/api:1", app.URL)
	b := New(Options{RunEndpoint: addr})
	defer b.Close()
	res, err := b.Invoke(context.Background(), cloud.InvokeRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api")}, nil)
	if err != nil || string(res.Body) != "ok" || auth.Load() != "" {
		t.Fatalf("invoke = %q, %v, Authorization %q", res.Body, err, auth.Load())
	}
	if b.creds != nil {
		t.Error("ADC was loaded for a loopback emulator")
	}
}
