package images

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/lineage"
	"github.com/fndeck/fndeck/ui/common"
)

// liveCells maps each row's name to its LIVE cell.
func liveCells(p *Pane) map[string]string {
	out := map[string]string{}
	for _, r := range p.tbl.Items() {
		out[r.name()] = r.live
	}
	return out
}

func TestLiveColumnDetailAndJump(t *testing.T) {
	p := newPane(t, sample(), 110, 20)
	drive(t, p, p.Init())
	for name, c := range liveCells(p) {
		if c != "…" {
			t.Errorf("%s LIVE before any join = %q, want …", name, c)
		}
	}
	since := now.Add(-time.Hour)
	live := map[string][]lineage.Live{"sha256:bbbbbbbbbbbb2222": {
		{Address: "local:a", Provider: cloud.Local, Digest: "sha256:bbbbbbbbbbbb2222", Since: &since, SourceRef: "api:dev"},
		{Address: "lambda:us-east-1/api", Provider: cloud.AWS, Digest: "sha256:1111", SourceRef: "reg/api:dev"},
	}}
	p.Update(common.LineageMsg{Live: live, Complete: false})
	if c := liveCells(p); c["api:dev"] != "2" || c["thumbnailer:v3"] != "…" {
		t.Errorf("incomplete join: cells %v, want api:dev 2 and the rest …", c)
	}
	p.Update(common.LineageMsg{Live: live, Complete: true})
	if c := liveCells(p); c["api:dev"] != "2" || c["thumbnailer:v3"] != "—" {
		t.Errorf("complete join: cells %v, want api:dev 2 and the rest —", c)
	}
	if v := ansi.Strip(p.View()); !strings.Contains(v, "LIVE") {
		t.Errorf("no LIVE column:\n%s", v)
	}

	drive(t, p, func() tea.Msg { return press("j") }) // api:dev is second by name
	drive(t, p, func() tea.Msg { return press("enter") })
	v := ansi.Strip(p.View())
	for _, want := range []string{"Live (2)", "› local  local:a", "lambda:us-east-1/api", "from reg/api:dev", since.UTC().Format(time.RFC3339)} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
	drive(t, p, func() tea.Msg { return press("j") })
	_, cmd := p.Update(press("enter"))
	msgs := drainBatch(cmd)
	var jumped, focused bool
	for _, m := range msgs {
		switch m := m.(type) {
		case common.JumpToFunctionMsg:
			jumped = m.Address == "lambda:us-east-1/api"
		case common.FocusMsg:
			focused = m.Pane == "functions"
		}
	}
	if !jumped || !focused {
		t.Errorf("enter on the second live function sent %v, want a jump to lambda:us-east-1/api and focus", msgs)
	}
}

func TestJumpToImageSelectsItsRow(t *testing.T) {
	p := newPane(t, sample(), 110, 20)
	drive(t, p, p.Init())
	p.Update(common.JumpToImageMsg{ID: "sha256:dddddddddddd4444"})
	if r, ok := p.tbl.Selected(); !ok || r.Image.ID != "sha256:dddddddddddd4444" {
		t.Errorf("selected %+v, want the image dddd", r)
	}
	// A dangling image is shown for the jump.
	p.Update(common.JumpToImageMsg{ID: "sha256:cccccccccccc3333"})
	if r, ok := p.tbl.Selected(); !ok || r.Image.ID != "sha256:cccccccccccc3333" {
		t.Errorf("selected %+v, want the dangling image", r)
	}
}

func drainBatch(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, drainBatch(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}
