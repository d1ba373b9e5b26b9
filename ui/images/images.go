// Over 600 lines, on purpose for now: the Images pane's list, lazy inspect,
// lineage cells and detail share one model's state; the split by concern is
// issue 19's part 4, due once no branch edits it.

// Package images is the Images pane: local images from the engine, kept
// current by the engine's event stream (no polling), with lazy os/arch,
// a detail view, delete with confirmation, and build/push/deploy requests.
package images

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/lineage"
	"github.com/fndeck/fndeck/internal/sanitize"
	"github.com/fndeck/fndeck/internal/text"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/table"
)

// Event throttle and reconnect backoff. The backoff timer is the only timer
// this pane runs, and only while the engine is unreachable.
const (
	eventThrottle = 75 * time.Millisecond
	backoffMin    = 500 * time.Millisecond
	backoffMax    = 5 * time.Second
	inspectBatch  = 64
)

// Options configures the pane.
type Options struct {
	// Ctx bounds every engine call and the event stream.
	Ctx    context.Context
	Images cloud.Images
	Theme  common.Theme
	// Keys remaps actions by name ("images.delete" → ["x", "delete"]).
	Keys map[string][]string
	// Now is the clock for "3 days ago" (tests pin it); default time.Now.
	Now func() time.Time
	// Loaded, when set, is called once: when the first connection attempt
	// has an answer (the list, or why not), or at Init with no engine.
	Loaded func()
}

// KeyMap holds the pane's bindings.
type KeyMap struct {
	Build, Push, Deploy, Delete, Refresh, Dangling, Sort, Detail, Filter, Back key.Binding
}

// Names of the remappable actions, as used in ui.keys.
var actionNames = []string{"build", "push", "deploy", "delete", "refresh", "dangling", "sort", "detail", "filter", "back"}

// ActionNames lists the pane's remappable action names ("images.build", …).
func ActionNames() []string {
	out := make([]string, len(actionNames))
	for i, n := range actionNames {
		out[i] = "images." + n
	}
	return out
}

func defaultKeys() KeyMap {
	return KeyMap{
		Build:    key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "build")),
		Push:     key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "push")),
		Deploy:   key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "deploy")),
		Delete:   key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "delete")),
		Refresh:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		Dangling: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "show dangling")),
		Sort:     key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Detail:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "detail")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	}
}

func (k *KeyMap) ptrs() []*key.Binding {
	return []*key.Binding{&k.Build, &k.Push, &k.Deploy, &k.Delete, &k.Refresh, &k.Dangling, &k.Sort, &k.Detail, &k.Filter, &k.Back}
}

// Row is one line of the list: one image tag (an image with two tags shows
// twice with the same ID; an untagged image shows once as <none>).
type Row struct {
	Ref   string // repo:tag, or the ID when untagged
	Image cloud.Image
	ago   string
	live  string // LIVE cell: a count, "—", or "…" while unknown
}

func (r Row) id() string { return r.Image.ID + "|" + r.Ref }

func (r Row) name() string {
	if r.Ref == r.Image.ID {
		return "<none>:<none>"
	}
	return r.Ref
}

func (r Row) platform() string {
	if r.Image.OS == "" && r.Image.Architecture == "" {
		return ""
	}
	s := r.Image.OS + "/" + r.Image.Architecture
	if r.Image.Variant != "" {
		s += "/" + r.Image.Variant
	}
	return s
}

// Sort modes cycled by `s`.
var sortModes = []struct {
	name string
	col  int
	desc bool
}{{"name", 0, false}, {"size", 2, true}, {"created", 3, true}}

type connState int

const (
	connLoading connState = iota
	connUp
	connDown
)

