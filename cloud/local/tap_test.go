package local

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/local/shim"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// supervisedImage is testdata/supervised with a WORKDIR, USER, ENV and an
// entrypoint + cmd, so the supervisor has something to be transparent about.
func supervisedImage(t *testing.T) string {
	return buildImage(t, "./testdata/supervised", "supervised",
		"WORKDIR /srv\nENV X=from-image\nUSER 1000\nENTRYPOINT [\"/supervised\", \"from-entrypoint\"]\nCMD [\"from-cmd\"]")
}

func get(t *testing.T, b *Backend, target cloud.Address, path string) string {
	t.Helper()
	res, err := b.Invoke(testCtx(t), cloud.InvokeRequest{Target: target, Path: path}, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: status %d %s", path, res.StatusCode, res.Body)
	}
	return string(res.Body)
}

func inspectState(t *testing.T, c *client.Client, name string) (running bool, code int) {
	t.Helper()
	ins, err := c.ContainerInspect(testCtx(t), ContainerName(name), client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ins.Container.State.Running, ins.Container.State.ExitCode
}

func TestCloudRunUnderTheShim(t *testing.T) {
	c := newClient(t)
	image := supervisedImage(t)
	b := newBackend(t, c, shimFromSource(t))
	ctx := testCtx(t)
	name := cloudtest.UniqueName("sup")
	removeOnCleanup(t, name)
	target := cloud.Address{Provider: cloud.Local, Function: name}
	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image, As: "cloudrun"}, nil); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	// The app runs as the image says: WORKDIR, entrypoint + cmd, ENV, USER.
	if got, want := get(t, b, target, "/info"), `wd=/srv args=from-entrypoint,from-cmd x=from-image uid=1000 token=""`; got != want {
		t.Errorf("/info = %q, want %q", got, want)
	}
	// Every line reaches the engine's log, in order, as without the shim.
	get(t, b, target, "/print?n=20000&tag=all")
	get(t, b, target, "/stderr?text=on-stderr")
	var seq, stderr int
	deadline := time.Now().Add(30 * time.Second)
	for {
		seq, stderr = 0, 0
		err := b.Logs(ctx, cloud.LogRequest{Target: target}, func(l cloud.LogLine) {
			if strings.HasPrefix(l.Message, "all seq=") {
				if l.Message != fmt.Sprintf("all seq=%d", seq) || l.Stream != "stdout" {
					t.Fatalf("line %d: %q on %s", seq, l.Message, l.Stream)
				}
				seq++
			}
			if l.Message == "on-stderr" && l.Stream == "stderr" {
				stderr++
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if seq == 20000 && stderr == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if seq != 20000 || stderr != 1 {
		t.Errorf("docker logs has %d of 20000 lines and %d stderr lines", seq, stderr)
	}
	// The supervisor, as PID 1, reaps what the app orphans: the orphan is
	// re-parented to it (seen alive), then never left a zombie. Zombies are
	// invisible to docker top (they leave the cgroup), so this reads the
	// host's /proc: the engine is local here.
	shimPid, _ := strconv.Atoi(strings.TrimSpace(cloudtest.Docker(t, "inspect", "-f", "{{.State.Pid}}", ContainerName(name))))
	get(t, b, target, "/orphan")
	sawOrphan := false
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		alive, zombies := childrenOf(t, shimPid)
		sawOrphan = sawOrphan || alive["grandchild"]
		if sawOrphan && !alive["grandchild"] && zombies == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphan seen under the shim: %v; now alive %v, zombies %d", sawOrphan, alive, zombies)
		}
	}
	// docker stop: SIGTERM reaches the app, which cleans up and exits 3.
	cloudtest.Docker(t, "stop", "-t", "20", ContainerName(name))
	if running, code := inspectState(t, c, name); running || code != 3 {
		t.Errorf("after docker stop: running %v, exit code %d, want the app's 3", running, code)
	}
	if logs := cloudtest.Docker(t, "logs", ContainerName(name)); !strings.Contains(logs, "terminating cleanly") {
		t.Errorf("the app's signal handler did not run:\n%s", logs)
	}
	// The app's own exit status is the container's.
	cloudtest.Docker(t, "start", ContainerName(name))
	b2 := newBackend(t, c, shimFromSource(t))
	deadline = time.Now().Add(30 * time.Second)
	for {
		res, err := b2.Invoke(ctx, cloud.InvokeRequest{Target: target, Path: "/exit?code=5"}, nil)
		if err == nil && res.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted app does not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for deadline = time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		running, code := inspectState(t, c, name)
		if !running {
			if code != 5 {
				t.Errorf("exit code %d, want the app's 5", code)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the app did not exit")
		}
	}
}

// collector gathers a follow's lines for a test.
type collector struct {
	mu    sync.Mutex
	lines []cloud.LogLine
}

func (c *collector) emit(l cloud.LogLine) { c.mu.Lock(); c.lines = append(c.lines, l); c.mu.Unlock() }
func (c *collector) snapshot() []cloud.LogLine {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]cloud.LogLine(nil), c.lines...)
}

