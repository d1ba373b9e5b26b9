package images

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/fake"
	"github.com/fndeck/fndeck/ui/common"
)

var update = flag.Bool("update", false, "rewrite golden files")

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden (run with -update): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from golden:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// drive runs cmd and feeds the resulting messages back into the pane, as
// the program would. Commands that block (the event stream, a retry timer)
// are left behind after a short wait; the test context ends them.
func drive(t *testing.T, p *Pane, cmd tea.Cmd) []tea.Msg {
	t.Helper()
	var out []tea.Msg
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		ch := make(chan tea.Msg, 1)
		go func() { ch <- c() }()
		var msg tea.Msg
		select {
		case msg = <-ch:
		case <-time.After(300 * time.Millisecond):
			continue
		}
		switch m := msg.(type) {
		case tea.BatchMsg:
			queue = append(queue, m...)
			continue
		case nil:
			continue
		}
		out = append(out, msg)
		_, next := p.Update(msg)
		queue = append(queue, next)
	}
	return out
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	}
	return tea.KeyPressMsg{Code: []rune(s)[0], Text: s}
}

func sample() *fake.Images {
	f := fake.NewImages(
		cloud.Image{ID: "sha256:aaaaaaaaaaaa1111", RepoTags: []string{"thumbnailer:latest", "thumbnailer:v3"}, Size: 123_400_000, Created: now.Add(-3 * 24 * time.Hour), OS: "linux", Architecture: "arm64"},
		cloud.Image{ID: "sha256:bbbbbbbbbbbb2222", RepoTags: []string{"api:dev"}, Size: 45_000_000, Created: now.Add(-2 * time.Hour), OS: "linux", Architecture: "amd64"},
		cloud.Image{ID: "sha256:cccccccccccc3333", RepoTags: nil, Dangling: true, Size: 9_000_000, Created: now.Add(-10 * time.Minute), OS: "linux", Architecture: "amd64"},
		cloud.Image{ID: "sha256:dddddddddddd4444", RepoTags: []string{"a-very-long-registry.example.com/team/some-service-name:2026-11-25"}, Size: 1_500_000_000, Created: now.Add(-40 * 24 * time.Hour), OS: "linux", Architecture: "amd64"},
	)
	return f
}

func newPane(t *testing.T, imgs cloud.Images, w, h int) *Pane {
	p := New(Options{Ctx: t.Context(), Images: imgs, Theme: common.NewTheme(true, true), Now: func() time.Time { return now }})
	p.SetSize(w, h)
	p.SetFocused(true)
	return p
}

// stalledImages is an engine that does not answer until released.
type stalledImages struct {
	*fake.Images
	release chan struct{}
}

func (s stalledImages) Ping(ctx context.Context) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Images.Ping(ctx)
}

func TestFirstFrameDoesNotWait(t *testing.T) {
	f := stalledImages{Images: sample(), release: make(chan struct{})}
	p := newPane(t, f, 80, 8)
	// Init starts connecting at once but must not wait for the engine.
	cmd := p.Init()
	if v := p.View(); !strings.Contains(v, "loading…") {
		t.Fatalf("first frame: %q", v)
	}
	if f.Lists != 0 || f.Inspects != 0 {
		t.Fatalf("engine listed before it answered a ping: lists=%d inspects=%d", f.Lists, f.Inspects)
	}
	close(f.release)
	drive(t, p, cmd)
	if v := p.View(); !strings.Contains(v, "thumbnailer") {
		t.Fatalf("after the engine answered: %q", v)
	}
}

// Start connects before the program runs; Init hands that connection over
// instead of opening a second one.
func TestStartThenInitConnectsOnce(t *testing.T) {
	f := stalledImages{Images: sample(), release: make(chan struct{})}
	p := newPane(t, f, 100, 10)
	p.Start()
	p.Start() // a second call does nothing
	close(f.release)
	drive(t, p, p.Init())
	if !strings.Contains(p.View(), "thumbnailer") {
		t.Fatalf("no rows after Start and Init:\n%s", p.View())
	}
	if f.Lists != 1 {
		t.Fatalf("listed %d times, want once", f.Lists)
	}
}

