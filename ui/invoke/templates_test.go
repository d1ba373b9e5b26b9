package invoke

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/ui/common"
)

// pickLabel moves the picker to the item whose label contains s and picks it.
func pickLabel(t *testing.T, m *Model, s string) {
	t.Helper()
	m.Update(press("p"))
	for i := 0; i < 40; i++ {
		if m.pick < len(m.items) && strings.Contains(m.items[m.pick].label, s) {
			m.Update(press("enter"))
			return
		}
		m.Update(press("j"))
	}
	t.Fatalf("no picker item %q in %v", s, m.items)
}

func TestEventTemplatesFilledEditedSentAndSaved(t *testing.T) {
	addr := cloud.Address{Provider: cloud.AWS, Region: "eu-west-1", Function: "thumbnailer"}
	m := newPane(Options{Address: addr})
	pickLabel(t, m, "SQS message")
	var ev struct {
		Records []struct {
			EventSourceARN string `json:"eventSourceARN"`
			AWSRegion      string `json:"awsRegion"`
		}
	}
	if err := json.Unmarshal([]byte(m.editor.Value()), &ev); err != nil || len(ev.Records) != 1 {
		t.Fatalf("the SQS template did not become the payload: %v\n%s", err, m.editor.Value())
	}
	if r := ev.Records[0]; r.AWSRegion != "eu-west-1" || !strings.Contains(r.EventSourceARN, ":eu-west-1:") || !strings.Contains(r.EventSourceARN, "thumbnailer") {
		t.Errorf("not filled with the target's names: %+v", r)
	}
	// Editable before sending: change it, and what is sent is the edit.
	m.Update(press("e"))
	m.editor.SetValue(strings.Replace(m.editor.Value(), `"awsRegion": "eu-west-1"`, `"awsRegion": "eu-west-2"`, 1))
	m.Update(press("esc"))
	send, ok := msgOf(t, m.send()).(common.InvokeSendMsg)
	if !ok || !strings.Contains(string(send.Payload), `"awsRegion": "eu-west-2"`) {
		t.Fatalf("sent %+v", send)
	}
	m.Update(common.InvokeDoneMsg{Address: addr, Result: cloud.InvokeResult{StatusCode: 200}})

	// Savable: S, a name, enter.
	m.Update(press("S"))
	if v := ansi.Strip(m.View()); !strings.Contains(v, "save payload as:") {
		t.Fatalf("no name prompt:\n%s", v)
	}
	typeIn(m, "sqs-eu2")
	_, cmd := m.Update(press("enter"))
	save, ok := msgOf(t, cmd).(common.SavePayloadMsg)
	if !ok || save.Name != "sqs-eu2" || save.Address != addr || !strings.Contains(string(save.Payload), "eu-west-2") {
		t.Fatalf("save message %+v", save)
	}
	pickLabel(t, m, "saved  sqs-eu2")
	if !strings.Contains(m.editor.Value(), "eu-west-2") {
		t.Errorf("the saved payload is not offered back")
	}
	// A bad name is refused with the rule.
	m.Update(press("S"))
	typeIn(m, "../x")
	_, cmd = m.Update(press("enter"))
	if e, ok := msgOf(t, cmd).(common.ErrorMsg); !ok || !strings.Contains(e.Err.Error(), "letters, digits") {
		t.Errorf("bad name: %+v", e)
	}
}

func TestHTTPTemplateSetsHeaders(t *testing.T) {
	addr := cloud.Address{Provider: cloud.GCP, Project: "acme-web", Region: "us-central1", Function: "api"}
	m := newPane(Options{Address: addr, HTTP: true})
	m.Update(press("p"))
	for _, it := range m.items {
		if strings.Contains(it.label, "SQS") {
			t.Errorf("an HTTP target is offered a Lambda event: %s", it.label)
		}
	}
	m.Update(press("esc"))
	pickLabel(t, m, "Cloud Storage")
	if !strings.Contains(m.editor.Value(), `"bucket": "acme-web-uploads"`) || m.headers != "Content-Type: application/cloudevents+json" {
		t.Errorf("payload %s\nheaders %q", m.editor.Value(), m.headers)
	}
	send, ok := msgOf(t, m.send()).(common.InvokeSendMsg)
	if !ok || send.Headers.Get("Content-Type") != "application/cloudevents+json" {
		t.Errorf("sent headers %v", send.Headers)
	}
}
