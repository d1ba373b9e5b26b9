// Over 600 lines, on purpose for now: the root model routes every message
// (prompts, global keys, panes, the output slot, lineage and sessions); the
// split by concern is issue 19's part 4, due once no branch edits it.

// Package app is fndeck's root Bubble Tea model: the layout of Images,
// Functions, Tasks and output panes with header and footer, focus, help,
// the command palette, confirmations, and message routing.
//
// Routing: an open dialog, palette or help takes keys first; then global
// keys (unless the focused pane is capturing keystrokes); then the focused
// pane. Every other message goes to every live pane — the mounted ones and
// those swapped out of the output slot — which filter by their own IDs.
package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/lineage"
	"github.com/fndeck/fndeck/internal/sanitize"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/dialog"
	"github.com/fndeck/fndeck/ui/functions"
	"github.com/fndeck/fndeck/ui/help"
	"github.com/fndeck/fndeck/ui/images"
	"github.com/fndeck/fndeck/ui/palette"
	"github.com/fndeck/fndeck/ui/prompt"
	"github.com/fndeck/fndeck/ui/table"
)

// Options configures the root model. Only Images may be nil-checked by the
// caller: with no engine configured pass an Images whose calls fail.
type Options struct {
	// Images is the local engine; DockerHost is shown in the header
	// (default Images.Host()).
	Images     cloud.Images
	DockerHost string
	// Listers are the configured function sources (local, AWS, GCP).
	Listers []cloud.Lister
	// Unconfigured says, per provider with no Lister, what to configure
	// (nil → functions.DefaultUnconfigured).
	Unconfigured map[cloud.Provider]string
	// HeaderAWS / HeaderGCP describe the AWS profiles and GCP projects.
	HeaderAWS string
	HeaderGCP string
	// Tasks and Output mount the tasks and output panes; nil shows a
	// placeholder.
	Tasks  common.Pane
	Output common.Pane
	// RunningTasks, when set, makes quit ask while tasks run.
	RunningTasks func() int
	// Handle turns request messages (common.BuildRequestMsg, …) into work.
	Handle func(tea.Msg) tea.Cmd
	// Keys remaps actions by name (see KeyActions) to keys.
	Keys map[string][]string
	// NoColor drops every colour (NO_COLOR, --no-color).
	NoColor bool
	// Theme is "dark", "light" or "" / "auto" (learn it from the terminal).
	Theme string
	// ImagesLoaded is called once, when the Images pane's first connection
	// has an answer (see images.Options.Loaded).
	ImagesLoaded func()
	// FunctionDetail adds lines to a function's detail (functions.Options.ExtraDetail).
	FunctionDetail func(cloud.Function) []string
	// Sessions, when set, returns the header's session warnings at a time
	// (expired or soon-expiring logins); asked off the UI goroutine at
	// start and every SessionsEvery. Now is the clock (default time.Now).
	Sessions      func(now time.Time) []string
	SessionsEvery time.Duration
	Now           func() time.Time
	// Lineage joins functions with the local images (and, withTags,
	// checks their source tags in registries); nil: no lineage. It runs
	// in the background, never before a list is on screen.
	Lineage func(ctx context.Context, imgs []cloud.Image, fns []cloud.Function, withTags bool) lineage.Result
}

// Pane indexes, in focus order and key order (1..4).
const (
	PaneImages = iota
	PaneFunctions
	PaneTasks
	PaneOutput
)

var paneNames = [4]string{"images", "functions", "tasks", "output"}

// globalKeys are the bindings that work everywhere.
type globalKeys struct {
	Quit, ForceQuit, Help, Palette, Next, Prev key.Binding
	Focus                                      [4]key.Binding
}

func (g *globalKeys) named() map[string]*key.Binding {
	return map[string]*key.Binding{
		"quit": &g.Quit, "help": &g.Help, "palette": &g.Palette, "focus-next": &g.Next, "focus-prev": &g.Prev,
		"focus-images": &g.Focus[0], "focus-functions": &g.Focus[1], "focus-tasks": &g.Focus[2], "focus-output": &g.Focus[3],
	}
}

func (g globalKeys) list() []key.Binding {
	return []key.Binding{g.Next, g.Prev, g.Focus[0], g.Focus[1], g.Focus[2], g.Focus[3], g.Help, g.Palette, g.Quit}
}

