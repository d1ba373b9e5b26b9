package tasks

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/sanitize"
	"github.com/fndeck/fndeck/internal/task"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/table"
)

// Options configures the pane.
type Options struct {
	Theme  common.Theme
	Source TaskSource
	// Now is the clock for elapsed times; nil means time.Now.
	Now func() time.Time
	// Tick is the shared spinner period while a task runs; 0 means 250 ms.
	Tick time.Duration
	// Throttle coalesces runner change signals; 0 means 50 ms, <0 none.
	Throttle time.Duration
}

// Model is the Tasks pane. Use New and call Init once; it implements
// common.Pane.
type Model struct {
	theme    common.Theme
	src      TaskSource
	now      func() time.Time
	tick     time.Duration
	throttle time.Duration

	width, height int
	focused       bool

	rows     []task.Info
	cursor   int
	selected task.ID // ID under the cursor; the cursor follows it
	offset   int     // first visible row
	pending  task.ID // a retried task to select once it appears

	ticking bool
	frame   int

	cache   map[task.ID]cachedRow
	headerW int
	headerS string
}

type cachedRow struct {
	key rowKey
	out string
}

// rowKey is everything a rendered row depends on; equal keys reuse the row.
type rowKey struct {
	state               task.State
	elapsed, progress   string
	kind                task.Kind
	target, last        string
	title, summary, err string
	width               int
	sel, focused        bool
	frame               int
}

// New builds the pane.
func New(opts Options) *Model {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	tick := opts.Tick
	if tick <= 0 {
		tick = 250 * time.Millisecond
	}
	th := opts.Throttle
	if th == 0 {
		th = 50 * time.Millisecond
	}
	return &Model{theme: opts.Theme, src: opts.Source, now: now, tick: tick, throttle: th, cache: map[task.ID]cachedRow{}}
}

var _ common.Pane = (*Model)(nil)

// Init loads the tasks and starts the pane's one pending read on the runner.
func (m *Model) Init() tea.Cmd {
	if m.src == nil {
		return nil
	}
	return tea.Batch(m.refresh(), waitChanged(m.src, m.throttle))
}

// Rows returns the rows shown (for the root's quit confirmation and tests).
func (m *Model) Rows() []task.Info { return m.rows }

// Selected is the ID under the cursor ("" when empty).
func (m *Model) Selected() task.ID { return m.selected }

// Running counts running tasks.
func (m *Model) Running() int {
	n := 0
	for _, r := range m.rows {
		if r.State == task.Running {
			n++
		}
	}
	return n
}

// refresh re-reads the runner, keeps the cursor on the same task, and
// starts the shared tick if something runs.
func (m *Model) refresh() tea.Cmd {
	m.rows = m.src.Tasks()
	if m.pending != 0 {
		for i, r := range m.rows {
			if r.ID == m.pending {
				m.cursor, m.pending = i, 0
				m.selected = 0
				break
			}
		}
	}
	found := false
	if m.selected != 0 {
		for i, r := range m.rows {
			if r.ID == m.selected {
				m.cursor, found = i, true
				break
			}
		}
	}
	if !found {
		m.cursor = min(m.cursor, len(m.rows)-1)
		m.cursor = max(m.cursor, 0)
	}
	var cmds []tea.Cmd
	cmds = append(cmds, m.selectionChanged())
	if m.Running() > 0 && !m.ticking {
		m.ticking = true
		cmds = append(cmds, m.tickCmd())
	}
	// Drop cached rows of tasks that are gone.
	if len(m.cache) > len(m.rows) {
		live := make(map[task.ID]bool, len(m.rows))
		for _, r := range m.rows {
			live[r.ID] = true
		}
		for id := range m.cache {
			if !live[id] {
				delete(m.cache, id)
			}
		}
	}
	return tea.Batch(cmds...)
}

func (m *Model) tickCmd() tea.Cmd {
	return tea.Tick(m.tick, func(time.Time) tea.Msg { return tickMsg{} })
}

