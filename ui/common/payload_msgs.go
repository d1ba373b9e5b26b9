package common

import "github.com/fndeck/fndeck/cloud"

// SavePayloadMsg asks to keep the invoke pane's payload under a name for
// the target, so the saved-payload picker offers it again.
type SavePayloadMsg struct {
	Address cloud.Address
	Name    string
	Payload []byte
}
