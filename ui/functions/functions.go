// Over 600 lines, on purpose for now: the Functions pane's tree, folding,
// filter, lineage marker and detail share one model's state; the split by
// concern is issue 19's part 4, due once no branch edits it.

// Package functions is the Functions pane: every configured source's
// functions in a collapsible tree provider → account/project → region. Each
// source loads on its own and shows its own error and hint inline; keys
// for invoke/logs/deploy/rollback/remove are bound only when the selected
// function's backend supports them (k9s style).
//
// Regions that answered with no function fold into one dim line per
// account/project ("39 regions without services"), which enter or space
// opens and closes; a region that failed never folds, so its error and hint
// stay on screen. While a filter is set the tree shows only the groups that
// hold a match, every one of them open, and no fold line; clearing the
// filter brings back the folds as they were.
package functions

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/lineage"
	"github.com/fndeck/fndeck/internal/sanitize"
	"github.com/fndeck/fndeck/internal/text"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/table"
)

const (
	spinnerEvery  = 120 * time.Millisecond
	describeBatch = 32
)

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// DefaultUnconfigured says what to configure for a provider with no Lister.
var DefaultUnconfigured = map[cloud.Provider]string{
	cloud.AWS: "AWS: no credentials found — run `aws configure` or set aws.profiles",
	cloud.GCP: "GCP: no credentials found — run `gcloud auth application-default login` or set gcp.projects",
}

// Options configures the pane.
type Options struct {
	Ctx     context.Context
	Listers []cloud.Lister
	Theme   common.Theme
	Keys    map[string][]string
	// Unconfigured overrides, per provider without a Lister, what the pane
	// tells the user to configure (nil → DefaultUnconfigured).
	Unconfigured map[cloud.Provider]string
	Now          func() time.Time
	// ExtraDetail, when set, adds lines to a function's detail (the cold
	// starts per image, actions.ColdStartLines).
	ExtraDetail func(cloud.Function) []string
}

// KeyMap holds the pane's bindings.
type KeyMap struct {
	Detail, Toggle, Invoke, Logs, Deploy, Rollback, Refresh, Remove, Filter, Back, Image key.Binding
}

var actionNames = []string{"detail", "toggle", "invoke", "logs", "deploy", "rollback", "refresh", "remove", "filter", "back", "image"}

// ActionNames lists the remappable action names ("functions.invoke", …).
func ActionNames() []string {
	out := make([]string, len(actionNames))
	for i, n := range actionNames {
		out[i] = "functions." + n
	}
	return out
}

func defaultKeys() KeyMap {
	return KeyMap{
		Detail:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "detail / expand")),
		Toggle:   key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "collapse/expand")),
		Invoke:   key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "invoke")),
		Logs:     key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "logs")),
		Deploy:   key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "deploy")),
		Rollback: key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "rollback")),
		Refresh:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		Remove:   key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "remove")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Image:    key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "local image")),
	}
}

func (k *KeyMap) ptrs() []*key.Binding {
	return []*key.Binding{&k.Detail, &k.Toggle, &k.Invoke, &k.Logs, &k.Deploy, &k.Rollback, &k.Refresh, &k.Remove, &k.Filter, &k.Back, &k.Image}
}

type nodeKind int

const (
	kindProvider nodeKind = iota
	kindScope
	kindRegion
	kindFunction
	kindMessage
	kindFold  // "N regions without services": folds a scope's empty regions
	kindEmpty // an empty region shown under its opened fold line
)

// node is one tree row.
type node struct {
	kind   nodeKind
	id     string
	depth  int
	label  string
	fn     cloud.Function
	lister int // index into listers, -1 when none
	isErr  bool
	count  int
	parent string // the ID of the row above it in the tree ("" for a provider)
}

type groupState struct {
	res    cloud.GroupResult
	lister int
}

type listerState struct {
	loading bool
	err     error // failure before any source could be tried
}

// Pane is the Functions pane; it implements common.Pane.
type Pane struct {
	opts    Options
	keys    KeyMap
	theme   common.Theme
	tbl     *table.Table[node]
	width   int
	height  int
	focused bool

	listers   []listerState
	groups    map[cloud.Group]*groupState
	collapsed map[string]bool
	openFolds map[string]bool // fold line ID → its empty regions are shown
	described map[string]bool
	// lineage is the latest join's answer per function address (nil
	// until the first); version bumps whenever the functions change.
	lineage     map[string]*cloud.Lineage
	version     int
	restPending bool // a background describe of off-screen rows is running
	gen         int
	cancel      context.CancelFunc
	frame       int
	ticking     bool

	detail *table.Pager
	detTtl string
	detFn  string // the function the detail shows
}

var _ common.Pane = (*Pane)(nil)