// Pane is the Images pane; it implements common.Pane.
type Pane struct {
	opts    Options
	keys    KeyMap
	theme   common.Theme
	tbl     *table.Table[Row]
	width   int
	height  int
	focused bool

	images    []cloud.Image
	platforms map[string]cloud.Image // os/arch learned by Inspect, by ID
	requested map[string]bool        // IDs whose Inspect is in flight or done
	showAll   bool
	sortMode  int

	state   connState
	gen     int // bumps on every (re)connection: stale messages are dropped
	cancel  context.CancelFunc
	lastErr error
	backoff time.Duration
	retryAt time.Time

	detail *detailView

	// live is the latest lineage join: the functions running each image
	// ID; liveKnown once one arrived, liveComplete when no function's
	// digest is still being learnt. version bumps when images change.
	live         map[string][]lineage.Live
	liveKnown    bool
	liveComplete bool
	version      int

	started   tea.Cmd             // the connection Start began, for Init to hand over
	startedCh <-chan connectedMsg // its answer, for AwaitStart
}

var _ common.Pane = (*Pane)(nil)

// New builds the pane; call Init for the first load.
func New(opts Options) *Pane {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &Pane{opts: opts, keys: defaultKeys(), theme: opts.Theme, platforms: map[string]cloud.Image{}, requested: map[string]bool{}}
	ptrs := p.keys.ptrs()
	for i, n := range actionNames {
		if ks, ok := opts.Keys["images."+n]; ok && len(ks) > 0 {
			ptrs[i].SetKeys(ks...)
			ptrs[i].SetHelp(strings.Join(ks, "/"), ptrs[i].Help().Desc)
		}
	}
	p.tbl = table.New(table.Options[Row]{
		Columns: []table.Column{
			{Title: "REPOSITORY:TAG", Flex: 1, Min: 10},
			{Title: "IMAGE ID", Width: 12},
			{Title: "SIZE", Width: 6, Right: true},
			{Title: "CREATED", Width: 13},
			{Title: "PLATFORM", Width: 11},
			{Title: "LIVE", Width: 4, Right: true},
		},
		ID:      Row.id,
		Version: rowVersion,
		Cells: func(r Row) []string {
			return []string{r.name(), text.ShortID(r.Image.ID), text.HumanSize(r.Image.Size), r.ago, r.platform(), r.live}
		},
		FilterText: func(r Row) string { return r.name() + " " + text.ShortID(r.Image.ID) },
		Compare:    compareRows,
		Empty:      "no images",
	})
	p.tbl.Keys.Remap(opts.Keys)
	p.applyTheme(opts.Theme)
	p.tbl.SortBy(0, false)
	return p
}

func rowVersion(r Row) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%d|%s|%s|%s", r.Image.ID, r.Ref, r.Image.Size, r.ago, r.platform(), r.live)
	return h.Sum64()
}

func compareRows(a, b Row, col int) int {
	switch col {
	case 2:
		return cmp.Compare(a.Image.Size, b.Image.Size)
	case 3:
		return a.Image.Created.Compare(b.Image.Created)
	}
	return strings.Compare(a.name(), b.name())
}

func (p *Pane) applyTheme(t common.Theme) {
	p.theme = t
	p.tbl.SetStyles(t.Header, t.Selected, t.SelectedDim)
}

// ---------- messages ----------

type connectedMsg struct {
	gen    int
	images []cloud.Image
	events <-chan cloud.ImageEvent
	errs   <-chan error
	err    error
}

type listedMsg struct {
	gen    int
	images []cloud.Image
	err    error
}

// changedMsg carries the stream so the pane can wait for the next burst.
type changedMsg struct {
	gen    int
	events <-chan cloud.ImageEvent
	errs   <-chan error
}

type lostMsg struct {
	gen int
	err error
}

type retryMsg struct{ gen int }

type inspectedMsg struct {
	gen     int
	details map[string]cloud.Image
}

type detailMsg struct {
	ref    string
	detail cloud.ImageDetail
	err    error
}

type removedMsg struct {
	ref     string
	removed []cloud.RemovedImage
	err     error
}

// loaded calls Options.Loaded the first time only.
func (p *Pane) loaded() {
	if f := p.opts.Loaded; f != nil {
		p.opts.Loaded = nil
		f()
	}
}

// Start begins the first connection before the program runs; Init then
// hands over the command that waits for it. The engine's image list is the
// slowest step between exec and image names on screen (25-40 ms for 300
// images), so it should not wait for the terminal set-up either.
func (p *Pane) Start() {
	if p.opts.Images != nil && p.started == nil && p.gen == 0 {
		p.startedCh = p.dial()
		p.started = awaitConnected(p.startedCh)
	}
}