func (c *collector) has(msg string) bool { return c.count(msg) > 0 }

// count is how many lines say exactly msg.
func (c *collector) count(msg string) int {
	n := 0
	for _, l := range c.snapshot() {
		if l.Message == msg {
			n++
		}
	}
	return n
}

type follow struct {
	col  *collector
	done chan error
	stop context.CancelFunc
}

func startFollow(t *testing.T, b *Backend, req cloud.LogRequest) *follow {
	ctx, cancel := context.WithCancel(testCtx(t))
	f := &follow{col: &collector{}, done: make(chan error, 1), stop: cancel}
	go func() { f.done <- b.Logs(ctx, req, f.col.emit) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-f.done:
		case <-time.After(30 * time.Second):
			t.Error("the follow did not stop within 30 s of its cancel")
		}
	})
	return f
}

// waitLive pings the app until a ping shows up in the follow: from then on
// the follow is connected and sees new lines.
func waitLive(t *testing.T, b *Backend, target cloud.Address, f *follow, tag string) {
	t.Helper()
	for i, deadline := 0, time.Now().Add(30*time.Second); ; i++ {
		get(t, b, target, fmt.Sprintf("/print?n=1&tag=%s-ping%d", tag, i))
		time.Sleep(50 * time.Millisecond)
		for _, l := range f.col.snapshot() {
			if strings.HasPrefix(l.Message, tag+"-ping") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the follow never showed a ping; it has %d lines", len(f.col.snapshot()))
		}
	}
}

// checkHistory checks that a follow began with the last tail lines of the
// history: want, except that a ping the test sent while the follow was
// connecting may already be among them (it then ends the tail).
func checkHistory(t *testing.T, lines []cloud.LogLine, tail int, want ...string) {
	t.Helper()
	var got []string
	for _, l := range lines[:min(tail, len(lines))] {
		got = append(got, l.Message)
	}
	pings := 0
	for _, g := range got {
		if strings.Contains(g, "-ping") {
			pings++
		}
	}
	if exp := want[pings:]; strings.Join(got[:len(got)-pings], "|") != strings.Join(exp, "|") {
		t.Errorf("history %q, want the last %d lines %q", got, tail, want)
	}
}

// checkSeq checks that a follow's "<tag> seq=N" lines come in order and
// that every gap is announced by drop markers of exactly its size; it
// returns the lines received and dropped.
func checkSeq(t *testing.T, lines []cloud.LogLine, tag string, n int) (received, dropped int) {
	t.Helper()
	next, pending := 0, 0
	for _, l := range lines {
		if l.Stream == StreamFndeck {
			var k int
			if _, err := fmt.Sscanf(strings.ReplaceAll(l.Message, ",", ""), "… %d lines dropped", &k); err != nil || !l.Notice {
				t.Fatalf("drop marker %q (notice %v): %v", l.Message, l.Notice, err)
			}
			pending += k
			continue
		}
		prefix := "seq="
		if tag != "" {
			prefix = tag + " seq="
		}
		num, ok := strings.CutPrefix(l.Message, prefix)
		if !ok {
			continue
		}
		got, _ := strconv.Atoi(num)
		if got != next+pending {
			t.Fatalf("line %d after %d with %d dropped between", got, next-1, pending)
		}
		if l.Time.IsZero() || l.Stream != "stdout" || l.Address == "" {
			t.Fatalf("line %+v lacks its time, stream or address", l)
		}
		dropped += pending
		pending = 0
		received++
		next = got + 1
	}
	return received, dropped + pending
}

