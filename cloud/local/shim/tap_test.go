package shim

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testChild is the test binary playing an app under the supervisor
// (FNDECK_SHIM_TEST_RUNTIME=mode). It returns the exit code.
func testChild(mode string) int {
	switch mode {
	case "counter":
		// "before", then once FNDECK_TEST_GO exists N numbered lines as fast
		// as it can, its rate on stderr, then once FNDECK_TEST_END exists "end".
		fmt.Println("before")
		waitFile(os.Getenv("FNDECK_TEST_GO"))
		n, _ := strconv.Atoi(os.Getenv("FNDECK_TEST_LINES"))
		w := bufio.NewWriterSize(os.Stdout, 64<<10)
		t0 := time.Now()
		buf := make([]byte, 0, 64)
		for i := 0; i < n; i++ {
			buf = append(strconv.AppendInt(append(buf[:0], "n="...), int64(i), 10), " padding-to-look-like-a-log-line\n"...)
			_, _ = w.Write(buf)
		}
		_ = w.Flush()
		d := time.Since(t0)
		fmt.Fprintf(os.Stderr, "rate=%.0f\n", float64(n)/d.Seconds())
		waitFile(os.Getenv("FNDECK_TEST_END"))
		fmt.Println("end")
		return 0
	case "signal":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		wd, _ := os.Getwd()
		fmt.Printf("ready wd=%s x=%s args=%s token=%q\n", wd, os.Getenv("FNDECK_TEST_X"), strings.Join(os.Args[1:], ","), os.Getenv(TokenEnv))
		fmt.Fprintln(os.Stderr, "on stderr")
		<-c
		fmt.Println("got terminated, cleaning up")
		return 7
	case "exit":
		fmt.Print("no newline at the end")
		return 42
	}
	fmt.Fprintln(os.Stderr, "unknown test runtime", mode)
	return 2
}

func waitFile(p string) {
	for p != "" {
		if _, err := os.Stat(p); err == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// lineCounter is a fast stand-in for the container's stdout: it counts
// lines and keeps the first few bytes.
type lineCounter struct {
	mu    sync.Mutex
	lines int
	head  bytes.Buffer
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines += bytes.Count(p, []byte{'\n'})
	if c.head.Len() < 1<<16 {
		c.head.Write(p[:min(len(p), 1<<16)])
	}
	return len(p), nil
}

func (c *lineCounter) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.lines }
func (c *lineCounter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.head.String()
}

type supervised struct {
	logAddr string
	out     *lineCounter
	errOut  *syncBuffer
	sigs    chan os.Signal
	done    chan struct{}
	code    int
	err     error
}

// supervise runs Supervise in-process with the test binary as the app.
func supervise(t *testing.T, mode string, env map[string]string, args ...string) *supervised {
	t.Helper()
	t.Setenv("FNDECK_SHIM_TEST_RUNTIME", mode)
	for k, v := range env {
		t.Setenv(k, v)
	}
	s := &supervised{logAddr: freeAddr(t), out: &lineCounter{}, errOut: &syncBuffer{}, sigs: make(chan os.Signal, 1), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	cfg := Config{Mode: ModeCloudRun, LogAddr: s.logAddr, LogToken: testToken, Command: append([]string{os.Args[0]}, args...)}
	go func() {
		defer close(s.done)
		s.code, s.err = Supervise(ctx, cfg, s.sigs, s.out, s.errOut)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("the supervisor did not stop within 30s")
		}
	})
	return s
}

func (s *supervised) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		t.Fatal("the app did not exit within 60s")
	}
}

const testToken = "test-token-123"

// subscribe connects to the tap, retrying until it listens.
func subscribe(t *testing.T, addr string) *http.Response {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+TapPath, nil)
		req.Header.Set(TokenHeader, testToken)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			if resp.StatusCode != http.StatusOK || resp.Header.Get(TapHeader) != "1" {
				t.Fatalf("tap answered %s %q", resp.Status, resp.Header.Get(TapHeader))
			}
			t.Cleanup(func() { resp.Body.Close() })
			return resp
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tap did not answer: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// tally reads a subscriber's records until the "end" line and checks them
// against the counter app's numbered lines: in order, and every gap in the
// numbers announced by a drop marker carrying exactly its size.
type tally struct {
	received, dropped, markers int
	next                       int // the number expected next
	pendingDrop                uint64
	sawBefore, sawRate         bool
}