// AwaitStart waits at most until wait closes or d has passed for the
// connection Start began. If it answered, the answer is applied now, so the
// next View shows the images (or why the engine is out of reach), and Init
// hands over the commands it left to run instead. It reports whether the
// answer came.
func (p *Pane) AwaitStart(d time.Duration, wait <-chan struct{}) bool {
	if p.startedCh == nil {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case msg := <-p.startedCh:
		p.startedCh = nil
		_, p.started = p.Update(msg)
		return true
	case <-wait:
	case <-t.C:
	}
	return false
}

// Init starts the first connection (unless Start did); nothing waits for
// the engine before the first frame.
func (p *Pane) Init() tea.Cmd {
	if p.opts.Images == nil {
		p.state, p.lastErr = connDown, errors.New("no Docker engine configured (set docker.host or DOCKER_HOST)")
		p.loaded()
		return nil
	}
	if p.gen > 0 { // Start began the connection
		c := p.started
		p.started, p.startedCh = nil, nil
		return c
	}
	return p.connect()
}

func (p *Pane) connect() tea.Cmd {
	return awaitConnected(p.dial())
}

// awaitConnected is the command that waits for a connection's answer.
func awaitConnected(done <-chan connectedMsg) tea.Cmd {
	return func() tea.Msg { return <-done }
}

// dial begins a (re)connection: ping, subscribe to events, list.
func (p *Pane) dial() <-chan connectedMsg {
	if p.cancel != nil {
		p.cancel()
	}
	p.gen++
	gen := p.gen
	ctx, cancel := context.WithCancel(p.opts.Ctx)
	p.cancel = cancel
	imgs := p.opts.Images
	all := false
	// The connection starts now, not when the runtime gets to the command:
	// at start-up Bubble Tea runs Init's command only after setting up its
	// terminal and event loop, 20-40 ms that the engine's image list (25-30
	// ms for 300 images) can use instead. The command waits for the result.
	done := make(chan connectedMsg, 1)
	go func() {
		if err := imgs.Ping(ctx); err != nil {
			done <- connectedMsg{gen: gen, err: err}
			return
		}
		// Subscribe before listing so no change between the two is missed.
		evs, errs := imgs.Events(ctx)
		list, err := imgs.List(ctx, all)
		done <- connectedMsg{gen: gen, images: list, events: evs, errs: errs, err: err}
	}()
	return done
}

// waitEvents blocks on the event stream; a burst of events within the
// throttle window becomes one re-list.
func waitEvents(gen int, evs <-chan cloud.ImageEvent, errs <-chan error) tea.Cmd {
	return func() tea.Msg {
		select {
		case _, ok := <-evs:
			if !ok {
				return lostMsg{gen: gen, err: <-errs}
			}
		case err := <-errs:
			return lostMsg{gen: gen, err: err}
		}
		t := time.NewTimer(eventThrottle)
		defer t.Stop()
		for {
			select {
			case _, ok := <-evs:
				if !ok {
					// Closed: re-list now; the re-armed wait reports the loss.
					return changedMsg{gen: gen, events: evs, errs: errs}
				}
			case <-t.C:
				return changedMsg{gen: gen, events: evs, errs: errs}
			}
		}
	}
}

func (p *Pane) list() tea.Cmd {
	gen, imgs, ctx := p.gen, p.opts.Images, p.opts.Ctx
	return func() tea.Msg {
		list, err := imgs.List(ctx, false)
		return listedMsg{gen: gen, images: list, err: err}
	}
}

func (p *Pane) goDown(err error) tea.Cmd {
	p.state = connDown
	p.lastErr = err
	if p.cancel != nil {
		p.cancel()
	}
	if p.backoff == 0 {
		p.backoff = backoffMin
	} else {
		p.backoff = min(p.backoff*2, backoffMax)
	}
	p.retryAt = p.opts.Now().Add(p.backoff)
	gen := p.gen
	return tea.Tick(p.backoff, func(time.Time) tea.Msg { return retryMsg{gen: gen} })
}

// ---------- update ----------

