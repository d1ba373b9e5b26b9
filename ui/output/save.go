package output

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// savedMsg reports the result of `s`.
type savedMsg struct {
	path string
	n    int
	err  error
}

// defaultSavePath is a fresh name in the current directory.
func (m *Model) defaultSavePath() string {
	name := "fndeck-output-" + m.now().Format("20060102-150405") + ".log"
	if dir, err := os.Getwd(); err == nil {
		return filepath.Join(dir, name)
	}
	return name
}

// saveCmd snapshots the pane's lines (already sanitized; strings are
// immutable, so the copy is only headers) and writes them off the UI loop.
func (m *Model) saveCmd(path string) tea.Cmd {
	lines := make([]string, 0, m.n)
	for abs := m.base; abs <= m.lastAbs(); abs++ {
		e := m.at(abs)
		var b strings.Builder
		if m.showTime && !e.time.IsZero() {
			b.WriteString(e.time.Format(timeFormat))
			b.WriteByte(' ')
		}
		if e.sev != "" {
			b.WriteString(e.sev)
			b.WriteByte(' ')
		}
		b.WriteString(e.text)
		lines = append(lines, b.String())
	}
	if strings.HasPrefix(path, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, path[2:])
		}
	}
	return func() tea.Msg {
		n, err := writeLines(path, lines)
		return savedMsg{path: path, n: n, err: err}
	}
}

func writeLines(path string, lines []string) (int, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, fmt.Errorf("saving output to %s: %w", path, err)
	}
	// An existing file keeps its mode on O_TRUNC; output may hold secrets
	// the redactor missed, so tighten it.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return 0, fmt.Errorf("saving output to %s: %w", path, err)
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, fmt.Errorf("saving output to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("saving output to %s: %w", path, err)
	}
	return len(lines), nil
}
