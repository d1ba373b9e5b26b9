// Over 600 lines, on purpose for now: the output pane's ring, render cache,
// search and save share one model's state; issue 13 asks for its split by
// concern; the split by concern is issue 19's part 4, due once no branch edits
// it.

package output

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/fndeck/fndeck/internal/sanitize"
	"github.com/fndeck/fndeck/internal/task"
	"github.com/fndeck/fndeck/ui/common"
)

// DefaultBufferLines is logs.buffer_lines' default.
const DefaultBufferLines = 50000

// DefaultBufferBytes is logs.buffer_bytes' default.
const DefaultBufferBytes = 64 << 20

// Options configures the pane.
type Options struct {
	Theme common.Theme
	// BufferLines bounds the pane's own ring of display lines
	// (logs.buffer_lines); 0 means DefaultBufferLines.
	BufferLines int
	// BufferBytes bounds the text held (logs.buffer_bytes); 0 means
	// DefaultBufferBytes. The newest line is always kept.
	BufferBytes int
	// Now gives the time for default save names; nil means time.Now.
	Now func() time.Time
	// Flush is the least time between two reads of a source; 0 means
	// 50 ms, negative means none.
	Flush time.Duration
}

// entry is one display line with its render caches. Text is sanitized once,
// on arrival; rows are computed for the current layout only when the line is
// first drawn and kept until the layout (width, wrap, JSON) changes.
type entry struct {
	time   time.Time
	text   string // sanitized, one line
	sev    string // log lines only: severity, upper-case
	notice bool   // a line fndeck emits about a log stream
	cont   bool   // continuation of a multi-line log event: blank severity gutter
	ascii  bool
	json   string // log lines with a JSON payload: the payload, sanitized

	width int // display width of text, -1 until measured

	prettyDone bool
	pretty     []string

	rowsKey layoutKey
	rows    []string

	// the last horizontal window of a non-ASCII line, so a frame does not
	// rescan a long line up to the scroll offset
	winOff, winW, winUsed int
	winStr                string
	winOK                 bool
}

type layoutKey struct {
	width int
	wrap  bool
	json  bool
	ok    bool
}

type promptKind int

const (
	promptNone promptKind = iota
	promptSearch
	promptSave
)

// Model is the output pane. Use New; it implements common.Pane.
type Model struct {
	theme   common.Theme
	now     func() time.Time
	capN    int
	flush   time.Duration
	width   int
	height  int
	focused bool

	// current stream
	id      string
	title   string
	logFile string
	src     Source
	gen     uint64
	stop    chan struct{}
	done    bool

	// how live a log tail is: set from its events as they arrive
	isLog    bool          // the stream has carried log events
	lag      time.Duration // arrival time minus the newest event's own time
	lagKnown bool
	liveNote string // the latest notice (waiting, reconnecting, sampling) until an event follows

	// ring of entries; abs index i lives at ring[(start + i - base) % len]
	ring     []entry
	start    int
	n        int // entries held
	base     int // abs index of the oldest entry (= entries evicted so far)
	bytes    int // text bytes held
	capBytes int

	dropped uint64 // lines skipped on screen: evicted from the producer's ring before read, or here

	// view state
	follow   bool
	wrap     bool
	showTime bool
	json     bool
	topAbs   int
	topSub   int
	xoff     int

	query    string
	match    matcher
	matchAbs int

	prompt      promptKind
	promptInput string
	status      string
}