// Update implements common.Pane.
func (p *Pane) Update(msg tea.Msg) (common.Pane, tea.Cmd) {
	switch msg := msg.(type) {
	case common.ThemeMsg:
		p.applyTheme(msg.Theme)
	case connectedMsg:
		if msg.gen != p.gen {
			return p, nil
		}
		p.loaded()
		if msg.err != nil {
			return p, p.goDown(msg.err)
		}
		p.state, p.lastErr, p.backoff = connUp, nil, 0
		p.setImages(msg.images)
		return p, tea.Batch(waitEvents(msg.gen, msg.events, msg.errs), p.inspectVisible())
	case listedMsg:
		if msg.gen != p.gen {
			return p, nil
		}
		if msg.err != nil {
			if errors.Is(msg.err, cloud.ErrUnreachable) {
				return p, p.goDown(msg.err)
			}
			p.lastErr = msg.err
			return p, func() tea.Msg { return common.ErrorMsg{Err: msg.err} }
		}
		p.lastErr = nil
		p.setImages(msg.images)
		return p, p.inspectVisible()
	case changedMsg:
		if msg.gen != p.gen || p.state != connUp {
			return p, nil
		}
		// The stream is still open: re-arm it and re-list (without the
		// re-arm only the first burst after start would ever show).
		return p, tea.Batch(waitEvents(msg.gen, msg.events, msg.errs), p.list())
	case lostMsg:
		if msg.gen != p.gen || p.opts.Ctx.Err() != nil {
			return p, nil
		}
		err := msg.err
		if err == nil {
			err = fmt.Errorf("event stream closed: %w", cloud.ErrUnreachable)
		}
		return p, p.goDown(err)
	case retryMsg:
		if msg.gen != p.gen || p.state != connDown {
			return p, nil
		}
		return p, p.connect()
	case inspectedMsg:
		if msg.gen != p.gen {
			return p, nil
		}
		for id, img := range msg.details {
			p.platforms[id] = img
		}
		p.setImages(p.images)
	case detailMsg:
		if p.detail != nil && p.detail.ref == msg.ref {
			p.detail.loaded(msg.detail, msg.err)
		}
	case common.LineageMsg:
		p.live, p.liveKnown, p.liveComplete = msg.Live, true, msg.Complete
		p.setImages(p.images)
		if p.detail != nil {
			p.detail.setLive(p.live[p.detail.id], p.liveComplete)
		}
	case common.JumpToImageMsg:
		p.jumpTo(msg.ID)
	case removedMsg:
		if msg.err != nil {
			return p, func() tea.Msg {
				return common.ErrorMsg{Err: fmt.Errorf("deleting %s: %w", msg.ref, msg.err), Hint: cloud.Hint(msg.err)}
			}
		}
		return p, tea.Batch(p.list(), func() tea.Msg { return common.StatusMsg{Text: "deleted " + msg.ref} })
	case tea.KeyPressMsg:
		return p, p.handleKey(msg)
	}
	return p, nil
}

