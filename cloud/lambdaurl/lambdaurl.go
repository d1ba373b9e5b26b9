// Package lambdaurl translates between HTTP and the Lambda event shapes a
// function URL (or an API Gateway HTTP API) uses: an HTTP request becomes an
// API Gateway HTTP API payload format 2.0 event, and the function's result
// becomes the HTTP response. It is provider-neutral and links no SDK: the
// local target's shim serves it as a front door, and any part of fndeck that
// must reach a Lambda function over HTTP can reuse it.
//
// The shapes follow the AWS documentation "Invoking Lambda function URLs"
// (request and response payloads) and "Working with AWS Lambda proxy
// integrations for HTTP APIs" (payload format version 2.0).
package lambdaurl

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is the payload format 2.0 request event. Field names and JSON
// tags match what Lambda sends, so aws-lambda-go's
// events.APIGatewayV2HTTPRequest decodes it.
type Event struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	RequestContext        RequestContext    `json:"requestContext"`
	Body                  string            `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

// RequestContext is the event's requestContext.
type RequestContext struct {
	AccountID    string      `json:"accountId"`
	APIID        string      `json:"apiId"`
	DomainName   string      `json:"domainName"`
	DomainPrefix string      `json:"domainPrefix"`
	HTTP         HTTPContext `json:"http"`
	RequestID    string      `json:"requestId"`
	RouteKey     string      `json:"routeKey"`
	Stage        string      `json:"stage"`
	Time         string      `json:"time"`
	TimeEpoch    int64       `json:"timeEpoch"`
}

// HTTPContext is requestContext.http.
type HTTPContext struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// Options fill the parts of an event that do not come from the request.
type Options struct {
	// AccountID is requestContext.accountId ("anonymous" when empty: a
	// function URL with auth type NONE).
	AccountID string
	// APIID is requestContext.apiId and domainPrefix (a function URL's
	// url-id); default: the first label of the request's host.
	APIID string
	// DomainName is requestContext.domainName; default: the request's
	// host without its port.
	DomainName string
	// RequestID is requestContext.requestId; default: a fresh UUID-shaped id
	// from NewID.
	RequestID string
	// Now is the request time; default time.Now.
	Now func() time.Time
	// NewID makes request IDs; default a random UUID v4.
	NewID func() string
}

// MaxEventBytes is Lambda's synchronous invoke payload limit: an event that
// encodes larger is refused with 413.
const MaxEventBytes = 6 * 1024 * 1024

// timeLayout is requestContext.time's format ("12/Mar/2020:19:03:58 +0000").
const timeLayout = "02/Jan/2006:15:04:05 -0700"

// NewEvent builds the event for r, whose body has been read into body.
func NewEvent(r *http.Request, body []byte, o Options) Event {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	t := now().UTC()
	newID := o.NewID
	if newID == nil {
		newID = newUUID
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	hostOnly := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		hostOnly = h
	}
	domain := o.DomainName
	if domain == "" {
		domain = hostOnly
	}
	apiID := o.APIID
	if apiID == "" {
		apiID, _, _ = strings.Cut(domain, ".")
	}
	account := o.AccountID
	if account == "" {
		account = "anonymous"
	}
	reqID := o.RequestID
	if reqID == "" {
		reqID = newID()
	}
	sourceIP := r.RemoteAddr
	if h, _, err := net.SplitHostPort(sourceIP); err == nil {
		sourceIP = h
	}

	e := Event{
		Version:        "2.0",
		RouteKey:       "$default",
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Headers:        map[string]string{},
		RequestContext: RequestContext{
			AccountID: account, APIID: apiID, DomainName: domain, DomainPrefix: apiID,
			HTTP: HTTPContext{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto,
				SourceIP: sourceIP, UserAgent: r.UserAgent(),
			},
			RequestID: reqID, RouteKey: "$default", Stage: "$default",
			Time: t.Format(timeLayout), TimeEpoch: t.UnixMilli(),
		},
	}
	if e.RawPath == "" {
		e.RawPath = "/"
	}
	if e.RequestContext.HTTP.Path == "" {
		e.RequestContext.HTTP.Path = "/"
	}
	// Headers: names lower-cased, repeated values comma-joined; cookies move
	// to their own list, one entry per cookie.
	for name, vs := range r.Header {
		k := strings.ToLower(name)
		if k == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						e.Cookies = append(e.Cookies, c)
					}
				}
			}
			continue
		}
		e.Headers[k] = strings.Join(vs, ",")
	}
	e.Headers["host"] = host
	if _, ok := e.Headers["x-forwarded-for"]; !ok && sourceIP != "" {
		e.Headers["x-forwarded-for"] = sourceIP
	}
	if _, ok := e.Headers["x-forwarded-proto"]; !ok {
		proto := "http"
		if r.TLS != nil {
			proto = "https"
		}
		e.Headers["x-forwarded-proto"] = proto
	}
	if _, port, err := net.SplitHostPort(host); err == nil {
		if _, ok := e.Headers["x-forwarded-port"]; !ok {
			e.Headers["x-forwarded-port"] = port
		}
	}
	if q := r.URL.Query(); len(q) > 0 {
		e.QueryStringParameters = make(map[string]string, len(q))
		for k, vs := range q {
			e.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) && utf8.Valid(body) {
			e.Body = string(body)
		} else {
			e.Body, e.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return e
}

// isText reports whether a request body of this content type is passed as
// text. Function URLs pass text/*, JSON, XML, JavaScript and form bodies as
// they are and base64-encode everything else (binary, or no content type).
func isText(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/x-www-form-urlencoded",
		mt == "application/graphql", mt == "application/yaml", mt == "application/x-yaml":
		return true
	}
	return false
}

// Response is an HTTP response built from a function's result.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// result is the structured response a function returns.
type result struct {
	StatusCode        *int                `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              *string             `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// FromResult turns a function's result into the HTTP response a function
// URL gives. A JSON object with a statusCode is read as the structured
// response ({statusCode, headers, multiValueHeaders, cookies, body,
// isBase64Encoded}); any other valid JSON (an object without statusCode, an
// array, a string, a number) is answered 200 with the result itself as the
// application/json body, as Lambda infers it. functionError (the invoke's
// X-Amz-Function-Error) or an unreadable structured result gives 502, as a
// function URL does.
func FromResult(body []byte, functionError string) Response {
	if functionError != "" {
		return badGateway()
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || !json.Valid(trimmed) {
		return badGateway()
	}
	if trimmed[0] == '{' {
		var probe map[string]json.RawMessage
		if json.Unmarshal(trimmed, &probe) == nil {
			if _, structured := probe["statusCode"]; structured {
				return structuredResponse(trimmed)
			}
		}
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return Response{StatusCode: http.StatusOK, Header: h, Body: append([]byte(nil), trimmed...)}
}

func structuredResponse(b []byte) Response {
	var r result
	if err := json.Unmarshal(b, &r); err != nil || r.StatusCode == nil || *r.StatusCode < 100 || *r.StatusCode > 599 {
		return badGateway()
	}
	h := http.Header{}
	// multiValueHeaders first, then headers (a single value replaces), as
	// API Gateway merges them.
	for _, k := range sortedKeys(r.MultiValueHeaders) {
		for _, v := range r.MultiValueHeaders[k] {
			h.Add(k, v)
		}
	}
	for k, v := range r.Headers {
		h.Set(k, v)
	}
	for _, c := range r.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	var out []byte
	if r.Body != nil {
		if r.IsBase64Encoded {
			d, err := base64.StdEncoding.DecodeString(*r.Body)
			if err != nil {
				return badGateway()
			}
			out = d
		} else {
			out = []byte(*r.Body)
		}
	}
	return Response{StatusCode: *r.StatusCode, Header: h, Body: out}
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// badGateway is what a function URL answers when the function failed or
// its response could not be read.
func badGateway() Response {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return Response{StatusCode: http.StatusBadGateway, Header: h, Body: []byte(`{"message":"Internal Server Error"}`)}
}

// Write sends resp to w.
func (resp Response) Write(w http.ResponseWriter) {
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(resp.Body)
}

// Invoke is one synchronous invoke of the function behind the front door:
// it takes the event's JSON and returns the function's result and its
// function error ("" when none).
type Invoke func(r *http.Request, event []byte) (result []byte, functionError string, err error)

// Handler serves HTTP the way a function URL does: each request becomes an
// event passed to invoke, and the result becomes the response. A request
// whose event exceeds MaxEventBytes gets 413; an invoke error 502.
func Handler(invoke Invoke, o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r)
		if err != nil {
			writeMessage(w, http.StatusRequestEntityTooLarge, err.Error())
			return
		}
		ev, err := json.Marshal(NewEvent(r, body, o))
		if err != nil { // cannot happen: the event is strings and maps
			writeMessage(w, http.StatusInternalServerError, "encoding the event: "+err.Error())
			return
		}
		if len(ev) > MaxEventBytes {
			writeMessage(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request's event is %d bytes; Lambda takes at most %d", len(ev), MaxEventBytes))
			return
		}
		res, fnErr, err := invoke(r, ev)
		if err != nil {
			badGateway().Write(w)
			return
		}
		FromResult(res, fnErr).Write(w)
	})
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxEventBytes))
	if err != nil {
		return nil, fmt.Errorf("reading the request body (%d bytes read): %w", n, err)
	}
	return buf.Bytes(), nil
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newUUID returns a random UUID v4, the shape of API Gateway request IDs.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