// AwaitStart applies the answer of the connection Start began before the
// program runs, so the frame painted next shows the rows; Init then hands
// over what that answer left to run (the event stream, the lazy inspects)
// and connects no second time.
func TestAwaitStartAppliesTheFirstAnswer(t *testing.T) {
	f := sample()
	p := newPane(t, f, 100, 10)
	p.Start()
	if !p.AwaitStart(5*time.Second, nil) {
		t.Fatal("AwaitStart gave up on an engine that answers at once")
	}
	if !strings.Contains(p.View(), "thumbnailer") {
		t.Fatalf("no rows right after AwaitStart:\n%s", p.View())
	}
	cmd := p.Init()
	if cmd == nil {
		t.Fatal("Init handed over no command: the event stream would never be read")
	}
	// The event stream handed over is live: an image added now shows after
	// one re-list, with no second connection.
	f.Add(cloud.Image{ID: "sha256:eeeeeeeeeeee5555", RepoTags: []string{"fresh:1"}, Created: now})
	drive(t, p, cmd)
	if !strings.Contains(p.View(), "fresh:1") {
		t.Fatalf("an image added after AwaitStart never showed:\n%s", p.View())
	}
	if f.Lists != 2 {
		t.Fatalf("listed %d times, want twice (the start, the event's re-list)", f.Lists)
	}
}

// AwaitStart gives up after its bound or when told to stop (a key is
// waiting); the answer then arrives through Init's command as before.
func TestAwaitStartIsBounded(t *testing.T) {
	f := stalledImages{Images: sample(), release: make(chan struct{})}
	p := newPane(t, f, 100, 10)
	if p.AwaitStart(time.Millisecond, nil) {
		t.Fatal("AwaitStart without Start reported an answer")
	}
	p.Start()
	if p.AwaitStart(20*time.Millisecond, nil) {
		t.Fatal("AwaitStart reported an answer from a stalled engine")
	}
	stop := make(chan struct{})
	close(stop)
	start := time.Now()
	if p.AwaitStart(time.Minute, stop) {
		t.Fatal("AwaitStart reported an answer from a stalled engine")
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("AwaitStart did not stop when told to")
	}
	close(f.release)
	drive(t, p, p.Init())
	if !strings.Contains(p.View(), "thumbnailer") {
		t.Fatalf("no rows once the engine answered:\n%s", p.View())
	}
	if f.Lists != 1 {
		t.Fatalf("listed %d times, want once", f.Lists)
	}
}

// Loaded reports the first answer of the engine once, whatever it was.
func TestLoadedCalledOnceOnTheFirstAnswer(t *testing.T) {
	f := stalledImages{Images: sample(), release: make(chan struct{})}
	calls := 0
	p := New(Options{Ctx: t.Context(), Images: f, Theme: common.NewTheme(true, true), Now: func() time.Time { return now }, Loaded: func() { calls++ }})
	p.SetSize(100, 10)
	cmd := p.Init()
	if calls != 0 {
		t.Fatal("Loaded before the engine answered")
	}
	close(f.release)
	drive(t, p, cmd)
	if calls != 1 {
		t.Fatalf("Loaded called %d times after the first list, want 1", calls)
	}
	p.Update(press("r")) // a refresh is not a first answer
	if calls != 1 {
		t.Fatalf("Loaded called again (%d)", calls)
	}

	noEngine := 0
	q := New(Options{Ctx: t.Context(), Loaded: func() { noEngine++ }})
	q.Init()
	if noEngine != 1 {
		t.Fatalf("with no engine configured Loaded was called %d times at Init, want 1", noEngine)
	}
}

// A key typed while the list is loading is not lost when it needs no row:
// build and the filter prompt work; row actions wait for rows.
func TestBuildAndFilterWhileLoading(t *testing.T) {
	f := stalledImages{Images: sample(), release: make(chan struct{})}
	p := newPane(t, f, 100, 10)
	cmd := p.Init()
	_, c := p.Update(press("b"))
	if c == nil {
		t.Fatal("b while loading: no command")
	}
	if got := c(); got != (common.BuildRequestMsg{}) {
		t.Fatalf("b while loading: %#v", got)
	}
	if _, c := p.Update(press("x")); c != nil {
		t.Fatal("delete offered while no row is on screen")
	}
	p.Update(press("/"))
	for _, k := range "api" {
		p.Update(press(string(k)))
	}
	p.Update(press("enter"))
	close(f.release)
	drive(t, p, cmd)
	v := p.View()
	if !strings.Contains(v, "api:dev") || strings.Contains(v, "thumbnailer") {
		t.Fatalf("filter typed while loading not applied to the list:\n%s", v)
	}
}

func TestGoldenList(t *testing.T) {
	p := newPane(t, sample(), 100, 8)
	drive(t, p, p.Init())
	golden(t, "images", ansi.Strip(p.View()))
	if got := p.Title(); got != "Images (4)" {
		t.Errorf("title %q", got)
	}
}

