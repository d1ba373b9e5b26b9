// Over 600 lines, on purpose for now: the invoke pane's editor, templates,
// history and result view share one model's state; the split by concern is
// issue 19's part 4, due once no branch edits it.

// Package invoke is the invoke pane: a JSON payload editor validated as you
// type, saved payloads and history, HTTP fields for HTTP targets, and the
// result of the last invocation (status, function error, response, streamed
// chunks, log tail, REPORT figures).
package invoke

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/sanitize"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/table"
)

// maxStreamBytes bounds the streamed response kept for display; the full body
// arrives with the result anyway.
const maxStreamBytes = 1 << 20

// Options configures the pane.
type Options struct {
	Theme common.Theme
	// Address is the function invoked; HTTP marks targets that take an HTTP
	// request (Cloud Run, local HTTP images) and get method/path/headers.
	Address cloud.Address
	HTTP    bool
	// Saved are fndeck.yaml `payloads` (name → content); History is previous
	// payloads, newest first.
	Saved   map[string]string
	History []string
	// Payload is the editor's initial content; "" means "{}".
	Payload string
	// Now is the clock for the live "invoking…" elapsed; nil means time.Now.
	Now func() time.Time
}

type mode int

const (
	modeNormal mode = iota
	modeEdit
	modePick
	modeField
)

type field int

const (
	fieldPath field = iota
	fieldHeaders
	fieldSaveName // the name to save the payload under (S)
)

// tickMsg refreshes the live elapsed time; it exists only while an
// invocation runs, so the idle pane has no timer.
type tickMsg struct{ started time.Time }

const tickEvery = 100 * time.Millisecond

func tickCmd(started time.Time) tea.Cmd {
	return tea.Tick(tickEvery, func(time.Time) tea.Msg { return tickMsg{started: started} })
}

type pickItem struct {
	label   string
	content string
	headers string // an HTTP event template's request headers, "K: V; K2: V2"
}

// Model is the invoke pane. Use New; it implements common.Pane.
type Model struct {
	theme common.Theme
	now   func() time.Time

	addr cloud.Address
	http bool

	width, height int
	focused       bool

	editor  textarea.Model
	mode    mode
	invalid error // validation of the editor's content, updated as you type

	method  string
	path    string
	headers string // "K: V; K2: V2"

	field      field
	fieldInput string

	saved   map[string]string
	history []string
	items   []pickItem
	pick    int

	// result
	running  bool
	started  time.Time
	stream   []byte
	result   *cloud.InvokeResult
	err      error
	resLines []string // rendered result, rebuilt only when the result changes
	resTop   int
}

// New builds the pane with the editor focused on the payload.
func New(opts Options) *Model {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ta := textarea.New()
	ta.ShowLineNumbers = true
	ta.Prompt = ""
	ta.CharLimit = 0
	ta.MaxHeight = 0
	ta.Placeholder = `{"key": "value"}`
	st := textarea.DefaultStyles(opts.Theme.Dark)
	if opts.Theme.NoColor {
		plain := textarea.StyleState{Selection: lipgloss.NewStyle().Reverse(true)}
		st.Focused, st.Blurred = plain, plain
		st.Cursor.Color = nil
	}
	ta.SetStyles(st)
	m := &Model{theme: opts.Theme, now: now, editor: ta, method: http.MethodPost, path: "/"}
	m.SetTarget(opts.Address, opts.HTTP)
	m.SetSaved(opts.Saved)
	m.SetHistory(opts.History)
	p := opts.Payload
	if p == "" {
		p = "{}"
	}
	m.setPayload(p)
	return m
}

var _ common.Pane = (*Model)(nil)

// SetTarget points the pane at a function; HTTP targets get method, path
// and headers fields.
func (m *Model) SetTarget(addr cloud.Address, isHTTP bool) {
	m.addr, m.http = addr, isHTTP
}

// SetSaved replaces the saved payloads (name → content).
func (m *Model) SetSaved(saved map[string]string) { m.saved = saved }

// SetHistory replaces the payload history, newest first.
func (m *Model) SetHistory(h []string) { m.history = h }

// Payload is the editor's current content.
func (m *Model) Payload() string { return m.editor.Value() }