// New returns an empty pane in follow mode.
func New(opts Options) *Model {
	n := opts.BufferLines
	if n <= 0 {
		n = DefaultBufferLines
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	flush := opts.Flush
	if flush == 0 {
		flush = 50 * time.Millisecond
	}
	nb := opts.BufferBytes
	if nb <= 0 {
		nb = DefaultBufferBytes
	}
	return &Model{theme: opts.Theme, now: now, capN: n, capBytes: nb, flush: flush, follow: true, matchAbs: -1}
}

var _ common.Pane = (*Model)(nil)

// ID is the id of the stream shown ("" when none).
func (m *Model) ID() string { return m.id }

// Len is the number of lines held.
func (m *Model) Len() int { return m.n }

// Dropped is how many lines were skipped on screen: evicted from the
// producer's ring before the pane read them, or from the pane's own ring
// (the task's output file keeps them).
func (m *Model) Dropped() uint64 { return m.dropped }

// Following reports whether follow mode is on.
func (m *Model) Following() bool { return m.follow }

// SetSource shows src under id and starts pulling from its beginning. An id
// names one stream: setting the id already shown is a no-op, so the pane can
// follow the selected task without losing its place. (Sources are not
// compared: an adapter holding a func would make == panic.) The returned Cmd
// is the pane's one pending read.
func (m *Model) SetSource(id string, src Source, title string) tea.Cmd {
	if id == m.id && m.src != nil && src != nil {
		return nil
	}
	m.reset(id, title)
	m.src = src
	if src == nil {
		return nil
	}
	return waitOutput(m.id, m.gen, src, 0, m.stop, 0)
}

// SetLogFile names the file holding the full output, shown with the
// dropped-lines notice.
func (m *Model) SetLogFile(path string) { m.logFile = path }

func (m *Model) reset(id, title string) {
	if m.stop != nil {
		close(m.stop)
	}
	m.stop = make(chan struct{})
	m.gen++
	m.id, m.title, m.logFile = id, title, ""
	m.src, m.done = nil, false
	m.isLog, m.lag, m.lagKnown, m.liveNote = false, 0, false, ""
	m.ring, m.start, m.n, m.base, m.bytes = nil, 0, 0, 0, 0
	m.dropped = 0
	m.follow, m.topAbs, m.topSub, m.xoff = true, 0, 0, 0
	m.matchAbs = -1
	m.status = ""
}

// push appends one entry, evicting (and counting) the oldest when the ring
// holds BufferLines lines or BufferBytes bytes of text.
func (m *Model) push(e entry) {
	e.width = -1
	switch {
	case m.n < len(m.ring):
		m.ring[(m.start+m.n)%len(m.ring)] = e
		m.n++
	case len(m.ring) < m.capN:
		if m.start != 0 {
			// Unroll before growing so the order survives the append.
			m.ring = append(append([]entry(nil), m.ring[m.start:]...), m.ring[:m.start]...)
			m.start = 0
		}
		m.ring = append(m.ring, e)
		m.n++
	default:
		m.bytes -= len(m.ring[m.start].text)
		m.ring[m.start] = e
		m.start = (m.start + 1) % len(m.ring)
		m.base++
		m.dropped++
	}
	m.bytes += len(e.text)
	for m.bytes > m.capBytes && m.n > 1 {
		m.evictOldest()
	}
}

func (m *Model) evictOldest() {
	old := &m.ring[m.start]
	m.bytes -= len(old.text)
	*old = entry{} // let the text go
	m.start = (m.start + 1) % len(m.ring)
	m.n--
	m.base++
	m.dropped++
}

// AppendLines adds raw lines (sanitized here) to the pane. A log event
// (Line.Log set) shows with its time, severity (coloured) and stream, its
// further lines indented under it; a JSON payload renders indented in
// JSON mode (`J`).
func (m *Model) AppendLines(lines []task.Line) {
	var now time.Time
	for _, l := range lines {
		if l.Log != nil {
			m.isLog = true
			switch {
			case l.Log.Notice:
				note, _, _ := strings.Cut(l.Text, "\n")
				m.liveNote = note
			case !l.Time.IsZero():
				if now.IsZero() {
					now = m.now()
				}
				m.lag, m.lagKnown, m.liveNote = max(0, now.Sub(l.Time)), true, ""
			default:
				m.liveNote = ""
			}
			m.appendEvent(l)
			continue
		}
		t := sanitize.Line(l.Text)
		m.push(entry{time: l.Time, text: t, ascii: isASCII(t)})
	}
}

func (m *Model) appendEvent(l task.Line) {
	f := l.Log
	msg := l.Text
	if msg == "" && f.JSON != "" {
		msg = f.JSON
	}
	// A multi-line event (a stack trace) shows as its lines, the first
	// with time, severity and stream, the rest indented under it.
	first, rest, multi := strings.Cut(strings.TrimRight(msg, "\r\n"), "\n")
	t := sanitize.Line(first)
	if f.Stream != "" {
		t = sanitize.Line(f.Stream) + " " + t
	}
	sev := strings.ToUpper(sanitize.Line(f.Severity))
	// Lines without a severity keep the gutter so messages align.
	m.push(entry{time: l.Time, text: t, ascii: isASCII(t), sev: sev, cont: sev == "", notice: f.Notice, json: f.JSON})
	for multi {
		var p string
		p, rest, multi = strings.Cut(rest, "\n")
		t := sanitize.Line(p)
		m.push(entry{text: t, ascii: isASCII(t), cont: true, notice: f.Notice})
	}
}

func (m *Model) at(abs int) *entry {
	return &m.ring[(m.start+abs-m.base)%len(m.ring)]
}

func (m *Model) lastAbs() int { return m.base + m.n - 1 }

// Title implements common.Pane.
func (m *Model) Title() string {
	if m.id == "" {
		return "Output"
	}
	return fmt.Sprintf("Output · %s (%s lines)", sanitize.Line(m.title), commas(uint64(m.n)))
}

// SetSize implements common.Pane.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

// SetFocused implements common.Pane.
func (m *Model) SetFocused(f bool) { m.focused = f }

// Capturing implements common.Pane: the search and save prompts take keys.
func (m *Model) Capturing() bool { return m.prompt != promptNone }

var paneKeys = []key.Binding{
	key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow")),
	key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("j/k", "scroll")),
	key.NewBinding(key.WithKeys("pgdown", "pgup"), key.WithHelp("pgup/pgdn", "page")),
	key.NewBinding(key.WithKeys("g", "G"), key.WithHelp("g/G", "top/bottom")),
	key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
	key.NewBinding(key.WithKeys("n", "N"), key.WithHelp("n/N", "next/prev match")),
	key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "wrap")),
	key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "timestamps")),
	key.NewBinding(key.WithKeys("J"), key.WithHelp("J", "pretty JSON")),
	key.NewBinding(key.WithKeys("h", "l", "left", "right"), key.WithHelp("h/l", "scroll sideways")),
	key.NewBinding(key.WithKeys("$", "end", "0", "home"), key.WithHelp("$/0", "line end/start")),
	key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "save")),
}