func TestLogsFollowThroughTheTap(t *testing.T) {
	c := newClient(t)
	image := supervisedImage(t)
	b := newBackend(t, c, shimFromSource(t))
	ctx := testCtx(t)
	name := cloudtest.UniqueName("tap")
	removeOnCleanup(t, name)
	target := cloud.Address{Provider: cloud.Local, Function: name}
	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image, As: "cloudrun"}, nil); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	get(t, b, target, "/print?n=50&tag=old")
	// The tap answers only with the container's token.
	port := cloudtest.Docker(t, "inspect", "-f", `{{index .Config.Labels "fndeck.log-port"}}`, ContainerName(name))
	if resp, err := http.Get("http://127.0.0.1:" + strings.TrimSpace(port) + shim.TapPath); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("the tap without its token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// History first (the last 3 lines), then from now through the tap.
	f := startFollow(t, b, cloud.LogRequest{Target: target, Since: time.Now().Add(-time.Hour), Tail: 3, Follow: true})
	filtered := startFollow(t, b, cloud.LogRequest{Target: target, Follow: true, Since: time.Now(), Filter: "seq=7"})
	waitLive(t, b, target, f, "a")
	waitLive(t, b, target, filtered, "seq=7") // the ping's tag passes the filter
	const n = 200_000
	get(t, b, target, fmt.Sprintf("/print?n=%d&tag=live", n))
	// A trailer after the flood: a drop marker reaches the reader only
	// with the next line it gets.
	waitLive(t, b, target, f, "trailer")
	lines := f.col.snapshot()
	checkHistory(t, lines, 3, "old seq=47", "old seq=48", "old seq=49")
	var upToTrailer []cloud.LogLine
	trailers := 0 // pings sent before the one received; their drops may be counted too
	for _, l := range lines {
		if num, ok := strings.CutPrefix(l.Message, "trailer-ping"); ok {
			trailers, _ = strconv.Atoi(strings.TrimPrefix(num, " seq=0"))
			break
		}
		upToTrailer = append(upToTrailer, l)
	}
	received, dropped := checkSeq(t, upToTrailer, "live", n)
	if received+dropped < n || received+dropped > n+trailers {
		t.Errorf("received %d + dropped %d != %d", received, dropped, n)
	}
	t.Logf("follow through the tap: received %d, dropped %d of %d", received, dropped, n)
	// The filter applies to the tap's lines.
	for deadline := time.Now().Add(30 * time.Second); !filtered.col.has("live seq=79999"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the filtered follow did not get live seq=79999")
		}
	}
	live := 0
	for _, l := range filtered.col.snapshot() {
		if !strings.Contains(l.Message, "seq=7") && l.Stream != StreamFndeck {
			t.Fatalf("filtered follow got %q", l.Message)
		}
		if strings.HasPrefix(l.Message, "live ") {
			live++
		}
	}
	// seq=7, 70–79, 700–799, 7000–7999, 70000–79999 (unless some were dropped).
	if live != 11111 && !slices.ContainsFunc(filtered.col.snapshot(), func(l cloud.LogLine) bool { return l.Stream == StreamFndeck }) {
		t.Errorf("filtered follow got %d live lines, want 11111", live)
	}
	// A redeploy replaces the container: the follow says so and carries on
	// with the new one, from its start, through its tap.
	old := cloudtest.Docker(t, "inspect", "-f", "{{.Id}}", ContainerName(name))
	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image, As: "cloudrun"}, nil); err != nil {
		t.Fatalf("redeploy: %v", err)
	}
	waitLive(t, b, target, f, "redeployed")
	cur := cloudtest.Docker(t, "inspect", "-f", "{{.Id}}", ContainerName(name))
	var ended, following bool
	for _, l := range f.col.snapshot() {
		if l.Stream != StreamFndeck || !l.Notice {
			continue
		}
		ended = ended || strings.HasPrefix(l.Message, "container "+old[:12]+" ended; waiting for the next container of "+target.String())
		following = following || strings.HasPrefix(l.Message, "following container "+cur[:12]+" from its start")
	}
	if !ended || !following {
		t.Errorf("no notice of the replacement (ended %v, following %v) in %d lines", ended, following, len(f.col.snapshot()))
	}
	select {
	case err := <-f.done:
		t.Errorf("the follow ended (%v) with its function redeployed", err)
		f.done <- nil // for the cleanup
	default:
	}
	get(t, b, target, "/print?n=3000&tag=new")
	for deadline := time.Now().Add(30 * time.Second); !f.col.has("new seq=2999"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the follow did not deliver the new container's lines")
		}
	}
}

