package functions

import (
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

// drive runs cmd and feeds its messages back, as the program would; the
// spinner's ticks are dropped (they only matter while loading).
func drive(t *testing.T, p *Pane, cmd tea.Cmd) {
	t.Helper()
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
		case <-time.After(2 * time.Second):
			continue
		}
		switch m := msg.(type) {
		case tea.BatchMsg:
			queue = append(queue, m...)
			continue
		case tickMsg, nil:
			continue
		}
		_, next := p.Update(msg)
		queue = append(queue, next)
	}
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	return tea.KeyPressMsg{Code: []rune(s)[0], Text: s}
}

func ptr[T any](v T) *T { return &v }

func listers() (*fake.Lister, *fake.Lister, *fake.Lister) {
	mod := now.Add(-3 * time.Hour)
	local := &fake.Lister{Prov: cloud.Local, Results: []cloud.GroupResult{{
		Group: cloud.Group{Provider: cloud.Local, Scope: "docker"},
		Functions: []cloud.Function{
			{Address: "local:echo", Provider: cloud.Local, Name: "echo", Mode: "lambda", ImageURI: "echo:latest", MemoryMB: 128, TimeoutS: 3, State: "Active"},
		},
	}}}
	aws := &fake.Lister{Prov: cloud.AWS, Results: []cloud.GroupResult{
		{Group: cloud.Group{Provider: cloud.AWS, Scope: "prod (123456789012)", Region: "eu-west-1"},
			Functions: []cloud.Function{{Address: "lambda:prod@eu-west-1/thumbnailer", Provider: cloud.AWS, Name: "thumbnailer", PackageType: "Image", Architecture: "arm64", MemoryMB: 1024, TimeoutS: 30, LastModified: &mod, Partial: true}}},
		{Group: cloud.Group{Provider: cloud.AWS, Scope: "prod (123456789012)", Region: "us-east-1"},
			Err: fmt.Errorf("listing functions in us-east-1: %w", cloud.ErrUnauthenticated), Hint: "aws sso login --profile prod"},
	}, Full: map[string]cloud.Function{
		"lambda:prod@eu-west-1/thumbnailer": {Address: "lambda:prod@eu-west-1/thumbnailer", Provider: cloud.AWS, Name: "thumbnailer", PackageType: "Image",
			ImageURI: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/thumb:v3", Architecture: "arm64", MemoryMB: 1024, TimeoutS: 30, State: "Active", LastUpdateStatus: "Successful", LastModified: &mod},
	}}
	gcp := &fake.Lister{Prov: cloud.GCP, Results: []cloud.GroupResult{{
		Group: cloud.Group{Provider: cloud.GCP, Scope: "acme-web", Region: "europe-west1"},
		Functions: []cloud.Function{{Address: "cloudrun:acme-web/europe-west1/api", Provider: cloud.GCP, Name: "api", ImageURI: "europe-docker.pkg.dev/acme-web/img/api:1", URL: "https://api-xyz.a.run.app", Ready: ptr(true), MemoryMB: 512,
			Traffic: []cloud.Traffic{{Revision: "api-00002", Percent: 90}, {Revision: "api-00001", Percent: 10, Tag: "old"}}}},
	}}}
	return local, aws, gcp
}

func newPane(t *testing.T, ls []cloud.Lister, w, h int) *Pane {
	p := New(Options{Ctx: t.Context(), Listers: ls, Theme: common.NewTheme(true, true), Now: func() time.Time { return now }})
	p.SetSize(w, h)
	p.SetFocused(true)
	return p
}

func TestGoldenTreeWithFailingGroup(t *testing.T) {
	local, aws, _ := listers()
	p := newPane(t, []cloud.Lister{local, aws}, 110, 16)
	drive(t, p, p.Init())
	golden(t, "functions", ansi.Strip(p.View()))
	if len(aws.Described) != 1 || aws.Described[0] != "lambda:prod@eu-west-1/thumbnailer" {
		t.Errorf("partial row not described lazily: %v", aws.Described)
	}
}

func TestFirstFrameShowsLoadingPerSource(t *testing.T) {
	local, aws, _ := listers()
	aws.Gate = make(chan struct{})
	p := newPane(t, []cloud.Lister{local, aws}, 100, 12)
	cmd := p.Init()
	v := ansi.Strip(p.View())
	if strings.Count(v, "loading…") < 2 {
		t.Fatalf("first frame:\n%s", v)
	}
	// local answers while AWS still loads: local is usable.
	go func() { time.Sleep(50 * time.Millisecond); close(aws.Gate) }()
	drive(t, p, cmd)
	v = ansi.Strip(p.View())
	if !strings.Contains(v, "echo") || !strings.Contains(v, "thumbnailer") || strings.Contains(v, "loading") {
		t.Fatalf("after loading:\n%s", v)
	}
	if p.startTicking() != nil {
		t.Fatal("spinner would tick while nothing loads")
	}
}

func TestUnconfiguredProviderSaysWhatToConfigure(t *testing.T) {
	local, _, _ := listers()
	p := newPane(t, []cloud.Lister{local}, 120, 12)
	drive(t, p, p.Init())
	v := ansi.Strip(p.View())
	for _, want := range []string{"AWS: no credentials found — run `aws configure` or set aws.profiles", "GCP: no credentials found", "echo"} {
		if !strings.Contains(v, want) {
			t.Errorf("lacks %q:\n%s", want, v)
		}
	}
}

func selectName(t *testing.T, p *Pane, name string) {
	t.Helper()
	for _, n := range p.tbl.Items() {
		if n.kind == kindFunction && n.fn.Name == name {
			if !p.tbl.Select(n.id) {
				t.Fatalf("cannot select %s", name)
			}
			return
		}
	}
	t.Fatalf("no function %s", name)
}

func hasKey(p *Pane, help string) bool {
	for _, b := range p.Keys() {
		if b.Help().Desc == help {
			return true
		}
	}
	return false
}

func TestKeysBoundOnlyWhenSupported(t *testing.T) {
	local, aws, gcp := listers()
	p := newPane(t, []cloud.Lister{local, fake.Basic{L: aws}, gcp}, 120, 20)
	drive(t, p, p.Init())

	selectName(t, p, "echo")
	if !hasKey(p, "invoke") || !hasKey(p, "remove") || !hasKey(p, "logs") {
		t.Fatalf("local keys: %v", p.Keys())
	}
	_, cmd := p.Update(press("i"))
	if got := cmd(); got != (common.InvokeRequestMsg{Address: "local:echo"}) {
		t.Fatalf("i: %#v", got)
	}
	_, cmd = p.Update(press("l"))
	if got := cmd(); got != (common.LogsRequestMsg{Address: "local:echo"}) {
		t.Fatalf("l: %#v", got)
	}

	selectName(t, p, "thumbnailer") // behind a Lister with no capabilities
	if hasKey(p, "invoke") || hasKey(p, "logs") || hasKey(p, "remove") {
		t.Fatalf("unsupported keys bound: %v", p.Keys())
	}
	if _, cmd := p.Update(press("i")); cmd != nil {
		if _, ok := cmd().(common.InvokeRequestMsg); ok {
			t.Fatal("i invoked a function whose backend cannot invoke")
		}
	}
	// The fake has no RollBacker: R is never bound.
	selectName(t, p, "api")
	if hasKey(p, "rollback") {
		t.Fatal("rollback bound without a RollBacker")
	}
}

func TestRemoveAsksThenRemoves(t *testing.T) {
	local, _, _ := listers()
	p := newPane(t, []cloud.Lister{local}, 100, 12)
	drive(t, p, p.Init())
	selectName(t, p, "echo")
	_, cmd := p.Update(press("x"))
	c, ok := cmd().(common.ConfirmRequestMsg)
	if !ok || !strings.Contains(c.Title, "local:echo") {
		t.Fatalf("x: %#v", c)
	}
	drive(t, p, c.Yes)
	if len(local.Removed) != 1 {
		t.Fatalf("removed %v", local.Removed)
	}
	if strings.Contains(ansi.Strip(p.View()), "echo ") {
		t.Fatalf("removed function still shown:\n%s", ansi.Strip(p.View()))
	}
}

func TestCollapseAndDetail(t *testing.T) {
	local, aws, gcp := listers()
	p := newPane(t, []cloud.Lister{local, aws, gcp}, 120, 24)
	drive(t, p, p.Init())
	p.tbl.Select("p:aws")
	drive(t, p, func() tea.Msg { return press("space") })
	v := ansi.Strip(p.View())
	if strings.Contains(v, "thumbnailer") || !strings.Contains(v, "▸ AWS Lambda (1)") {
		t.Fatalf("collapse:\n%s", v)
	}
	drive(t, p, func() tea.Msg { return press("enter") })
	if !strings.Contains(ansi.Strip(p.View()), "thumbnailer") {
		t.Fatal("expand failed")
	}
	selectName(t, p, "api")
	drive(t, p, func() tea.Msg { return press("enter") })
	v = ansi.Strip(p.View())
	for _, want := range []string{"Function cloudrun:acme-web/europe-west1/api", "https://api-xyz.a.run.app", "Traffic", "90%  api-00002", "10%  api-00001  tag old"} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
	drive(t, p, func() tea.Msg { return press("esc") })
	if !strings.Contains(ansi.Strip(p.View()), "NAME") {
		t.Fatal("esc did not leave the detail")
	}
}

func TestFilterKeepsTreeHeaders(t *testing.T) {
	local, aws, gcp := listers()
	p := newPane(t, []cloud.Lister{local, aws, gcp}, 120, 24)
	drive(t, p, p.Init())
	p.tbl.SetFilter("thumb")
	v := ansi.Strip(p.View())
	if !strings.Contains(v, "thumbnailer") || strings.Contains(v, " echo ") || strings.Contains(v, " api ") {
		t.Fatalf("filter:\n%s", v)
	}
	if !strings.Contains(v, "AWS Lambda") {
		t.Fatal("headers dropped by the filter")
	}
}

type wrapped struct{ fake.Basic }

func (w wrapped) Unwrap() cloud.Lister { return w.L }

func TestCapabilitiesFoundThroughWrappers(t *testing.T) {
	local, _, _ := listers()
	p := newPane(t, []cloud.Lister{wrapped{fake.Basic{L: local}}}, 100, 12)
	drive(t, p, p.Init())
	selectName(t, p, "echo")
	if !hasKey(p, "invoke") || !hasKey(p, "remove") {
		t.Fatalf("keys through a wrapper: %v", p.Keys())
	}
}

// typeKeys sends each key to the pane as the program would and returns the
// command the last one produced.
func typeKeys(t *testing.T, p *Pane, keys ...string) tea.Cmd {
	t.Helper()
	var cmd tea.Cmd
	for _, k := range keys {
		_, cmd = p.Update(press(k))
	}
	return cmd
}

func TestFilterSelectsFirstMatchingFunction(t *testing.T) {
	local, aws, gcp := listers()
	p := newPane(t, []cloud.Lister{local, aws, gcp}, 120, 24)
	drive(t, p, p.Init())

	// Only api matches; a dozen group and message rows stay above it. One
	// `i` after enter must invoke it, with no j presses in between.
	typeKeys(t, p, "/", "a", "p", "i", "enter")
	if p.tbl.Filtering() {
		t.Fatal("enter did not close the filter prompt")
	}
	cmd := typeKeys(t, p, "i")
	if cmd == nil {
		t.Fatalf("i after filtering emitted nothing; selected %q", p.tbl.SelectedID())
	}
	if got := cmd(); got != (common.InvokeRequestMsg{Address: "cloudrun:acme-web/europe-west1/api"}) {
		t.Fatalf("i after filtering: %#v", got)
	}

	// Clearing the filter keeps the cursor on the function it was on.
	typeKeys(t, p, "esc")
	if p.tbl.Filter() != "" || p.tbl.SelectedID() != "cloudrun:acme-web/europe-west1/api" {
		t.Fatalf("after esc: filter %q, selected %q", p.tbl.Filter(), p.tbl.SelectedID())
	}
}

func TestFilterKeepsMatchingFunctionSelected(t *testing.T) {
	local, aws, gcp := listers()
	p := newPane(t, []cloud.Lister{local, aws, gcp}, 120, 24)
	drive(t, p, p.Init())

	// "e" matches every function; the cursor must not jump to the first.
	selectName(t, p, "thumbnailer")
	typeKeys(t, p, "/", "e", "enter")
	if got := p.tbl.SelectedID(); got != "lambda:prod@eu-west-1/thumbnailer" {
		t.Fatalf("selected %q, want thumbnailer kept", got)
	}

	// Narrowing ("e" + "cho") until thumbnailer drops out moves to the function that matches.
	typeKeys(t, p, "/", "c", "h", "o")
	if got := p.tbl.SelectedID(); got != "local:echo" {
		t.Fatalf("selected %q after thumbnailer was filtered out, want local:echo", got)
	}
	// A region name matches the functions in that region (their address names it).
	typeKeys(t, p, "esc", "/")
	for _, k := range "europe-west1" {
		typeKeys(t, p, string(k))
	}
	typeKeys(t, p, "enter")
	if got := p.tbl.SelectedID(); got != "cloudrun:acme-web/europe-west1/api" {
		t.Fatalf("filtering by region selected %q", got)
	}

	// Clearing from a group row lands on the first function of the full
	// tree. (Only the groups holding a match show while filtering.)
	if p.tbl.Select("p:aws") {
		t.Fatal("AWS holds no match for europe-west1 but shows")
	}
	if !p.tbl.Select("p:gcp") {
		t.Fatal("Cloud Run holds the match but does not show")
	}
	typeKeys(t, p, "esc")
	if got := p.tbl.SelectedID(); got != "local:echo" {
		t.Fatalf("after clearing from a group row selected %q", got)
	}
}