// Keys implements common.Pane.
func (m *Model) Keys() []key.Binding { return paneKeys }

// Update implements common.Pane.
func (m *Model) Update(msg tea.Msg) (common.Pane, tea.Cmd) {
	switch msg := msg.(type) {
	case outputMsg:
		if msg.id != m.id || msg.gen != m.gen || m.src == nil {
			return m, nil
		}
		m.dropped += msg.dropped
		m.AppendLines(msg.lines)
		if msg.done {
			m.done = true
			return m, nil
		}
		return m, waitOutput(m.id, m.gen, m.src, msg.next, m.stop, m.flush)
	case savedMsg:
		if msg.err != nil {
			return m, func() tea.Msg { return common.ErrorMsg{Err: msg.err} }
		}
		text := fmt.Sprintf("saved %s lines to %s", commas(uint64(msg.n)), msg.path)
		m.status = text
		return m, func() tea.Msg { return common.StatusMsg{Text: text} }
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	}
	return m, nil
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if m.prompt != promptNone {
		return m.handlePromptKey(msg)
	}
	h := m.bodyHeight()
	m.status = "" // a one-shot note (saved, no match) lasts until the next key
	switch msg.String() {
	case "f":
		m.follow = !m.follow
		if !m.follow {
			m.topAbs, m.topSub = m.bottomTop(h)
		}
	case "G":
		m.follow = true
	case "g":
		m.follow = false
		m.topAbs, m.topSub = m.base, 0
	case "j", "down":
		m.scroll(1)
	case "k", "up":
		m.scroll(-1)
	case "pgdown", "space", "ctrl+f":
		m.scroll(max(1, h-1))
	case "pgup", "ctrl+b":
		m.scroll(-max(1, h-1))
	case "h", "left":
		m.xoff = max(0, m.xoff-max(1, m.width/2))
	case "l", "right":
		m.xoff += max(1, m.width/2)
	case "0", "home":
		m.xoff = 0
	case "$", "end":
		m.toLineEnd()
	case "w":
		m.wrap = !m.wrap
		m.xoff = 0
		m.topSub = 0
	case "t":
		m.showTime = !m.showTime
	case "J":
		m.json = !m.json
		m.topSub = 0
	case "/":
		m.prompt, m.promptInput = promptSearch, ""
	case "n":
		m.findNext(1)
	case "N":
		m.findNext(-1)
	case "s":
		m.prompt = promptSave
		m.promptInput = m.defaultSavePath()
	case "esc":
		if m.query != "" {
			m.query, m.match, m.matchAbs = "", matcher{}, -1
		}
	}
	return nil
}