// New builds the pane; call Init to start loading.
func New(opts Options) *Pane {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Unconfigured == nil {
		opts.Unconfigured = DefaultUnconfigured
	}
	p := &Pane{opts: opts, keys: defaultKeys(), groups: map[cloud.Group]*groupState{},
		collapsed: map[string]bool{}, openFolds: map[string]bool{}, described: map[string]bool{}, listers: make([]listerState, len(opts.Listers))}
	ptrs := p.keys.ptrs()
	for i, n := range actionNames {
		if ks, ok := opts.Keys["functions."+n]; ok && len(ks) > 0 {
			ptrs[i].SetKeys(ks...)
			ptrs[i].SetHelp(strings.Join(ks, "/"), ptrs[i].Help().Desc)
		}
	}
	p.tbl = table.New(table.Options[node]{
		Columns: []table.Column{
			{Title: "NAME", Flex: 3, Min: 12},
			{Title: "TYPE", Width: 8},
			{Title: "IMAGE", Flex: 2, Min: 8},
			{Title: "LINEAGE", Flex: 1, Min: 9},
			{Title: "ARCH", Width: 7},
			{Title: "MEM", Width: 5, Right: true},
			{Title: "TMO", Width: 4, Right: true},
			{Title: "STATE", Width: 10},
			{Title: "MODIFIED", Width: 9},
			{Title: "URL", Flex: 1, Min: 3},
		},
		ID:      func(n node) string { return n.id },
		Version: p.nodeVersion,
		Cells:   p.cells,
		// The filter finds functions (by name, address, image or account):
		// groups show while they hold a match, messages never match.
		FilterText: func(n node) string {
			if n.kind == kindFunction {
				return n.fn.Name + " " + n.fn.Address + " " + n.fn.ImageURI + " " + n.fn.Account
			}
			return ""
		},
		Keep:   func(n node) bool { return n.kind != kindFunction && n.kind != kindMessage },
		Parent: func(n node) string { return n.parent },
		Span:   func(n node) bool { return n.kind != kindFunction },
		Style:  p.rowStyle,
		Empty:  "no functions",
	})
	p.tbl.Keys.Remap(opts.Keys)
	p.applyTheme(opts.Theme)
	p.rebuild()
	return p
}

// rowStyle colours a whole row: errors red, messages and what holds no
// function (fold lines, empty regions) dim, group headers in the accent.
func (p *Pane) rowStyle(n node) (lipgloss.Style, bool) {
	switch {
	case n.isErr:
		return p.theme.Error, true
	case n.kind == kindMessage || n.kind == kindFold || n.kind == kindEmpty:
		return p.theme.Muted, true
	case n.kind != kindFunction:
		return p.theme.Accent, true
	}
	return lipgloss.Style{}, false
}

func (p *Pane) applyTheme(t common.Theme) {
	p.theme = t
	p.tbl.SetStyles(t.Header, t.Selected, t.SelectedDim)
}

func (p *Pane) nodeVersion(n node) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%s|%d|%v|%d|", n.kind, n.label, n.count, n.isErr, n.depth)
	if n.kind == kindFunction {
		f := n.fn
		fmt.Fprintf(h, "%s|%s|%s|%s|%s|%d|%d|%s|%s|%s|%v|%s|%s", f.Name, f.PackageType, f.Mode, f.ImageURI, f.Architecture,
			f.MemoryMB, f.TimeoutS, f.State, f.LastUpdateStatus, f.URL, f.Ready != nil && *f.Ready, p.modified(f), f.ReadyMessage)
		fmt.Fprintf(h, "|%s", p.marker(f))
	}
	return h.Sum64()
}

func (p *Pane) modified(f cloud.Function) string {
	if f.LastModified == nil {
		return ""
	}
	return text.AgoShort(*f.LastModified, p.opts.Now())
}

func (p *Pane) cells(n node) []string {
	indent := strings.Repeat("  ", n.depth)
	if n.kind != kindFunction {
		return []string{indent + n.label}
	}
	f := n.fn
	typ := f.PackageType
	if f.Mode != "" {
		typ = f.Mode
	}
	state := f.State
	if f.LastUpdateStatus != "" && f.LastUpdateStatus != "Successful" {
		state += "/" + f.LastUpdateStatus
	}
	if f.Ready != nil {
		if *f.Ready {
			state = "ready"
		} else {
			state = "not ready"
		}
	}
	if f.Partial && state == "" {
		state = "…"
	}
	mem, tmo := "", ""
	if f.MemoryMB > 0 {
		mem = strconv.Itoa(f.MemoryMB)
	}
	if f.TimeoutS > 0 {
		tmo = strconv.Itoa(f.TimeoutS) + "s"
	}
	return []string{indent + f.Name, typ, shortImage(f.ImageURI), p.marker(f), f.Architecture, mem, tmo, state, p.modified(f), cmp.Or(f.FunctionURL, f.URL)}
}

