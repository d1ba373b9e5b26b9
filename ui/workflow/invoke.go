package workflow

import (
	"context"
	"fmt"
	"sync/atomic"

	tea "charm.land/bubbletea/v2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/invoke"
)

// invokeRun carries one in-flight invocation's chunks and result from the
// task goroutine to the UI, one message at a time.
type invokeRun struct {
	addr   cloud.Address
	events chan invokeEvent
}

type invokeEvent struct {
	chunk []byte
	done  bool
	res   cloud.InvokeResult
	err   error
}

// invokeNextMsg is one event of an invocation, for Handle to pass on.
type invokeNextMsg struct {
	run *invokeRun
	ev  invokeEvent
}

func waitInvoke(run *invokeRun) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-run.events
		if !ok {
			return nil
		}
		return invokeNextMsg{run: run, ev: ev}
	}
}

func (f *Flow) openInvoke(address string) tea.Cmd {
	addr, err := cloud.ParseAddress(address)
	if err != nil {
		return fail(err)
	}
	if _, ok := f.d.Backends(addr.Provider).(cloud.Invoker); !ok {
		return fail(fmt.Errorf("invoke: the %s provider is not configured or cannot invoke", addr.Provider))
	}
	ctx := f.d.Ctx
	return func() tea.Msg {
		isHTTP := addr.Provider == cloud.GCP
		if addr.Provider == cloud.Local {
			if d, ok := f.d.Backends(addr.Provider).(cloud.Describer); ok {
				if fn, err := d.Describe(ctx, addr); err == nil && fn.Mode == "cloudrun" {
					isHTTP = true
				}
			}
		}
		var saved map[string]string
		if f.d.Payloads != nil {
			saved = f.d.Payloads(addr)
		}
		saved = f.withStoredPayloads(addr, saved)
		var history []string
		if f.d.Invokes != nil {
			history = f.d.Invokes.RecentPayloads(ctx, addr)
		}
		f.mu.Lock()
		pane, ok := f.panes[addr.String()]
		if !ok {
			pane = invoke.New(invoke.Options{Theme: f.d.Theme, Address: addr, HTTP: isHTTP, Saved: saved, History: history})
			f.panes[addr.String()] = pane
		} else {
			pane.SetSaved(saved)
			pane.SetHistory(history)
		}
		f.mu.Unlock()
		return common.ShowOutputMsg{Pane: pane}
	}
}

func (f *Flow) sendInvoke(msg common.InvokeSendMsg) tea.Cmd {
	inv, ok := f.d.Backends(msg.Address.Provider).(cloud.Invoker)
	if !ok {
		return fail(fmt.Errorf("invoke: the %s provider cannot invoke", msg.Address.Provider))
	}
	run := &invokeRun{addr: msg.Address, events: make(chan invokeEvent, 64)}
	req := cloud.InvokeRequest{Target: msg.Address, Payload: msg.Payload, Method: msg.Method, Path: msg.Path, Headers: msg.Headers}
	var runs atomic.Int32
	id := f.d.Runner.Submit("invoke", "", "invoke "+msg.Address.String(), func(ctx context.Context, out cloud.Sink) error {
		// The first run feeds the invoke pane. A retry (R in Tasks) runs
		// this again after the pane stopped listening: its result goes to
		// the task's output only.
		first := runs.Add(1) == 1
		if first {
			defer close(run.events)
		}
		res, err := inv.Invoke(ctx, req, func(b []byte) {
			if !first {
				return
			}
			c := append([]byte(nil), b...)
			select {
			case run.events <- invokeEvent{chunk: c}:
			case <-ctx.Done():
			}
		})
		if err == nil {
			f.annotateCost(ctx, msg.Address, &res)
		}
		if f.d.Invokes != nil {
			f.d.Invokes.Append(ctx, msg.Address, msg.Payload, res, err)
		}
		if err == nil {
			out.Line(fmt.Sprintf("status %d%s", res.StatusCode, map[bool]string{true: ", function error: " + res.FunctionError, false: ""}[res.FunctionError != ""]))
			if res.Report != nil {
				out.Line(fmt.Sprintf("duration %.2f ms, billed %.0f ms, init %.2f ms, memory %d/%d MB",
					res.Report.DurationMS, res.Report.BilledMS, res.Report.InitMS, res.Report.MaxMemoryMB, res.Report.MemoryMB))
			}
			if res.CostNote != "" {
				out.Line(costLine(res))
			}
			if !first {
				out.Line("response: " + string(res.Response))
			}
		}
		if first {
			run.events <- invokeEvent{done: true, res: res, err: err}
		}
		return err
	})
	return tea.Batch(waitInvoke(run), status("invoking %s (task %s)", msg.Address, id))
}

func (f *Flow) nextInvoke(msg invokeNextMsg) tea.Cmd {
	if msg.ev.done {
		return common.MsgCmd(common.InvokeDoneMsg{Address: msg.run.addr, Result: msg.ev.res, Err: msg.ev.err})
	}
	return tea.Batch(common.MsgCmd(common.InvokeChunkMsg{Address: msg.run.addr, Data: msg.ev.chunk}), waitInvoke(msg.run))
}

// compile-time check that the invoke pane is a pane.
var _ common.Pane = (*invoke.Model)(nil)
