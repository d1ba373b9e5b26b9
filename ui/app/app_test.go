package app

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/fake"
	"github.com/fndeck/fndeck/ui/common"
)

var t0 = time.Now().Add(-time.Hour)

func sampleImages() *fake.Images {
	return fake.NewImages(
		cloud.Image{ID: "sha256:aaaaaaaaaaaa1111", RepoTags: []string{"thumbnailer:latest", "thumbnailer:v3"}, Size: 123_400_000, Created: t0},
		cloud.Image{ID: "sha256:bbbbbbbbbbbb2222", RepoTags: []string{"api:dev"}, Size: 45_000_000, Created: t0.Add(-48 * time.Hour)},
		cloud.Image{ID: "sha256:cccccccccccc3333", RepoTags: []string{"resizer:1.0"}, Size: 9_000_000, Created: t0.Add(-time.Hour)},
	)
}

func sampleListers() []cloud.Lister {
	local := &fake.Lister{Prov: cloud.Local, Results: []cloud.GroupResult{{
		Group:     cloud.Group{Provider: cloud.Local, Scope: "docker"},
		Functions: []cloud.Function{{Address: "local:echo", Provider: cloud.Local, Name: "echo", Mode: "lambda", ImageURI: "echo:latest", MemoryMB: 128, TimeoutS: 3}},
	}}}
	aws := &fake.Lister{Prov: cloud.AWS, Results: []cloud.GroupResult{
		{Group: cloud.Group{Provider: cloud.AWS, Scope: "prod (123456789012)", Region: "eu-west-1"},
			Functions: []cloud.Function{{Address: "lambda:prod@eu-west-1/thumbnailer", Provider: cloud.AWS, Name: "thumbnailer", PackageType: "Image", Partial: true}}},
		{Group: cloud.Group{Provider: cloud.AWS, Scope: "prod (123456789012)", Region: "us-east-1"},
			Err: fmt.Errorf("listing functions: %w", cloud.ErrUnauthenticated), Hint: "aws sso login --profile prod"},
	}}
	return []cloud.Lister{local, aws}
}

// probe wraps the root model and keeps the last frame it drew, so a test
// can look at the whole current screen (the renderer only writes diffs).
type probe struct {
	m       *Model
	mu      *sync.Mutex
	last    *string
	updates *int
}

func (p probe) Init() tea.Cmd { return p.m.Init() }
func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	p.mu.Lock()
	*p.updates++
	p.mu.Unlock()
	_, cmd := p.m.Update(msg)
	return p, cmd
}
func (p probe) View() tea.View {
	v := p.m.View()
	p.mu.Lock()
	*p.last = ansi.Strip(v.Content)
	p.mu.Unlock()
	return v
}

type harness struct {
	t  *testing.T
	tm *teatest.TestModel
	p  probe
}

func start(t *testing.T, opts Options, w, h int) *harness {
	t.Helper()
	if opts.Images == nil {
		opts.Images = sampleImages()
	}
	opts.NoColor = true
	p := probe{m: New(t.Context(), opts), mu: &sync.Mutex{}, last: new(string), updates: new(int)}
	tm := teatest.NewTestModel(t, p, teatest.WithInitialTermSize(w, h))
	hs := &harness{t: t, tm: tm, p: p}
	t.Cleanup(func() { _ = tm.Quit() })
	return hs
}

func (h *harness) screen() string {
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	return *h.p.last
}

// wait polls the current screen until cond holds; the bound only guards
// against a hang.
func (h *harness) wait(what string, cond func(s string) bool) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cond(h.screen()) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("timed out waiting for %s; screen:\n%s", what, h.screen())
}

func (h *harness) waitText(s string) {
	h.t.Helper()
	h.wait(fmt.Sprintf("%q", s), func(sc string) bool { return strings.Contains(sc, s) })
}

func (h *harness) waitGone(s string) {
	h.t.Helper()
	h.wait(fmt.Sprintf("%q to disappear", s), func(sc string) bool { return !strings.Contains(sc, s) })
}

func (h *harness) press(keys ...string) {
	for _, k := range keys {
		h.tm.Send(keyPress(k))
	}
}

func (h *harness) typeText(s string) {
	for _, r := range s {
		h.press(string(r))
	}
}

func TestFirstFrameThenImagesAndFunctions(t *testing.T) {
	h := start(t, Options{Listers: sampleListers(), HeaderAWS: "prod", HeaderGCP: "acme-web"}, 140, 34)
	h.waitText("thumbnailer:v3")
	h.waitText("aws sso login --profile prod")
	sc := h.screen()
	for _, want := range []string{"docker unix:///var/run/docker.sock", "aws prod", "gcp acme-web", "echo", "no tasks yet",
		"select a task, invocation or log tail", "GCP: no credentials found"} {
		if !strings.Contains(sc, want) {
			t.Errorf("screen lacks %q:\n%s", want, sc)
		}
	}
}