// shortImage keeps the repository's last path element and tag/digest:
// "123.dkr.ecr.eu-west-1.amazonaws.com/team/thumb:v3" → "thumb:v3".
func shortImage(uri string) string {
	if i := strings.LastIndex(uri, "/"); i >= 0 {
		uri = uri[i+1:]
	}
	if i := strings.Index(uri, "@sha256:"); i >= 0 && len(uri) > i+8+12 {
		uri = uri[:i+8+12]
	}
	return uri
}

// ---------- loading ----------

type groupMsg struct {
	gen    int
	lister int
	res    cloud.GroupResult
	ch     <-chan listEvent
}

type listDoneMsg struct {
	gen    int
	lister int
	err    error
}

type tickMsg struct{ gen int }

type describedMsg struct {
	gen  int
	rest bool // off-screen rows
	fns  map[string]cloud.Function
	err  map[string]error
}

type removedMsg struct {
	addr string
	err  error
}

type listEvent struct {
	res  *cloud.GroupResult
	err  error
	done bool
}

// Init starts every source loading; each answers on its own.
func (p *Pane) Init() tea.Cmd { return p.load() }

func (p *Pane) load() tea.Cmd {
	if p.cancel != nil {
		p.cancel()
	}
	p.gen++
	p.version++
	ctx, cancel := context.WithCancel(p.opts.Ctx)
	p.cancel = cancel
	cmds := []tea.Cmd{}
	for i, l := range p.opts.Listers {
		p.listers[i] = listerState{loading: true}
		ch := make(chan listEvent, 16)
		go func() {
			err := l.List(ctx, cloud.ListFilter{}, func(r cloud.GroupResult) {
				select {
				case ch <- listEvent{res: &r}:
				case <-ctx.Done():
				}
			})
			select {
			case ch <- listEvent{err: err, done: true}:
			case <-ctx.Done():
			}
			close(ch)
		}()
		cmds = append(cmds, next(p.gen, i, ch))
	}
	p.rebuild()
	cmds = append(cmds, p.startTicking())
	return tea.Batch(cmds...)
}

func next(gen, lister int, ch <-chan listEvent) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok || ev.done {
			return listDoneMsg{gen: gen, lister: lister, err: ev.err}
		}
		return groupMsg{gen: gen, lister: lister, res: *ev.res, ch: ch}
	}
}

func (p *Pane) anyLoading() bool {
	for _, l := range p.listers {
		if l.loading {
			return true
		}
	}
	return false
}

// startTicking runs the spinner only while a source is loading: no timer
// while idle.
func (p *Pane) startTicking() tea.Cmd {
	if p.ticking || !p.anyLoading() {
		return nil
	}
	p.ticking = true
	gen := p.gen
	return tea.Tick(spinnerEvery, func(time.Time) tea.Msg { return tickMsg{gen: gen} })
}

// ---------- update ----------

// Update implements common.Pane.
func (p *Pane) Update(msg tea.Msg) (common.Pane, tea.Cmd) {
	switch msg := msg.(type) {
	case common.ThemeMsg:
		p.applyTheme(msg.Theme)
		p.rebuild()
	case groupMsg:
		if msg.gen != p.gen {
			return p, nil
		}
		p.groups[msg.res.Group] = &groupState{res: msg.res, lister: msg.lister}
		p.version++
		p.rebuild()
		return p, tea.Batch(next(msg.gen, msg.lister, msg.ch), p.describeVisible())
	case listDoneMsg:
		if msg.gen != p.gen {
			return p, nil
		}
		p.listers[msg.lister] = listerState{err: msg.err}
		p.version++
		p.rebuild()
		return p, p.describeVisible()
	case tickMsg:
		p.ticking = false
		if msg.gen != p.gen {
			return p, p.startTicking()
		}
		p.frame++
		p.rebuild()
		return p, p.startTicking()
	case describedMsg:
		if msg.rest {
			p.restPending = false
		}
		if msg.gen != p.gen {
			return p, nil
		}
		p.version++
		for _, g := range p.groups {
			for i, f := range g.res.Functions {
				if full, ok := msg.fns[f.Address]; ok {
					full.Partial = false
					g.res.Functions[i] = full
				} else if err, ok := msg.err[f.Address]; ok {
					// Keep what the listing said and show why the rest is missing.
					f.Partial = false
					f.State = "unknown"
					f.StatusReason = "describing: " + err.Error()
					f.Lineage = &cloud.Lineage{Status: cloud.LineageUnknown, Error: "describing: " + err.Error()}
					g.res.Functions[i] = f
				}
			}
		}
		p.rebuild()
		// Then the rows off screen, in the background: the LIVE counts
		// need every function's digest.
		return p, p.describeVisible()
	case common.LineageMsg:
		p.lineage = msg.Functions
		p.rebuild()
		if p.detail != nil && p.detFn != "" {
			if f, ok := p.function(p.detFn); ok {
				p.detail.SetLines(p.detailLines(f))
			}
		}
	case common.JumpToFunctionMsg:
		p.jumpTo(msg.Address)
	case ReloadMsg:
		return p, p.load()
	case removedMsg:
		if msg.err != nil {
			return p, common.MsgCmd(common.ErrorMsg{Err: fmt.Errorf("removing %s: %w", msg.addr, msg.err), Hint: cloud.Hint(msg.err)})
		}
		return p, tea.Batch(p.load(), common.MsgCmd(common.StatusMsg{Text: "removed " + msg.addr}))
	case tea.KeyPressMsg:
		return p, p.handleKey(msg)
	}
	return p, nil
}

