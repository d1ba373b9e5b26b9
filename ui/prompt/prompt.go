// Package prompt is the root's modal one-line text prompt.
package prompt

import (
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/fndeck/fndeck/internal/sanitize"
	"github.com/fndeck/fndeck/ui/common"
)

// Model is a prompt; Done reports it should close.
type Model struct {
	req   common.PromptRequestMsg
	input textinput.Model
	theme common.Theme
	done  bool
	// suggested: the value is still the request's own, untouched. The first
	// character typed (or pasted) replaces it, as a selected default does in
	// a dialog: typing a path over "." must not give "./path". Any other key
	// (enter keeps it, arrows and backspace edit it) ends that.
	suggested bool
}

// New shows req.
func New(req common.PromptRequestMsg, theme common.Theme) *Model {
	in := textinput.New()
	in.Prompt = "> "
	in.SetValue(req.Value)
	in.CursorEnd()
	in.Focus()
	return &Model{req: req, input: in, theme: theme, suggested: req.Value != ""}
}

// Done reports whether the prompt was submitted or cancelled.
func (m *Model) Done() bool { return m.done }

// SetTheme restyles the prompt.
func (m *Model) SetTheme(t common.Theme) { m.theme = t }

// Update handles keys; enter submits, esc cancels.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "enter":
			m.done = true
			if m.req.OnSubmit != nil {
				return m.req.OnSubmit(strings.TrimSpace(m.input.Value()))
			}
			return nil
		case "esc":
			m.done = true
			return nil
		}
		if m.suggested && k.Text != "" && k.Mod&^tea.ModShift == 0 {
			m.input.SetValue("")
		}
		m.suggested = false
	}
	if _, ok := msg.(tea.PasteMsg); ok && m.suggested {
		m.input.SetValue("")
		m.suggested = false
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return cmd
}

// View renders the prompt box at most width wide.
func (m *Model) View(width int) string {
	w := min(max(width-4, 20), 100)
	m.input.SetWidth(w - 6)
	var b strings.Builder
	b.WriteString(m.theme.TitleFocus.Render(sanitize.Line(m.req.Title)))
	b.WriteString("\n")
	if m.req.Label != "" {
		b.WriteString(sanitize.Line(m.req.Label) + "\n")
	}
	b.WriteString(m.input.View())
	b.WriteString("\n")
	if m.suggested {
		b.WriteString(m.theme.Muted.Render("typing replaces the suggestion; ←/→ or backspace edit it") + "\n")
	}
	for _, h := range m.req.Help {
		b.WriteString(m.theme.Muted.Render(sanitize.Line(h)) + "\n")
	}
	b.WriteString(m.theme.Muted.Render("enter ok · esc cancel"))
	return lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1).Width(w).Render(b.String())
}
