// Command urlecho is the aws-lambda-go handler the HTTP front door test
// (--as lambda --http) deploys. It decodes its event strictly as an
// events.APIGatewayV2HTTPRequest, so any field the front door invents that
// Lambda would not send fails the request, and echoes what it saw.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var ev events.APIGatewayV2HTTPRequest
	if err := dec.Decode(&ev); err != nil {
		return nil, errors.New("decoding the v2 event: " + err.Error())
	}
	switch ev.RawPath {
	case "/plain":
		// Not a structured response: a function URL answers 200 with it as JSON.
		return []string{"plain", ev.RequestContext.HTTP.Method}, nil
	case "/fail":
		return nil, errors.New("asked to fail")
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, errors.New("body is not base64: " + err.Error())
		}
	}
	// The response body: the request body reversed, as binary.
	rev := make([]byte, len(body))
	for i, c := range body {
		rev[len(body)-1-i] = c
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: 207,
		Headers: map[string]string{
			"Content-Type":     "application/octet-stream",
			"X-Version":        ev.Version,
			"X-Route":          ev.RouteKey + " " + ev.RequestContext.Stage,
			"X-Raw-Path":       ev.RawPath,
			"X-Raw-Query":      ev.RawQueryString,
			"X-Query-A":        ev.QueryStringParameters["a"],
			"X-Query-B":        ev.QueryStringParameters["b"],
			"X-Custom":         ev.Headers["x-custom"],
			"X-Cookies":        strings.Join(ev.Cookies, "|"),
			"X-Method":         ev.RequestContext.HTTP.Method + " " + ev.RequestContext.HTTP.Path,
			"X-Source":         ev.RequestContext.HTTP.SourceIP,
			"X-Agent":          ev.RequestContext.HTTP.UserAgent,
			"X-Base64":         strconv.FormatBool(ev.IsBase64Encoded),
			"X-Epoch-Set":      strconv.FormatBool(ev.RequestContext.TimeEpoch > 0 && ev.RequestContext.Time != ""),
			"X-Request-Id-Set": strconv.FormatBool(ev.RequestContext.RequestID != ""),
		},
		MultiValueHeaders: map[string][]string{"X-Multi": {"one", "two"}},
		Cookies:           []string{"session=abc; Path=/", "theme=dark"},
		Body:              base64.StdEncoding.EncodeToString(rev),
		IsBase64Encoded:   true,
	}, nil
}

func main() { lambda.Start(handle) }