// finish checks the count at the end: the last marker may also count the
// rate report (one stderr line) and, when the stream ended without it, "end".
func (tl tally) finish(t *testing.T, name string, n, endMissing int) tally {
	t.Helper()
	extra := endMissing
	if !tl.sawRate {
		extra++
	}
	if tl.next+int(tl.pendingDrop) != n+extra {
		t.Errorf("%s: at the end: next %d, pending drops %d, want them to add up to %d", name, tl.next, tl.pendingDrop, n+extra)
	}
	tl.dropped += int(tl.pendingDrop) - extra
	return tl
}

func readTally(t *testing.T, name string, body io.Reader, n int) tally {
	t.Helper()
	tr := NewTapReader(body, 1<<20)
	var tl tally
	for {
		rec, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// The tap ended with the app; its last lines may have been
			// dropped for a slow subscriber, "end" included.
			return tl.finish(t, name, n, 1)
		}
		if err != nil {
			t.Fatalf("%s: reading the tap after %d lines: %v", name, tl.received, err)
		}
		switch rec.Kind {
		case KindDrop:
			tl.pendingDrop += rec.Dropped
			tl.markers++
			continue
		case KindStderr:
			tl.sawRate = true // the app's rate report, after its numbered lines
			continue
		}
		text := string(rec.Text)
		if text == "before" {
			tl.sawBefore = true
			continue
		}
		if text == "end" {
			return tl.finish(t, name, n, 0)
		}
		numStr, _, _ := strings.Cut(strings.TrimPrefix(text, "n="), " ")
		got, err := strconv.Atoi(numStr)
		if err != nil {
			t.Fatalf("%s: unexpected line %q", name, text)
		}
		if got != tl.next+int(tl.pendingDrop) {
			t.Fatalf("%s: got line %d after line %d with %d dropped in between (want %d)", name, got, tl.next-1, tl.pendingDrop, tl.next+int(tl.pendingDrop))
		}
		tl.dropped += int(tl.pendingDrop)
		tl.pendingDrop = 0
		tl.received++
		tl.next = got + 1
	}
}

func runCounter(t *testing.T, n int, subscribers func(addr string) []io.Reader, stalled []bool) ([]tally, string) {
	t.Helper()
	dir := t.TempDir()
	goFile, endFile := filepath.Join(dir, "go"), filepath.Join(dir, "end")
	s := supervise(t, "counter", map[string]string{"FNDECK_TEST_GO": goFile, "FNDECK_TEST_END": endFile, "FNDECK_TEST_LINES": strconv.Itoa(n)})
	waitFor(t, "the app's first line", func() bool { return s.out.count() >= 1 })
	bodies := subscribers(s.logAddr)
	if err := os.WriteFile(goFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	results := make([]tally, len(bodies))
	var wg sync.WaitGroup
	start := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = readTally(t, fmt.Sprintf("subscriber %d", i), bodies[i], n)
		}()
	}
	for i := range bodies {
		if !stalled[i] {
			start(i)
		}
	}
	// Every numbered line has gone through the shim before the stalled
	// subscribers read a byte.
	waitFor(t, "all lines copied", func() bool { return s.out.count() >= n+1 })
	waitFor(t, "the rate report", func() bool { return strings.Contains(s.errOut.String(), "rate=") })
	for i := range bodies {
		if stalled[i] {
			start(i)
		}
	}
	if err := os.WriteFile(endFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s.wait(t)
	wg.Wait()
	if s.err != nil || s.code != 0 {
		t.Fatalf("supervisor: code %d err %v\n%s", s.code, s.err, s.errOut.String())
	}
	if got := s.out.count(); got != n+2 {
		t.Errorf("the shim's stdout got %d lines, want all %d", got, n+2)
	}
	rate := strings.TrimSpace(s.errOut.String())
	return results, rate
}

