// Package dialog is the modal yes/no confirmation the root shows before
// delete, quit, deploy and rollback.
package dialog

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/internal/sanitize"
	"github.com/fndeck/fndeck/ui/common"
)

// Result is what the user answered.
type Result int

// Answers.
const (
	Pending Result = iota
	Yes
	No
)

// Model is one confirmation: title, body lines, yes/no. `y`/`enter` on Yes
// confirm; `n`, `esc` and `q` refuse; ←/→/tab move between the buttons.
// The default button is No so a stray enter never destroys anything.
type Model struct {
	Title  string
	Body   []string
	OnYes  tea.Cmd
	yes    bool
	result Result
	theme  common.Theme
}

// New builds a dialog. Title and body are sanitized when drawn.
func New(title string, body []string, onYes tea.Cmd, theme common.Theme) *Model {
	return &Model{Title: title, Body: body, OnYes: onYes, theme: theme}
}

// Result reports the answer so far.
func (m *Model) Result() Result { return m.result }

// SetTheme changes the styles.
func (m *Model) SetTheme(t common.Theme) { m.theme = t }

// Update handles a key; when the dialog closes with Yes it returns OnYes.
func (m *Model) Update(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "y", "Y":
		m.result = Yes
	case "n", "N", "esc", "q":
		m.result = No
	case "left", "right", "tab", "shift+tab", "h", "l":
		m.yes = !m.yes
	case "enter":
		if m.yes {
			m.result = Yes
		} else {
			m.result = No
		}
	}
	if m.result == Yes {
		return m.OnYes
	}
	return nil
}

// View renders the dialog box, at most width cells wide.
func (m *Model) View(width int) string {
	inner := min(max(width-4, 10), 70)
	lines := []string{m.theme.TitleFocus.Render(ansi.Truncate(sanitize.Line(m.Title), inner, "…")), ""}
	for _, b := range m.Body {
		for _, l := range strings.Split(sanitize.Text(b), "\n") {
			lines = append(lines, ansi.Truncate(l, inner, "…"))
		}
	}
	yes, no := "[ yes ]", "[ no ]"
	if m.yes {
		yes = m.theme.Selected.Render(yes)
	} else {
		no = m.theme.Selected.Render(no)
	}
	lines = append(lines, "", yes+"  "+no+"   "+m.theme.Muted.Render("y/n, esc = no"))
	box := lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(m.theme.BorderFocus.GetForeground()).Padding(0, 1)
	return box.Render(strings.Join(lines, "\n"))
}