// ReloadMsg re-lists every group, as `r` does: the workflows send it when
// a deploy or rollback they ran has finished, so the pane shows the change.
type ReloadMsg struct{}

// capabilities of the lister behind a row.
func (p *Pane) lister(n node) cloud.Lister {
	if n.lister < 0 || n.lister >= len(p.opts.Listers) {
		return nil
	}
	return p.opts.Listers[n.lister]
}

func (p *Pane) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if p.detail != nil {
		if key.Matches(msg, p.keys.Back) {
			p.detail = nil
			return nil
		}
		p.detail.HandleKey(msg)
		return nil
	}
	if p.tbl.Filtering() {
		before, wasFn := p.tbl.Filter(), p.onFunction()
		p.tbl.HandleKey(msg)
		if p.tbl.Filter() != before || !p.tbl.Filtering() {
			p.filterChanged(before, wasFn)
		}
		return p.describeVisible()
	}
	switch {
	case key.Matches(msg, p.keys.Filter):
		p.tbl.StartFilter()
		return nil
	case key.Matches(msg, p.keys.Back):
		if p.tbl.Filter() == "" {
			return nil
		}
		before, wasFn := p.tbl.Filter(), p.onFunction()
		p.tbl.ClearFilter()
		p.filterChanged(before, wasFn)
		return p.describeVisible()
	case key.Matches(msg, p.keys.Refresh):
		p.described = map[string]bool{}
		p.restPending = false
		return p.load()
	}
	n, ok := p.tbl.Selected()
	if !ok {
		p.tbl.HandleKey(msg)
		return nil
	}
	if n.kind != kindFunction {
		if key.Matches(msg, p.keys.Detail, p.keys.Toggle) {
			switch n.kind {
			case kindMessage, kindEmpty:
				return nil // nothing under it to fold
			case kindFold:
				p.openFolds[n.id] = !p.openFolds[n.id]
			default:
				if p.tbl.Filter() != "" {
					// The filtered tree is all open; a fold set now
					// would only show once the filter is gone.
					return common.MsgCmd(common.StatusMsg{Text: "groups stay open while filtering (esc clears the filter)"})
				}
				p.collapsed[n.id] = !p.collapsed[n.id]
			}
			p.rebuild()
			return p.describeVisible()
		}
		// i, l, d, R, x … act on a function: on a group row they do nothing.
		if p.tbl.HandleKey(msg) {
			return p.describeVisible()
		}
		return nil
	}
	l := p.lister(n)
	addr := n.fn.Address
	switch {
	case key.Matches(msg, p.keys.Detail):
		p.detail = &table.Pager{}
		p.detail.SetSize(p.width, p.height)
		lines := p.detailLines(n.fn)
		if p.opts.ExtraDetail != nil {
			for _, l := range p.opts.ExtraDetail(n.fn) {
				lines = append(lines, sanitize.Line(l)) // image names come from outside
			}
		}
		p.detail.SetLines(lines)
		p.detTtl = "Function " + sanitize.Line(addr) + "  (esc back)"
		p.detFn = addr
		return nil
	case key.Matches(msg, p.keys.Image):
		l := p.lineage[addr]
		switch {
		case l != nil && l.LocalImageID != "":
			return tea.Batch(common.MsgCmd(common.JumpToImageMsg{ID: l.LocalImageID}), common.MsgCmd(common.FocusMsg{Pane: "images"}))
		case l != nil && l.Status == cloud.LineageNotLocal:
			return common.MsgCmd(common.StatusMsg{Text: addr + " runs no image held locally"})
		}
		return common.MsgCmd(common.StatusMsg{Text: addr + ": its local image is not known yet"})
	case key.Matches(msg, p.keys.Invoke) && supports[cloud.Invoker](l):
		return common.MsgCmd(common.InvokeRequestMsg{Address: addr})
	case key.Matches(msg, p.keys.Logs) && supports[cloud.LogTailer](l):
		return common.MsgCmd(common.LogsRequestMsg{Address: addr})
	case key.Matches(msg, p.keys.Deploy) && supports[cloud.Deployer](l):
		return common.MsgCmd(common.FunctionDeployRequestMsg{Address: addr})
	case key.Matches(msg, p.keys.Rollback) && supports[cloud.RollBacker](l):
		return common.MsgCmd(common.RollbackRequestMsg{Address: addr})
	case key.Matches(msg, p.keys.Remove) && supports[cloud.Remover](l):
		rm, _ := capability[cloud.Remover](l)
		target, err := cloud.ParseAddress(addr)
		if err != nil {
			return common.MsgCmd(common.ErrorMsg{Err: fmt.Errorf("removing %s: %w", addr, err)})
		}
		ctx := p.opts.Ctx
		return common.MsgCmd(common.ConfirmRequestMsg{
			Title: "Remove " + addr + "?",
			Body:  []string{"image " + n.fn.ImageURI},
			Yes: func() tea.Msg {
				return removedMsg{addr: addr, err: rm.Remove(ctx, target)}
			},
		})
	}
	if p.tbl.HandleKey(msg) {
		return p.describeVisible()
	}
	return nil
}

