package common

import tea "charm.land/bubbletea/v2"

// Requests a pane emits for work the root cannot do itself. The root hands
// them to Options.Handle (the lead wires it to the task runner); without a
// handler the footer says the action is not available yet.

// BuildRequestMsg asks to build the image (a repo:tag or ID).
type BuildRequestMsg struct{ Image string }

// PushRequestMsg asks to push a local image.
type PushRequestMsg struct{ Image string }

// DeployRequestMsg asks to deploy an image; Target is an address or "" to ask.
type DeployRequestMsg struct {
	Image  string
	Target string
}

// InvokeRequestMsg asks to open the invoke editor for a function address.
type InvokeRequestMsg struct{ Address string }

// LogsRequestMsg asks to tail a function's logs.
type LogsRequestMsg struct{ Address string }

// RollbackRequestMsg asks to roll a function back.
type RollbackRequestMsg struct{ Address string }

// FunctionDeployRequestMsg asks to deploy to an existing function.
type FunctionDeployRequestMsg struct{ Address string }

// ConfirmRequestMsg asks the root to show a confirmation dialog; Yes runs
// when the user confirms, nothing runs otherwise. Panes use it because the
// dialog is modal and owned by the root.
type ConfirmRequestMsg struct {
	Title string
	Body  []string
	Yes   tea.Cmd
}

// ShowOutputMsg focuses the output pane (key 4). When Pane is not nil it
// replaces what the output slot shows (an invocation, a log tail, a task).
type ShowOutputMsg struct{ Pane Pane }

// FocusMsg focuses a pane by name: "images", "functions", "tasks", "output".
type FocusMsg struct{ Pane string }

// ThemeMsg carries a new theme (the terminal reported its background) to
// every pane; panes that keep their own styles rebuild them.
type ThemeMsg struct{ Theme Theme }
