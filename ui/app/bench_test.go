package app

import (
	"fmt"
	"image/color"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/fake"
	"github.com/fndeck/fndeck/ui/common"
)

func manyImages(n int) *fake.Images {
	imgs := make([]cloud.Image, n)
	for i := range imgs {
		imgs[i] = cloud.Image{ID: fmt.Sprintf("sha256:%064d", i), RepoTags: []string{fmt.Sprintf("team%d/service-%03d:v1", i%7, i)}, Size: int64(i) * 1e6, Created: time.Now().Add(-time.Duration(i) * time.Hour)}
	}
	return fake.NewImages(imgs...)
}

// runUntil executes cmd and the commands its messages produce until cond
// holds, dropping commands that block (event streams, timers).
func runUntil(m *Model, cmd tea.Cmd, cond func() bool) {
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 && !cond() {
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
		case <-time.After(20 * time.Millisecond):
			continue
		}
		if b, ok := msg.(tea.BatchMsg); ok {
			queue = append(queue, b...)
			continue
		}
		if msg == nil {
			continue
		}
		_, next := m.Update(msg)
		queue = append(queue, next)
	}
}

// BenchmarkStartToFirstFrame: New, Init (commands not awaited) and the first
// View at 200x60. Budget: 50 ms.
func BenchmarkStartToFirstFrame(b *testing.B) {
	imgs := manyImages(300)
	b.ReportAllocs()
	for b.Loop() {
		m := New(b.Context(), Options{Images: imgs, Listers: []cloud.Lister{&fake.Lister{Prov: cloud.Local}}})
		_ = m.Init()
		m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
		if v := m.View().Content; !strings.Contains(v, "loading…") {
			b.Fatal("first frame lacks loading…")
		}
	}
}

// BenchmarkStartToImageNames: from New to a frame showing image names with
// 300 images in the engine. Budget: 100 ms (the fake answers instantly, so
// this measures the UI's share).
func BenchmarkStartToImageNames(b *testing.B) {
	imgs := manyImages(300)
	b.ReportAllocs()
	for b.Loop() {
		m := New(b.Context(), Options{Images: imgs})
		m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
		runUntil(m, m.Init(), func() bool { return strings.Contains(m.View().Content, "service-000") })
	}
}

// BenchmarkFrame10kImages: a whole-screen frame with 10,000 images at 200x60.
func BenchmarkFrame10kImages(b *testing.B) {
	m := New(b.Context(), Options{Images: manyImages(10000)})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	runUntil(m, m.Init(), func() bool { return strings.Contains(m.View().Content, "service-") })
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := "j"
		if i%2 == 1 {
			k = "k"
		}
		m.Update(keyPress(k))
		_ = m.View()
	}
}

func TestBackgroundColourSwitchesTheme(t *testing.T) {
	m := New(t.Context(), Options{Images: sampleImages()})
	if !m.theme.Dark {
		t.Fatal("should start dark")
	}
	m.Update(tea.BackgroundColorMsg{Color: color.White})
	if m.theme.Dark {
		t.Fatal("a white background should switch to the light theme")
	}
	m.Update(tea.BackgroundColorMsg{Color: color.Black})
	if !m.theme.Dark {
		t.Fatal("a black background should switch back to dark")
	}
	fixed := New(t.Context(), Options{Images: sampleImages(), Theme: "dark"})
	fixed.Update(tea.BackgroundColorMsg{Color: color.White})
	if !fixed.theme.Dark {
		t.Fatal("an explicit theme must not follow the terminal")
	}
}

func TestNoColorDrawsNoColour(t *testing.T) {
	m := New(t.Context(), Options{Images: sampleImages(), NoColor: true})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	m.Update(common.ErrorMsg{Err: fmt.Errorf("boom")})
	m.Update(tea.BackgroundColorMsg{Color: color.White})
	v := m.View().Content
	// Bold, underline and reverse are allowed; colours are not.
	if strings.Contains(v, "\x1b[38") || strings.Contains(v, "\x1b[48") || strings.Contains(v, ";38;") || strings.Contains(v, ";48;") {
		t.Fatalf("colour in NO_COLOR output: %q", v)
	}
	if !strings.Contains(v, "error: boom") {
		t.Fatal("error not in the footer")
	}
	c := New(t.Context(), Options{Images: sampleImages()})
	c.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	if !strings.Contains(c.View().Content, "38;5;") {
		t.Fatal("colour theme draws no colour: the NO_COLOR check above proves nothing")
	}
}