// A container deployed before the tap existed (no log port label, the
// image's own entrypoint) is followed through the engine.
func TestLogsFollowFallsBackToTheEngine(t *testing.T) {
	c := newClient(t)
	image := supervisedImage(t)
	b := newBackend(t, c, shimFromSource(t))
	name := cloudtest.UniqueName("old")
	removeOnCleanup(t, name)
	port := cloudtest.FreePort(t)
	cloudtest.Docker(t, "run", "-d", "--network", "host", "--name", ContainerName(name),
		"--label", LabelFunction+"="+name, "--label", LabelMode+"="+ModeCloudRun,
		"--label", LabelPort+"="+strconv.Itoa(port), "--label", LabelNetwork+"="+NetworkHost,
		"-e", "PORT="+strconv.Itoa(port), image)
	target := cloud.Address{Provider: cloud.Local, Function: name}
	id := cloudtest.Docker(t, "inspect", "-f", "{{.Id}}", ContainerName(name))
	answers := func() {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if res, err := b.Invoke(testCtx(t), cloud.InvokeRequest{Target: target, Path: "/"}, nil); err == nil && res.StatusCode == 200 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("the old-style container does not answer")
			}
		}
	}
	answers()
	get(t, b, target, "/print?n=5&tag=before")
	f := startFollow(t, b, cloud.LogRequest{Target: target, Follow: true, Tail: 2})
	waitLive(t, b, target, f, "x")
	get(t, b, target, "/print?n=1000&tag=after")
	for deadline := time.Now().Add(30 * time.Second); !f.col.has("after seq=999"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the engine follow did not deliver; it has %d lines", len(f.col.snapshot()))
		}
	}
	received, dropped := checkSeq(t, f.col.snapshot(), "after", 1000)
	if received != 1000 || dropped != 0 {
		t.Errorf("engine follow: received %d dropped %d of 1000", received, dropped)
	}
	checkHistory(t, f.col.snapshot(), 2, "before seq=3", "before seq=4")

	// Stopped, the follow waits; started again, it goes on with what the
	// container writes from then on, not its output from before the stop.
	cloudtest.Docker(t, "stop", "-t", "1", ContainerName(name))
	for deadline := time.Now().Add(30 * time.Second); !f.col.has("container " + id[:12] + " ended; waiting for the next container of " + target.String() + " (a deploy, a rollback or a start)"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no notice that the container ended")
		}
	}
	select {
	case err := <-f.done:
		t.Fatalf("the follow ended (%v) when its container stopped", err)
	default:
	}
	cloudtest.Docker(t, "start", ContainerName(name))
	answers()
	waitLive(t, b, target, f, "restarted")
	if !f.col.has("following container " + id[:12] + " from its start") {
		t.Error("no notice that the follow goes on")
	}
	if n := f.col.count("after seq=999"); n != 1 {
		t.Errorf("the restarted container's old output came again: %d copies of the last line", n)
	}
}