func TestDanglingToggleAndSort(t *testing.T) {
	p := newPane(t, sample(), 100, 10)
	drive(t, p, p.Init())
	if strings.Contains(p.View(), "<none>") {
		t.Fatal("dangling shown by default")
	}
	drive(t, p, func() tea.Msg { return press("a") })
	if !strings.Contains(p.View(), "<none>:<none>") {
		t.Fatalf("dangling not shown after a:\n%s", p.View())
	}
	order := func() string {
		var s []string
		for _, r := range p.tbl.Items() {
			s = append(s, strings.SplitN(r.name(), ":", 2)[0])
		}
		return strings.Join(s, ",")
	}
	if got := order(); got != "<none>,a-very-long-registry.example.com/team/some-service-name,api,thumbnailer,thumbnailer" {
		t.Fatalf("by name: %s", got)
	}
	drive(t, p, func() tea.Msg { return press("s") }) // size, largest first
	if got := order(); !strings.HasPrefix(got, "a-very-long") || !strings.HasSuffix(got, "<none>") {
		t.Fatalf("by size: %s", got)
	}
	drive(t, p, func() tea.Msg { return press("s") }) // created, newest first
	if got := order(); !strings.HasPrefix(got, "<none>,api") {
		t.Fatalf("by created: %s", got)
	}
}

// Dangling rows shown by the toggle get their os/arch like the others:
// they were not on screen when the list was inspected.
func TestDanglingToggleInspectsTheNewRows(t *testing.T) {
	p := newPane(t, sample(), 120, 10)
	drive(t, p, p.Init())
	drive(t, p, func() tea.Msg { return press("a") })
	for _, l := range strings.Split(ansi.Strip(p.View()), "\n") {
		if strings.Contains(l, "<none>:<none>") {
			if !strings.Contains(l, "linux/amd64") {
				t.Fatalf("the dangling row has no platform after the toggle: %q", l)
			}
			return
		}
	}
	t.Fatalf("no dangling row after a:\n%s", p.View())
}

func TestLazyInspectOnlyVisibleRows(t *testing.T) {
	var imgs []cloud.Image
	for i := range 300 {
		imgs = append(imgs, cloud.Image{ID: fmt.Sprintf("sha256:%064d", i), RepoTags: []string{fmt.Sprintf("img%03d:latest", i)}, Size: 1, Created: now, OS: "linux", Architecture: "amd64"})
	}
	f := fake.NewImages(imgs...)
	p := newPane(t, f, 100, 11) // header + 10 rows
	drive(t, p, p.Init())
	if f.Inspects == 0 || f.Inspects > 10 {
		t.Fatalf("inspected %d images for 10 visible rows", f.Inspects)
	}
	if !strings.Contains(p.View(), "linux/amd64") {
		t.Fatalf("platform not filled:\n%s", p.View())
	}
	before := f.Inspects
	drive(t, p, func() tea.Msg { return press("G") })
	if f.Inspects <= before || f.Inspects > 20 {
		t.Fatalf("after G: %d inspects (was %d)", f.Inspects, before)
	}
}

func TestDetailView(t *testing.T) {
	f := sample()
	f.SetDetail(cloud.ImageDetail{
		Image:        cloud.Image{ID: "sha256:bbbbbbbbbbbb2222"},
		Entrypoint:   []string{"/lambda-entrypoint.sh"},
		Cmd:          []string{"app.handler"},
		WorkingDir:   "/var/task",
		EnvNames:     []string{"PATH", "LAMBDA_TASK_ROOT"},
		ExposedPorts: []string{"8080/tcp"},
		Labels:       map[string]string{"maintainer": "team\x1b]0;x\x07"},
		Layers:       []cloud.Layer{{Size: 1000, CreatedBy: "COPY app.js /var/task"}, {Size: 2_000_000, CreatedBy: "FROM base"}},
	})
	p := newPane(t, f, 80, 20)
	drive(t, p, p.Init())
	drive(t, p, func() tea.Msg { return press("j") }) // api:dev is second by name
	drive(t, p, func() tea.Msg { return press("enter") })
	v := ansi.Strip(p.View())
	for _, want := range []string{"Image api:dev", "/lambda-entrypoint.sh", "app.handler", "/var/task", "LAMBDA_TASK_ROOT", "8080/tcp", "maintainer=team", "Layers (2)", "COPY app.js"} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(p.View(), "\x1b]0;") {
		t.Error("label escape reached the view")
	}
	drive(t, p, func() tea.Msg { return press("esc") })
	if !strings.Contains(p.View(), "REPOSITORY:TAG") {
		t.Fatalf("esc did not go back:\n%s", p.View())
	}
}