func (p *Pane) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if p.detail != nil {
		if key.Matches(msg, p.keys.Back) {
			p.detail = nil
			return nil
		}
		if key.Matches(msg, p.keys.Detail) {
			if addr := p.detail.selectedLive(); addr != "" {
				return tea.Batch(common.MsgCmd(common.JumpToFunctionMsg{Address: addr}), common.MsgCmd(common.FocusMsg{Pane: "functions"}))
			}
			return nil
		}
		p.detail.handleKey(msg)
		return nil
	}
	if p.state == connLoading {
		// The first frame is on screen before the engine answers, and
		// a key typed then must not vanish: what needs no row works.
		switch {
		case p.tbl.Filtering():
			p.tbl.HandleKey(msg)
		case key.Matches(msg, p.keys.Filter):
			p.tbl.StartFilter()
		case key.Matches(msg, p.keys.Build):
			return common.MsgCmd(common.BuildRequestMsg{})
		}
		return nil
	}
	if p.state != connUp {
		// Rows from before the engine went away are not shown: acting on
		// them would surprise. Only a manual retry makes sense.
		if key.Matches(msg, p.keys.Refresh) && p.opts.Images != nil {
			p.backoff = 0
			return p.connect()
		}
		return nil
	}
	if p.tbl.Filtering() {
		p.tbl.HandleKey(msg)
		return p.inspectVisible()
	}
	sel, ok := p.tbl.Selected()
	switch {
	case key.Matches(msg, p.keys.Filter):
		p.tbl.StartFilter()
		return nil
	case key.Matches(msg, p.keys.Back):
		if p.tbl.Filter() != "" {
			p.tbl.ClearFilter()
		}
		return nil
	case key.Matches(msg, p.keys.Refresh):
		return p.list()
	case key.Matches(msg, p.keys.Dangling):
		p.showAll = !p.showAll
		p.setImages(p.images)
		// The dangling rows now on screen were never inspected.
		return tea.Batch(p.inspectVisible(), p.status(map[bool]string{true: "showing dangling images", false: "hiding dangling images"}[p.showAll]))
	case key.Matches(msg, p.keys.Sort):
		p.sortMode = (p.sortMode + 1) % len(sortModes)
		m := sortModes[p.sortMode]
		p.tbl.SortBy(m.col, m.desc)
		return tea.Batch(p.inspectVisible(), p.status("sorted by "+m.name))
	}
	if !ok {
		if key.Matches(msg, p.keys.Build) {
			// An empty engine is where a new project starts: build
			// needs no selected image (the workflow picks fndeck.yaml's
			// function or asks for a context).
			return common.MsgCmd(common.BuildRequestMsg{})
		}
		p.tbl.HandleKey(msg)
		return nil
	}
	switch {
	case key.Matches(msg, p.keys.Detail):
		p.detail = newDetail(sel.Ref, p.theme)
		p.detail.id = sel.Image.ID
		if p.liveKnown {
			p.detail.setLive(p.live[sel.Image.ID], p.liveComplete)
		}
		p.detail.setSize(p.width, p.height)
		imgs, ctx, ref := p.opts.Images, p.opts.Ctx, sel.Ref
		return func() tea.Msg {
			d, err := imgs.Inspect(ctx, ref)
			return detailMsg{ref: ref, detail: d, err: err}
		}
	case key.Matches(msg, p.keys.Build):
		return common.MsgCmd(common.BuildRequestMsg{Image: sel.Ref})
	case key.Matches(msg, p.keys.Push):
		return common.MsgCmd(common.PushRequestMsg{Image: sel.Ref})
	case key.Matches(msg, p.keys.Deploy):
		return common.MsgCmd(common.DeployRequestMsg{Image: sel.Ref})
	case key.Matches(msg, p.keys.Delete):
		return p.confirmDelete(sel)
	}
	if p.tbl.HandleKey(msg) {
		return p.inspectVisible()
	}
	return nil
}

func (p *Pane) status(s string) tea.Cmd { return common.MsgCmd(common.StatusMsg{Text: s}) }

func (p *Pane) confirmDelete(r Row) tea.Cmd {
	body := []string{r.name() + "  (" + text.ShortID(r.Image.ID) + ", " + text.HumanSize(r.Image.Size) + ")"}
	if r.Ref != r.Image.ID && len(r.Image.RepoTags) > 1 {
		body = append(body, "removes this tag; the image keeps its other tags")
	}
	imgs, ctx, ref := p.opts.Images, p.opts.Ctx, r.Ref
	return common.MsgCmd(common.ConfirmRequestMsg{
		Title: "Delete image " + r.name() + "?",
		Body:  body,
		Yes: func() tea.Msg {
			removed, err := imgs.Remove(ctx, ref, false)
			return removedMsg{ref: ref, removed: removed, err: err}
		},
	})
}

