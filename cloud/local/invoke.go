package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/httpinvoke"
	"github.com/fndeck/fndeck/internal/text"
)

// logTailBytes matches Lambda's LogResult: the last 4 KB of the invocation's log.
const logTailBytes = 4096

// Invoke sends one invocation. Lambda mode posts the payload to the shim's
// invoke endpoint and reads the REPORT line from the container's log; Cloud
// Run mode sends an HTTP request and streams the body to chunk.
func (b *Backend) Invoke(ctx context.Context, req cloud.InvokeRequest, chunk func([]byte)) (cloud.InvokeResult, error) {
	s, err := b.mustFind(ctx, req.Target)
	if err != nil {
		return cloud.InvokeResult{}, err
	}
	mode := s.Labels[LabelMode]
	port, _ := strconv.Atoi(s.Labels[LabelPort])
	if port == 0 {
		return cloud.InvokeResult{}, fmt.Errorf("invoking %s: container %s has no %s label: %w", req.Target, text.ShortID(s.ID), LabelPort, cloud.ErrInvalid)
	}
	if req.Cold {
		// A fresh container: fresh runtime, fresh memory peak, a real Init Duration.
		timeout := 2
		if _, err := b.c.ContainerRestart(ctx, s.ID, client.ContainerRestartOptions{Timeout: &timeout}); err != nil {
			return cloud.InvokeResult{}, dockerErr("invoking "+req.Target.String()+": restarting for a cold start", err)
		}
		if err := b.waitReady(ctx, s.ID, mode, port); err != nil {
			return cloud.InvokeResult{}, fmt.Errorf("invoking %s: %w", req.Target, err)
		}
	} else if s.State != container.StateRunning {
		return cloud.InvokeResult{}, cloud.WithHint(
			fmt.Errorf("invoking %s: its container is %s, not running: %w", req.Target, s.State, cloud.ErrConflict),
			"deploy it again: fndeck deploy "+s.Labels[LabelImage]+" "+req.Target.String())
	}
	if mode == ModeCloudRun {
		return b.invokeHTTP(ctx, req, port, chunk)
	}
	return b.invokeLambda(ctx, req, s.ID, port, chunk)
}

func unreachable(target cloud.Address, err error) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return cloud.WithHint(fmt.Errorf("invoking %s: %w: %w", target, cloud.ErrUnreachable, err), "see fndeck logs "+target.String())
	}
	return fmt.Errorf("invoking %s: %w", target, err)
}

func (b *Backend) invokeLambda(ctx context.Context, req cloud.InvokeRequest, id string, port int, chunk func([]byte)) (cloud.InvokeResult, error) {
	addr := req.Target.String()
	payload := req.Payload
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	start := b.now()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d%s", port, invokePath), bytes.NewReader(payload))
	if err != nil {
		return cloud.InvokeResult{}, fmt.Errorf("invoking %s: %w", addr, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	for k, vs := range req.Headers {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	resp, err := b.http.Do(hr)
	if err != nil {
		return cloud.InvokeResult{}, unreachable(req.Target, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return cloud.InvokeResult{}, fmt.Errorf("invoking %s: reading the response: %w", addr, err)
	}
	res := cloud.InvokeResult{
		Address:       addr,
		StatusCode:    resp.StatusCode,
		FunctionError: resp.Header.Get("X-Amz-Function-Error"),
		Body:          body,
		Response:      text.JSONOrString(body),
		Headers:       resp.Header,
		RequestID:     resp.Header.Get("X-Amzn-RequestId"),
		ElapsedMS:     float64(b.now().Sub(start).Microseconds()) / 1000,
	}
	if chunk != nil && len(body) > 0 {
		chunk(body)
	}
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("invoking %s: the shim answered %s: %s", addr, resp.Status, bytes.TrimSpace(body))
	}
	if res.RequestID != "" {
		tail, rep := b.invocationLog(ctx, id, res.RequestID, start)
		res.LogTail = tail
		if rep != nil {
			res.Report = rep
			res.TimedOut = rep.Status == "timeout"
		}
	}
	return res, nil
}

// invocationLog collects the log lines from START to REPORT of one request
// and parses the REPORT. The shim writes REPORT before it answers, but the
// engine's log copy lags a little, so it retries briefly.
func (b *Backend) invocationLog(ctx context.Context, id, requestID string, since time.Time) (string, *cloud.Report) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		var lines []string
		var rep *cloud.Report
		in := false
		_ = b.readLogs(ctx, id, since.Add(-time.Second), time.Time{}, false, "", func(e logEntry) bool {
			if strings.HasPrefix(e.message, "START RequestId: "+requestID) {
				in = true
			}
			if !in {
				return true
			}
			lines = append(lines, e.message)
			if r, ok := cloud.ParseReport(e.message); ok && r.RequestID == requestID {
				rep = &r
				return false
			}
			return true
		})
		if rep != nil || time.Now().After(deadline) || ctx.Err() != nil {
			tail := strings.Join(lines, "\n")
			if len(tail) > logTailBytes {
				tail = tail[len(tail)-logTailBytes:]
			}
			return tail, rep
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// invokeHTTP calls a cloudrun-mode container through httpinvoke, the call
// Cloud Run services get, so a 4xx/5xx answer is a function error here too.
func (b *Backend) invokeHTTP(ctx context.Context, req cloud.InvokeRequest, port int, chunk func([]byte)) (cloud.InvokeResult, error) {
	res, err := httpinvoke.Invoke(ctx, b.http, fmt.Sprintf("http://127.0.0.1:%d/", port), req, chunk)
	if errors.Is(err, syscall.ECONNREFUSED) {
		err = cloud.WithHint(err, "see fndeck logs "+req.Target.String())
	}
	return res, err
}