func (m *Model) handlePromptKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc", "ctrl+c":
		m.prompt = promptNone
		return nil
	case "enter":
		kind, input := m.prompt, m.promptInput
		m.prompt = promptNone
		if kind == promptSearch {
			m.query = input
			m.match = newMatcher(input)
			m.matchAbs = -1
			if input != "" {
				m.findNext(1)
			}
			return nil
		}
		if strings.TrimSpace(input) == "" {
			m.status = "save cancelled: no path"
			return nil
		}
		return m.saveCmd(input)
	case "backspace", "ctrl+h":
		if r := []rune(m.promptInput); len(r) > 0 {
			m.promptInput = string(r[:len(r)-1])
		}
		return nil
	case "ctrl+u":
		m.promptInput = ""
		return nil
	}
	if t := msg.Key().Text; t != "" {
		m.promptInput += sanitize.Line(t)
	}
	return nil
}

// bodyHeight is the rows available for lines (one row is the status line).
func (m *Model) bodyHeight() int { return max(0, m.height-1) }

// layout is the current row layout key for an entry.
func (m *Model) layout(e *entry) layoutKey {
	return layoutKey{width: max(1, m.width-m.prefixWidth(e)), wrap: m.wrap, json: m.json, ok: true}
}

func (m *Model) prefixWidth(e *entry) int {
	w := 0
	if m.showTime {
		w += len(timeFormat) + 1
	}
	if e.sev != "" || e.cont {
		w += sevWidth + 1
	}
	if w >= m.width {
		return 0 // too narrow for the gutter: text only
	}
	return w
}

const (
	timeFormat = "15:04:05.000"
	sevWidth   = 5
)

// rowsOf returns e's display rows for the current layout, cached per entry.
func (m *Model) rowsOf(e *entry) []string {
	k := m.layout(e)
	if e.rowsKey == k {
		return e.rows
	}
	logical := []string{e.text}
	if m.json {
		if !e.prettyDone {
			src := e.text
			if e.json != "" {
				src = e.json
			}
			e.pretty = prettyJSON(src)
			e.prettyDone = true
		}
		if e.pretty != nil {
			logical = e.pretty
		}
	}
	var rows []string
	if m.wrap {
		for i, l := range logical {
			ascii := e.ascii
			if i > 0 || len(logical) > 1 {
				ascii = isASCII(l)
			}
			rows = append(rows, wrapRows(l, k.width, ascii)...)
		}
	} else {
		rows = logical
	}
	e.rowsKey, e.rows = k, rows
	return rows
}

// bottomTop is the top position of a view whose last row is the last row of
// the buffer: it walks back only over the last entries.
func (m *Model) bottomTop(h int) (int, int) {
	if m.n == 0 {
		return m.base, 0
	}
	need := h
	for abs := m.lastAbs(); abs >= m.base; abs-- {
		n := len(m.rowsOf(m.at(abs)))
		if n >= need {
			return abs, n - need
		}
		need -= n
	}
	return m.base, 0
}