func TestFocusKeys(t *testing.T) {
	h := start(t, Options{Listers: sampleListers()}, 140, 34)
	h.waitText("thumbnailer:v3")
	steps := []struct {
		key  string
		want int
	}{{"2", 1}, {"3", 2}, {"4", 3}, {"1", 0}, {"tab", 1}, {"tab", 2}, {"shift+tab", 1}, {"shift+tab", 0}, {"shift+tab", 3}}
	for _, s := range steps {
		h.press(s.key)
		// The footer shows the focused pane's hints; wait for the frame.
		want := s.want
		h.wait("focus "+s.key, func(string) bool { return focusedOf(h) == want })
	}
}

// focusedOf reads the focus from the frame: the focused box is drawn with
// heavy lines.
func focusedOf(h *harness) int {
	sc := h.screen()
	for i, t := range []string{"1 Images", "2 Functions", "3 Tasks", "4 Output"} {
		if strings.Contains(sc, "┏━"+t) {
			return i
		}
	}
	return -1
}

func TestFilterNarrowsAndEscClears(t *testing.T) {
	h := start(t, Options{Listers: sampleListers()}, 140, 34)
	h.waitText("resizer:1.0")
	h.press("/")
	h.typeText("thumb")
	h.waitText("/thumb")
	h.waitGone("resizer:1.0")
	if sc := h.screen(); !strings.Contains(sc, "thumbnailer:v3") || strings.Contains(sc, "api:dev") {
		t.Fatalf("filter did not narrow to thumbnailer:\n%s", sc)
	}
	// While the filter prompt is open, global keys are typed, not run.
	h.press("q", "backspace")
	h.press("enter") // keep the filter
	h.waitText("(esc clears)")
	h.press("esc")
	h.waitText("resizer:1.0")
	h.waitGone("/thumb")
}

func TestHelpShowsBindings(t *testing.T) {
	h := start(t, Options{Listers: sampleListers(), Keys: map[string][]string{"images.build": {"B"}}}, 140, 40)
	h.waitText("thumbnailer:v3")
	h.press("?")
	h.waitText("esc closes")
	sc := h.screen()
	for _, want := range []string{"global", "images", "functions", "tasks", "output", "next pane", "command palette",
		"delete", "invoke", "rollback", "B   ", "build"} {
		if !strings.Contains(sc, want) {
			t.Errorf("help lacks %q:\n%s", want, sc)
		}
	}
	h.press("esc")
	h.waitGone("esc closes")
}

func TestPaletteListsActionsAndRunsOne(t *testing.T) {
	images := sampleImages()
	h := start(t, Options{Images: images, Listers: sampleListers()}, 140, 40)
	h.waitText("thumbnailer:v3")
	h.press(":")
	h.waitText("focus functions")
	sc := h.screen()
	for _, want := range []string{"quit", "help", "focus tasks", "images: build", "images: delete", "functions: invoke", "functions: rollback"} {
		if !strings.Contains(sc, want) {
			t.Errorf("palette lacks %q:\n%s", want, sc)
		}
	}
	h.typeText("focfun")
	h.waitText(": focfun")
	h.press("enter")
	h.wait("functions focused", func(string) bool { return focusedOf(h) == 1 })

	// Running a pane action through the palette: images: delete asks.
	h.press(":")
	h.typeText("images: delete")
	h.waitText(": images: delete")
	h.press("enter")
	h.waitText("Delete image")
	h.press("n")
	h.waitGone("Delete image")
	if focusedOf(h) != 0 {
		t.Errorf("a pane action from the palette should focus its pane")
	}
}

func TestDeleteAsksThenDeletes(t *testing.T) {
	images := sampleImages()
	images.SetInUse("sha256:bbbbbbbbbbbb2222", true)
	h := start(t, Options{Images: images, Listers: sampleListers()}, 140, 34)
	h.waitText("resizer:1.0")
	// Sorted by name: api:dev, resizer:1.0, thumbnailer:latest, thumbnailer:v3.
	h.press("j") // resizer
	h.press("x")
	h.waitText("Delete image resizer:1.0?")
	h.press("y")
	h.waitText("deleted resizer:1.0")
	h.waitText("Images (3)")
	if strings.Contains(strings.ReplaceAll(h.screen(), "deleted resizer:1.0", ""), "resizer:1.0") {
		t.Fatalf("deleted image still listed:\n%s", h.screen())
	}

	// An image in use is refused with the engine's reason in the footer.
	h.press("g", "x")
	h.waitText("Delete image api:dev?")
	h.press("y")
	h.waitText("being used by running container")
	if !strings.Contains(h.screen(), "api:dev") {
		t.Fatalf("refused delete removed the row")
	}
}