// selectionChanged emits SelectedTaskMsg when the task under the cursor
// changed, so the output pane follows it.
func (m *Model) selectionChanged() tea.Cmd {
	var id task.ID
	if len(m.rows) > 0 {
		id = m.rows[m.cursor].ID
	}
	if id == m.selected {
		return nil
	}
	m.selected = id
	if id == 0 {
		return nil
	}
	return func() tea.Msg { return common.SelectedTaskMsg{ID: id} }
}

// Title implements common.Pane.
func (m *Model) Title() string {
	if r := m.Running(); r > 0 {
		return fmt.Sprintf("Tasks (%d, %d running)", len(m.rows), r)
	}
	return fmt.Sprintf("Tasks (%d)", len(m.rows))
}

// SetSize implements common.Pane.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

// SetFocused implements common.Pane.
func (m *Model) SetFocused(f bool) { m.focused = f }

// Capturing implements common.Pane; the pane never takes raw keystrokes.
func (m *Model) Capturing() bool { return false }

var paneKeys = []key.Binding{
	key.NewBinding(key.WithKeys("j", "k", "up", "down"), key.WithHelp("j/k", "move")),
	key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "output")),
	key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "cancel")),
	key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "retry")),
}

// SelectMsg moves the cursor to a task, now or once the runner lists it.
// The workflows send it for a task they start, so the cursor and the output
// pane (which shows the new task) agree.
type SelectMsg struct{ ID task.ID }

// Keys implements common.Pane.
func (m *Model) Keys() []key.Binding { return paneKeys }

// Update implements common.Pane.
func (m *Model) Update(msg tea.Msg) (common.Pane, tea.Cmd) {
	switch msg := msg.(type) {
	case changedMsg:
		return m, tea.Batch(m.refresh(), waitChanged(m.src, m.throttle))
	case tickMsg:
		m.frame++
		if m.Running() > 0 {
			return m, m.tickCmd()
		}
		m.ticking = false
		return m, nil
	case SelectMsg:
		m.pending = msg.ID
		return m, m.refresh()
	case retriedMsg:
		if msg.err != nil {
			return m, func() tea.Msg {
				return common.ErrorMsg{Err: fmt.Errorf("retrying task %s: %w", msg.from, msg.err)}
			}
		}
		m.pending = msg.id
		text := fmt.Sprintf("retrying task %s as %s", msg.from, msg.id)
		return m, tea.Batch(m.refresh(), func() tea.Msg { return common.StatusMsg{Text: text} })
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	}
	return m, nil
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if len(m.rows) == 0 {
		return nil
	}
	switch msg.String() {
	case "j", "down":
		m.cursor = min(m.cursor+1, len(m.rows)-1)
	case "k", "up":
		m.cursor = max(m.cursor-1, 0)
	case "g", "home":
		m.cursor = 0
	case "G", "end":
		m.cursor = len(m.rows) - 1
	case "enter":
		id := m.rows[m.cursor].ID
		return func() tea.Msg { return common.ShowTaskOutputMsg{ID: id} }
	case "c":
		r := m.rows[m.cursor]
		if r.State != task.Running && r.State != task.Queued {
			return status(fmt.Sprintf("task %s is %s; nothing to cancel", r.ID, r.State))
		}
		src, id := m.src, r.ID
		return func() tea.Msg {
			src.Cancel(id)
			return common.StatusMsg{Text: "cancelling task " + id.String()}
		}
	case "R":
		r := m.rows[m.cursor]
		if r.State == task.Running || r.State == task.Queued {
			return status(fmt.Sprintf("task %s is %s; retry a finished task", r.ID, r.State))
		}
		src, id := m.src, r.ID
		return func() tea.Msg {
			nid, err := src.Retry(id)
			return retriedMsg{from: id, id: nid, err: err}
		}
	default:
		return nil
	}
	return m.selectionChanged()
}

func status(text string) tea.Cmd {
	return func() tea.Msg { return common.StatusMsg{Text: text} }
}

