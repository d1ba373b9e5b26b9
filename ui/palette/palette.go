// Package palette is the `:` command palette: every action by name, fuzzy
// matched as the user types, enter runs the one under the cursor.
package palette

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/sahilm/fuzzy"

	"github.com/fndeck/fndeck/internal/sanitize"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/table"
)

// Action is one entry: a name ("images: delete"), the key that also runs it
// (shown as a hint) and what running it does.
type Action struct {
	Name string
	Key  string
	Run  func() tea.Cmd
}

// Model is an open palette.
type Model struct {
	actions []Action
	input   string
	matches []int // indexes into actions, best first
	cursor  int
	theme   common.Theme
}

type names []Action

func (n names) String(i int) string { return n[i].Name }
func (n names) Len() int            { return len(n) }

// New opens a palette over actions.
func New(actions []Action, theme common.Theme) *Model {
	m := &Model{actions: actions, theme: theme}
	m.match()
	return m
}

// Input is the text typed so far.
func (m *Model) Input() string { return m.input }

// Matches returns the names currently listed, best first.
func (m *Model) Matches() []string {
	out := make([]string, len(m.matches))
	for i, j := range m.matches {
		out[i] = m.actions[j].Name
	}
	return out
}

func (m *Model) match() {
	m.matches = m.matches[:0]
	if m.input == "" {
		for i := range m.actions {
			m.matches = append(m.matches, i)
		}
	} else {
		for _, r := range fuzzy.FindFrom(m.input, names(m.actions)) {
			m.matches = append(m.matches, r.Index)
		}
	}
	m.cursor = min(m.cursor, max(len(m.matches)-1, 0))
}

// Update handles a key. done is true when the palette closes; cmd is the
// chosen action's command (nil on esc).
func (m *Model) Update(msg tea.KeyPressMsg) (cmd tea.Cmd, done bool) {
	switch msg.String() {
	case "esc", "ctrl+c":
		return nil, true
	case "enter":
		if len(m.matches) == 0 {
			return nil, false
		}
		a := m.actions[m.matches[m.cursor]]
		if a.Run == nil {
			return nil, true
		}
		return a.Run(), true
	case "up", "ctrl+p", "ctrl+k":
		m.cursor = max(m.cursor-1, 0)
	case "down", "ctrl+n", "ctrl+j", "tab":
		m.cursor = min(m.cursor+1, max(len(m.matches)-1, 0))
	case "backspace":
		if m.input != "" {
			r := []rune(m.input)
			m.input = string(r[:len(r)-1])
			m.cursor = 0
			m.match()
		}
	case "ctrl+u":
		m.input, m.cursor = "", 0
		m.match()
	default:
		if msg.Text != "" {
			m.input += sanitize.Line(msg.Text)
			m.cursor = 0
			m.match()
		}
	}
	return nil, false
}

// View renders the palette in exactly width x height.
func (m *Model) View(width, height int) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	lines := []string{table.Fit(": "+m.input+"█", width, false)}
	rows := height - 1
	start := 0
	if m.cursor >= rows {
		start = m.cursor - rows + 1
	}
	for i := start; i < len(m.matches) && len(lines) < height; i++ {
		a := m.actions[m.matches[i]]
		hint := ""
		if a.Key != "" {
			hint = a.Key
		}
		nameW := max(width-12, 1)
		line := "  " + table.Fit(a.Name, nameW-2, false) + " " + table.Fit(hint, width-nameW-1, true)
		line = table.Fit(line, width, false)
		if i == m.cursor {
			line = m.theme.Selected.Render(line)
		}
		lines = append(lines, line)
	}
	if len(m.matches) == 0 && len(lines) < height {
		lines = append(lines, table.Fit("  no action matches", width, false))
	}
	for len(lines) < height {
		lines = append(lines, strings.Repeat(" ", width))
	}
	return strings.Join(lines, "\n")
}