func TestTapFromNowInOrderWithCountedDrops(t *testing.T) {
	const n = 1_000_000
	var fast, slow *http.Response
	res, rate := runCounter(t, n, func(addr string) []io.Reader {
		fast, slow = subscribe(t, addr), subscribe(t, addr)
		return []io.Reader{fast.Body, slow.Body}
	}, []bool{false, true})
	for i, tl := range res {
		if tl.sawBefore {
			t.Errorf("subscriber %d got a line written before it connected", i)
		}
		if tl.received+tl.dropped != n {
			t.Errorf("subscriber %d: received %d + dropped %d != produced %d", i, tl.received, tl.dropped, n)
		}
		t.Logf("subscriber %d: received %d, dropped %d in %d markers", i, tl.received, tl.dropped, tl.markers)
	}
	if res[1].dropped == 0 || res[1].markers == 0 {
		t.Errorf("the stalled subscriber dropped nothing: %+v", res[1])
	}
	if res[1].received == 0 {
		t.Errorf("the stalled subscriber got nothing: its buffered lines must still arrive")
	}
	t.Logf("app with a fast and a stalled subscriber: %s lines/s", rate)
}

// TestTapNeverBlocksTheApp reports the app's write rate with no subscriber
// and with one that never reads; the budget is a figure, not an assertion.
func TestTapNeverBlocksTheApp(t *testing.T) {
	const n = 1_000_000
	_, none := runCounter(t, n, func(string) []io.Reader { return nil }, nil)
	res, stalled := runCounter(t, n, func(addr string) []io.Reader { return []io.Reader{subscribe(t, addr).Body} }, []bool{true})
	if res[0].received+res[0].dropped != n || res[0].dropped == 0 {
		t.Errorf("stalled subscriber: received %d dropped %d of %d", res[0].received, res[0].dropped, n)
	}
	t.Logf("app rate, no subscriber: %s lines/s; one stalled subscriber: %s lines/s", none, stalled)
}

// subscribedTap serves a tap without a token and subscribes to it once;
// the server and the tap close when the test ends.
func subscribedTap(t *testing.T) (*Tap, *httptest.Server, *http.Response) {
	t.Helper()
	tap := NewTap("")
	srv := httptest.NewServer(tap)
	t.Cleanup(func() {
		tap.Close() // ends the subscribers' streams, so the server can close
		srv.Close()
	})
	resp, err := http.Get(srv.URL + TapPath)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "one subscriber", func() bool { return tap.Subscribers() == 1 })
	return tap, srv, resp
}

func TestTapSubscriberDisconnectIsCleanedUp(t *testing.T) {
	tap, srv, resp := subscribedTap(t)
	tap.Publish(KindStdout, time.Unix(0, 1234), []byte("a\nb\n"))
	tr := NewTapReader(resp.Body, 4096)
	for _, want := range []string{"a", "b"} {
		rec, err := tr.Next()
		if err != nil || rec.Kind != KindStdout || string(rec.Text) != want || rec.Time.UnixNano() != 1234 {
			t.Fatalf("record %+v %v, want stdout %q at 1234", rec, err, want)
		}
	}
	resp.Body.Close()
	waitFor(t, "the subscriber to go", func() bool { return tap.Subscribers() == 0 })
	tap.Publish(KindStdout, time.Now(), []byte("nobody listens\n")) // must not block or panic
	if r, err := http.Get(srv.URL + "/other"); err != nil || r.StatusCode != http.StatusNotFound {
		t.Errorf("other path: %v %v", r, err)
	}
}

func TestTapSplitsLongLines(t *testing.T) {
	tap, _, resp := subscribedTap(t)
	defer resp.Body.Close()
	long := strings.Repeat("x", maxLine+10)
	tap.Publish(KindStderr, time.Now(), []byte(long+"\n"))
	tr := NewTapReader(resp.Body, 1<<20)
	var got []int
	for len(got) < 2 {
		rec, err := tr.Next()
		if err != nil {
			t.Fatal(err)
		}
		if rec.Kind != KindStderr {
			t.Fatalf("kind %q", rec.Kind)
		}
		got = append(got, len(rec.Text))
	}
	if got[0] != maxLine || got[1] != 10 {
		t.Errorf("pieces %v, want [%d 10]", got, maxLine)
	}
}