func TestActionKeysEmitRequests(t *testing.T) {
	p := newPane(t, sample(), 100, 10)
	drive(t, p, p.Init())
	cases := map[string]tea.Msg{
		"b": common.BuildRequestMsg{Image: "a-very-long-registry.example.com/team/some-service-name:2026-11-25"},
		"p": common.PushRequestMsg{Image: "a-very-long-registry.example.com/team/some-service-name:2026-11-25"},
		"d": common.DeployRequestMsg{Image: "a-very-long-registry.example.com/team/some-service-name:2026-11-25"},
	}
	for k, want := range cases {
		_, cmd := p.Update(press(k))
		if cmd == nil {
			t.Fatalf("%s: no command", k)
		}
		if got := cmd(); got != want {
			t.Errorf("%s: %#v want %#v", k, got, want)
		}
	}
	_, cmd := p.Update(press("x"))
	if c, ok := cmd().(common.ConfirmRequestMsg); !ok || !strings.Contains(c.Title, "Delete image") || c.Yes == nil {
		t.Fatalf("x: %#v", cmd())
	}
}

func TestRemapKeys(t *testing.T) {
	p := New(Options{Ctx: t.Context(), Images: sample(), Theme: common.NewTheme(true, true), Keys: map[string][]string{"images.build": {"B"}}})
	p.SetSize(80, 10)
	drive(t, p, p.Init())
	if _, cmd := p.Update(press("b")); cmd != nil {
		if _, ok := cmd().(common.BuildRequestMsg); ok {
			t.Fatal("old key still builds")
		}
	}
	_, cmd := p.Update(press("B"))
	if cmd == nil {
		t.Fatal("remapped key does nothing")
	}
	if _, ok := cmd().(common.BuildRequestMsg); !ok {
		t.Fatal("remapped key does not build")
	}
}

func TestDownShowsAddressAndReason(t *testing.T) {
	f := sample()
	f.SetDown(true)
	p := newPane(t, f, 90, 6)
	drive(t, p, p.Init())
	v := ansi.Strip(p.View())
	if !strings.Contains(v, "Docker not reachable at unix:///var/run/docker.sock") || !strings.Contains(v, "connection refused") {
		t.Fatalf("down view:\n%s", v)
	}
	if p.backoff < backoffMin || p.backoff > backoffMax {
		t.Fatalf("backoff %v", p.backoff)
	}
	// Each failed retry doubles the wait, capped.
	for range 6 {
		p.goDown(fmt.Errorf("still down: %w", cloud.ErrUnreachable))
	}
	if p.backoff != backoffMax {
		t.Fatalf("backoff not capped: %v", p.backoff)
	}
}

func BenchmarkPaneFrame10k(b *testing.B) {
	var imgs []cloud.Image
	for i := range 10000 {
		imgs = append(imgs, cloud.Image{ID: fmt.Sprintf("sha256:%064d", i), RepoTags: []string{fmt.Sprintf("registry.example/team%d/svc-%d:v%d", i%37, i, i%9)}, Size: int64(i) * 1000, Created: now.Add(-time.Duration(i) * time.Minute)})
	}
	p := New(Options{Ctx: context.Background(), Images: fake.NewImages(), Theme: common.NewTheme(true, false), Now: func() time.Time { return now }})
	p.SetSize(200, 60)
	p.SetFocused(true)
	p.state = connUp
	p.setImages(imgs)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := "j"
		if i%2 == 1 {
			k = "k"
		}
		p.tbl.HandleKey(press(k))
		_ = p.View()
	}
}

func TestNoEngineConfigured(t *testing.T) {
	p := New(Options{Ctx: t.Context(), Theme: common.NewTheme(true, true)})
	p.SetSize(80, 5)
	if cmd := p.Init(); cmd != nil {
		t.Fatal("nothing to connect to, yet a command")
	}
	if v := p.View(); !strings.Contains(v, "no Docker engine configured") {
		t.Fatalf("view: %s", v)
	}
	if _, cmd := p.Update(press("r")); cmd != nil {
		t.Fatal("refresh without an engine")
	}
}

func TestKeysIgnoredWhileDown(t *testing.T) {
	f := sample()
	p := newPane(t, f, 90, 6)
	drive(t, p, p.Init())
	f.SetDown(true)
	// The stream ends; the pane notices without a poll.
	p.goDown(fmt.Errorf("lost: %w", cloud.ErrUnreachable))
	if _, cmd := p.Update(press("x")); cmd != nil {
		t.Fatal("delete offered for a row not on screen")
	}
}
