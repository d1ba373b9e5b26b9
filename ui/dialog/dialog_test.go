package dialog

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/ui/common"
)

type doneMsg struct{}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	}
	return tea.KeyPressMsg{Code: []rune(s)[0], Text: s}
}

func TestAnswers(t *testing.T) {
	yes := func() tea.Msg { return doneMsg{} }
	cases := []struct {
		keys []string
		want Result
		cmd  bool
	}{
		{[]string{"y"}, Yes, true},
		{[]string{"n"}, No, false},
		{[]string{"esc"}, No, false},
		{[]string{"enter"}, No, false}, // default is No
		{[]string{"left", "enter"}, Yes, true},
		{[]string{"x"}, Pending, false},
	}
	for _, c := range cases {
		d := New("Delete?", nil, yes, common.NewTheme(true, true))
		var cmd tea.Cmd
		for _, k := range c.keys {
			cmd = d.Update(press(k))
		}
		if d.Result() != c.want || (cmd != nil) != c.cmd {
			t.Errorf("%v: result %v cmd %v", c.keys, d.Result(), cmd != nil)
		}
	}
}

func TestViewSanitizesAndFits(t *testing.T) {
	d := New("Delete \x1b]52;c;ZXZpbA==\x07image?", []string{"repo:\x1b[2Jtag", strings.Repeat("x", 200)}, nil, common.NewTheme(true, true))
	v := d.View(50)
	if strings.Contains(v, "\x1b]52") || strings.Contains(v, "\x1b[2J") {
		t.Fatalf("escape sequence reached the view: %q", v)
	}
	for _, l := range strings.Split(v, "\n") {
		if ansi.StringWidth(l) > 50 {
			t.Errorf("line wider than 50: %q", l)
		}
	}
	if !strings.Contains(v, "repo:tag") {
		t.Errorf("body missing: %s", v)
	}
}