// Invalid is the current validation error (nil when the payload is valid).
func (m *Model) Invalid() error { return m.invalid }

// Result is the last completed result, nil before one arrives.
func (m *Model) Result() *cloud.InvokeResult { return m.result }

func (m *Model) setPayload(p string) {
	m.editor.SetValue(p)
	m.validate()
}

func (m *Model) validate() {
	v := m.editor.Value()
	if m.http && strings.TrimSpace(v) == "" {
		m.invalid = nil // an HTTP request may have no body
		return
	}
	if m.http && !looksJSON(v) {
		m.invalid = nil // HTTP bodies need not be JSON
		return
	}
	m.invalid = ValidatePayload([]byte(v))
}

func looksJSON(s string) bool {
	t := strings.TrimSpace(s)
	return t != "" && (t[0] == '{' || t[0] == '[' || t[0] == '"')
}

// Title implements common.Pane.
func (m *Model) Title() string {
	t := "Invoke"
	if m.addr.Function != "" {
		t += " · " + sanitize.Line(m.addr.String())
	}
	return t
}

// SetSize implements common.Pane.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.editor.SetWidth(max(10, w))
	m.editor.SetHeight(m.editorHeight())
	m.resLines = nil
}

func (m *Model) editorHeight() int {
	fixed := 2 // target line, validation line
	if m.http {
		fixed++
	}
	return max(3, (m.height-fixed)*2/5)
}

// SetFocused implements common.Pane.
func (m *Model) SetFocused(f bool) {
	m.focused = f
	if !f {
		m.editor.Blur()
		if m.mode == modeEdit {
			m.mode = modeNormal
		}
	}
}

// Capturing implements common.Pane: editing the payload, a field or picking
// a payload consumes keystrokes.
func (m *Model) Capturing() bool { return m.mode != modeNormal }

var normalKeys = []key.Binding{
	key.NewBinding(key.WithKeys("e", "i"), key.WithHelp("e", "edit payload")),
	key.NewBinding(key.WithKeys("enter", "ctrl+s"), key.WithHelp("enter/ctrl+s", "send")),
	key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "saved/history/events")),
	key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "save payload")),
	key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "format JSON")),
	key.NewBinding(key.WithKeys("j", "k"), key.WithHelp("j/k", "scroll result")),
}

var httpKeys = []key.Binding{
	key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "method")),
	key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "path")),
	key.NewBinding(key.WithKeys("H"), key.WithHelp("H", "headers")),
}

var editKeys = []key.Binding{
	key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "send")),
	key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "stop editing")),
}

// Keys implements common.Pane.
func (m *Model) Keys() []key.Binding {
	switch m.mode {
	case modeEdit:
		return editKeys
	case modeNormal:
		if m.http {
			return append(append([]key.Binding(nil), normalKeys...), httpKeys...)
		}
		return normalKeys
	}
	return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose")), key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))}
}

// Edit focuses the payload editor (the root calls it when it opens the pane).
func (m *Model) Edit() tea.Cmd {
	m.mode = modeEdit
	return m.editor.Focus()
}