// setImages rebuilds the rows (the table diffs them by ID).
func (p *Pane) setImages(imgs []cloud.Image) {
	if !sameImages(p.images, imgs) {
		p.version++
	}
	p.images = imgs
	now := p.opts.Now()
	rows := make([]Row, 0, len(imgs)+len(imgs)/4)
	for _, img := range imgs {
		if pl, ok := p.platforms[img.ID]; ok && img.Architecture == "" {
			img.OS, img.Architecture, img.Variant = pl.OS, pl.Architecture, pl.Variant
		}
		ago := text.Ago(img.Created, now)
		tags := realTags(img.RepoTags)
		if len(tags) == 0 {
			// Untagged (dangling) images only show when toggled on.
			if !p.showAll {
				continue
			}
			rows = append(rows, Row{Ref: img.ID, Image: img, ago: ago, live: p.liveCell(img.ID)})
			continue
		}
		live := p.liveCell(img.ID)
		for _, t := range tags {
			rows = append(rows, Row{Ref: t, Image: img, ago: ago, live: live})
		}
	}
	p.tbl.SetRows(rows)
}

func realTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t != "<none>:<none>" && t != "" {
			out = append(out, t)
		}
	}
	return out
}

// inspectVisible asks the engine for os/arch of the rows on screen that do
// not have it yet, in one background command (never before the first frame:
// it runs after the list arrived).
func (p *Pane) inspectVisible() tea.Cmd {
	if p.state != connUp {
		return nil
	}
	var ids []string
	for _, r := range p.tbl.VisibleItems() {
		if r.Image.Architecture == "" && !p.requested[r.Image.ID] {
			p.requested[r.Image.ID] = true
			ids = append(ids, r.Image.ID)
		}
		if len(ids) >= inspectBatch {
			break
		}
	}
	if len(ids) == 0 {
		return nil
	}
	gen, imgs, ctx := p.gen, p.opts.Images, p.opts.Ctx
	return func() tea.Msg {
		out := make(map[string]cloud.Image, len(ids))
		for _, id := range ids {
			d, err := imgs.Inspect(ctx, id)
			if err != nil {
				continue // the column stays empty; the detail view shows the error
			}
			out[id] = d.Image
		}
		return inspectedMsg{gen: gen, details: out}
	}
}

// ---------- view ----------

// SetSize implements common.Pane.
func (p *Pane) SetSize(w, h int) {
	p.width, p.height = w, h
	p.tbl.SetSize(w, h)
	if p.detail != nil {
		p.detail.setSize(w, h)
	}
}

// SetFocused implements common.Pane.
func (p *Pane) SetFocused(f bool) { p.focused = f; p.tbl.SetFocused(f) }

// Capturing implements common.Pane: the filter prompt takes every key.
func (p *Pane) Capturing() bool { return p.tbl.Filtering() }

// Title implements common.Pane.
func (p *Pane) Title() string {
	switch {
	case p.state == connDown:
		return "Images (engine down)"
	case p.state == connLoading:
		return "Images"
	case p.tbl.Filter() != "":
		return fmt.Sprintf("Images (%d/%d)", p.tbl.Visible(), p.tbl.Len())
	}
	return fmt.Sprintf("Images (%d)", p.tbl.Len())
}

// Keys implements common.Pane.
func (p *Pane) Keys() []key.Binding {
	if p.detail != nil {
		ks := []key.Binding{p.keys.Back, p.tbl.Keys.Up, p.tbl.Keys.Down}
		if len(p.detail.live) > 0 {
			ks = append(ks, key.NewBinding(key.WithKeys(p.keys.Detail.Keys()...), key.WithHelp(p.keys.Detail.Help().Key, "go to function")))
		}
		return ks
	}
	k := p.keys
	return append([]key.Binding{k.Detail, k.Build, k.Push, k.Deploy, k.Delete, k.Refresh, k.Filter, k.Sort, k.Dangling, k.Back}, p.tbl.Keys.Bindings()...)
}

