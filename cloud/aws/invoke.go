package aws

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/text"
)

// Invoke calls the function synchronously with LogType=Tail. A function whose
// URL is configured for RESPONSE_STREAM is invoked with
// InvokeWithResponseStream instead, and chunk (when set) sees each piece of
// the response as it arrives. The payload is assumed to be valid JSON (the
// CLI validates it before anything is sent).
func (b *Backend) Invoke(ctx context.Context, req cloud.InvokeRequest, chunk func([]byte)) (cloud.InvokeResult, error) {
	t := req.Target
	if req.Cold {
		// Lambda offers no way to ask for a cold start short of changing the
		// function's configuration, which fndeck will not do behind the user's back.
		return cloud.InvokeResult{}, cloud.WithHint(fmt.Errorf("invoking %s: --cold is not supported for Lambda functions: %w", t, cloud.ErrInvalid),
			"use a local: target for cold-start figures, or read Init Duration from the REPORT of the first invoke after a deploy")
	}
	profile := b.profileFor(t)
	rc, err := b.clients(ctx, profile, t.Region)
	if err != nil {
		return cloud.InvokeResult{}, err
	}
	res := cloud.InvokeResult{Address: t.String()}
	var qual *string
	if t.Qualifier != "" {
		qual = &t.Qualifier
	}
	payload := req.Payload
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	start := time.Now()
	if b.streams(ctx, rc, t) {
		err = b.invokeStream(ctx, rc, t, qual, payload, chunk, &res)
	} else {
		err = b.invokeBuffered(ctx, rc, t, qual, payload, &res)
	}
	res.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		return res, errorf(profile, "invoking %s: %w", t, err)
	}
	res.Response = text.JSONOrString(res.Body)
	if res.LogTail != "" {
		res.Report, res.RequestID = findReport(res.LogTail)
		if res.Report != nil && res.Report.Status == "timeout" {
			res.TimedOut = true
		}
	}
	return res, nil
}

func (b *Backend) invokeBuffered(ctx context.Context, rc *regionClients, t cloud.Address, qual *string, payload []byte, res *cloud.InvokeResult) error {
	var out *lambda.InvokeOutput
	err := b.call(ctx, nil, func() error {
		var e error
		out, e = rc.lambda.Invoke(ctx, &lambda.InvokeInput{
			FunctionName:   &t.Function,
			Qualifier:      qual,
			Payload:        payload,
			InvocationType: types.InvocationTypeRequestResponse,
			LogType:        types.LogTypeTail,
		})
		return e
	})
	if err != nil {
		return err
	}
	res.StatusCode = int(out.StatusCode)
	res.FunctionError = sdkaws.ToString(out.FunctionError)
	res.Body = out.Payload
	res.LogTail = decodeLogTail(sdkaws.ToString(out.LogResult))
	return nil
}

func (b *Backend) invokeStream(ctx context.Context, rc *regionClients, t cloud.Address, qual *string, payload []byte, chunk func([]byte), res *cloud.InvokeResult) error {
	var out *lambda.InvokeWithResponseStreamOutput
	err := b.call(ctx, nil, func() error {
		var e error
		out, e = rc.lambda.InvokeWithResponseStream(ctx, &lambda.InvokeWithResponseStreamInput{
			FunctionName:   &t.Function,
			Qualifier:      qual,
			Payload:        payload,
			InvocationType: types.ResponseStreamingInvocationTypeRequestResponse,
			LogType:        types.LogTypeTail,
		})
		return e
	})
	if err != nil {
		return err
	}
	res.StatusCode = int(out.StatusCode)
	stream := out.GetStream()
	defer stream.Close()
	var body bytes.Buffer
	for ev := range stream.Events() {
		switch v := ev.(type) {
		case *types.InvokeWithResponseStreamResponseEventMemberPayloadChunk:
			body.Write(v.Value.Payload)
			if chunk != nil && len(v.Value.Payload) > 0 {
				chunk(v.Value.Payload)
			}
		case *types.InvokeWithResponseStreamResponseEventMemberInvokeComplete:
			res.FunctionError = sdkaws.ToString(v.Value.ErrorCode)
			if d := sdkaws.ToString(v.Value.ErrorDetails); d != "" && body.Len() == 0 {
				body.WriteString(d)
			}
			res.LogTail = decodeLogTail(sdkaws.ToString(v.Value.LogResult))
		}
	}
	res.Body = body.Bytes()
	if err := stream.Err(); err != nil {
		return fmt.Errorf("reading the response stream: %w", err)
	}
	return nil
}

// streams reports whether the function answers through a response stream,
// which Lambda records as the function URL's invoke mode. The answer is
// cached per address; a function without a URL is buffered.
func (b *Backend) streams(ctx context.Context, rc *regionClients, t cloud.Address) bool {
	key := t.String()
	b.urlMu.Lock()
	mode, ok := b.urlModes[key]
	b.urlMu.Unlock()
	if ok {
		return mode
	}
	in := &lambda.GetFunctionUrlConfigInput{FunctionName: &t.Function}
	if t.Qualifier != "" {
		in.Qualifier = &t.Qualifier
	}
	var out *lambda.GetFunctionUrlConfigOutput
	err := b.call(ctx, nil, func() error {
		var e error
		out, e = rc.lambda.GetFunctionUrlConfig(ctx, in)
		return e
	})
	if err != nil {
		// No URL (ResourceNotFound), or not allowed to read it: a buffered
		// invoke works for every function, so fall back to it. Only a
		// definite answer is cached.
		if errors.Is(classify(err, ""), cloud.ErrNotFound) {
			b.urlMu.Lock()
			b.urlModes[key] = false
			b.urlMu.Unlock()
		}
		return false
	}
	mode = out.InvokeMode == types.InvokeModeResponseStream
	b.urlMu.Lock()
	b.urlModes[key] = mode
	b.urlMu.Unlock()
	return mode
}

func decodeLogTail(b64 string) string {
	if b64 == "" {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return ""
	}
	return string(raw)
}

// findReport finds the REPORT figures in a log tail, text or JSON format.
func findReport(tail string) (*cloud.Report, string) {
	for _, line := range strings.Split(tail, "\n") {
		line = strings.TrimRight(line, "\r")
		if r, ok := cloud.ParseReport(line); ok {
			return &r, r.RequestID
		}
		if strings.HasPrefix(strings.TrimSpace(line), "{") {
			if r, ok := cloud.ParsePlatformReport([]byte(line)); ok {
				return &r, r.RequestID
			}
		}
	}
	return nil, ""
}