// ---------- rendering ----------

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

const (
	colState   = 12
	colKind    = 8
	colElapsed = 8
	colProg    = 18
)

// View implements common.Pane. Every line is built at the pane's width:
// rows come from the cache already fitted, so a frame re-measures nothing
// that did not change.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	lines := make([]string, 0, m.height)
	if len(m.rows) == 0 {
		lines = append(lines, table.Fit(m.theme.Muted.Render("no tasks yet — build, push or deploy to start one"), m.width, false))
		return m.finish(lines)
	}
	detail := m.detail()
	body := max(1, m.height-1-len(detail))
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+body {
		m.offset = m.cursor - body + 1
	}
	m.offset = max(0, min(m.offset, len(m.rows)-body))
	lines = append(lines, m.header())
	for i := m.offset; i < len(m.rows) && i < m.offset+body; i++ {
		lines = append(lines, m.row(i))
	}
	blank := strings.Repeat(" ", m.width)
	for len(lines) < 1+body {
		lines = append(lines, blank)
	}
	for _, d := range detail {
		lines = append(lines, table.Fit(d, m.width, false))
	}
	return m.finish(lines)
}

// finish pads with blank lines to the pane height; lines are already fitted.
func (m *Model) finish(lines []string) string {
	blank := strings.Repeat(" ", m.width)
	for len(lines) < m.height {
		lines = append(lines, blank)
	}
	return strings.Join(lines[:m.height], "\n")
}

func (m *Model) targetWidth() int {
	rest := m.width - colState - colKind - colElapsed - colProg - 5
	return max(8, min(40, rest*2/5))
}

func (m *Model) lastWidth() int {
	return max(0, m.width-colState-colKind-colElapsed-colProg-m.targetWidth()-5)
}

func cell(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	if d := w - lipgloss.Width(s); d > 0 {
		s += strings.Repeat(" ", d)
	}
	return s
}

func (m *Model) header() string {
	if m.headerW == m.width && m.headerS != "" {
		return m.headerS
	}
	h := strings.Join([]string{
		cell("STATE", colState), cell("KIND", colKind), cell("TARGET", m.targetWidth()),
		cell("ELAPSED", colElapsed), cell("PROGRESS", colProg), cell("LAST LINE", m.lastWidth()),
	}, " ")
	m.headerW, m.headerS = m.width, table.Fit(wrapStyle(m.theme.Header, h), m.width, false)
	return m.headerS
}

func (m *Model) row(i int) string {
	r := m.rows[i]
	sel := i == m.cursor
	k := rowKey{
		state: r.State, elapsed: m.elapsed(r), progress: progressSummary(r.Progress),
		target: r.Target, title: r.Title, kind: r.Kind, last: r.LastLine, summary: r.Summary, err: r.Err,
		width: m.width, sel: sel, focused: m.focused,
	}
	if r.State == task.Running {
		k.frame = m.frame % len(spinner)
	}
	if c, ok := m.cache[r.ID]; ok && c.key == k {
		return c.out
	}
	icon, st := m.stateLook(r.State, k.frame)
	stateCell := cell(icon+" "+string(r.State), colState)
	last := r.LastLine
	switch {
	case r.State == task.Succeeded && r.Summary != "":
		last = r.Summary // what the task produced beats its last log line
	case r.State == task.Failed && r.Err != "":
		last = r.Err
	}
	target := r.Target
	if target == "" {
		target = r.Title
	}
	rest := strings.Join([]string{
		cell(sanitize.Line(string(r.Kind)), colKind),
		cell(sanitize.Line(target), m.targetWidth()),
		cell(k.elapsed, colElapsed),
		cell(k.progress, colProg),
		cell(sanitize.Line(last), m.lastWidth()),
	}, " ")
	var out string
	switch {
	case sel && m.focused:
		out = wrapStyle(m.theme.Selected, stateCell+" "+rest)
	case sel:
		out = wrapStyle(m.theme.SelectedDim, stateCell+" "+rest)
	default:
		out = wrapStyle(st, stateCell) + " " + rest
	}
	out = table.Fit(out, m.width, false)
	m.cache[r.ID] = cachedRow{key: k, out: out}
	return out
}