func defaultGlobalKeys() globalKeys {
	return globalKeys{
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Palette:   key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "command palette")),
		Next:      key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		Prev:      key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous pane")),
		Focus: [4]key.Binding{
			key.NewBinding(key.WithKeys("1"), key.WithHelp("1", "focus images")),
			key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "focus functions")),
			key.NewBinding(key.WithKeys("3"), key.WithHelp("3", "focus tasks")),
			key.NewBinding(key.WithKeys("4"), key.WithHelp("4", "focus output")),
		},
	}
}

// KeyActions lists every remappable action name accepted in Options.Keys,
// so configuration can reject unknown names.
func KeyActions() []string {
	g := defaultGlobalKeys()
	var out []string
	for n := range g.named() {
		out = append(out, n)
	}
	slices.Sort(out)
	out = append(out, table.NavActionNames...)
	out = append(out, images.ActionNames()...)
	return append(out, functions.ActionNames()...)
}

// Model is the root model.
type Model struct {
	opts  Options
	ctx   context.Context
	keys  globalKeys
	theme common.Theme
	panes [4]common.Pane
	// parked are panes that held the output slot and were swapped out
	// (task output, invoke panes): they still get every broadcast.
	parked []common.Pane
	focus  int
	width  int
	height int
	rects  [4]rect
	fits   bool

	dialog *dialog.Model
	// quitAsking: the dialog is the quit question (ctrl+c again quits).
	quitAsking bool
	prompt     *prompt.Model
	palette    *palette.Model
	help       bool

	status  string
	lastErr string

	prepainted bool // PaintFirstFrame drew a frame before the program ran

	sessionWarn []string // the header's session warnings (see Options.Sessions)
	lin         lineageState
}

// New builds the root model. ctx bounds every background call the panes
// make (main passes its signal-cancelled context).
func New(ctx context.Context, opts Options) *Model {
	dark := opts.Theme != "light"
	m := &Model{opts: opts, ctx: ctx, keys: defaultGlobalKeys(), theme: common.NewTheme(dark, opts.NoColor)}
	for name, b := range m.keys.named() {
		if ks, ok := opts.Keys[name]; ok && len(ks) > 0 {
			b.SetKeys(ks...)
			b.SetHelp(strings.Join(ks, "/"), b.Help().Desc)
		}
	}
	m.panes[PaneImages] = images.New(images.Options{Ctx: ctx, Images: opts.Images, Theme: m.theme, Keys: opts.Keys, Loaded: opts.ImagesLoaded})
	m.panes[PaneFunctions] = functions.New(functions.Options{Ctx: ctx, Listers: opts.Listers, Theme: m.theme, Keys: opts.Keys, Unconfigured: opts.Unconfigured, ExtraDetail: opts.FunctionDetail})
	m.panes[PaneTasks] = opts.Tasks
	if m.panes[PaneTasks] == nil {
		m.panes[PaneTasks] = &placeholder{title: "Tasks", text: "no tasks yet"}
	}
	m.panes[PaneOutput] = opts.Output
	if m.panes[PaneOutput] == nil {
		m.panes[PaneOutput] = &placeholder{title: "Output", text: "select a task, invocation or log tail"}
	}
	m.panes[PaneImages].SetFocused(true)
	return m
}

// Init implements tea.Model: every pane starts loading in the background
// and the terminal is asked for its background colour; nothing here waits.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{}
	if m.opts.Theme == "" || m.opts.Theme == "auto" {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	for _, p := range m.panes {
		if in, ok := p.(interface{ Init() tea.Cmd }); ok {
			cmds = append(cmds, in.Init())
		}
	}
	cmds = append(cmds, m.checkSessions(0))
	return tea.Batch(cmds...)
}

// Start lets the panes begin their first loads before the program runs
// (today the Images pane's engine connection); Init hands them over. Call
// it at most once, before the program starts.
func (m *Model) Start() {
	for _, p := range m.panes {
		if s, ok := p.(interface{ Start() }); ok {
			s.Start()
		}
	}
}

// Focused returns the focused pane's index.
func (m *Model) Focused() int { return m.focus }

func (m *Model) setFocus(i int) {
	i = (i%4 + 4) % 4
	m.panes[m.focus].SetFocused(false)
	m.focus = i
	m.panes[i].SetFocused(true)
}