// onFunction reports whether the cursor rests on a function row.
func (p *Pane) onFunction() bool {
	n, ok := p.tbl.Selected()
	return ok && n.kind == kindFunction
}

// filterChanged runs after the filter text changed from before or its
// prompt closed. Setting a filter opens the whole tree (and hides the fold
// lines); clearing it brings back the folds and collapsed groups as they
// were: either way the rows are rebuilt. Then, while a filter is set or when
// the cursor was not on a function, the cursor moves to a function (see
// selectFunction); a function the cursor was on when the filter was cleared
// keeps it, or, hidden again in a folded group, hands it to that group.
func (p *Pane) filterChanged(before string, wasFn bool) {
	if (before == "") != (p.tbl.Filter() == "") {
		p.rebuild()
	}
	if p.tbl.Filter() != "" || !wasFn {
		p.selectFunction()
	}
}

// selectFunction runs after the filter changed: the groups above a match
// pass the filter too, so the table's cursor may land on the provider row
// at the top and the function keys would need a few j presses first. It
// moves the cursor to the first visible function unless it already rests
// on one (the table keeps a function that still matches); with no function
// visible the cursor stays where the table put it.
func (p *Pane) selectFunction() {
	if n, ok := p.tbl.Selected(); ok && n.kind == kindFunction {
		return
	}
	for _, n := range p.tbl.Items() {
		if n.kind == kindFunction {
			p.tbl.Select(n.id)
			return
		}
	}
}

func supports[C any](l cloud.Lister) bool {
	_, ok := capability[C](l)
	return ok
}

// Unwrapper is implemented by a Lister that wraps another (to change how it
// lists); the pane looks through it for the capabilities the wrapper does
// not implement itself.
type Unwrapper interface{ Unwrap() cloud.Lister }

// capability finds C on l or, through Unwrap, on what l wraps.
func capability[C any](l cloud.Lister) (C, bool) {
	for range 8 { // bounded: a wrapper cycle must not hang the UI
		if l == nil {
			break
		}
		if c, ok := l.(C); ok {
			return c, true
		}
		u, ok := l.(Unwrapper)
		if !ok {
			break
		}
		l = u.Unwrap()
	}
	var zero C
	return zero, false
}

// describeVisible fills Partial rows on screen through the Describer, in one
// background command, each function at most once per load.
func (p *Pane) describeVisible() tea.Cmd {
	type job struct {
		d    cloud.Describer
		addr string
	}
	var jobs []job
	pick := func(n node) bool {
		if n.kind != kindFunction || !n.fn.Partial || p.described[n.fn.Address] {
			return false
		}
		d, ok := capability[cloud.Describer](p.lister(n))
		if !ok {
			return false
		}
		p.described[n.fn.Address] = true
		jobs = append(jobs, job{d, n.fn.Address})
		return len(jobs) >= describeBatch
	}
	for _, n := range p.tbl.VisibleItems() {
		if pick(n) {
			break
		}
	}
	rest := false
	if len(jobs) == 0 && !p.restPending {
		// Nothing on screen waits: describe the rows off screen (folded
		// groups included), one batch at a time, for the LIVE counts.
		// The backend keeps each account × region within its rate.
	groups:
		for _, g := range p.groups {
			for _, f := range g.res.Functions {
				if pick(node{kind: kindFunction, fn: f, lister: g.lister}) {
					break groups
				}
			}
		}
		rest = len(jobs) > 0
		p.restPending = rest
	}
	if len(jobs) == 0 {
		return nil
	}
	gen, ctx := p.gen, p.opts.Ctx
	return func() tea.Msg {
		out := describedMsg{gen: gen, rest: rest, fns: map[string]cloud.Function{}, err: map[string]error{}}
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, describeParallel)
		for _, j := range jobs {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				a, err := cloud.ParseAddress(j.addr)
				var f cloud.Function
				if err == nil {
					f, err = j.d.Describe(ctx, a)
				}
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					out.fns[j.addr] = f
				} else {
					out.err[j.addr] = err
				}
			}()
		}
		wg.Wait()
		return out
	}
}