// Update implements common.Pane.
func (m *Model) Update(msg tea.Msg) (common.Pane, tea.Cmd) {
	switch msg := msg.(type) {
	case common.InvokeChunkMsg:
		if msg.Address == m.addr && m.running {
			m.stream = append(m.stream, msg.Data...)
			if len(m.stream) > maxStreamBytes {
				m.stream = m.stream[len(m.stream)-maxStreamBytes:]
			}
			m.resLines = nil
		}
		return m, nil
	case common.InvokeDoneMsg:
		if msg.Address == m.addr {
			m.running = false
			m.err = msg.Err
			if msg.Err == nil {
				r := msg.Result
				m.result = &r
			}
			m.resLines, m.resTop = nil, 0
		}
		return m, nil
	case tickMsg:
		// A tick from an earlier invocation dies here, so there is never
		// more than one timer.
		if m.running && msg.started.Equal(m.started) {
			m.resLines = nil
			return m, tickCmd(m.started)
		}
		return m, nil
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	}
	if m.mode == modeEdit {
		// Paste and cursor blinks arrive here; a paste changes the payload.
		var cmd tea.Cmd
		m.editor, cmd = m.editor.Update(msg)
		if _, ok := msg.(tea.PasteMsg); ok {
			m.validate()
		}
		return m, cmd
	}
	return m, nil
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := msg.String()
	switch m.mode {
	case modeEdit:
		switch k {
		case "ctrl+s":
			return m.send()
		case "esc":
			m.mode = modeNormal
			m.editor.Blur()
			return nil
		}
		var cmd tea.Cmd
		m.editor, cmd = m.editor.Update(msg)
		m.validate()
		return cmd
	case modePick:
		switch k {
		case "esc", "q":
			m.mode = modeNormal
		case "j", "down":
			m.pick = min(m.pick+1, len(m.items)-1)
		case "k", "up":
			m.pick = max(m.pick-1, 0)
		case "enter":
			if m.pick < len(m.items) {
				m.setPayload(m.items[m.pick].content)
				if it := m.items[m.pick]; m.http && it.headers != "" {
					m.headers = it.headers
				}
			}
			m.mode = modeNormal
		}
		return nil
	case modeField:
		switch k {
		case "esc":
			m.mode = modeNormal
		case "enter":
			if m.field == fieldSaveName {
				return m.savePayload()
			}
			if m.field == fieldPath {
				p := strings.TrimSpace(m.fieldInput)
				if !strings.HasPrefix(p, "/") {
					p = "/" + p
				}
				m.path = p
			} else {
				if _, err := parseHeaders(m.fieldInput); err != nil {
					return errorCmd(err)
				}
				m.headers = m.fieldInput
			}
			m.mode = modeNormal
		case "backspace":
			if r := []rune(m.fieldInput); len(r) > 0 {
				m.fieldInput = string(r[:len(r)-1])
			}
		case "ctrl+u":
			m.fieldInput = ""
		default:
			if t := msg.Key().Text; t != "" {
				m.fieldInput += sanitize.Line(t)
			}
		}
		return nil
	}
	switch k {
	case "e", "i":
		return m.Edit()
	case "enter", "ctrl+s":
		return m.send()
	case "p":
		m.items = m.pickItems()
		if len(m.items) == 0 {
			return statusCmd("no saved payloads or history yet")
		}
		m.mode, m.pick = modePick, 0
	case "S":
		m.mode, m.field, m.fieldInput = modeField, fieldSaveName, ""
	case "F":
		var buf bytes.Buffer
		if json.Indent(&buf, []byte(m.editor.Value()), "", "  ") == nil {
			m.setPayload(buf.String())
		}
	case "j", "down":
		m.resTop++
	case "k", "up":
		m.resTop = max(0, m.resTop-1)
	case "m":
		if m.http {
			m.method = nextMethod(m.method)
		}
	case "u":
		if m.http {
			m.mode, m.field, m.fieldInput = modeField, fieldPath, m.path
		}
	case "H":
		if m.http {
			m.mode, m.field, m.fieldInput = modeField, fieldHeaders, m.headers
		}
	}
	return nil
}

func nextMethod(cur string) string {
	methods := []string{http.MethodPost, http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete}
	for i, mm := range methods {
		if mm == cur {
			return methods[(i+1)%len(methods)]
		}
	}
	return methods[0]
}

// parseHeaders reads "K: V; K2: V2".
func parseHeaders(s string) (http.Header, error) {
	h := http.Header{}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("invalid header %q: expected 'Name: value' (separate headers with ';')", part)
		}
		h.Add(k, strings.TrimSpace(v))
	}
	return h, nil
}

func (m *Model) pickItems() []pickItem {
	var items []pickItem
	names := make([]string, 0, len(m.saved))
	for n := range m.saved {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		items = append(items, pickItem{label: "saved  " + sanitize.Line(n), content: m.saved[n]})
	}
	for i, h := range m.history {
		items = append(items, pickItem{label: fmt.Sprintf("hist %2d %s", i+1, sanitize.Line(compact(h))), content: h})
	}
	return append(items, m.templateItems()...)
}

func compact(s string) string {
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(s)) == nil {
		return buf.String()
	}
	return s
}