// paneKeyMsg routes a key to one pane (the palette running a pane action).
type paneKeyMsg struct {
	pane int
	key  tea.KeyPressMsg
}

type quitMsg struct{}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if lm, ok := msg.(lineageDoneMsg); ok {
		return m, m.lineageDone(lm)
	}
	switch msg.(type) {
	case common.JumpToFunctionMsg:
		m.setFocus(PaneFunctions)
	case common.JumpToImageMsg:
		m.setFocus(PaneImages)
	}
	model, cmd := m.update(msg)
	if lc := m.lineageCheck(); lc != nil {
		return model, tea.Batch(cmd, lc)
	}
	return model, cmd
}

func (m *Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
		return m, nil
	case tea.BackgroundColorMsg:
		if !m.opts.NoColor && (m.opts.Theme == "" || m.opts.Theme == "auto") {
			m.theme = common.NewTheme(msg.IsDark(), false)
			if m.dialog != nil {
				m.dialog.SetTheme(m.theme)
			}
			if m.prompt != nil {
				m.prompt.SetTheme(m.theme)
			}
			return m, tea.Batch(m.broadcast(msg), m.broadcast(common.ThemeMsg{Theme: m.theme}))
		}
		return m, m.broadcast(msg)
	case sessionsMsg:
		m.sessionWarn = msg.warnings
		return m, m.checkSessions(m.sessionsEvery())
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	case tea.PasteMsg:
		if m.prompt != nil {
			return m, m.prompt.Update(msg)
		}
	case paneKeyMsg:
		m.setFocus(msg.pane)
		return m, m.toPane(msg.pane, msg.key)
	case quitMsg:
		return m, tea.Quit
	case common.ConfirmRequestMsg:
		m.dialog, m.quitAsking = dialog.New(msg.Title, msg.Body, msg.Yes, m.theme), false
		return m, nil
	case common.PromptRequestMsg:
		m.prompt = prompt.New(msg, m.theme)
		return m, nil
	case common.ShowOutputMsg:
		if msg.Pane != nil && msg.Pane != m.panes[PaneOutput] {
			m.panes[PaneOutput].SetFocused(false)
			m.park(m.panes[PaneOutput])
			m.unpark(msg.Pane)
			m.panes[PaneOutput] = msg.Pane
			r := m.rects[PaneOutput]
			msg.Pane.SetSize(max(r.w-2, 0), max(r.h-2, 0))
		}
		m.setFocus(PaneOutput)
		return m, nil
	case common.FocusMsg:
		if i := slices.Index(paneNames[:], msg.Pane); i >= 0 {
			m.setFocus(i)
		}
		return m, nil
	case common.StatusMsg:
		m.status = sanitize.Line(msg.Text)
		return m, m.broadcast(msg)
	case common.ErrorMsg:
		if msg.Err != nil {
			m.lastErr = sanitize.Line(msg.Err.Error())
			if msg.Hint != "" {
				m.lastErr += " — " + sanitize.Line(msg.Hint)
			}
		}
		return m, m.broadcast(msg)
	case common.BuildRequestMsg, common.PushRequestMsg, common.DeployRequestMsg, common.InvokeRequestMsg,
		common.LogsRequestMsg, common.RollbackRequestMsg, common.FunctionDeployRequestMsg:
		if m.opts.Handle == nil {
			m.status = requestName(msg) + ": not available yet"
			return m, nil
		}
		return m, m.opts.Handle(msg)
	}
	// Every other message reaches the panes, and the workflows behind
	// Handle (task selection, invoke sends, their own stream messages).
	if m.opts.Handle != nil {
		if hc := m.opts.Handle(msg); hc != nil {
			return m, tea.Batch(m.broadcast(msg), hc)
		}
	}
	return m, m.broadcast(msg)
}

func requestName(msg tea.Msg) string {
	switch msg.(type) {
	case common.BuildRequestMsg:
		return "build"
	case common.PushRequestMsg:
		return "push"
	case common.DeployRequestMsg, common.FunctionDeployRequestMsg:
		return "deploy"
	case common.InvokeRequestMsg:
		return "invoke"
	case common.LogsRequestMsg:
		return "logs"
	case common.RollbackRequestMsg:
		return "rollback"
	}
	return "action"
}

