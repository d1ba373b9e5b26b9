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

// run builds a Cloud Run function row.
func run(project, region, name string) cloud.Function {
	return cloud.Function{Address: "cloudrun:" + project + "/" + region + "/" + name, Provider: cloud.GCP, Name: name,
		Project: project, Region: region, ImageURI: "gcr.io/" + project + "/" + name + ":1", Ready: ptr(true)}
}

// threeProjects is Cloud Run over three projects that each list six
// regions, services in only two of them, and one region that fails:
//
//	acme-data: etl in us-central1, five regions empty
//	acme-ops:  six regions empty
//	acme-web:  api and checkout in europe-west1, us-east1 denied, four empty
func threeProjects() *fake.Lister {
	regions := []string{"asia-east1", "europe-west1", "europe-west4", "us-central1", "us-east1", "us-west1"}
	fns := map[string][]cloud.Function{
		"acme-data/us-central1": {run("acme-data", "us-central1", "etl")},
		"acme-web/europe-west1": {run("acme-web", "europe-west1", "checkout"), run("acme-web", "europe-west1", "api")},
	}
	var res []cloud.GroupResult
	for _, project := range []string{"acme-web", "acme-data", "acme-ops"} {
		for _, r := range regions {
			g := cloud.GroupResult{Group: cloud.Group{Provider: cloud.GCP, Scope: project, Region: r}, Functions: fns[project+"/"+r]}
			if project == "acme-web" && r == "us-east1" {
				g.Err = fmt.Errorf("listing services in us-east1: %w", cloud.ErrUnauthenticated)
				g.Hint = "gcloud auth application-default login"
			}
			res = append(res, g)
		}
	}
	return &fake.Lister{Prov: cloud.GCP, Results: res}
}

// emptyAWS is one profile whose two regions hold nothing.
func emptyAWS() *fake.Lister {
	var res []cloud.GroupResult
	for _, r := range []string{"eu-west-1", "us-east-1"} {
		res = append(res, cloud.GroupResult{Group: cloud.Group{Provider: cloud.AWS, Scope: "dev (210987654321)", Region: r}})
	}
	return &fake.Lister{Prov: cloud.AWS, Results: res}
}

func foldPane(t *testing.T, h int) (*Pane, *fake.Lister) {
	t.Helper()
	gcp := threeProjects()
	p := newPane(t, []cloud.Lister{emptyAWS(), gcp}, 100, h)
	drive(t, p, p.Init())
	return p, gcp
}

