package invoke

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/ui/common"
)

// invokeRoot hosts the invoke pane the way the root does and plays the
// backend: a send is answered with two chunks and a result.
type invokeRoot struct {
	pane  *Model
	sent  atomic.Pointer[common.InvokeSendMsg]
	frame atomic.Pointer[string]
}

func (r *invokeRoot) Init() tea.Cmd { return r.pane.Edit() }

func (r *invokeRoot) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		r.pane.SetSize(msg.Width, msg.Height)
		return r, nil
	case tea.KeyPressMsg:
		if msg.String() == "ctrl+c" {
			return r, tea.Quit
		}
	case common.InvokeSendMsg:
		r.sent.Store(&msg)
		a := msg.Address
		return r, tea.Sequence(
			func() tea.Msg { return common.InvokeChunkMsg{Address: a, Data: []byte(`{"echo":`)} },
			func() tea.Msg { return common.InvokeChunkMsg{Address: a, Data: msg.Payload} },
			func() tea.Msg {
				body := append(append([]byte(`{"echo":`), msg.Payload...), '}')
				return common.InvokeDoneMsg{Address: a, Result: cloud.InvokeResult{
					StatusCode: 200, Body: body, RequestID: "r-1", ElapsedMS: 8,
					Report: &cloud.Report{DurationMS: 2, BilledMS: 2, InitMS: 50, MemoryMB: 128, MaxMemoryMB: 20},
				}}
			},
		)
	}
	_, cmd := r.pane.Update(msg)
	return r, cmd
}

func (r *invokeRoot) View() tea.View {
	s := r.pane.View()
	r.frame.Store(&s)
	return tea.NewView(s)
}

func (r *invokeRoot) waitFrame(t *testing.T, what string, cond func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if f := r.frame.Load(); f != nil && cond(ansi.Strip(*f)) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last frame:\n%s", what, ansi.Strip(*r.frame.Load()))
}

func TestFlowTypeValidateSend(t *testing.T) {
	pane := New(Options{Theme: common.NewTheme(true, true), Address: fn, Payload: " "})
	root := &invokeRoot{pane: pane}
	tm := teatest.NewTestModel(t, root, teatest.WithInitialTermSize(80, 30))
	t.Cleanup(func() { _ = tm.Quit() })

	// Clear the initial blank payload, then type an unfinished object.
	tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyDelete})
	tm.Type(`{"user":`)
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	tm.Type(`  "ann",}`)
	root.waitFrame(t, "a line:column error", func(f string) bool {
		return strings.Contains(f, "✗ invalid JSON at line 2, column 9: invalid character '}'")
	})
	// ctrl+s with the error sends nothing.
	tm.Send(tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl})
	time.Sleep(50 * time.Millisecond)
	if root.sent.Load() != nil {
		t.Fatal("an invalid payload was sent")
	}
	// Fix it: remove the '}' and the ',' then close the object.
	tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	tm.Type("}")
	root.waitFrame(t, "valid", func(f string) bool { return strings.Contains(f, "✓ valid JSON") })
	tm.Send(tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl})
	root.waitFrame(t, "the result", func(f string) bool {
		return strings.Contains(f, "status 200") && strings.Contains(f, `"user": "ann"`) &&
			strings.Contains(f, "init 50.0 ms (cold start)")
	})
	sent := root.sent.Load()
	if sent == nil || strings.ReplaceAll(string(sent.Payload), " ", "") != "{\"user\":\n\"ann\"}" {
		t.Fatalf("sent %+v", sent)
	}
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	tm.WaitFinished(t, teatest.WithFinalTimeout(30*time.Second))
}
