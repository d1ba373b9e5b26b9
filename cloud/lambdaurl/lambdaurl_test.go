package lambdaurl

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestNewEvent(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "http://fn.lambda-url.eu-west-1.on.aws:9000/a/b?x=1&x=2&y=", strings.NewReader(`{"k":"v"}`))
	r.RemoteAddr = "10.1.2.3:5555"
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	r.Header.Add("X-Two", "a")
	r.Header.Add("X-Two", "b")
	r.Header.Set("Cookie", "a=1;b=2")
	r.Header.Set("User-Agent", "ua/1")
	now := time.Date(2025, 3, 12, 19, 3, 58, 0, time.UTC)
	ev := NewEvent(r, []byte(`{"k":"v"}`), Options{AccountID: "123456789012", Now: func() time.Time { return now }, NewID: func() string { return "rid" }})
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var got events.APIGatewayV2HTTPRequest
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("the event does not decode strictly as events.APIGatewayV2HTTPRequest: %v\n%s", err, b)
	}
	want := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: "/a/b", RawQueryString: "x=1&x=2&y=",
		Cookies: []string{"a=1", "b=2"},
		Headers: map[string]string{
			"content-type": "application/json; charset=utf-8", "x-two": "a,b", "user-agent": "ua/1",
			"host": "fn.lambda-url.eu-west-1.on.aws:9000", "x-forwarded-for": "10.1.2.3", "x-forwarded-proto": "http", "x-forwarded-port": "9000",
		},
		QueryStringParameters: map[string]string{"x": "1,2", "y": ""},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "$default", AccountID: "123456789012", Stage: "$default", RequestID: "rid", APIID: "fn",
			DomainName: "fn.lambda-url.eu-west-1.on.aws", DomainPrefix: "fn", Time: "12/Mar/2025:19:03:58 +0000", TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/a/b", Protocol: "HTTP/1.1", SourceIP: "10.1.2.3", UserAgent: "ua/1"},
		},
		Body: `{"k":"v"}`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event\n got %+v\nwant %+v", got, want)
	}
}

func TestNewEventBodies(t *testing.T) {
	for _, tt := range []struct {
		ct     string
		body   []byte
		want   string
		base64 bool
	}{
		{"text/plain", []byte("héllo"), "héllo", false},
		{"application/x-www-form-urlencoded", []byte("a=1"), "a=1", false},
		{"application/vnd.api+json", []byte(`{}`), `{}`, false},
		{"application/octet-stream", []byte{0, 1, 2}, "AAEC", true},
		{"", []byte("abc"), "YWJj", true},
		{"text/plain", []byte{0xff, 0xfe}, "//4=", true}, // not UTF-8
		{"text/plain", nil, "", false},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(tt.body))
		if tt.ct != "" {
			r.Header.Set("Content-Type", tt.ct)
		}
		ev := NewEvent(r, tt.body, Options{})
		if ev.Body != tt.want || ev.IsBase64Encoded != tt.base64 {
			t.Errorf("%q %q: body %q base64 %v, want %q %v", tt.ct, tt.body, ev.Body, ev.IsBase64Encoded, tt.want, tt.base64)
		}
		if ev.RequestContext.AccountID != "anonymous" || ev.RequestContext.RequestID == "" || len(ev.RequestContext.RequestID) != 36 {
			t.Errorf("defaults: account %q request id %q", ev.RequestContext.AccountID, ev.RequestContext.RequestID)
		}
	}
}

func TestFromResult(t *testing.T) {
	tests := []struct {
		name, result, fnErr string
		status              int
		header              http.Header
		body                string
	}{
		{"structured", `{"statusCode":201,"headers":{"X-A":"1","content-type":"text/plain"},"multiValueHeaders":{"X-A":["m1","m2"],"X-M":["a","b"]},"cookies":["c=1","d=2"],"body":"hi"}`, "",
			201, http.Header{"X-A": {"1"}, "X-M": {"a", "b"}, "Content-Type": {"text/plain"}, "Set-Cookie": {"c=1", "d=2"}}, "hi"},
		{"base64 body", `{"statusCode":200,"body":"AAEC","isBase64Encoded":true}`, "",
			200, http.Header{"Content-Type": {"application/json"}}, "\x00\x01\x02"},
		{"no body", `{"statusCode":204}`, "", 204, http.Header{"Content-Type": {"application/json"}}, ""},
		{"object without statusCode", `{"ok":true}`, "", 200, http.Header{"Content-Type": {"application/json"}}, `{"ok":true}`},
		{"string", `"hello"`, "", 200, http.Header{"Content-Type": {"application/json"}}, `"hello"`},
		{"number", ` 42 `, "", 200, http.Header{"Content-Type": {"application/json"}}, `42`},
		{"function error", `{"errorMessage":"boom"}`, "Unhandled", 502, http.Header{"Content-Type": {"application/json"}}, `{"message":"Internal Server Error"}`},
		{"bad base64", `{"statusCode":200,"body":"%%%","isBase64Encoded":true}`, "", 502, http.Header{"Content-Type": {"application/json"}}, `{"message":"Internal Server Error"}`},
		{"bad status", `{"statusCode":"x"}`, "", 502, http.Header{"Content-Type": {"application/json"}}, `{"message":"Internal Server Error"}`},
		{"status out of range", `{"statusCode":42}`, "", 502, http.Header{"Content-Type": {"application/json"}}, `{"message":"Internal Server Error"}`},
		{"not JSON", `oops`, "", 502, http.Header{"Content-Type": {"application/json"}}, `{"message":"Internal Server Error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromResult([]byte(tt.result), tt.fnErr)
			if got.StatusCode != tt.status || string(got.Body) != tt.body || !reflect.DeepEqual(got.Header, tt.header) {
				t.Errorf("got %d %v %q, want %d %v %q", got.StatusCode, got.Header, got.Body, tt.status, tt.header, tt.body)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	var seen Event
	h := Handler(func(r *http.Request, ev []byte) ([]byte, string, error) {
		if err := json.Unmarshal(ev, &seen); err != nil {
			return nil, "", err
		}
		return []byte(`{"statusCode":418,"body":"teapot"}`), "", nil
	}, Options{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/x?q=1", "application/json", strings.NewReader(`[1]`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if resp.StatusCode != 418 || buf.String() != "teapot" || seen.RawPath != "/x" || seen.Body != "[1]" || seen.RequestContext.HTTP.Method != "POST" {
		t.Errorf("status %d body %q event %+v", resp.StatusCode, buf.String(), seen)
	}

	// Too big a body: 413, the function is not called.
	called := false
	h = Handler(func(*http.Request, []byte) ([]byte, string, error) { called = true; return nil, "", nil }, Options{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(make([]byte, MaxEventBytes+1))))
	if rec.Code != http.StatusRequestEntityTooLarge || called {
		t.Errorf("oversized body: %d, called %v", rec.Code, called)
	}
}