// outline is the pane's rows as text, one per line, trailing blanks cut.
func outline(p *Pane) string {
	var out []string
	for _, line := range strings.Split(ansi.Strip(p.View()), "\n")[1:] {
		if line = strings.TrimRight(line, " "); line != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func send(t *testing.T, p *Pane, keys ...string) {
	t.Helper()
	for _, k := range keys {
		drive(t, p, func() tea.Msg { return press(k) })
	}
}

func TestEmptyRegionsFoldIntoOneLinePerScope(t *testing.T) {
	p, _ := foldPane(t, 24)
	golden(t, "folded", ansi.Strip(p.View()))
	v := outline(p)
	for _, want := range []string{
		"    ▸ 5 regions without services",  // acme-data
		"    ▸ 6 regions without services",  // acme-ops
		"    ▸ 4 regions without services",  // acme-web: the denied region is not folded
		"    ▸ 2 regions without functions", // AWS says functions
		"    ▾ us-east1 (0) ✗",
		"      error: listing services in us-east1: not authenticated",
		"      hint: gcloud auth application-default login",
	} {
		if !strings.Contains(v, want+"\n") && !strings.HasSuffix(v, want) {
			t.Errorf("lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "asia-east1") || strings.Contains(v, "europe-west4") || strings.Contains(v, "us-west1") {
		t.Errorf("an empty region shows outside its fold line:\n%s", v)
	}
	// The fold line is dim (the theme's muted style), not a group header.
	if n, ok := p.tbl.Item("p:gcp/acme-ops/" + foldSuffix); !ok || n.kind != kindFold {
		t.Fatalf("no fold line for acme-ops: %+v", n)
	} else if st, ok := p.rowStyle(n); !ok || st.Render("x") != p.theme.Muted.Render("x") {
		t.Error("the fold line is not drawn muted")
	}
}

func TestCountsStayRight(t *testing.T) {
	p, _ := foldPane(t, 40)
	want := map[string]int{
		"p:aws":                                  0,
		"p:aws/dev (210987654321)":               0,
		"p:gcp":                                  3,
		"p:gcp/acme-data":                        1,
		"p:gcp/acme-data/us-central1":            1,
		"p:gcp/acme-ops":                         0,
		"p:gcp/acme-web":                         2,
		"p:gcp/acme-web/europe-west1":            2,
		"p:gcp/acme-web/us-east1":                0,
		"p:gcp/acme-web/" + foldSuffix:           4, // groups folded, not functions
		"p:gcp/acme-data/" + foldSuffix:          5,
		"p:gcp/acme-ops/" + foldSuffix:           6,
		"p:aws/dev (210987654321)/" + foldSuffix: 2,
	}
	check := func(when string) {
		t.Helper()
		for id, n := range want {
			row, ok := p.tbl.Item(id)
			if !ok {
				if p.tbl.Filter() == "" {
					t.Errorf("%s: no row %s", when, id)
				}
				continue
			}
			shows := fmt.Sprintf("(%d)", n)
			if row.kind == kindFold {
				shows = fmt.Sprintf("%d region", n)
			}
			if row.count != n || !strings.Contains(row.label, shows) {
				t.Errorf("%s: %s counts %d (%q), want %d", when, id, row.count, row.label, n)
			}
		}
	}
	check("folded")
	if p.Title() != "Functions (3)" {
		t.Errorf("title %q", p.Title())
	}
	// Opening a fold line or filtering changes no count: a header counts
	// the functions under it, whatever shows.
	p.tbl.Select("p:gcp/acme-ops/" + foldSuffix)
	send(t, p, "enter")
	check("opened")
	send(t, p, "/", "c", "h", "e")
	check("filtered")
	if v := outline(p); !strings.Contains(v, "▾ Cloud Run (3)") || !strings.Contains(v, "▾ acme-web (2)") {
		t.Errorf("filtered headers:\n%s", v)
	}
}

func TestFoldLineOpensAndCloses(t *testing.T) {
	p, _ := foldPane(t, 30)
	fid := "p:gcp/acme-web/" + foldSuffix
	if !p.tbl.Select(fid) {
		t.Fatal("cannot select the fold line")
	}
	send(t, p, "enter")
	golden(t, "fold_open", ansi.Strip(p.View()))
	v := outline(p)
	want := strings.Join([]string{
		"    ▾ 4 regions without services",
		"      asia-east1 (0)",
		"      europe-west4 (0)",
		"      us-central1 (0)",
		"      us-west1 (0)",
	}, "\n")
	if !strings.Contains(v, want) {
		t.Fatalf("opened fold line:\n%s\nwant the block:\n%s", v, want)
	}
	if p.tbl.SelectedID() != fid {
		t.Errorf("cursor moved to %q", p.tbl.SelectedID())
	}
	// space (the fold key) closes it again; other scopes stayed folded.
	send(t, p, "space")
	v = outline(p)
	if !strings.Contains(v, "    ▸ 4 regions without services") || strings.Contains(v, "asia-east1") {
		t.Fatalf("closed again:\n%s", v)
	}
	if p.tbl.SelectedID() != fid {
		t.Errorf("cursor moved to %q", p.tbl.SelectedID())
	}
	// An empty region shown under its opened fold line has nothing to fold.
	send(t, p, "enter", "j")
	before := outline(p)
	if p.tbl.SelectedID() != "p:gcp/acme-web/asia-east1" {
		t.Fatalf("j from the fold line went to %q", p.tbl.SelectedID())
	}
	send(t, p, "space", "enter")
	if outline(p) != before {
		t.Errorf("space/enter on an empty region changed the tree:\n%s", outline(p))
	}
}

// i, l, d, R and x act on a function: on a fold line they do nothing.
func TestFunctionKeysOnFoldLineDoNothing(t *testing.T) {
	p, _ := foldPane(t, 30)
	fid := "p:gcp/acme-ops/" + foldSuffix
	p.tbl.Select(fid)
	before := outline(p)
	for _, k := range []string{"i", "l", "d", "R", "x"} {
		if _, cmd := p.Update(press(k)); cmd != nil {
			t.Errorf("%s on the fold line emitted %#v", k, cmd())
		}
	}
	if outline(p) != before || p.tbl.SelectedID() != fid {
		t.Errorf("keys on the fold line changed the pane; cursor %q:\n%s", p.tbl.SelectedID(), outline(p))
	}
	for _, b := range p.Keys() {
		switch b.Help().Desc {
		case "invoke", "logs", "deploy", "rollback", "remove":
			t.Errorf("%s offered on the fold line", b.Help().Desc)
		}
	}
}

func TestFilterShowsOnlyGroupsHoldingAMatchOpen(t *testing.T) {
	p, _ := foldPane(t, 16)
	// Fold state before filtering: acme-data's fold line open, acme-web
	// collapsed; both must come back after the filter.
	p.tbl.Select("p:gcp/acme-data/" + foldSuffix)
	send(t, p, "enter")
	p.tbl.Select("p:gcp/acme-web")
	send(t, p, "space")
	folded := rowIDs(p)
	if strings.Contains(folded, "checkout") {
		t.Fatalf("acme-web did not collapse:\n%s", folded)
	}

	send(t, p, "/")
	for _, k := range "checkout" {
		send(t, p, string(k))
	}
	golden(t, "filter_checkout", ansi.Strip(p.View()))
	want := strings.Join([]string{
		"▾ Cloud Run (3)",
		"  ▾ acme-web (2)",
		"    ▾ europe-west1 (2)",
		"      checkout                checkout:1    …",
	}, "\n")
	if v := outline(p); !strings.HasPrefix(v, want) || strings.Count(v, "\n") != 4 {
		t.Fatalf("filter checkout shows:\n%s\nwant only:\n%s\n(and the prompt)", v, want)
	}
	if p.tbl.SelectedID() != "cloudrun:acme-web/europe-west1/checkout" {
		t.Errorf("cursor on %q, want checkout", p.tbl.SelectedID())
	}
	// While the filter is set, space on a group folds nothing and says why.
	send(t, p, "enter")
	p.tbl.Select("p:gcp/acme-web")
	_, cmd := p.Update(press("space"))
	if cmd == nil {
		t.Fatal("space on a group while filtering said nothing")
	}
	if st, ok := cmd().(common.StatusMsg); !ok || !strings.Contains(st.Text, "filter") {
		t.Errorf("space while filtering: %#v", st)
	}
	if !strings.Contains(outline(p), "checkout") {
		t.Error("space while filtering folded the group")
	}

	// A failed region holds no match: it is not shown while filtering;
	// nor is a provider with no match.
	send(t, p, "/", "backspace")
	for _, k := range []string{"backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace"} {
		send(t, p, k)
	}
	send(t, p, "e", "t", "l")
	if v := outline(p); strings.Contains(v, "us-east1") || strings.Contains(v, "AWS") || !strings.Contains(v, "etl") {
		t.Errorf("filter etl:\n%s", v)
	}

	// esc clears the filter and brings the folds back as they were.
	send(t, p, "esc")
	if v := rowIDs(p); v != folded {
		t.Errorf("after esc:\n%s\nwant the tree as before the filter:\n%s", v, folded)
	}
	if got := p.tbl.SelectedID(); got != "cloudrun:acme-data/us-central1/etl" {
		t.Errorf("after esc the cursor is on %q, want etl still", got)
	}
}

// rowIDs lists every row of the tree (on screen or not), one ID a line.
func rowIDs(p *Pane) string {
	var out []string
	for _, n := range p.tbl.Items() {
		out = append(out, n.id)
	}
	return strings.Join(out, "\n")
}

func TestCursorKeepsItsRowAcrossRefreshAndFolds(t *testing.T) {
	p, gcp := foldPane(t, 40)
	selectName(t, p, "checkout")
	send(t, p, "r")
	if got := p.tbl.SelectedID(); got != "cloudrun:acme-web/europe-west1/checkout" {
		t.Fatalf("after refresh the cursor is on %q", got)
	}
	// europe-west1 empties on the next refresh: the cursor's function and
	// its region are gone, folded; the cursor lands on that fold line.
	for i, r := range gcp.Results {
		if r.Group.Scope == "acme-web" && r.Group.Region == "europe-west1" {
			gcp.Results[i].Functions = nil
		}
	}
	send(t, p, "r")
	if got := p.tbl.SelectedID(); got != "p:gcp/acme-web/"+foldSuffix {
		t.Fatalf("after its region emptied the cursor is on %q, want acme-web's fold line\n%s", got, outline(p))
	}
	if v := outline(p); !strings.Contains(v, "▸ 5 regions without services") {
		t.Errorf("acme-web's fold line does not hold europe-west1:\n%s", v)
	}
	// On an opened fold line's empty region, closing the fold line keeps
	// the cursor on the fold line; opening it again the region is there.
	send(t, p, "enter", "j", "j")
	if got := p.tbl.SelectedID(); got != "p:gcp/acme-web/europe-west1" {
		t.Fatalf("cursor on %q", got)
	}
	send(t, p, "r")
	if got := p.tbl.SelectedID(); got != "p:gcp/acme-web/europe-west1" {
		t.Fatalf("after refresh the cursor left the empty region for %q", got)
	}
}

// A function found through the filter inside a collapsed group: clearing
// the filter hides it again, and the cursor goes to that group, not to the
// top of the tree.
func TestClearingFilterHandsCursorToTheGroupHidingIt(t *testing.T) {
	p, _ := foldPane(t, 30)
	p.tbl.Select("p:gcp/acme-web")
	send(t, p, "space", "/", "c", "h", "e", "c", "k", "enter")
	if got := p.tbl.SelectedID(); got != "cloudrun:acme-web/europe-west1/checkout" {
		t.Fatalf("filtered cursor on %q", got)
	}
	send(t, p, "esc")
	if got := p.tbl.SelectedID(); got != "p:gcp/acme-web" {
		t.Fatalf("after esc the cursor is on %q, want the collapsed acme-web", got)
	}
	if v := outline(p); !strings.Contains(v, "▸ acme-web (2)") || strings.Contains(v, "checkout") {
		t.Errorf("acme-web did not stay collapsed:\n%s", v)
	}
}