// broadcast gives msg to every live pane: the four mounted ones and those
// parked off the output slot. A pane swapped out (the task output behind an
// invoke pane, say) keeps receiving its own messages — its pending read's
// answer — so it never loses lines and its read stays alive; when it comes
// back it shows everything that arrived meanwhile.
func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, 4+len(m.parked))
	for i, p := range m.panes {
		np, cmd := p.Update(msg)
		if np != nil {
			m.panes[i] = np
		}
		cmds = append(cmds, cmd)
	}
	for i, p := range m.parked {
		np, cmd := p.Update(msg)
		if np != nil {
			m.parked[i] = np
		}
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

// park keeps a pane leaving the output slot live (see broadcast). Panes
// are pointers; each is kept once. Placeholders need no messages.
func (m *Model) park(p common.Pane) {
	if _, ok := p.(*placeholder); ok || slices.Contains(m.parked, p) {
		return
	}
	m.parked = append(m.parked, p)
}

// unpark removes a pane coming back to the output slot from the parked list.
func (m *Model) unpark(p common.Pane) {
	m.parked = slices.DeleteFunc(m.parked, func(q common.Pane) bool { return q == p })
}

func (m *Model) toPane(i int, msg tea.Msg) tea.Cmd {
	np, cmd := m.panes[i].Update(msg)
	if np != nil {
		m.panes[i] = np
	}
	return cmd
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.keys.ForceQuit) {
		// ctrl+c works whatever is open: it drops a prompt, palette or
		// help and quits (asking when tasks run); pressed again on that
		// question it quits at once, as a terminal user expects.
		if m.quitAsking && m.dialog != nil {
			return tea.Quit
		}
		m.prompt, m.palette, m.help, m.dialog = nil, nil, false, nil
		return m.quit()
	}
	if m.prompt != nil {
		cmd := m.prompt.Update(msg)
		if m.prompt.Done() {
			m.prompt = nil
		}
		return cmd
	}
	if m.dialog != nil {
		cmd := m.dialog.Update(msg)
		if m.dialog.Result() != dialog.Pending {
			m.dialog, m.quitAsking = nil, false
		}
		return cmd
	}
	if m.palette != nil {
		cmd, done := m.palette.Update(msg)
		if done {
			m.palette = nil
		}
		return cmd
	}
	if m.help {
		if key.Matches(msg, m.keys.Help, m.keys.Quit, m.keys.ForceQuit) || msg.String() == "esc" {
			m.help = false
		}
		return nil
	}
	if !m.panes[m.focus].Capturing() {
		switch {
		case key.Matches(msg, m.keys.Quit):
			return m.quit()
		case key.Matches(msg, m.keys.Help):
			m.help = true
			return nil
		case key.Matches(msg, m.keys.Palette):
			m.palette = palette.New(m.actions(), m.theme)
			return nil
		case key.Matches(msg, m.keys.Next):
			m.setFocus(m.focus + 1)
			return nil
		case key.Matches(msg, m.keys.Prev):
			m.setFocus(m.focus - 1)
			return nil
		}
		for i, b := range m.keys.Focus {
			if key.Matches(msg, b) {
				m.setFocus(i)
				return nil
			}
		}
	}
	return m.toPane(m.focus, msg)
}

func (m *Model) quit() tea.Cmd {
	if m.opts.RunningTasks != nil {
		if n := m.opts.RunningTasks(); n > 0 {
			m.dialog = dialog.New("Quit fndeck?",
				[]string{fmt.Sprintf("%d task(s) still running; quitting cancels them.", n)},
				func() tea.Msg { return quitMsg{} }, m.theme)
			m.quitAsking = true
			return nil
		}
	}
	return tea.Quit
}

// paneBindings is every binding a pane can have (AllKeys when it has one,
// as Keys may hide keys the current row does not support).
func paneBindings(p common.Pane) []key.Binding {
	if a, ok := p.(interface{ AllKeys() []key.Binding }); ok {
		return a.AllKeys()
	}
	return p.Keys()
}

