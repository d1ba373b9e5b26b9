package common

import tea "charm.land/bubbletea/v2"

// PromptRequestMsg asks the root to show a one-line text prompt (a build
// context, a push destination, a deploy target). OnSubmit runs with the
// entered text on enter; esc cancels and nothing runs.
type PromptRequestMsg struct {
	Title    string
	Label    string
	Value    string
	Help     []string // lines shown under the input (choices, hints)
	OnSubmit func(value string) tea.Cmd
}