// send validates and emits InvokeSendMsg; an invalid payload is never sent.
func (m *Model) send() tea.Cmd {
	m.validate()
	if m.invalid != nil {
		return errorCmd(m.invalid)
	}
	if m.running {
		return statusCmd("an invocation is already running")
	}
	msg := common.InvokeSendMsg{Address: m.addr, Payload: []byte(m.editor.Value())}
	if m.http {
		h, err := parseHeaders(m.headers)
		if err != nil {
			return errorCmd(err)
		}
		msg.Method, msg.Path, msg.Headers = m.method, m.path, h
	}
	m.running, m.started = true, m.now()
	m.stream, m.result, m.err = nil, nil, nil
	m.resLines, m.resTop = nil, 0
	return tea.Batch(func() tea.Msg { return msg }, tickCmd(m.started))
}

func errorCmd(err error) tea.Cmd {
	return func() tea.Msg { return common.ErrorMsg{Err: err} }
}

func statusCmd(text string) tea.Cmd {
	return func() tea.Msg { return common.StatusMsg{Text: text} }
}

// ---------- rendering ----------

// View implements common.Pane.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	var lines []string
	lines = append(lines, m.targetLine())
	if m.http {
		h := m.headers
		if h == "" {
			h = "(none)"
		}
		if m.mode == modeField && m.field != fieldSaveName {
			if m.field == fieldPath {
				lines = append(lines, "path: "+m.fieldInput+"█")
			} else {
				lines = append(lines, "headers: "+m.fieldInput+"█")
			}
		} else {
			lines = append(lines, fmt.Sprintf("%s %s  headers: %s", m.method, sanitize.Line(m.path), sanitize.Line(h)))
		}
	}
	if m.mode == modeField && m.field == fieldSaveName {
		lines = append(lines, "save payload as: "+m.fieldInput+"█")
	}
	eh := m.editorHeight()
	if m.mode == modePick {
		lines = append(lines, m.pickerLines(eh)...)
	} else {
		lines = append(lines, strings.Split(m.editor.View(), "\n")...)
	}
	lines = append(lines, m.validationLine())
	rest := m.height - len(lines)
	if rest > 0 {
		res := m.resultLines()
		top := max(0, min(m.resTop, len(res)-rest))
		m.resTop = top
		for i := top; i < len(res) && i < top+rest; i++ {
			lines = append(lines, res[i])
		}
	}
	for len(lines) < m.height {
		lines = append(lines, "")
	}
	lines = lines[:m.height]
	for i, l := range lines {
		lines[i] = table.Fit(l, m.width, false)
	}
	return strings.Join(lines, "\n")
}

func (m *Model) targetLine() string {
	t := "target: "
	if m.addr.Function == "" {
		t += "(none)"
	} else {
		t += sanitize.Line(m.addr.String())
	}
	hint := "  e edit · enter send · p saved/history"
	if m.mode == modeEdit {
		hint = "  ctrl+s send · esc done"
	}
	return m.theme.Header.Render(t) + m.theme.Muted.Render(hint)
}

func (m *Model) validationLine() string {
	if m.invalid != nil {
		// The position first: in a narrow pane the parser's words get cut,
		// the line and column must not.
		var pe *PayloadError
		if errors.As(m.invalid, &pe) && pe.Line > 0 {
			return m.theme.Error.Render(fmt.Sprintf("✗ invalid JSON at line %d, column %d: %s", pe.Line, pe.Column, pe.Msg))
		}
		return m.theme.Error.Render("✗ " + m.invalid.Error())
	}
	if m.http {
		switch v := m.editor.Value(); {
		case strings.TrimSpace(v) == "":
			return m.theme.OK.Render("✓ no body")
		case !looksJSON(v):
			return m.theme.OK.Render("✓ text body")
		}
	}
	return m.theme.OK.Render("✓ valid JSON")
}

func (m *Model) pickerLines(h int) []string {
	out := make([]string, 0, h)
	top := max(0, m.pick-h+1)
	for i := top; i < len(m.items) && len(out) < h; i++ {
		l := m.items[i].label
		if i == m.pick {
			l = m.theme.Selected.Render(l)
		}
		out = append(out, l)
	}
	for len(out) < h {
		out = append(out, "")
	}
	return out
}