// actions lists every action for the palette: global ones, then each
// pane's bindings, which run by sending the binding's key to that pane.
func (m *Model) actions() []palette.Action {
	var acts []palette.Action
	add := func(name string, b key.Binding, run func() tea.Cmd) {
		acts = append(acts, palette.Action{Name: name, Key: b.Help().Key, Run: run})
	}
	cmd := func(msg tea.Msg) func() tea.Cmd {
		return func() tea.Cmd { return func() tea.Msg { return msg } }
	}
	add("quit", m.keys.Quit, func() tea.Cmd { return m.quit() })
	add("help", m.keys.Help, func() tea.Cmd { m.help = true; return nil })
	add("focus next pane", m.keys.Next, func() tea.Cmd { m.setFocus(m.focus + 1); return nil })
	add("focus previous pane", m.keys.Prev, func() tea.Cmd { m.setFocus(m.focus - 1); return nil })
	for i, n := range paneNames {
		add("focus "+n, m.keys.Focus[i], cmd(common.FocusMsg{Pane: n}))
	}
	seen := map[string]bool{}
	for i, p := range m.panes {
		for _, b := range paneBindings(p) {
			if len(b.Keys()) == 0 || b.Help().Desc == "" {
				continue
			}
			name := paneNames[i] + ": " + b.Help().Desc
			if seen[name] {
				continue
			}
			seen[name] = true
			add(name, b, cmd(paneKeyMsg{pane: i, key: keyPress(b.Keys()[0])}))
		}
	}
	return acts
}

// keyPress builds the key event a binding's key string names, so the
// palette can run a pane action exactly as its key would.
func keyPress(s string) tea.KeyPressMsg {
	var k tea.KeyPressMsg
	rest := s
	for {
		switch {
		case strings.HasPrefix(rest, "ctrl+"):
			k.Mod |= tea.ModCtrl
			rest = rest[5:]
			continue
		case strings.HasPrefix(rest, "alt+"):
			k.Mod |= tea.ModAlt
			rest = rest[4:]
			continue
		case strings.HasPrefix(rest, "shift+"):
			k.Mod |= tea.ModShift
			rest = rest[6:]
			continue
		}
		break
	}
	named := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "space": tea.KeySpace,
		"backspace": tea.KeyBackspace, "delete": tea.KeyDelete, "up": tea.KeyUp, "down": tea.KeyDown,
		"left": tea.KeyLeft, "right": tea.KeyRight, "home": tea.KeyHome, "end": tea.KeyEnd,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
	}
	if c, ok := named[rest]; ok {
		k.Code = c
		return k
	}
	r := []rune(rest)
	if len(r) == 1 {
		k.Code = r[0]
		if k.Mod == 0 {
			k.Text = rest
		}
	}
	return k
}

func (m *Model) resize(w, h int) {
	m.width, m.height = w, h
	m.rects, m.fits = layout(w, h)
	if !m.fits {
		return
	}
	for i, p := range m.panes {
		r := m.rects[i]
		p.SetSize(r.w-2, r.h-2)
	}
}

// PaneSizes reports the inner size given to each pane (for tests and the
// lead's diagnostics).
func (m *Model) PaneSizes() [4][2]int {
	var out [4][2]int
	for i, r := range m.rects {
		out[i] = [2]int{max(r.w-2, 0), max(r.h-2, 0)}
	}
	return out
}

// View implements tea.Model.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	return v
}

func (m *Model) render() string {
	if m.width == 0 || m.height == 0 {
		return "loading…"
	}
	if !m.fits {
		msg := fmt.Sprintf("terminal too small: %dx%d, fndeck needs at least %dx%d", m.width, m.height, MinWidth, MinHeight)
		lines := strings.Split(lipgloss.NewStyle().Width(max(m.width, 1)).Render(msg), "\n")
		if len(lines) > m.height {
			lines = lines[:m.height]
		}
		return strings.Join(lines, "\n")
	}
	body := m.height - chrome
	lines := make([]string, 0, m.height)
	lines = append(lines, m.header())
	switch {
	case m.help:
		lines = append(lines, strings.Split(help.View(m.helpSections(), m.width, body, m.theme), "\n")...)
	case m.palette != nil:
		lines = append(lines, strings.Split(m.palette.View(m.width, body), "\n")...)
	default:
		rows := make([]string, body)
		for i, p := range m.panes {
			r := m.rects[i]
			title := fmt.Sprintf("%d %s", i+1, sanitize.Line(p.Title()))
			for j, l := range boxed(p.View(), title, r, i == m.focus, m.theme) {
				rows[r.y-1+j] += l
			}
		}
		if m.dialog != nil {
			rows = overlay(rows, m.dialog.View(m.width), m.width)
		}
		if m.prompt != nil {
			rows = overlay(rows, m.prompt.View(m.width), m.width)
		}
		lines = append(lines, rows...)
	}
	lines = append(lines, m.footer()...)
	return strings.Join(lines, "\n")
}