// describeParallel bounds the describes of one batch in flight at once.
const describeParallel = 8

// rebuild flattens sources and groups into the tree rows. With no filter
// set, collapsed groups hide what is under them and each scope's regions
// that answered empty fold into one line; with a filter set every group is
// open and empty regions are left out (they can hold no match).
func (p *Pane) rebuild() {
	filtering := p.tbl.Filter() != ""
	// The cursor's row and the rows above it, to fall back on when a
	// refresh or a fold takes the row away.
	prev, hadPrev := p.tbl.Selected()
	var above []string
	for id := prev.parent; hadPrev && id != "" && len(above) < 8; {
		above = append(above, id)
		n, ok := p.tbl.Item(id)
		if !ok {
			break
		}
		id = n.parent
	}
	var folded map[string]string // empty region ID → its fold line ID

	var rows []node
	providers := []cloud.Provider{cloud.Local, cloud.AWS, cloud.GCP}
	byProv := map[cloud.Provider][]int{}
	for i, l := range p.opts.Listers {
		pr := l.Provider()
		if !slices.Contains(providers, pr) {
			providers = append(providers, pr)
		}
		byProv[pr] = append(byProv[pr], i)
	}
	groups := make([]*groupState, 0, len(p.groups))
	for _, g := range p.groups {
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b *groupState) int {
		return cmp.Or(strings.Compare(a.res.Group.Scope, b.res.Group.Scope), strings.Compare(a.res.Group.Region, b.res.Group.Region))
	})
	spin := spinnerFrames[p.frame%len(spinnerFrames)]
	collapsed := func(id string) bool { return !filtering && p.collapsed[id] }
	for _, pr := range providers {
		idx := byProv[pr]
		if len(idx) == 0 {
			if hint, ok := p.opts.Unconfigured[pr]; ok {
				pid := "p:" + string(pr)
				rows = append(rows, node{kind: kindProvider, id: pid, label: providerLabel(pr), lister: -1})
				rows = append(rows, node{kind: kindMessage, id: "m:" + string(pr), depth: 1, label: hint, lister: -1, parent: pid})
			}
			continue
		}
		pid := "p:" + string(pr)
		loading := false
		var listErrs []error
		for _, i := range idx {
			if p.listers[i].loading {
				loading = true
			}
			if p.listers[i].err != nil {
				listErrs = append(listErrs, p.listers[i].err)
			}
		}
		var mine []*groupState
		total := 0
		for _, g := range groups {
			if g.res.Group.Provider == pr {
				mine = append(mine, g)
				total += len(g.res.Functions)
			}
		}
		label := arrow(collapsed(pid)) + providerLabel(pr) + fmt.Sprintf(" (%d)", total)
		if loading {
			label += " " + spin + " loading…"
		}
		rows = append(rows, node{kind: kindProvider, id: pid, label: label, lister: idx[0], count: total})
		if collapsed(pid) {
			continue
		}
		for _, err := range listErrs {
			rows = append(rows, errorRows(pid, pid, 1, err, cloud.Hint(err), -1)...)
		}
		if len(mine) == 0 && loading {
			rows = append(rows, node{kind: kindMessage, id: pid + "/loading", depth: 1, label: spin + " loading…", lister: -1, parent: pid})
		}
		for len(mine) > 0 {
			scope := mine[0].res.Group.Scope
			end := 1
			for end < len(mine) && mine[end].res.Group.Scope == scope {
				end++
			}
			inScope := mine[:end]
			mine = mine[end:]
			sid := pid + "/" + scope
			n := 0
			for _, g := range inScope {
				n += len(g.res.Functions)
			}
			rows = append(rows, node{kind: kindScope, id: sid, depth: 1, label: arrow(collapsed(sid)) + scope + fmt.Sprintf(" (%d)", n),
				lister: inScope[0].lister, count: n, parent: pid})
			if collapsed(sid) {
				continue
			}
			var empty []*groupState
			for _, g := range inScope {
				if g.res.Group.Region != "" && len(g.res.Functions) == 0 && g.res.Err == nil {
					empty = append(empty, g)
					continue
				}
				rows = p.groupRows(rows, g, sid, collapsed)
			}
			if len(empty) == 0 || filtering {
				continue
			}
			fid := sid + "/" + foldSuffix
			open := p.openFolds[fid]
			rows = append(rows, node{kind: kindFold, id: fid, depth: 2, label: arrow(!open) + foldLabel(pr, len(empty)),
				lister: empty[0].lister, count: len(empty), parent: sid})
			for _, g := range empty {
				rid := sid + "/" + g.res.Group.Region
				if !open {
					if folded == nil {
						folded = map[string]string{}
					}
					folded[rid] = fid
					continue
				}
				rows = append(rows, node{kind: kindEmpty, id: rid, depth: 3, label: g.res.Group.Region + " (0)", lister: g.lister, parent: fid})
			}
		}
	}
	p.tbl.SetRows(rows)
	if hadPrev && p.tbl.SelectedID() != prev.id {
		p.reselect(prev.id, above, folded)
	}
}