// scroll moves the top by d rows; scrolling up leaves follow mode.
func (m *Model) scroll(d int) {
	if m.n == 0 {
		return
	}
	h := m.bodyHeight()
	if m.follow {
		if d >= 0 {
			return
		}
		m.topAbs, m.topSub = m.bottomTop(h)
		m.follow = false
	}
	m.clampTop()
	for d < 0 {
		if m.topSub > 0 {
			step := min(m.topSub, -d)
			m.topSub -= step
			d += step
			continue
		}
		if m.topAbs <= m.base {
			break
		}
		m.topAbs--
		m.topSub = len(m.rowsOf(m.at(m.topAbs)))
	}
	for d > 0 {
		n := len(m.rowsOf(m.at(m.topAbs)))
		if m.topSub+d < n {
			m.topSub += d
			break
		}
		if m.topAbs >= m.lastAbs() {
			m.topSub = n - 1
			break
		}
		d -= n - m.topSub
		m.topAbs++
		m.topSub = 0
	}
	// Never scroll past the point where the last row is at the bottom.
	ba, bs := m.bottomTop(h)
	if m.topAbs > ba || (m.topAbs == ba && m.topSub > bs) {
		m.topAbs, m.topSub = ba, bs
	}
}

func (m *Model) clampTop() {
	if m.topAbs < m.base {
		m.topAbs, m.topSub = m.base, 0
	}
	if m.n > 0 && m.topAbs > m.lastAbs() {
		m.topAbs, m.topSub = m.lastAbs(), 0
	}
	if m.n > 0 {
		if n := len(m.rowsOf(m.at(m.topAbs))); m.topSub >= n {
			m.topSub = n - 1
		}
	}
}

// toLineEnd brings the end of the longest visible line on screen: sideways
// in nowrap mode, down to its last rows when wrapped.
func (m *Model) toLineEnd() {
	rows := m.visible(m.bodyHeight())
	if len(rows) == 0 {
		return
	}
	if m.wrap {
		e := rows[0].e
		abs := rows[0].abs
		n := len(m.rowsOf(e))
		m.follow = false
		m.topAbs, m.topSub = abs, max(0, n-m.bodyHeight())
		return
	}
	widest := 0
	for _, r := range rows {
		if r.e.width < 0 {
			r.e.width = textWidth(r.e.text, r.e.ascii)
		}
		widest = max(widest, r.e.width-max(1, m.width-m.prefixWidth(r.e)))
	}
	m.xoff = max(0, widest)
}

// findNext jumps to the next (dir 1) or previous (dir -1) line that matches
// the query, wrapping around the buffer.
func (m *Model) findNext(dir int) {
	if m.query == "" || m.n == 0 {
		return
	}
	from := m.matchAbs
	if from < m.base {
		if m.follow {
			from, _ = m.bottomTop(m.bodyHeight())
		} else {
			from = m.topAbs
		}
		if dir > 0 {
			from--
		} else {
			from++
		}
	}
	n := m.n
	for i := 1; i <= n; i++ {
		abs := m.base + ((from-m.base+dir*i)%n+n)%n
		e := m.at(abs)
		if m.match.index(e.text) >= 0 || (e.json != "" && m.match.index(e.json) >= 0) {
			m.matchAbs = abs
			m.follow = false
			m.topAbs, m.topSub = abs, 0
			m.status = ""
			m.clampScroll()
			return
		}
	}
	m.status = "no match for " + sanitize.Line(m.query)
}

// clampScroll keeps the top no lower than the bottom-anchored position.
func (m *Model) clampScroll() {
	ba, bs := m.bottomTop(m.bodyHeight())
	if m.topAbs > ba || (m.topAbs == ba && m.topSub > bs) {
		m.topAbs, m.topSub = ba, bs
	}
}

type vrow struct {
	e     *entry
	abs   int
	sub   int
	text  string
	first bool
}

