package remote_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud/remote"
	"github.com/fndeck/fndeck/cloud/remote/wire"
)

// fakeHelper writes a shell script standing in for fndeck-cloud.
func fakeHelper(t *testing.T, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fndeck-cloud")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHandshake: the real helper answers Init with its protocol, build and
// capabilities.
func TestHandshake(t *testing.T) {
	isolate(t)
	c := remote.NewClient(remote.ClientOptions{HelperPath: helper(t), Build: "dev"})
	defer c.Close()
	h, path, err := c.Hello(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h.Protocol != wire.Version || h.Build != "dev" || !slices.Contains(h.Capabilities, wire.MHealth) || path != helper(t) {
		t.Errorf("hello = %+v from %s", h, path)
	}
	if _, err := c.Inflight(context.Background()); err != nil {
		t.Errorf("a call after the handshake: %v", err)
	}
}

// TestHandshakeMismatch: another protocol, or another release build, is a
// clear error naming both sides, not a hang or a garbled call.
func TestHandshakeMismatch(t *testing.T) {
	isolate(t)
	old := fakeHelper(t, `read line; echo '{"t":"hello","d":{"protocol":1,"build":"0.9.0"}}'; read line`)
	c := remote.NewClient(remote.ClientOptions{HelperPath: old, Build: "1.0.0"})
	defer c.Close()
	_, err := c.Inflight(context.Background())
	if err == nil || !strings.Contains(err.Error(), "protocol 1") || !strings.Contains(err.Error(), "fndeck 1.0.0 speaks 2") || !strings.Contains(err.Error(), "0.9.0") {
		t.Errorf("protocol mismatch: %v", err)
	}
	other := fakeHelper(t, `read line; echo '{"t":"hello","d":{"protocol":2,"build":"1.1.0"}}'; read line`)
	c2 := remote.NewClient(remote.ClientOptions{HelperPath: other, Build: "1.0.0"})
	defer c2.Close()
	_, err = c2.Inflight(context.Background())
	if err == nil || !strings.Contains(err.Error(), "version 1.1.0 but fndeck is 1.0.0") {
		t.Errorf("build mismatch: %v", err)
	}
	// The real helper refuses a stale fndeck's Init in its Hello, naming both.
	cmd := exec.Command(helper(t))
	cmd.Stdin = strings.NewReader(`{"t":"init","d":{"version":1,"build":"0.8.0"}}` + "\n")
	out, _ := cmd.Output()
	var m wire.Msg
	var h wire.Hello
	if err := json.Unmarshal(out, &m); err != nil || m.T != wire.THello || json.Unmarshal(m.Data, &h) != nil {
		t.Fatalf("helper's answer to a stale Init: %q", out)
	}
	if !strings.Contains(h.Err, "protocol version 1 from fndeck 0.8.0") || !strings.Contains(h.Err, "speaks 2") {
		t.Errorf("refusal = %q", h.Err)
	}
}

// TestHelperDyingAtStartIsNotRestartedEveryCall: a helper that exits at
// start-up is started again only after a backoff (injected clock); calls
// meanwhile fail at once with its reason.
func TestHelperDyingAtStartIsNotRestartedEveryCall(t *testing.T) {
	isolate(t)
	count := filepath.Join(t.TempDir(), "starts")
	dying := fakeHelper(t, "echo x >> "+count+"\necho 'fatal: cannot read the docker config' >&2\nexit 3\n")
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c := remote.NewClient(remote.ClientOptions{HelperPath: dying, Now: clock})
	defer c.Close()
	starts := func() int {
		b, _ := os.ReadFile(count)
		return strings.Count(string(b), "x")
	}
	_, err := c.Inflight(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot read the docker config") {
		t.Fatalf("first call: %v", err)
	}
	for range 5 {
		_, err = c.Inflight(context.Background())
	}
	if starts() != 1 {
		t.Errorf("helper started %d times in the backoff, want 1", starts())
	}
	if err == nil || !strings.Contains(err.Error(), "cannot read the docker config") || !strings.Contains(err.Error(), "not restarted for 1s") {
		t.Errorf("call in the backoff: %v", err)
	}
	mu.Lock()
	now = now.Add(1500 * time.Millisecond)
	mu.Unlock()
	_, _ = c.Inflight(context.Background())
	if starts() != 2 {
		t.Errorf("after the backoff: %d starts, want 2", starts())
	}
	// The second failure doubles the wait.
	mu.Lock()
	now = now.Add(1500 * time.Millisecond)
	mu.Unlock()
	_, err = c.Inflight(context.Background())
	if starts() != 2 || !strings.Contains(err.Error(), "not restarted for") {
		t.Errorf("second backoff: %d starts, %v", starts(), err)
	}
}