func (m *Model) stateLook(s task.State, frame int) (string, lipgloss.Style) {
	switch s {
	case task.Running:
		return spinner[frame], m.theme.Accent
	case task.Succeeded:
		return "✓", m.theme.OK
	case task.Failed:
		return "✗", m.theme.Error
	case task.Cancelled:
		return "⊘", m.theme.Warn
	}
	return "◦", m.theme.Muted
}

func (m *Model) elapsed(r task.Info) string {
	switch {
	case r.Started.IsZero():
		return ""
	case r.Finished.IsZero():
		return formatDuration(m.now().Sub(r.Started))
	}
	return formatDuration(r.Finished.Sub(r.Started))
}

func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// barDone reports whether one progress bar finished.
func barDone(p cloud.Progress) bool {
	switch p.Status {
	case "Pushed", "Layer already exists", "Already exists", "Pull complete", "Download complete", "Built", "Done":
		return true
	}
	return strings.HasPrefix(p.Status, "Mounted from") || (p.Total > 0 && p.Current >= p.Total)
}

// progressSummary condenses per-layer bars to "3/7 layers 45%".
func progressSummary(ps []cloud.Progress) string {
	if len(ps) == 0 {
		return ""
	}
	done := 0
	var cur, total int64
	for _, p := range ps {
		if barDone(p) {
			done++
		}
		if p.Total > 0 {
			cur += min(p.Current, p.Total)
			total += p.Total
		}
	}
	s := fmt.Sprintf("%d/%d layers", done, len(ps))
	if total > 0 {
		s += fmt.Sprintf(" %d%%", cur*100/total)
	}
	return s
}

// detail renders the selected task's error and one bar per layer, as many as
// fit in a third of the pane.
func (m *Model) detail() []string {
	if len(m.rows) == 0 || m.height < 6 {
		return nil
	}
	r := m.rows[m.cursor]
	var out []string
	if r.State == task.Failed && r.Err != "" {
		out = append(out, m.theme.Error.Render("error: "+sanitize.Line(r.Err)))
	}
	maxBars := max(0, m.height/3-len(out))
	bars := r.Progress
	more := 0
	if len(bars) > maxBars {
		// Keep one row for the marker of what did not fit.
		keep := max(0, maxBars-1)
		more = len(bars) - keep
		bars = bars[:keep]
	}
	for _, p := range bars {
		out = append(out, m.bar(p))
	}
	if more > 0 && maxBars > 0 {
		out = append(out, m.theme.Muted.Render(fmt.Sprintf("  … %d more layers", more)))
	}
	return out
}

func (m *Model) bar(p cloud.Progress) string {
	id := sanitize.Line(p.ID)
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	const barW = 20
	filled := 0
	pct := ""
	switch {
	case barDone(p):
		filled, pct = barW, "100%"
	case p.Total > 0:
		filled = int(min(p.Current, p.Total) * barW / p.Total)
		pct = fmt.Sprintf("%d%%", min(p.Current, p.Total)*100/p.Total)
	}
	b := "[" + strings.Repeat("█", filled) + strings.Repeat("░", barW-filled) + "]"
	line := fmt.Sprintf("  %-12s %s %4s %s", id, b, pct, sanitize.Line(p.Status))
	if p.Total > 0 && !barDone(p) {
		line += " " + bytesize(p.Current) + "/" + bytesize(p.Total)
	}
	return line
}

func bytesize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// wrapStyle puts text (sanitized, one line) between the style's opening and
// closing sequences. lipgloss renders underlined styles one rune at a time,
// which bloats every frame; the result on screen is the same.
func wrapStyle(st lipgloss.Style, text string) string {
	out := st.Render("X")
	i := strings.Index(out, "X")
	if i < 0 {
		return text
	}
	return out[:i] + text + out[i+1:]
}
