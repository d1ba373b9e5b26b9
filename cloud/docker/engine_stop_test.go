package docker

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fndeck/fndeck/cloud"
)

// stoppingEngine speaks the engine's HTTP API on 127.0.0.1 and answers a
// build with lines in the real engine's wire format (dockerd 20.10's classic
// builder), then, when stop is set, goes away as a stopping engine does: the
// build's connection is cut mid-response and nothing listens any more.
func stoppingEngine(t *testing.T, lines []string, stop bool) *Engine {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		switch {
		case strings.HasSuffix(r.URL.Path, "/_ping"):
			_, _ = io.WriteString(w, "OK")
		case strings.HasSuffix(r.URL.Path, "/build"):
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, strings.Join(lines, "\r\n")+"\r\n")
			w.(http.Flusher).Flush()
			if !stop {
				return
			}
			// The engine stops: no new connection is accepted, and this
			// response ends without its final chunk.
			_ = srv.Listener.Close()
			srv.CloseClientConnections()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	e, err := New(Endpoint{Host: "tcp://" + srv.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// The output dockerd 20.10 sends for `RUN sleep 60` up to the moment it is
// stopped: the step's container is killed and reported with code 137.
var killedStepLines = []string{
	`{"stream":"Step 1/3 : FROM busybox:latest"}`,
	`{"stream":"\n"}`,
	`{"stream":" ---\u003e 6fd955f66c23\n"}`,
	`{"stream":"Step 2/3 : RUN sleep 60"}`,
	`{"stream":"\n"}`,
	`{"stream":" ---\u003e Running in 5d1cbbf2b6a7\n"}`,
	`{"errorDetail":{"code":137,"message":"The command '/bin/sh -c sleep 60' returned a non-zero code: 137"},"error":"The command '/bin/sh -c sleep 60' returned a non-zero code: 137"}`,
}

func buildIn(t *testing.T, e *Engine) error {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM busybox:latest\nRUN sleep 60\nCMD [\"true\"]\n"})
	_, err := e.Build(t.Context(), cloud.BuildOptions{ContextDir: dir}, &recSink{})
	return err
}

func TestBuildSaysTheEngineStoppedWhenItsStepWasKilled(t *testing.T) {
	err := buildIn(t, stoppingEngine(t, killedStepLines, true))
	if err == nil {
		t.Fatal("build succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "build at Step 2/3 : RUN sleep 60: the Docker engine stopped") || !strings.Contains(msg, "code: 137") {
		t.Errorf("err = %v", err)
	}
	if !errors.Is(err, cloud.ErrUnreachable) {
		t.Errorf("err does not match cloud.ErrUnreachable: %v", err)
	}
}

func TestBuildSaysTheEngineStoppedWhenItsConnectionDropped(t *testing.T) {
	err := buildIn(t, stoppingEngine(t, killedStepLines[:6], true))
	if err == nil {
		t.Fatal("build succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, "build at Step 2/3 : RUN sleep 60: the Docker engine stopped (its connection dropped") {
		t.Errorf("err = %v", err)
	}
	if !errors.Is(err, cloud.ErrUnreachable) {
		t.Errorf("err does not match cloud.ErrUnreachable: %v", err)
	}
}

// A step killed while the engine keeps running (out of memory, or the step
// killed itself) is the step's failure, not the engine's.
func TestBuildKilledStepWithTheEngineRunningKeepsTheStepsReason(t *testing.T) {
	err := buildIn(t, stoppingEngine(t, killedStepLines, false))
	if err == nil {
		t.Fatal("build succeeded")
	}
	if msg := err.Error(); msg != "build failed at Step 2/3 : RUN sleep 60: The command '/bin/sh -c sleep 60' returned a non-zero code: 137" {
		t.Errorf("err = %v", err)
	}
}

func TestKilledStep(t *testing.T) {
	for msg, want := range map[string]bool{
		"The command '/bin/sh -c sleep 60' returned a non-zero code: 137":   true,
		"The command '/bin/sh -c sleep 60' returned a non-zero code: 1":     false,
		"The command '/bin/sh -c exit 1370' returned a non-zero code: 1370": false,
		"": false,
	} {
		if got := killedStep(msg); got != want {
			t.Errorf("killedStep(%q) = %v, want %v", msg, got, want)
		}
	}
}
