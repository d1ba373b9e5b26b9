package functions

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/cloud"
)

func TestExtraDetailLinesShown(t *testing.T) {
	local, _, _ := listers()
	p := newPane(t, []cloud.Lister{local}, 120, 30)
	var asked string
	p.opts.ExtraDetail = func(f cloud.Function) []string {
		asked = f.Address
		return []string{"", "Cold starts", "  app:v2: 3 cold, 5 warm \x1b]52;c;aGk=\x07", "  cold start p50 420 ms, was 610 ms with app:v1"}
	}
	drive(t, p, p.Init())
	selectName(t, p, "echo")
	drive(t, p, func() tea.Msg { return press("enter") })
	raw := p.View()
	v := ansi.Strip(raw)
	if asked != "local:echo" || !strings.Contains(v, "app:v2: 3 cold, 5 warm") || !strings.Contains(v, "was 610 ms with app:v1") {
		t.Fatalf("extra detail for %q not shown:\n%s", asked, v)
	}
	if strings.Contains(raw, "\x1b]52") {
		t.Error("extra detail lines are not sanitized")
	}
}