// visible returns the h rows on screen; only these are ever rendered.
func (m *Model) visible(h int) []vrow {
	if m.n == 0 || h <= 0 {
		return nil
	}
	var abs, sub int
	if m.follow {
		abs, sub = m.bottomTop(h)
	} else {
		m.clampTop()
		abs, sub = m.topAbs, m.topSub
	}
	out := make([]vrow, 0, h)
	for ; abs <= m.lastAbs() && len(out) < h; abs++ {
		e := m.at(abs)
		rows := m.rowsOf(e)
		for ; sub < len(rows) && len(out) < h; sub++ {
			out = append(out, vrow{e: e, abs: abs, sub: sub, text: rows[sub], first: sub == 0})
		}
		sub = 0
	}
	return out
}

// View implements common.Pane.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	h := m.bodyHeight()
	rows := m.visible(h)
	var b strings.Builder
	b.Grow((m.width + 16) * m.height)
	for i := 0; i < h; i++ {
		if i < len(rows) {
			m.renderRow(&b, rows[i])
		} else if i == 0 && m.n == 0 {
			b.WriteString(m.pad(m.theme.Muted.Render(m.emptyText()), lipgloss.Width(m.emptyText())))
		} else {
			b.WriteString(strings.Repeat(" ", m.width))
		}
		b.WriteByte('\n')
	}
	b.WriteString(m.statusLine())
	return b.String()
}

func (m *Model) emptyText() string {
	t := "no output yet"
	if m.id == "" {
		t = "nothing selected"
	}
	if len(t) > m.width {
		t = t[:m.width]
	}
	return t
}

func (m *Model) pad(s string, w int) string {
	if w >= m.width {
		return s
	}
	return s + strings.Repeat(" ", m.width-w)
}

func (m *Model) renderRow(b *strings.Builder, r vrow) {
	used := 0
	gutter := m.prefixWidth(r.e) > 0
	if gutter && m.showTime {
		ts := strings.Repeat(" ", len(timeFormat))
		if r.first && !r.e.time.IsZero() {
			ts = r.e.time.Format(timeFormat)
		}
		b.WriteString(m.theme.Muted.Render(ts))
		b.WriteByte(' ')
		used += len(timeFormat) + 1
	}
	if gutter && r.e.cont {
		b.WriteString(strings.Repeat(" ", sevWidth+1))
		used += sevWidth + 1
	}
	if gutter && r.e.sev != "" {
		sev := shortSeverity(r.e.sev)
		sev += strings.Repeat(" ", sevWidth-len(sev))
		if r.first {
			b.WriteString(m.sevStyle(r.e.sev).Render(sev))
		} else {
			b.WriteString(strings.Repeat(" ", sevWidth))
		}
		b.WriteByte(' ')
		used += sevWidth + 1
	}
	tw := max(0, m.width-used)
	text, w := r.text, 0
	if m.wrap {
		ascii := isASCII(text)
		w = textWidth(text, ascii)
		if w > tw { // a wide character in a pane narrower than it
			text, w = window(text, 0, tw, ascii)
		}
	} else {
		if r.text == r.e.text && !r.e.ascii {
			e := r.e
			if !e.winOK || e.winOff != m.xoff || e.winW != tw {
				e.winStr, e.winUsed = window(text, m.xoff, tw, false)
				e.winOff, e.winW, e.winOK = m.xoff, tw, true
			}
			text, w = e.winStr, e.winUsed
		} else {
			ascii := r.e.ascii
			if r.text != r.e.text {
				ascii = isASCII(text)
			}
			text, w = window(text, m.xoff, tw, ascii)
		}
	}
	style := m.theme.Base
	if r.e.notice {
		style = m.theme.Muted
	}
	m.writeHighlighted(b, text, style, r.abs == m.matchAbs)
	if w < tw {
		b.WriteString(strings.Repeat(" ", tw-w))
	}
}