// foldSuffix ends a fold line's ID; no region name holds a "~".
const foldSuffix = "~empty"

// foldLabel names what a scope's fold line holds: "39 regions without
// services" (Cloud Run's word) or "16 regions without functions".
func foldLabel(pr cloud.Provider, n int) string {
	what := "functions"
	if pr == cloud.GCP {
		what = "services"
	}
	if n == 1 {
		return "1 region without " + what
	}
	return fmt.Sprintf("%d regions without %s", n, what)
}

// groupRows appends one group's rows under its scope sid: its region header
// (when it has a region), its error and hint, its functions by name.
func (p *Pane) groupRows(rows []node, g *groupState, sid string, collapsed func(string) bool) []node {
	gr := g.res.Group
	depth, parent := 2, sid
	rid := sid + "/" + gr.Region
	if gr.Region != "" {
		rl := arrow(collapsed(rid)) + gr.Region + fmt.Sprintf(" (%d)", len(g.res.Functions))
		if g.res.Err != nil {
			rl += " ✗"
		}
		rows = append(rows, node{kind: kindRegion, id: rid, depth: 2, label: rl, lister: g.lister, isErr: g.res.Err != nil, count: len(g.res.Functions), parent: sid})
		if collapsed(rid) {
			return rows
		}
		depth, parent = 3, rid
	}
	if g.res.Err != nil {
		hint := g.res.Hint
		if hint == "" {
			hint = cloud.Hint(g.res.Err)
		}
		rows = append(rows, errorRows(rid, parent, depth, g.res.Err, hint, g.lister)...)
	}
	fns := slices.Clone(g.res.Functions)
	slices.SortFunc(fns, func(a, b cloud.Function) int { return strings.Compare(a.Name, b.Name) })
	for _, f := range fns {
		rows = append(rows, node{kind: kindFunction, id: f.Address, depth: depth, fn: f, lister: g.lister, parent: parent})
	}
	return rows
}

// reselect puts the cursor back near the row id that the last rebuild took
// away (a region that folded, a function removed or collapsed away): on the
// fold line now holding it or its region, else on the nearest row above it
// in the tree that is still shown. The table alone would jump to the top.
func (p *Pane) reselect(id string, above []string, folded map[string]string) {
	for _, x := range append([]string{id}, above...) {
		if f, ok := folded[x]; ok && p.tbl.Select(f) {
			return
		}
		if x != id && p.tbl.Select(x) {
			return
		}
	}
}

func arrow(collapsed bool) string {
	if collapsed {
		return "▸ "
	}
	return "▾ "
}

// errorRows are an error and its hint, with IDs under idBase, shown under
// the row parent.
func errorRows(idBase, parent string, depth int, err error, hint string, lister int) []node {
	rows := []node{{kind: kindMessage, id: idBase + "/err", depth: depth, label: "error: " + err.Error(), isErr: true, lister: lister, parent: parent}}
	if hint != "" {
		rows = append(rows, node{kind: kindMessage, id: idBase + "/hint", depth: depth, label: "hint: " + hint, lister: lister, parent: parent})
	}
	return rows
}

func providerLabel(p cloud.Provider) string {
	switch p {
	case cloud.AWS:
		return "AWS Lambda"
	case cloud.GCP:
		return "Cloud Run"
	case cloud.Local:
		return "local"
	}
	return string(p)
}

func (p *Pane) detailLines(f cloud.Function) []string {
	l := detailLines(f)
	add := func(k, v string) {
		if v != "" {
			l = append(l, fmt.Sprintf("%-22s %s", k, sanitize.Line(v)))
		}
	}
	l = append(l, "", "Lineage")
	add("Image digest", orUnknown(f.ImageDigest))
	add("Source ref", f.SourceRef)
	lin := p.lineage[f.Address]
	if lin == nil {
		lin = f.Lineage
	}
	add("Runs", lineage.Marker(lin))
	if lin != nil {
		add("Local image ID", lin.LocalImageID)
		switch lin.Tag {
		case cloud.TagMoved:
			add("Source tag", "moved: it now names "+lin.TagDigest)
		case cloud.TagSame:
			add("Source tag", "still names what runs")
		case cloud.TagUnknown:
			add("Source tag", "unknown")
		}
		add("Why unknown", lin.Error)
	}
	return l
}

