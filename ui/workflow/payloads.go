package workflow

import (
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/ui/common"
)

// PayloadStore keeps named payloads per target (actions.InvokeStore).
type PayloadStore interface {
	SavePayload(target cloud.Address, name string, body []byte) error
	Payloads(target cloud.Address) (map[string][]byte, error)
}

// withStoredPayloads adds the payloads saved from the invoke pane to the
// project's (fndeck.yaml wins on a name both have). It returns a new map.
func (f *Flow) withStoredPayloads(addr cloud.Address, project map[string]string) map[string]string {
	out := make(map[string]string, len(project))
	if f.d.SavedPayloads != nil {
		if stored, err := f.d.SavedPayloads.Payloads(addr); err == nil {
			for k, v := range stored {
				out[k] = string(v)
			}
		}
	}
	for k, v := range project {
		out[k] = v
	}
	return out
}

// savePayload stores a payload the invoke pane named.
func (f *Flow) savePayload(msg common.SavePayloadMsg) tea.Cmd {
	if f.d.SavedPayloads == nil {
		return fail(errors.New("saving payloads is not available"))
	}
	return func() tea.Msg {
		if err := f.d.SavedPayloads.SavePayload(msg.Address, msg.Name, msg.Payload); err != nil {
			return common.ErrorMsg{Err: err}
		}
		return common.StatusMsg{Text: fmt.Sprintf("saved payload %s for %s", msg.Name, msg.Address)}
	}
}