func TestEngineDownThenBackUp(t *testing.T) {
	images := sampleImages()
	images.SetDown(true)
	h := start(t, Options{Images: images, Listers: sampleListers()}, 140, 34)
	h.waitText("Docker not reachable at unix:///var/run/docker.sock")
	h.waitText("connection refused")
	// The rest of the UI works meanwhile.
	h.waitText("echo")
	h.press("2")
	h.wait("functions focused", func(string) bool { return focusedOf(h) == 1 })
	images.SetDown(false)
	h.waitText("thumbnailer:v3") // reconnected by itself (backoff retry)

	// Lost again while running: the event stream ends, the pane says so.
	images.SetDown(true)
	h.waitText("Docker not reachable")
	images.SetDown(false)
	h.waitText("thumbnailer:v3")

	// Changes arrive through the event stream, not polling.
	images.Add(cloud.Image{ID: "sha256:dddddddddddd4444", RepoTags: []string{"fresh:new"}, Size: 1000, Created: time.Now()})
	h.waitText("fresh:new")
}

func TestQuitExits(t *testing.T) {
	h := start(t, Options{Listers: sampleListers()}, 140, 34)
	h.waitText("thumbnailer:v3")
	h.press("q")
	h.tm.WaitFinished(t, teatest.WithFinalTimeout(30*time.Second))
}

func TestQuitAsksWhenTasksRun(t *testing.T) {
	running := 2
	h := start(t, Options{Listers: sampleListers(), RunningTasks: func() int { return running }}, 140, 34)
	h.waitText("thumbnailer:v3")
	h.press("q")
	h.waitText("Quit fndeck?")
	h.waitText("2 task(s) still running")
	h.press("esc")
	h.waitGone("Quit fndeck?")
	h.press("q")
	h.waitText("Quit fndeck?")
	h.press("y")
	h.tm.WaitFinished(t, teatest.WithFinalTimeout(30*time.Second))
}

func TestHostileTagRendersHarmlessly(t *testing.T) {
	evil := "evil\x1b[2J\x1b]52;c;c2VjcmV0\x07\x1b]0;pwned\x07:\x1b[31mred\u202e"
	images := fake.NewImages(cloud.Image{ID: "sha256:eeeeeeeeeeee5555", RepoTags: []string{evil}, Size: 10, Created: t0})
	m := New(t.Context(), Options{Images: images, NoColor: true})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 30))
	t.Cleanup(func() { _ = tm.Quit() })
	var out []byte
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		out = append(out[:0], b...)
		return strings.Contains(ansi.Strip(string(b)), "red")
	}, teatest.WithDuration(30*time.Second))
	s := string(out)
	for _, bad := range []string{"\x1b]52", "\x1b]0;pwned", "\x1b[31m", "\u202e"} {
		if strings.Contains(s, bad) {
			t.Errorf("terminal output carries %q", bad)
		}
	}
	// The renderer may clear the screen itself (once at start, again after a
	// resize under load), so look for the tag's own clear where it stands:
	// right after "evil", with nothing sanitized between.
	if strings.Contains(s, "evil\x1b[2J") {
		t.Errorf("terminal output carries the tag's screen clear")
	}
}

func TestRequestsGoToHandleOrSayNotAvailable(t *testing.T) {
	got := make(chan tea.Msg, 4)
	h := start(t, Options{Listers: sampleListers(), Handle: func(msg tea.Msg) tea.Cmd {
		// Handle sees every message; keep only the requests.
		if _, ok := msg.(common.BuildRequestMsg); ok {
			got <- msg
		}
		return nil
	}}, 140, 34)
	h.waitText("thumbnailer:v3")
	h.press("b")
	select {
	case msg := <-got:
		if r, ok := msg.(common.BuildRequestMsg); !ok || r.Image != "api:dev" {
			t.Fatalf("handle got %#v", msg)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("build request never reached Handle")
	}

	h2 := start(t, Options{Listers: sampleListers()}, 140, 34)
	h2.waitText("thumbnailer:v3")
	h2.press("p")
	h2.waitText("push: not available yet")
	// Tree order: local, docker, echo.
	h2.press("2", "g", "j", "j", "i")
	h2.waitText("invoke: not available yet")
}

func TestShowOutputFocusesAndMounts(t *testing.T) {
	h := start(t, Options{Listers: sampleListers()}, 140, 34)
	h.waitText("thumbnailer:v3")
	h.tm.Send(common.ShowOutputMsg{Pane: &placeholder{title: "Invocation", text: "hello from the lead"}})
	h.waitText("hello from the lead")
	h.wait("output focused", func(string) bool { return strings.Contains(h.screen(), "┏━4 Invocation") })
}

// TestIdleRunsNoTimers: once everything has loaded, nothing of fndeck's
// wakes the program (no spinner, no polling, no retry timer).
func TestIdleRunsNoTimers(t *testing.T) {
	h := start(t, Options{Listers: sampleListers()}, 140, 34)
	h.waitText("thumbnailer:v3")
	h.waitText("aws sso login")
	h.waitGone("loading")
	time.Sleep(300 * time.Millisecond) // let the last lazy inspect/describe land
	count := func() int { h.p.mu.Lock(); defer h.p.mu.Unlock(); return *h.p.updates }
	before := count()
	time.Sleep(time.Second)
	if n := count() - before; n != 0 {
		t.Fatalf("%d messages reached the model in one idle second", n)
	}
}
