package functions

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/fake"
	"github.com/fndeck/fndeck/ui/common"
)

func cellOf(p *Pane, name string) string {
	for _, n := range p.tbl.Items() {
		if n.kind == kindFunction && n.fn.Name == name {
			return p.marker(n.fn)
		}
	}
	return "<none>"
}

func TestLineageMarkersDetailAndJumpToImage(t *testing.T) {
	local, aws, gcp := listers()
	p := newPane(t, []cloud.Lister{local, aws, gcp}, 130, 20)
	drive(t, p, p.Init())
	if c := cellOf(p, "echo"); c != "…" {
		t.Errorf("before a join echo shows %q, want …", c)
	}
	p.Update(common.LineageMsg{Functions: map[string]*cloud.Lineage{
		"local:echo":                         {Status: cloud.LineageLocal, LocalImage: "echo:latest", LocalImageID: "sha256:eeee"},
		"lambda:prod@eu-west-1/thumbnailer":  {Status: cloud.LineageLocal, LocalImage: "thumb:v3", LocalImageID: "sha256:aaaa", TagMoved: true, Tag: cloud.TagMoved, TagDigest: "sha256:9999"},
		"cloudrun:acme-web/europe-west1/api": {Status: cloud.LineageUnknown, Error: "the digest it runs is not known"},
	}})
	for name, want := range map[string]string{"echo": "echo:latest", "thumbnailer": "tag moved", "api": "unknown"} {
		if c := cellOf(p, name); c != want {
			t.Errorf("%s shows %q, want %q", name, c, want)
		}
	}
	if v := ansi.Strip(p.View()); !strings.Contains(v, "LINEAGE") || !strings.Contains(v, "tag moved") {
		t.Errorf("view lacks the LINEAGE column:\n%s", v)
	}

	selectName(t, p, "thumbnailer")
	drive(t, p, func() tea.Msg { return press("enter") })
	v := ansi.Strip(p.View())
	for _, want := range []string{"Lineage", "Image digest", "Runs                   tag moved", "moved: it now names sha256:9999", "Local image ID         sha256:aaaa"} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
	drive(t, p, func() tea.Msg { return press("esc") })

	selectName(t, p, "thumbnailer")
	_, cmd := p.Update(press("o"))
	var jump common.JumpToImageMsg
	var focus common.FocusMsg
	for _, c := range cmd().(tea.BatchMsg) {
		switch m := c().(type) {
		case common.JumpToImageMsg:
			jump = m
		case common.FocusMsg:
			focus = m
		}
	}
	if jump.ID != "sha256:aaaa" || focus.Pane != "images" {
		t.Errorf("o sent %+v %+v, want a jump to sha256:aaaa and focus on images", jump, focus)
	}
	selectName(t, p, "api")
	_, cmd = p.Update(press("o"))
	if m, ok := cmd().(common.StatusMsg); !ok || !strings.Contains(m.Text, "not known yet") {
		t.Errorf("o on an unknown lineage: %#v", cmd())
	}
}

func TestJumpToFunctionOpensItsGroup(t *testing.T) {
	local, aws, gcp := listers()
	p := newPane(t, []cloud.Lister{local, aws, gcp}, 130, 20)
	drive(t, p, p.Init())
	p.collapsed["p:aws"] = true
	p.rebuild()
	p.Update(common.JumpToFunctionMsg{Address: "lambda:prod@eu-west-1/thumbnailer"})
	if p.tbl.SelectedID() != "lambda:prod@eu-west-1/thumbnailer" {
		t.Errorf("selected %q after the jump", p.tbl.SelectedID())
	}
}

// TestOffScreenRowsAreDescribedInTheBackground: 120 partial Lambda rows in
// a pane showing 10; every one is described (visible ones first) and the
// snapshot turns complete.
func TestOffScreenRowsAreDescribedInTheBackground(t *testing.T) {
	var fns []cloud.Function
	full := map[string]cloud.Function{}
	for i := range 120 {
		addr := fmt.Sprintf("lambda:us-east-1/fn-%03d", i)
		fns = append(fns, cloud.Function{Address: addr, Provider: cloud.AWS, Name: fmt.Sprintf("fn-%03d", i), PackageType: "Image", Partial: true})
		full[addr] = cloud.Function{Address: addr, Provider: cloud.AWS, Name: fmt.Sprintf("fn-%03d", i), PackageType: "Image", ImageDigest: "sha256:x", State: "Active"}
	}
	aws := &fake.Lister{Prov: cloud.AWS, Results: []cloud.GroupResult{{Group: cloud.Group{Provider: cloud.AWS, Scope: "dev (1)", Region: "us-east-1"}, Functions: fns}}, Full: full}
	p := newPane(t, []cloud.Lister{aws}, 120, 10)
	drive(t, p, p.Init())
	if len(aws.Described) != 120 {
		t.Fatalf("described %d of 120 rows", len(aws.Described))
	}
	// The rows on screen (fn-000 … fn-00N) go in the first batch, before
	// any off-screen row.
	for _, a := range aws.Described[:5] {
		if !strings.HasPrefix(a, "lambda:us-east-1/fn-00") {
			t.Errorf("the visible rows were not described first: %v", aws.Described[:8])
			break
		}
	}
	got, _, complete := p.Snapshot()
	if !complete || len(got) != 120 || got[119].ImageDigest != "sha256:x" {
		t.Errorf("snapshot complete=%v, %d rows", complete, len(got))
	}
}