// writeHighlighted writes text with every match of the query highlighted.
func (m *Model) writeHighlighted(b *strings.Builder, text string, style lipgloss.Style, current bool) {
	base := sgrOf(style)
	if m.query == "" {
		base.write(b, text)
		return
	}
	hl := sgrOf(m.theme.Match)
	if current {
		hl = sgrOf(m.theme.Match.Reverse(true))
	}
	for text != "" {
		i := m.match.index(text)
		if i < 0 {
			break
		}
		if i > 0 {
			base.write(b, text[:i])
		}
		hl.write(b, text[i:i+len(m.query)])
		text = text[i+len(m.query):]
	}
	if text != "" {
		base.write(b, text)
	}
}

// sgr is a style reduced to the escape sequences around its text. Row text is
// sanitized and single-line, so wrapping it in the style's opening and
// closing sequences is what Render would do, without Render's per-call cost
// (and without its per-rune output for underlined styles).
type sgr struct{ pre, suf string }

func sgrOf(st lipgloss.Style) sgr {
	out := st.Render("X")
	i := strings.Index(out, "X")
	if i < 0 {
		return sgr{}
	}
	return sgr{pre: out[:i], suf: out[i+1:]}
}

func (s sgr) write(b *strings.Builder, text string) {
	if text == "" {
		return
	}
	b.WriteString(s.pre)
	b.WriteString(text)
	b.WriteString(s.suf)
}

func (m *Model) sevStyle(sev string) lipgloss.Style {
	switch sev {
	case "ERROR", "CRITICAL", "ALERT", "EMERGENCY", "FATAL", "PANIC":
		return m.theme.Error
	case "WARN", "WARNING":
		return m.theme.Warn
	case "DEBUG", "TRACE":
		return m.theme.Muted
	}
	return m.theme.Accent
}

// shortSeverity fits the common severity names in the 5-column gutter.
func shortSeverity(sev string) string {
	switch sev {
	case "WARNING":
		return "WARN"
	case "CRITICAL":
		return "CRIT"
	case "EMERGENCY":
		return "EMERG"
	case "NOTICE":
		return "NOTE"
	case "DEFAULT":
		return ""
	}
	if len(sev) > sevWidth {
		return sev[:sevWidth]
	}
	return sev
}

func (m *Model) statusLine() string {
	var s string
	switch m.prompt {
	case promptSearch:
		s = "/" + m.promptInput + "█"
	case promptSave:
		s = "save to: " + m.promptInput + "█"
	default:
		var parts []string
		if m.follow {
			parts = append(parts, "FOLLOW")
		}
		if m.wrap {
			parts = append(parts, "wrap")
		}
		if m.showTime {
			parts = append(parts, "time")
		}
		if m.json {
			parts = append(parts, "json")
		}
		if !m.wrap && m.xoff > 0 {
			parts = append(parts, fmt.Sprintf("col %d", m.xoff+1))
		}
		if m.query != "" {
			parts = append(parts, "/"+sanitize.Line(m.query))
		}
		if m.done {
			parts = append(parts, "done")
		} else if m.isLog {
			// How live the tail is: what its source says it is doing
			// (waiting for the first invocation, reconnecting,
			// sampling), else how far behind real time its newest
			// event arrived.
			switch {
			case m.liveNote != "":
				parts = append(parts, sanitize.Line(m.liveNote))
			case m.lagKnown:
				parts = append(parts, "lag "+fmtLag(m.lag))
			}
		}
		if m.dropped > 0 {
			d := "… " + commas(m.dropped) + " lines skipped on screen"
			if m.logFile != "" {
				d += " — full output in " + sanitize.Line(m.logFile)
			}
			parts = append(parts, d)
		}
		if m.status != "" {
			parts = append(parts, m.status)
		}
		s = strings.Join(parts, " · ")
	}
	w := lipgloss.Width(s)
	if w > m.width {
		s = truncate(s, m.width)
		w = lipgloss.Width(s)
	}
	return m.pad(m.theme.Muted.Render(s), w)
}

// fmtLag is a short duration: "80ms", "1.2s", "3m05s".
func fmtLag(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

func truncate(s string, w int) string {
	out, _ := window(s, 0, w, isASCII(s))
	return out
}

// commas formats n with thousands separators.
func commas(n uint64) string {
	s := fmt.Sprint(n)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}
