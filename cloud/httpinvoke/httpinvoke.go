// Package httpinvoke is the one HTTP invocation fndeck has: a Cloud Run
// service (cloud/gcp) and a local function in cloudrun mode (cloud/local)
// are both called through it, so methods, paths, headers, streaming and the
// function-error rule agree. It links no SDK; a backend that must
// authenticate (GCP's ID token) does so in the client's transport.
package httpinvoke

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/text"
)

// RequestIDHeader is where Cloud Run (and its emulators) put the request's
// trace ID; it becomes InvokeResult.RequestID.
const RequestIDHeader = "X-Cloud-Trace-Context"

// Invoke sends req to the service at base (its root URL) with client and
// streams the response body to chunk (when not nil) as it arrives. The
// method is req.Method, else POST with a payload and GET without; req.Path
// is joined to base; a JSON payload without a Content-Type is sent as
// application/json.
//
// An HTTP answer of 400 or more is a function error: the result carries its
// status line in FunctionError (as Lambda's FunctionError marks a failed
// invocation) and err stays nil, since the call itself worked. A request
// that cannot be sent fails with cloud.ErrUnreachable in the chain.
func Invoke(ctx context.Context, client *http.Client, base string, req cloud.InvokeRequest, chunk func([]byte)) (cloud.InvokeResult, error) {
	addr := req.Target.String()
	res := cloud.InvokeResult{Address: addr}
	u, err := JoinURL(base, req.Path)
	if err != nil {
		return res, fmt.Errorf("invoking %s: %w", addr, err)
	}
	method := strings.ToUpper(req.Method)
	if method == "" {
		method = http.MethodGet
		if len(req.Payload) > 0 {
			method = http.MethodPost
		}
	}
	var body io.Reader
	if len(req.Payload) > 0 {
		body = bytes.NewReader(req.Payload)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return res, fmt.Errorf("invoking %s: %w: %v", addr, cloud.ErrInvalid, err)
	}
	for k, vs := range req.Headers {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	if len(req.Payload) > 0 && hreq.Header.Get("Content-Type") == "" && json.Valid(req.Payload) {
		hreq.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := client.Do(hreq)
	if err != nil {
		return res, fmt.Errorf("invoking %s at %s: %w: %w", addr, base, cloud.ErrUnreachable, err)
	}
	defer resp.Body.Close()
	res.StatusCode = resp.StatusCode
	res.Headers = resp.Header.Clone()
	res.RequestID = resp.Header.Get(RequestIDHeader)
	var all bytes.Buffer
	buf := make([]byte, 32<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			all.Write(buf[:n])
			if chunk != nil {
				chunk(bytes.Clone(buf[:n]))
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			res.Body = all.Bytes()
			res.ElapsedMS = msSince(start)
			return res, fmt.Errorf("invoking %s: reading the response: %w", addr, rerr)
		}
	}
	res.ElapsedMS = msSince(start)
	res.Body = all.Bytes()
	res.Response = text.JSONOrString(res.Body)
	if resp.StatusCode >= 400 {
		res.FunctionError = resp.Status
	}
	return res, nil
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// JoinURL appends path (with its query) to base's path. A path without a
// leading slash gets one.
func JoinURL(base, path string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("service url %q: %w", base, err)
	}
	if path == "" {
		if u.Path == "" {
			u.Path = "/"
		}
		return u.String(), nil
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	p, err := url.Parse(path)
	if err != nil {
		return "", fmt.Errorf("path %q: %w: %v", path, cloud.ErrInvalid, err)
	}
	u.Path = strings.TrimRight(u.Path, "/") + p.Path
	u.RawQuery = p.RawQuery
	return u.String(), nil
}
