package httpinvoke

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/fndeck/fndeck/cloud"
)

func target(t *testing.T) cloud.Address {
	t.Helper()
	a, err := cloud.ParseAddress("local:web")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestInvoke(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/fail":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/missing":
			http.NotFound(w, r)
		default:
			w.Header().Set(RequestIDHeader, "trace-9")
			fmt.Fprintf(w, `{"method":%q,"path":%q,"query":%q,"ct":%q,"x":%q,"body":%q}`,
				r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), r.Header.Get("X-Test"), body)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	tests := []struct {
		name      string
		req       cloud.InvokeRequest
		status    int
		fnErr     string
		response  string
		requestID string
	}{
		{"get by default", cloud.InvokeRequest{}, 200, "", `{"method":"GET","path":"/","query":"","ct":"","x":"","body":""}`, "trace-9"},
		{"post with a JSON payload", cloud.InvokeRequest{Payload: []byte(`{"a":1}`), Path: "echo?q=1", Headers: http.Header{"X-Test": {"yes"}}},
			200, "", `{"method":"POST","path":"/echo","query":"q=1","ct":"application/json","x":"yes","body":"{\"a\":1}"}`, "trace-9"},
		{"method as given", cloud.InvokeRequest{Method: "put", Payload: []byte("text")}, 200, "", `{"method":"PUT","path":"/","query":"","ct":"","x":"","body":"text"}`, "trace-9"},
		{"a 500 is a function error", cloud.InvokeRequest{Path: "/fail"}, 500, "500 Internal Server Error", `"boom\n"`, ""},
		{"a 404 is a function error", cloud.InvokeRequest{Path: "/missing"}, 404, "404 Not Found", `"404 page not found\n"`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Target = target(t)
			var streamed []byte
			res, err := Invoke(ctx, srv.Client(), srv.URL, tc.req, func(p []byte) { streamed = append(streamed, p...) })
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tc.status || res.FunctionError != tc.fnErr || string(res.Response) != tc.response || res.RequestID != tc.requestID {
				t.Errorf("got status %d, function error %q, response %s, request id %q", res.StatusCode, res.FunctionError, res.Response, res.RequestID)
			}
			if string(streamed) != string(res.Body) || res.Address != "local:web" || res.ElapsedMS <= 0 {
				t.Errorf("streamed %q, body %q, address %q, elapsed %v", streamed, res.Body, res.Address, res.ElapsedMS)
			}
		})
	}
}

func TestInvokeUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	l.Close()
	_, err = Invoke(context.Background(), http.DefaultClient, base, cloud.InvokeRequest{Target: target(t)}, nil)
	if !errors.Is(err, cloud.ErrUnreachable) {
		t.Fatalf("invoking a closed port = %v, want ErrUnreachable", err)
	}
}

func TestJoinURL(t *testing.T) {
	for _, tc := range [][3]string{
		{"https://svc.run.app", "", "https://svc.run.app/"},
		{"https://svc.run.app/", "/a/b?x=1", "https://svc.run.app/a/b?x=1"},
		{"https://svc.run.app/base/", "a", "https://svc.run.app/base/a"},
		{"http://127.0.0.1:8080/", "/", "http://127.0.0.1:8080/"},
	} {
		got, err := JoinURL(tc[0], tc[1])
		if err != nil || got != tc[2] {
			t.Errorf("JoinURL(%q, %q) = %q, %v; want %q", tc[0], tc[1], got, err, tc[2])
		}
	}
}
