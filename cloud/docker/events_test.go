package docker

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// waitEvent reads events until one matches or 30 s pass.
func waitEvent(t *testing.T, evs <-chan cloud.ImageEvent, errc <-chan error, match func(cloud.ImageEvent) bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-evs:
			if !ok {
				t.Fatalf("event stream closed early: %v", <-errc)
			}
			if match(ev) {
				return
			}
		case <-deadline:
			t.Fatal("expected image event did not arrive within 30s")
		}
	}
}

func TestEvents(t *testing.T) {
	e := newEngine(t)
	src := cloudtest.UniqueName("fndeck-docker-events") + ":src"
	res := buildTiny(t, e, src)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs, errc := e.Events(ctx)
	// The stream is established asynchronously; tag repeatedly until seen.
	tagged := cloudtest.UniqueName("fndeck-docker-events") + ":tagged"
	removeImageAtEnd(t, tagged)
	stop := make(chan struct{})
	go func() {
		for {
			dockerQuiet("tag", src, tagged)
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	waitEvent(t, evs, errc, func(ev cloud.ImageEvent) bool { return ev.Action == "tag" && ev.ID == res.ImageID })
	close(stop)

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("error after ctx end = %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("event stream did not end within 30s of cancel")
	}
	for range evs {
	}
}

// A lost connection ends the stream with an error wrapping ErrUnreachable,
// so the caller knows to reconnect. The engine is reached through a unix
// socket proxy that the test cuts.
func TestEventsConnectionLoss(t *testing.T) {
	base := newEngine(t)
	u, err := url.Parse(base.Host())
	if err != nil || u.Scheme != "unix" {
		t.Skipf("needs a unix socket engine to proxy, have %s", base.Host())
	}
	sock := filepath.Join(t.TempDir(), "proxy.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("unix", u.Path)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()

	e, err := New(Endpoint{Host: "unix://" + sock, Source: SourceConfig})
	if err != nil {
		t.Fatal(err)
	}
	src := cloudtest.UniqueName("fndeck-docker-evloss") + ":src"
	res := buildTiny(t, base, src)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs, errc := e.Events(ctx)
	tagged := cloudtest.UniqueName("fndeck-docker-evloss") + ":tagged"
	removeImageAtEnd(t, tagged)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			dockerQuiet("tag", src, tagged)
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	// Proves the stream runs through the proxy before it is cut.
	waitEvent(t, evs, errc, func(ev cloud.ImageEvent) bool { return ev.ID == res.ImageID })

	l.Close()
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
	go func() {
		for range evs {
		}
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, cloud.ErrUnreachable) {
			t.Fatalf("error after connection loss = %v, want ErrUnreachable", err)
		}
		t.Logf("connection loss: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("event stream did not report the lost connection within 30s")
	}
}

// The client negotiates down to what the daemon speaks (1.41 here).
func TestPingNegotiatesAPIVersion(t *testing.T) {
	e := newEngine(t)
	if err := e.Ping(testCtx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	want := cloudtest.Docker(t, "version", "--format", "{{.Server.APIVersion}}")
	if got := e.APIVersion(); got != want {
		t.Fatalf("negotiated API version %q, daemon speaks %q", got, want)
	}
}

// A docker context pointing at the test's engine is resolved and used.
func TestContextEndpointReachesEngine(t *testing.T) {
	base := newEngine(t)
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_CONTEXT", "")
	writeContext(t, dir, "fndeck-test", base.Host(), false)
	writeFiles(t, dir, map[string]string{"config.json": `{"currentContext":"fndeck-test"}`})
	ep, err := Resolve("")
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if ep.Source != SourceContext || ep.Host != base.Host() || ep.String() != base.Host()+" (context fndeck-test)" {
		t.Fatalf("Resolve = %+v (%s)", ep, ep)
	}
	e, err := New(ep)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Ping(testCtx(t)); err != nil {
		t.Fatalf("Ping through the context: %v", err)
	}
}
