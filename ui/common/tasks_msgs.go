package common

import "github.com/fndeck/fndeck/internal/task"

// ShowTaskOutputMsg asks the root to show a task's output in the output pane
// and focus it (Tasks pane `enter`).
type ShowTaskOutputMsg struct{ ID task.ID }

// SelectedTaskMsg reports that the Tasks pane cursor moved to a task, so the
// output pane can follow the selection without taking focus. Cmds deliver
// concurrently, so a quick j-j can deliver an older selection last: the root
// should act only when ID equals the Tasks pane's Selected().
type SelectedTaskMsg struct{ ID task.ID }
