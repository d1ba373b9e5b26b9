package workflow

import (
	"context"
	"strings"
	"testing"

	"github.com/fndeck/fndeck/actions"
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/ui/common"
)

// A payload the invoke pane saves lands in the invoke store and is offered
// again, beside the project's; fndeck.yaml wins a name both have.
func TestSavedPayloadsRoundTrip(t *testing.T) {
	store := actions.NewInvokeStore(t.TempDir(), nil)
	f := New(Deps{Ctx: context.Background(), Runner: &recRunner{}, SavedPayloads: store})
	addr := cloud.Address{Provider: cloud.AWS, Region: "eu-west-1", Function: "f"}
	msgs := drain(t, f, f.Handle(common.SavePayloadMsg{Address: addr, Name: "sqs", Payload: []byte(`{"Records":[]}`)}))
	if st, ok := find[common.StatusMsg](msgs); !ok || !strings.Contains(st.Text, "saved payload sqs") {
		t.Fatalf("messages %v", msgs)
	}
	got := f.withStoredPayloads(addr, map[string]string{"small": "{}", "sqs": `{"from":"yaml"}`})
	if got["small"] != "{}" || got["sqs"] != `{"from":"yaml"}` {
		t.Errorf("merged %v", got)
	}
	if got := f.withStoredPayloads(addr, nil); got["sqs"] != `{"Records":[]}` {
		t.Errorf("stored payload not offered: %v", got)
	}
	msgs = drain(t, f, f.Handle(common.SavePayloadMsg{Address: addr, Name: "../x", Payload: []byte(`{}`)}))
	if e, ok := find[common.ErrorMsg](msgs); !ok || !strings.Contains(e.Err.Error(), "saving payload") {
		t.Errorf("bad name: %v", msgs)
	}
}