func orUnknown(v string) string {
	if v == "" {
		return "unknown"
	}
	return v
}

func detailLines(f cloud.Function) []string {
	var l []string
	add := func(k, v string) {
		if v != "" {
			l = append(l, fmt.Sprintf("%-22s %s", k, sanitize.Line(v)))
		}
	}
	add("Address", f.Address)
	add("Provider", string(f.Provider))
	add("Name", f.Name)
	add("Region", f.Region)
	add("Account", f.Account)
	add("Profile", f.Profile)
	add("Project", f.Project)
	add("Package type", f.PackageType)
	add("Mode", f.Mode)
	add("Image URI", f.ImageURI)
	add("Resolved image", f.ResolvedImageURI)
	add("Architecture", f.Architecture)
	if f.MemoryMB > 0 {
		add("Memory", fmt.Sprintf("%d MB", f.MemoryMB))
	}
	if f.TimeoutS > 0 {
		add("Timeout", fmt.Sprintf("%d s", f.TimeoutS))
	}
	add("State", f.State)
	add("Last update status", f.LastUpdateStatus)
	add("Status reason", f.StatusReason)
	add("URL", f.URL)
	add("Function URL", f.FunctionURL)
	add("Latest ready revision", f.LatestReadyRevision)
	if f.Ready != nil {
		add("Ready", strconv.FormatBool(*f.Ready))
	}
	add("Ready message", f.ReadyMessage)
	if f.LastModified != nil {
		add("Last modified", f.LastModified.UTC().Format(time.RFC3339))
	}
	if len(f.Traffic) > 0 {
		l = append(l, "", "Traffic")
		for _, t := range f.Traffic {
			rev := t.Revision
			if t.Latest {
				rev = "LATEST (" + rev + ")"
			}
			line := fmt.Sprintf("  %3d%%  %s", t.Percent, sanitize.Line(rev))
			if t.Tag != "" {
				line += "  tag " + sanitize.Line(t.Tag)
			}
			l = append(l, line)
		}
	}
	if f.Partial {
		l = append(l, "", "(some fields are still loading)")
	}
	return l
}

// ---------- view ----------

// SetSize implements common.Pane.
func (p *Pane) SetSize(w, h int) {
	p.width, p.height = w, h
	p.tbl.SetSize(w, h)
	if p.detail != nil {
		p.detail.SetSize(w, h)
	}
}

// SetFocused implements common.Pane.
func (p *Pane) SetFocused(f bool) { p.focused = f; p.tbl.SetFocused(f) }

// Capturing implements common.Pane.
func (p *Pane) Capturing() bool { return p.tbl.Filtering() }

// Title implements common.Pane.
func (p *Pane) Title() string {
	n := 0
	for _, g := range p.groups {
		n += len(g.res.Functions)
	}
	if p.anyLoading() {
		return fmt.Sprintf("Functions (%d, loading)", n)
	}
	return fmt.Sprintf("Functions (%d)", n)
}

// Keys implements common.Pane: capability keys only when the selected
// function's backend supports them.
func (p *Pane) Keys() []key.Binding {
	if p.detail != nil {
		return []key.Binding{p.keys.Back}
	}
	k := p.keys
	out := []key.Binding{k.Detail, k.Toggle}
	n, ok := p.tbl.Selected()
	if ok && n.kind == kindFunction {
		out = append(out, k.Image)
		l := p.lister(n)
		for _, c := range []struct {
			b  key.Binding
			ok bool
		}{
			{k.Invoke, supports[cloud.Invoker](l)},
			{k.Logs, supports[cloud.LogTailer](l)},
			{k.Deploy, supports[cloud.Deployer](l)},
			{k.Rollback, supports[cloud.RollBacker](l)},
			{k.Remove, supports[cloud.Remover](l)},
		} {
			if c.ok {
				out = append(out, c.b)
			}
		}
	}
	out = append(out, k.Refresh, k.Filter, k.Back)
	return append(out, p.tbl.Keys.Bindings()...)
}

// AllKeys lists every binding the pane can have (for the palette and help),
// whatever is selected.
func (p *Pane) AllKeys() []key.Binding {
	k := p.keys
	return append([]key.Binding{k.Detail, k.Toggle, k.Invoke, k.Logs, k.Deploy, k.Rollback, k.Remove, k.Image, k.Refresh, k.Filter, k.Back}, p.tbl.Keys.Bindings()...)
}

// View implements common.Pane.
func (p *Pane) View() string {
	if p.detail != nil {
		return p.detail.View(p.theme.Header.Render(p.detTtl))
	}
	return p.tbl.View()
}
