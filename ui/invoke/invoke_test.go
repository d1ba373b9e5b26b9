package invoke

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/ui/common"
)

func TestValidatePayload(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{`{"a":1}`, ""},
		{` [1, 2] `, ""},
		{`"just a string"`, ""},
		{`{"a":}`, "invalid JSON payload at line 1, column 6: invalid character '}' looking for beginning of value"},
		{"{\n  \"a\": 1,\n  \"b\": x\n}", "invalid JSON payload at line 3, column 8: invalid character 'x' looking for beginning of value"},
		{`{"a":1`, "invalid JSON payload at line 1, column 7: unexpected end of JSON input"},
		{`{} {}`, "invalid JSON payload at line 1, column 4: invalid character '{' after top-level value"},
		{"{\n\"żółw\": tru}", "invalid JSON payload at line 2, column 12: invalid character '}' in literal true (expecting 'e')"},
		{"  \n", "invalid JSON payload: empty (send {} for an empty object)"},
	} {
		err := ValidatePayload([]byte(tc.in))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("ValidatePayload(%q) = %q, want %q", tc.in, got, tc.want)
		}
		var pe *PayloadError
		if err != nil && !errors.As(err, &pe) {
			t.Errorf("error %T is not a *PayloadError", err)
		}
	}
}

var fn = cloud.Address{Provider: cloud.Local, Function: "hello"}

func newPane(opts Options) *Model {
	opts.Theme = common.NewTheme(true, true)
	if opts.Address.Function == "" {
		opts.Address = fn
	}
	opts.Now = func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) }
	m := New(opts)
	m.SetSize(70, 24)
	m.SetFocused(true)
	return m
}

func press(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "ctrl+s":
		return tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	}
	return tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
}

func typeIn(m *Model, s string) {
	for _, r := range s {
		if r == '\n' {
			m.Update(press("enter"))
			continue
		}
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// msgOf runs cmd and returns its message; for a batch, the first message
// that is not the elapsed tick.
func msgOf(t *testing.T, cmd tea.Cmd) tea.Msg {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command")
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			if c == nil {
				continue
			}
			if mm := c(); mm != nil {
				if _, tick := mm.(tickMsg); !tick {
					return mm
				}
			}
		}
		return nil
	}
	return msg
}

func TestEditorValidatesAsYouTypeAndSends(t *testing.T) {
	m := newPane(Options{})
	m.Edit()
	if !m.Capturing() {
		t.Fatal("editing must capture keys")
	}
	m.editor.SetValue("")
	typeIn(m, "{\n\"a\": 1,\n\"b\": ")
	if m.Invalid() == nil || !strings.Contains(m.Invalid().Error(), "at line 3, column") {
		t.Fatalf("partial payload: %v", m.Invalid())
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "✗ invalid JSON at line 3, column") {
		t.Fatalf("validation not shown:\n%s", v)
	}
	// ctrl+s with invalid JSON reports the error and sends nothing.
	_, cmd := m.Update(press("ctrl+s"))
	if em, ok := msgOf(t, cmd).(common.ErrorMsg); !ok || !strings.Contains(em.Err.Error(), "line 3") {
		t.Fatalf("invalid send: %+v", em)
	}
	typeIn(m, "true\n}")
	if m.Invalid() != nil {
		t.Fatalf("complete payload invalid: %v (%q)", m.Invalid(), m.Payload())
	}
	_, cmd = m.Update(press("ctrl+s"))
	send, ok := msgOf(t, cmd).(common.InvokeSendMsg)
	if !ok || send.Address != fn {
		t.Fatalf("send msg %+v", send)
	}
	var v map[string]any
	if err := json.Unmarshal(send.Payload, &v); err != nil || v["b"] != true {
		t.Fatalf("payload %q", send.Payload)
	}
	if send.Method != "" || send.Headers != nil {
		t.Fatal("non-HTTP target got HTTP fields")
	}
}

func TestPickSavedAndHistory(t *testing.T) {
	m := newPane(Options{
		Saved:   map[string]string{"ping": `{"ping":true}`, "order": `{"id": 7}`},
		History: []string{"{\n  \"last\": 1\n}"},
	})
	m.Update(press("p"))
	if !m.Capturing() {
		t.Fatal("picker must capture keys")
	}
	v := ansi.Strip(m.View())
	for _, want := range []string{"saved  order", "saved  ping", `hist  1 {"last":1}`} {
		if !strings.Contains(v, want) {
			t.Fatalf("picker lacks %q:\n%s", want, v)
		}
	}
	m.Update(press("j"))
	m.Update(press("enter"))
	if m.Payload() != `{"ping":true}` {
		t.Fatalf("picked %q", m.Payload())
	}
	m.Update(press("p"))
	m.Update(press("j"))
	m.Update(press("j"))
	m.Update(press("enter"))
	if !strings.Contains(m.Payload(), `"last": 1`) {
		t.Fatalf("history pick %q", m.Payload())
	}
	// enter from normal mode sends.
	_, cmd := m.Update(press("enter"))
	if _, ok := msgOf(t, cmd).(common.InvokeSendMsg); !ok {
		t.Fatal("enter in normal mode must send")
	}
}