// While the consumer reports itself full, the follow counts lines instead
// of decoding them; the count arrives in order as a drop notice, together
// with the shim's own drop markers, and nothing is lost from the tally.
func TestFollowTapSkipsWhileTheConsumerIsFull(t *testing.T) {
	tap := shim.NewTap("")
	srv := httptest.NewServer(tap)
	defer srv.Close()
	resp, err := http.Get(srv.URL + shim.TapPath)
	if err != nil {
		t.Fatal(err)
	}
	for tap.Subscribers() == 0 {
		time.Sleep(time.Millisecond)
	}
	const n = 100_000
	go func() {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "seq=%d\n", i)
			if i%1000 == 999 {
				tap.Publish(shim.KindStdout, time.Now(), []byte(b.String()))
				b.Reset()
			}
		}
		tap.Close()
	}()
	var lines []cloud.LogLine
	var emitted atomic.Int64
	busy := func() bool { return emitted.Load()%5000 > 2500 } // full for half of every 5,000 lines
	toLine := func(tm time.Time, stream, msg string) cloud.LogLine {
		return cloud.LogLine{Time: tm, Address: "local:fn", Stream: stream, Message: msg}
	}
	err = followTap(testCtx(t), resp.Body, "", busy, toLine, func(l cloud.LogLine) {
		lines = append(lines, l)
		if l.Stream != StreamFndeck {
			emitted.Add(1)
		} else {
			emitted.Add(2500) // a notice ends the "full" half
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	received, dropped := checkSeq(t, lines, "", n)
	if received+dropped != n {
		t.Errorf("received %d + dropped %d != %d", received, dropped, n)
	}
	if dropped == 0 || received == 0 {
		t.Errorf("received %d dropped %d: the busy consumer changed nothing", received, dropped)
	}
}

// Lines skipped at the end of a burst are reported when the stream goes
// quiet, not only when the next line comes (which may be never).
func TestFollowTapReportsSkippedLinesWhenTheStreamGoesQuiet(t *testing.T) {
	tap := shim.NewTap("")
	srv := httptest.NewServer(tap)
	defer srv.Close()
	defer tap.Close()
	resp, err := http.Get(srv.URL + shim.TapPath)
	if err != nil {
		t.Fatal(err)
	}
	for tap.Subscribers() == 0 {
		time.Sleep(time.Millisecond)
	}
	tap.Publish(shim.KindStdout, time.Now(), []byte(strings.Repeat("skipped\n", 1234)))
	got := make(chan cloud.LogLine, 10)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	go func() {
		_ = followTap(ctx, resp.Body, "", func() bool { return true }, func(tm time.Time, stream, msg string) cloud.LogLine {
			return cloud.LogLine{Time: tm, Stream: stream, Message: msg}
		}, func(l cloud.LogLine) { got <- l })
	}()
	select {
	case l := <-got:
		if l.Message != DroppedMessage(1234) || !l.Notice || l.Stream != StreamFndeck || l.Message != "… 1,234 lines dropped (fndeck could not keep up)" {
			t.Errorf("got %+v", l)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no drop notice while the stream is quiet")
	}
}

// With no shim for the image's architecture a cloudrun function still
// deploys, running its own entrypoint; its logs follow through the engine.
func TestCloudRunDeploysWithoutAShim(t *testing.T) {
	c := newClient(t)
	image := supervisedImage(t)
	b := newBackend(t, c, func(context.Context, string) (string, error) { return "", fmt.Errorf("no shim here") })
	name := cloudtest.UniqueName("noshim")
	removeOnCleanup(t, name)
	target := cloud.Address{Provider: cloud.Local, Function: name}
	out := &lineSink{}
	if _, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: target, Image: image, As: "cloudrun"}, out); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if got := get(t, b, target, "/info"); got != `wd=/srv args=from-entrypoint,from-cmd x=from-image uid=1000 token=""` {
		t.Errorf("/info = %q", got)
	}
	if !strings.Contains(strings.Join(out.lines, "\n"), "logs follow through the engine") {
		t.Errorf("the deploy does not say it runs without the shim: %q", out.lines)
	}
	if lbl := cloudtest.Docker(t, "inspect", "-f", `{{index .Config.Labels "fndeck.log-port"}}`, ContainerName(name)); strings.TrimSpace(lbl) != "" {
		t.Errorf("log port label %q on a container without a tap", lbl)
	}
	f := startFollow(t, b, cloud.LogRequest{Target: target, Follow: true, Since: time.Now()})
	waitLive(t, b, target, f, "engine")
}

// childrenOf reads the host's /proc for pid's children: the command lines of
// the live ones, and how many are zombies.
func childrenOf(t *testing.T, pid int) (alive map[string]bool, zombies int) {
	t.Helper()
	alive = map[string]bool{}
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to look for zombies: %v", err)
	}
	for _, d := range dirs {
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		_, rest, ok := strings.Cut(string(stat), ") ")
		fields := strings.Fields(rest)
		if !ok || len(fields) < 2 || fields[1] != strconv.Itoa(pid) {
			continue
		}
		if fields[0] == "Z" {
			zombies++
			continue
		}
		cmd, _ := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		alive[strings.ReplaceAll(strings.TrimRight(string(cmd), "\x00"), "\x00", " ")] = true
	}
	return alive, zombies
}