// resultLines renders the result once per change; scrolling reuses it.
func (m *Model) resultLines() []string {
	if m.resLines != nil && !m.running {
		return m.resLines
	}
	var out []string
	add := func(s ...string) { out = append(out, s...) }
	switch {
	case m.running:
		add(m.theme.Accent.Render(fmt.Sprintf("invoking… %s", m.now().Sub(m.started).Round(100*time.Millisecond))))
		if len(m.stream) > 0 {
			add(m.theme.Header.Render("response (streaming):"))
			add(textLines(string(m.stream))...)
		}
	case m.err != nil:
		add(m.theme.Error.Render("✗ " + sanitize.Line(m.err.Error())))
		if h := cloud.Hint(m.err); h != "" {
			add(m.theme.Muted.Render("hint: " + sanitize.Line(h)))
		}
	case m.result != nil:
		out = m.renderResult(*m.result)
	default:
		add(m.theme.Muted.Render("no invocation yet"))
	}
	m.resLines = out
	return out
}

func (m *Model) renderResult(r cloud.InvokeResult) []string {
	var out []string
	st := m.theme.OK
	if r.StatusCode >= 400 || r.FunctionError != "" || r.TimedOut {
		st = m.theme.Error
	}
	head := fmt.Sprintf("status %d", r.StatusCode)
	if r.ElapsedMS > 0 {
		head += fmt.Sprintf(" · %s", fmtMS(r.ElapsedMS))
	}
	if r.RequestID != "" {
		head += " · request " + sanitize.Line(r.RequestID)
	}
	if r.TimedOut {
		head += " · TIMED OUT"
	}
	out = append(out, st.Render(head))
	if r.FunctionError != "" {
		out = append(out, m.theme.Error.Render("function error: "+sanitize.Line(r.FunctionError)))
	}
	if rep := r.Report; rep != nil {
		parts := []string{"REPORT duration " + fmtMS(rep.DurationMS), "billed " + fmtMS(rep.BilledMS)}
		if rep.InitMS > 0 {
			parts = append(parts, "init "+fmtMS(rep.InitMS)+" (cold start)")
		}
		if rep.MemoryMB > 0 {
			parts = append(parts, fmt.Sprintf("memory %d/%d MB", rep.MaxMemoryMB, rep.MemoryMB))
		}
		if rep.Status != "" {
			parts = append(parts, sanitize.Line(rep.Status))
		}
		for _, l := range pack(parts, " · ", m.width) {
			out = append(out, m.theme.Accent.Render(l))
		}
	}
	for _, l := range pack(costParts(r), " · ", m.width) {
		out = append(out, m.theme.Muted.Render(l))
	}
	out = append(out, m.theme.Header.Render("response:"))
	body := r.Body
	if len(body) == 0 && len(r.Response) > 0 {
		body = r.Response
	}
	if len(body) == 0 && len(m.stream) > 0 {
		body = m.stream
	}
	var buf bytes.Buffer
	if len(body) > 0 && json.Valid(body) && json.Indent(&buf, body, "  ", "  ") == nil {
		out = append(out, textLines("  "+buf.String())...)
	} else if len(body) > 0 {
		for _, l := range textLines(string(body)) {
			out = append(out, "  "+l)
		}
	} else {
		out = append(out, m.theme.Muted.Render("  (empty)"))
	}
	if r.LogTail != "" {
		out = append(out, m.theme.Header.Render("log tail:"))
		for _, l := range textLines(strings.TrimRight(r.LogTail, "\n")) {
			out = append(out, "  "+l)
		}
	}
	return out
}

// textLines sanitizes outside text and splits it into display lines.
func textLines(s string) []string {
	return strings.Split(sanitize.Text(s), "\n")
}

func fmtMS(ms float64) string {
	if ms >= 1000 {
		return fmt.Sprintf("%.2f s", ms/1000)
	}
	return fmt.Sprintf("%.1f ms", ms)
}

// pack joins parts with sep into as few lines of at most width columns as
// it can, never splitting a part.
func pack(parts []string, sep string, width int) []string {
	var lines []string
	cur := ""
	for _, p := range parts {
		switch {
		case cur == "":
			cur = p
		case lipgloss.Width(cur+sep+p) <= width:
			cur += sep + p
		default:
			lines = append(lines, cur)
			cur = "  " + p
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}
