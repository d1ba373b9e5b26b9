package common

import (
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/lineage"
)

// LineageMsg carries the latest join of functions and local images: per
// image ID the functions running it, per function address its lineage.
// Complete is false while function groups load or functions wait for a
// describe (an image's LIVE count may still grow).
type LineageMsg struct {
	Live      map[string][]lineage.Live
	Functions map[string]*cloud.Lineage
	Complete  bool
}

// JumpToFunctionMsg asks the Functions pane to select the function at
// Address (an image detail's live function, enter).
type JumpToFunctionMsg struct{ Address string }

// JumpToImageMsg asks the Images pane to select the image with ID (a
// function's local image, o).
type JumpToImageMsg struct{ ID string }
