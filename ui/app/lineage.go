package app

import (
	"slices"

	tea "charm.land/bubbletea/v2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/lineage"
	"github.com/fndeck/fndeck/ui/common"
)

// lineageState schedules the join of functions with images: at most one
// runs at a time; a change while it runs starts another when it ends. A
// join first goes out without the tag checks (LIVE counts and markers at
// once), then again with them (registry calls, cached per tag).
type lineageState struct {
	imgVer, fnVer int
	ran           bool // a join ran: imgVer and fnVer are what it saw
	running       bool
	dirty         bool
}

type lineageDoneMsg struct {
	res      lineage.Result
	complete bool
	withTags bool
	imgVer   int
	fnVer    int
	imgs     []cloud.Image
	fns      []cloud.Function
}

type imageSnapshotter interface {
	Snapshot() ([]cloud.Image, int, bool)
}

type functionSnapshotter interface {
	// Version is cheap: the app asks it after every message.
	Version() int
	Snapshot() ([]cloud.Function, int, bool)
}

// lineageCheck starts a join when the images or functions changed since
// the last one and none is running.
func (m *Model) lineageCheck() tea.Cmd {
	if m.opts.Lineage == nil {
		return nil
	}
	is, ok1 := m.panes[PaneImages].(imageSnapshotter)
	fs, ok2 := m.panes[PaneFunctions].(functionSnapshotter)
	if !ok1 || !ok2 {
		return nil
	}
	imgs, iv, up := is.Snapshot()
	if !up {
		return nil // the images are not known: nothing to join yet
	}
	if m.lin.ran && iv == m.lin.imgVer && fs.Version() == m.lin.fnVer {
		return nil
	}
	if m.lin.running {
		m.lin.dirty = true
		return nil
	}
	fns, fv, complete := fs.Snapshot()
	m.lin.running, m.lin.dirty, m.lin.ran = true, false, true
	m.lin.imgVer, m.lin.fnVer = iv, fv
	return m.joinCmd(slices.Clone(imgs), fns, complete, false, iv, fv)
}

func (m *Model) joinCmd(imgs []cloud.Image, fns []cloud.Function, complete, withTags bool, iv, fv int) tea.Cmd {
	run, ctx := m.opts.Lineage, m.ctx
	return func() tea.Msg {
		own := slices.Clone(fns) // the join writes each function's Lineage
		res := run(ctx, imgs, own, withTags)
		return lineageDoneMsg{res: res, complete: complete, withTags: withTags, imgVer: iv, fnVer: fv, imgs: imgs, fns: fns}
	}
}

// lineageDone hands a join's answer to the panes, then runs the tag checks
// or the join that a change while it ran asked for.
func (m *Model) lineageDone(msg lineageDoneMsg) tea.Cmd {
	cmds := []tea.Cmd{m.broadcast(common.LineageMsg{Live: msg.res.Live, Functions: msg.res.Functions, Complete: msg.complete})}
	stale := m.lin.dirty || msg.imgVer != m.lin.imgVer || msg.fnVer != m.lin.fnVer
	switch {
	case !msg.withTags && !stale:
		// Same data: now with the source tags checked.
		cmds = append(cmds, m.joinCmd(msg.imgs, msg.fns, msg.complete, true, msg.imgVer, msg.fnVer))
	default:
		m.lin.running = false
		if stale {
			m.lin.ran = false // force the next check to run
			cmds = append(cmds, m.lineageCheck())
		}
	}
	return tea.Batch(cmds...)
}
