// Package common holds what every fndeck UI component shares: the Pane
// contract the root model drives, the theme, and cross-pane messages.
package common

import (
	"image/color"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// Pane is one component of the screen (Images, Functions, Tasks, output,
// invoke). The root pushes sizes down, routes keys to the focused pane and
// every other message to all panes (which filter by their own IDs).
type Pane interface {
	// Update handles a message; key messages arrive only when focused.
	Update(msg tea.Msg) (Pane, tea.Cmd)
	// View renders exactly the size last given to SetSize.
	View() string
	SetSize(width, height int)
	SetFocused(focused bool)
	// Title is the pane's header text (may include counts).
	Title() string
	// Keys lists the pane's bindings for the footer hints and `?` help.
	Keys() []key.Binding
	// Capturing reports whether the pane is consuming raw keystrokes (a filter
	// prompt, a search box, an editor) so global keys must not fire.
	Capturing() bool
}

// Theme holds the styles every component draws with. Build it with NewTheme;
// with NO_COLOR or --no-color every style is plain (bold/reverse kept).
type Theme struct {
	Dark    bool
	NoColor bool

	Base        lipgloss.Style
	Muted       lipgloss.Style
	Title       lipgloss.Style
	TitleFocus  lipgloss.Style
	Border      lipgloss.Style
	BorderFocus lipgloss.Style
	Selected    lipgloss.Style // cursor row in a focused pane
	SelectedDim lipgloss.Style // cursor row in an unfocused pane
	Header      lipgloss.Style // table header row
	Match       lipgloss.Style // search / filter highlight
	Error       lipgloss.Style
	Warn        lipgloss.Style
	OK          lipgloss.Style
	Key         lipgloss.Style // key names in hints
	Accent      lipgloss.Style
}

// NewTheme builds the theme for a dark or light background.
func NewTheme(dark, noColor bool) Theme {
	t := Theme{Dark: dark, NoColor: noColor}
	if noColor {
		plain := lipgloss.NewStyle()
		t.Base, t.Muted, t.Border, t.BorderFocus = plain, plain, plain, plain
		t.Title = plain
		t.TitleFocus = plain.Bold(true)
		t.Selected = plain.Reverse(true)
		t.SelectedDim = plain.Underline(true)
		t.Header = plain.Bold(true)
		t.Match = plain.Underline(true).Bold(true)
		t.Error, t.Warn, t.OK, t.Key, t.Accent = plain.Bold(true), plain, plain, plain.Bold(true), plain
		return t
	}
	pick := func(d, l string) color.Color {
		if dark {
			return lipgloss.Color(d)
		}
		return lipgloss.Color(l)
	}
	t.Base = lipgloss.NewStyle()
	t.Muted = lipgloss.NewStyle().Foreground(pick("245", "243"))
	t.Title = lipgloss.NewStyle().Foreground(pick("250", "238"))
	t.TitleFocus = lipgloss.NewStyle().Bold(true).Foreground(pick("86", "25"))
	t.Border = lipgloss.NewStyle().Foreground(pick("240", "250"))
	t.BorderFocus = lipgloss.NewStyle().Foreground(pick("86", "25"))
	t.Selected = lipgloss.NewStyle().Foreground(pick("230", "231")).Background(pick("25", "25"))
	t.SelectedDim = lipgloss.NewStyle().Background(pick("237", "254"))
	t.Header = lipgloss.NewStyle().Bold(true).Foreground(pick("250", "238"))
	t.Match = lipgloss.NewStyle().Foreground(pick("16", "16")).Background(pick("220", "220"))
	t.Error = lipgloss.NewStyle().Foreground(pick("203", "160"))
	t.Warn = lipgloss.NewStyle().Foreground(pick("214", "130"))
	t.OK = lipgloss.NewStyle().Foreground(pick("78", "28"))
	t.Key = lipgloss.NewStyle().Bold(true).Foreground(pick("81", "26"))
	t.Accent = lipgloss.NewStyle().Foreground(pick("141", "91"))
	return t
}

// StatusMsg sets the footer status line.
type StatusMsg struct{ Text string }

// ErrorMsg records the footer's last error. Err text comes from outside and
// is sanitized by the footer.
type ErrorMsg struct {
	Err  error
	Hint string
}

// MsgCmd returns a command that delivers m.
func MsgCmd(m tea.Msg) tea.Cmd { return func() tea.Msg { return m } }