// overlay puts box centred over rows, replacing whole lines (a dialog is
// modal; what is behind it does not need to show through).
func overlay(rows []string, box string, width int) []string {
	bl := strings.Split(box, "\n")
	top := max((len(rows)-len(bl))/2, 0)
	out := slices.Clone(rows)
	for i, l := range bl {
		if top+i >= len(out) {
			break
		}
		out[top+i] = lipgloss.PlaceHorizontal(width, lipgloss.Center, l)
	}
	return out
}

func (m *Model) helpSections() []help.Section {
	secs := []help.Section{{Title: "global", Bindings: m.keys.list()}}
	order := []int{m.focus}
	for i := range m.panes {
		if i != m.focus {
			order = append(order, i)
		}
	}
	for _, i := range order {
		secs = append(secs, help.Section{Title: paneNames[i], Bindings: paneBindings(m.panes[i])})
	}
	return secs
}

func (m *Model) header() string {
	host := m.opts.DockerHost
	if host == "" && m.opts.Images != nil {
		host = m.opts.Images.Host()
	}
	parts := []string{m.theme.TitleFocus.Render("fndeck"), "docker " + sanitize.Line(host)}
	if m.opts.HeaderAWS != "" {
		parts = append(parts, "aws "+sanitize.Line(m.opts.HeaderAWS))
	}
	if m.opts.HeaderGCP != "" {
		parts = append(parts, "gcp "+sanitize.Line(m.opts.HeaderGCP))
	}
	for _, w := range m.sessionWarn {
		parts = append(parts, m.theme.Warn.Render("⚠ "+sanitize.Line(w)))
	}
	return table.Fit(strings.Join(parts, "  │  "), m.width, false)
}

func (m *Model) footer() []string {
	var hints []string
	used := 0
	add := func(b key.Binding) bool {
		if !b.Enabled() || b.Help().Key == "" {
			return true
		}
		h := m.theme.Key.Render(b.Help().Key) + " " + b.Help().Desc
		w := ansi.StringWidth(b.Help().Key) + 1 + ansi.StringWidth(b.Help().Desc) + 2
		if used+w > m.width {
			return false
		}
		used += w
		hints = append(hints, h)
		return true
	}
	switch {
	case m.prompt != nil:
		hints = append(hints, "enter ok  esc cancel")
	case m.dialog != nil:
		hints = append(hints, "y yes  n/esc no")
	case m.palette != nil:
		hints = append(hints, "type to filter  ↑/↓ move  enter run  esc close")
	case m.help:
		hints = append(hints, "esc close help")
	default:
		for _, b := range []key.Binding{m.keys.Help, m.keys.Palette, m.keys.Quit} {
			add(b)
		}
		for _, b := range m.panes[m.focus].Keys() {
			if !add(b) {
				break
			}
		}
	}
	line1 := table.Fit(strings.Join(hints, "  "), m.width, false)
	status := m.status
	line2 := status
	if m.lastErr != "" {
		errW := m.width - min(ansi.StringWidth(status), m.width/3) - 2
		e := m.theme.Error.Render(table.Fit("error: "+m.lastErr, max(errW, 0), false))
		line2 = table.Fit(status, m.width-max(errW, 0)-2, false) + "  " + e
	}
	return []string{line1, table.Fit(line2, m.width, false)}
}

// placeholder is the pane shown until the lead mounts a real one.
type placeholder struct {
	title string
	text  string
	w, h  int
}

func (p *placeholder) Update(tea.Msg) (common.Pane, tea.Cmd) { return p, nil }
func (p *placeholder) SetSize(w, h int)                      { p.w, p.h = w, h }
func (p *placeholder) SetFocused(bool)                       {}
func (p *placeholder) Title() string                         { return p.title }
func (p *placeholder) Keys() []key.Binding                   { return nil }
func (p *placeholder) Capturing() bool                       { return false }
func (p *placeholder) View() string {
	if p.w <= 0 || p.h <= 0 {
		return ""
	}
	lines := make([]string, p.h)
	for i := range lines {
		lines[i] = strings.Repeat(" ", p.w)
	}
	lines[0] = table.Fit(p.text, p.w, false)
	return strings.Join(lines, "\n")
}