func TestSuperviseIsTransparent(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	s := supervise(t, "signal", map[string]string{"FNDECK_TEST_X": "from-env", TokenEnv: testToken}, "one", "two words")
	resp := subscribe(t, s.logAddr)
	waitFor(t, "the app to start", func() bool { return strings.Contains(s.out.String(), "ready") })
	// The tap's token is the shim's, not the app's.
	if want := fmt.Sprintf("ready wd=%s x=from-env args=one,two words token=\"\"\n", wd); !strings.HasPrefix(s.out.String(), want) {
		t.Errorf("stdout %q, want %q", s.out.String(), want)
	}
	s.sigs <- syscall.SIGTERM
	s.wait(t)
	if s.err != nil || s.code != 7 {
		t.Errorf("exit: code %d err %v, want the app's 7", s.code, s.err)
	}
	if !strings.Contains(s.out.String(), "got terminated, cleaning up\n") || s.errOut.String() != "on stderr\n" {
		t.Errorf("stdout %q stderr %q", s.out.String(), s.errOut.String())
	}
	// The tap ends when the app does; what it said after we connected came through.
	all, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatal(err)
	}
	if !bytes.Contains(all, []byte(" got terminated, cleaning up\n")) {
		t.Errorf("tap stream lacks the app's last line:\n%s", all)
	}
}

func TestSuperviseExitStatusAndSignals(t *testing.T) {
	s := supervise(t, "exit", nil)
	s.wait(t)
	if s.code != 42 || s.err != nil || s.out.String() != "no newline at the end" {
		t.Errorf("code %d err %v out %q", s.code, s.err, s.out.String())
	}
	// Killed by a signal it does not handle: 128+N, as docker reports a killed
	// PID 1. SIGKILL, not SIGHUP: a Go program started with SIGHUP ignored
	// (under nohup, say) keeps it ignored, and the app here is a Go program.
	s = supervise(t, "signal", nil)
	waitFor(t, "the app to start", func() bool { return strings.Contains(s.out.String(), "ready") })
	s.sigs <- syscall.SIGKILL
	s.wait(t)
	if s.code != 128+int(syscall.SIGKILL) {
		t.Errorf("code %d, want %d", s.code, 128+int(syscall.SIGKILL))
	}
	code, err := Supervise(context.Background(), Config{Mode: ModeCloudRun, Command: []string{"/nonexistent/app"}}, nil, io.Discard, io.Discard)
	if code != 127 || err == nil || !strings.Contains(err.Error(), "/nonexistent/app") {
		t.Errorf("missing app: %d %v", code, err)
	}
}

func TestTapWantsItsToken(t *testing.T) {
	tap := NewTap("s3cret")
	srv := httptest.NewServer(tap)
	defer srv.Close()
	defer tap.Close()
	for _, tc := range []struct {
		token string
		want  int
	}{{"", http.StatusForbidden}, {"wrong", http.StatusForbidden}, {"s3cre", http.StatusForbidden}, {"s3cret", http.StatusOK}} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+TapPath, nil)
		if tc.token != "" {
			req.Header.Set(TokenHeader, tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("token %q: %s, want %d", tc.token, resp.Status, tc.want)
		}
	}
}

// In lambda mode the tap carries the handler's lines and the shim's own
// START/END/REPORT, in the order the engine's log has them.
func TestLambdaTapHasTheShimsLines(t *testing.T) {
	hello := buildHello(t)
	logAddr := freeAddr(t)
	out, addrs := startShim(t, Config{Command: []string{hello}, MemoryMB: 256, Timeout: 5 * time.Second, LogAddr: logAddr, LogToken: testToken})
	base := strings.SplitN(addrs, "|", 2)[1]
	resp := subscribe(t, logAddr)
	r, body := invoke(t, base, `{"name":"tap"}`, nil)
	if r.StatusCode != 200 {
		t.Fatalf("invoke: %d %s", r.StatusCode, body)
	}
	id := r.Header.Get("X-Amzn-RequestId")
	tr := NewTapReader(resp.Body, 1<<20)
	var got []string
	for len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "REPORT RequestId: "+id) {
		rec, err := tr.Next()
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		if rec.Kind != KindStdout || rec.Time.IsZero() {
			t.Fatalf("record %q on %q at %v", rec.Text, rec.Kind, rec.Time)
		}
		got = append(got, string(rec.Text))
	}
	want := []string{"START RequestId: " + id + " Version: $LATEST", "greeting tap", "END RequestId: " + id}
	if len(got) != 4 || strings.Join(got[:3], "|") != strings.Join(want, "|") {
		t.Errorf("tap lines %q, want %q then REPORT", got, want)
	}
	// The engine's copy has the same order.
	logs := out.String()
	if i, j, k := strings.Index(logs, want[0]), strings.Index(logs, want[1]), strings.Index(logs, want[2]); i < 0 || i > j || j > k {
		t.Errorf("stdout order:\n%s", logs)
	}
}