// View implements common.Pane.
func (p *Pane) View() string {
	if p.width <= 0 || p.height <= 0 {
		return ""
	}
	if p.detail != nil {
		return p.detail.view()
	}
	switch p.state {
	case connLoading:
		return block([]string{"loading…"}, p.width, p.height)
	case connDown:
		if p.opts.Images == nil {
			return block([]string{p.theme.Error.Render(sanitize.Line(errText(p.lastErr)))}, p.width, p.height)
		}
		host := sanitize.Line(p.opts.Images.Host())
		reason := sanitize.Line(errText(p.lastErr))
		lines := []string{
			p.theme.Error.Render(table.Fit("Docker not reachable at "+host, p.width, false)),
			reason,
			"",
			p.theme.Muted.Render(table.Fit(fmt.Sprintf("retrying every %s until it answers (r retries now)", p.backoff), p.width, false)),
		}
		return block(lines, p.width, p.height)
	}
	return p.tbl.View()
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// block renders lines cut and padded to exactly w x h; lines may carry
// styling (Fit measures display width).
func block(lines []string, w, h int) string {
	out := make([]string, h)
	for i := range out {
		l := ""
		if i < len(lines) {
			l = lines[i]
		}
		out[i] = table.Fit(l, w, false)
	}
	return strings.Join(out, "\n")
}

// ---------- detail view ----------

type detailView struct {
	ref   string
	id    string
	theme common.Theme
	pager table.Pager
	err   error
	done  bool
	det   cloud.ImageDetail

	// The functions running the image; sel is the one enter jumps to.
	live     []lineage.Live
	known    bool
	complete bool
	sel      int
}

func newDetail(ref string, theme common.Theme) *detailView {
	return &detailView{ref: ref, theme: theme}
}

func (d *detailView) setSize(w, h int) { d.pager.SetSize(w, h) }

func (d *detailView) handleKey(msg tea.KeyPressMsg) {
	// With functions running the image, up and down pick one of them
	// (enter jumps to it); the pager keeps its other keys.
	if len(d.live) > 0 {
		switch msg.String() {
		case "up", "k":
			if d.sel > 0 {
				d.sel--
				d.refill()
			}
			return
		case "down", "j":
			if d.sel < len(d.live)-1 {
				d.sel++
				d.refill()
			}
			return
		}
	}
	d.pager.HandleKey(msg)
}

func (d *detailView) fill(det cloud.ImageDetail) {
	d.det = det
	l := []string{}
	add := func(k, v string) { l = append(l, fmt.Sprintf("%-12s %s", k, sanitize.Line(v))) }
	add("ID", det.ID)
	add("Tags", strings.Join(det.RepoTags, ", "))
	l = append(l, d.liveLines()...)
	for _, dg := range det.RepoDigests {
		add("Digest", dg)
	}
	add("Size", text.HumanSize(det.Size))
	if !det.Created.IsZero() {
		add("Created", det.Created.UTC().Format(time.RFC3339))
	}
	pl := det.OS + "/" + det.Architecture
	if det.Variant != "" {
		pl += "/" + det.Variant
	}
	add("Platform", pl)
	if det.MediaType != "" {
		add("Media type", det.MediaType)
	}
	add("Entrypoint", quoteList(det.Entrypoint))
	add("Cmd", quoteList(det.Cmd))
	add("WorkingDir", det.WorkingDir)
	if det.User != "" {
		add("User", det.User)
	}
	add("Env names", strings.Join(det.EnvNames, ", "))
	add("Ports", strings.Join(det.ExposedPorts, ", "))
	if len(det.Labels) > 0 {
		l = append(l, "Labels")
		ks := make([]string, 0, len(det.Labels))
		for k := range det.Labels {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			l = append(l, "  "+sanitize.Line(k)+"="+sanitize.Line(det.Labels[k]))
		}
	}
	l = append(l, "", fmt.Sprintf("Layers (%d)", len(det.Layers)))
	for _, ly := range det.Layers {
		l = append(l, fmt.Sprintf("  %8s  %s", text.HumanSize(ly.Size), sanitize.Line(strings.TrimSpace(ly.CreatedBy))))
	}
	d.pager.SetLines(l)
}

func (d *detailView) refill() {
	if d.done && d.err == nil {
		d.fill(d.det)
	}
}

func (d *detailView) loaded(det cloud.ImageDetail, err error) {
	d.done, d.err = true, err
	if err == nil {
		d.fill(det)
	} else {
		d.pager.SetLines([]string{d.theme.Error.Render(sanitize.Line(err.Error()))})
	}
}

func quoteList(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func (d *detailView) view() string {
	title := d.theme.Header.Render("Image " + sanitize.Line(d.ref) + "  (esc back)")
	if !d.done {
		d.pager.SetLines([]string{"loading…"})
	}
	return d.pager.View(title)
}