func TestHTTPFields(t *testing.T) {
	m := newPane(Options{HTTP: true, Payload: " "})
	m.Update(press("m")) // POST -> GET
	m.Update(press("u"))
	m.Update(press("ctrl+u"))
	typeIn(m, "items/7")
	m.Update(press("enter"))
	m.Update(press("H"))
	typeIn(m, "X-Trace: abc; Accept: application/json")
	m.Update(press("enter"))
	if v := ansi.Strip(m.View()); !strings.Contains(v, "GET /items/7  headers: X-Trace: abc; Accept: application/json") {
		t.Fatalf("fields not shown:\n%s", v)
	}
	_, cmd := m.Update(press("enter"))
	send := msgOf(t, cmd).(common.InvokeSendMsg)
	want := http.Header{"X-Trace": {"abc"}, "Accept": {"application/json"}}
	if send.Method != "GET" || send.Path != "/items/7" || !reflect.DeepEqual(send.Headers, want) {
		t.Fatalf("send %+v", send)
	}
	// A bad header is refused with a message saying what is wrong.
	m.Update(InvokeDoneForTest(fn))
	m.Update(press("H"))
	m.Update(press("ctrl+u"))
	typeIn(m, "no colon here")
	_, cmd = m.Update(press("enter"))
	if em, ok := msgOf(t, cmd).(common.ErrorMsg); !ok || !strings.Contains(em.Err.Error(), `invalid header "no colon here"`) {
		t.Fatalf("bad header: %+v", em)
	}
}

// InvokeDoneForTest ends a running invocation so another can be sent.
func InvokeDoneForTest(a cloud.Address) common.InvokeDoneMsg {
	return common.InvokeDoneMsg{Address: a, Result: cloud.InvokeResult{StatusCode: 200}}
}

func TestStreamingAndResult(t *testing.T) {
	m := newPane(Options{})
	_, cmd := m.Update(press("enter"))
	msgOf(t, cmd)
	m.Update(common.InvokeChunkMsg{Address: fn, Data: []byte("chunk-1 ")})
	m.Update(common.InvokeChunkMsg{Address: cloud.Address{Provider: cloud.Local, Function: "other"}, Data: []byte("not mine")})
	m.Update(common.InvokeChunkMsg{Address: fn, Data: []byte("chunk-2 \x1b]52;c;aGk=\x07")})
	v := m.View()
	if !strings.Contains(v, "chunk-1 chunk-2") || strings.Contains(v, "not mine") || strings.Contains(v, "\x1b]52") {
		t.Fatalf("stream view:\n%q", v)
	}
	m.Update(common.InvokeDoneMsg{Address: fn, Result: cloud.InvokeResult{
		StatusCode: 200, FunctionError: "Unhandled", RequestID: "req-1", ElapsedMS: 1234,
		Body:    []byte(`{"errorMessage":"boom","errorType":"Error"}`),
		LogTail: "START RequestId: req-1\nboom\nEND RequestId: req-1\n",
		Report:  &cloud.Report{DurationMS: 12.3, BilledMS: 13, InitMS: 120.5, MemoryMB: 128, MaxMemoryMB: 34},
	}})
	golden.RequireEqual(t, m.View())
	// An error from the call itself is shown, with the hint.
	_, cmd = m.Update(press("enter"))
	msgOf(t, cmd)
	m.Update(common.InvokeDoneMsg{Address: fn, Err: cloud.WithHint(errors.New("invoking local:hello: container not running"), "fndeck deploy local:hello")})
	v = ansi.Strip(m.View())
	if !strings.Contains(v, "✗ invoking local:hello: container not running") || !strings.Contains(v, "hint: fndeck deploy local:hello") {
		t.Fatalf("error view:\n%s", v)
	}
}

func TestGoldenEditor(t *testing.T) {
	m := newPane(Options{Payload: "{\n  \"name\": \"x\",\n  \"n\": \n}"})
	golden.RequireEqual(t, m.View())
}

func TestElapsedTickOnlyWhileRunning(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	m := newPane(Options{})
	m.now = func() time.Time { return now }
	_, cmd := m.Update(press("enter"))
	var tick tickMsg
	found := false
	for _, c := range cmd().(tea.BatchMsg) {
		if tm, ok := c().(tickMsg); ok {
			tick, found = tm, true
		}
	}
	if !found {
		t.Fatal("sending must start the elapsed tick")
	}
	now = now.Add(1500 * time.Millisecond)
	if _, next := m.Update(tick); next == nil {
		t.Fatal("tick not re-armed while running")
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "invoking… 1.5s") {
		t.Fatalf("live elapsed not shown:\n%s", v)
	}
	m.Update(common.InvokeDoneMsg{Address: fn, Result: cloud.InvokeResult{StatusCode: 200}})
	if _, next := m.Update(tick); next != nil {
		t.Fatal("tick kept running after the result arrived")
	}
}

func TestGoldenHTTPPicker(t *testing.T) {
	m := newPane(Options{
		Address: cloud.Address{Provider: cloud.GCP, Project: "p", Region: "europe-west1", Function: "api"},
		HTTP:    true,
		Saved:   map[string]string{"create": `{"name":"x"}`, "list": ""},
		History: []string{`{"a": 1}`, "plain text body"},
	})
	m.Update(press("m"))
	m.Update(press("p"))
	m.Update(press("j"))
	golden.RequireEqual(t, m.View())
}

func TestPasteIsValidated(t *testing.T) {
	m := newPane(Options{})
	m.Edit()
	m.editor.SetValue("")
	m.Update(tea.PasteMsg{Content: "{\"a\": [1, 2,]}"})
	if err := m.Invalid(); err == nil || !strings.Contains(err.Error(), "line 1, column 13") {
		t.Fatalf("pasted payload: %v (%q)", err, m.Payload())
	}
}
