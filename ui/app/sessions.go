package app

import (
	"time"

	tea "charm.land/bubbletea/v2"
)

// sessionsMsg carries fresh session warnings for the header.
type sessionsMsg struct{ warnings []string }

// checkSessions asks Options.Sessions after delay (0: now), off the UI
// goroutine; nil when no Sessions is set.
func (m *Model) checkSessions(delay time.Duration) tea.Cmd {
	f := m.opts.Sessions
	if f == nil {
		return nil
	}
	now := m.opts.Now
	if now == nil {
		now = time.Now
	}
	run := func() tea.Msg { return sessionsMsg{warnings: f(now())} }
	if delay <= 0 {
		return run
	}
	return tea.Tick(delay, func(time.Time) tea.Msg { return run() })
}

// sessionsEvery is how often the header's session warnings are refreshed.
func (m *Model) sessionsEvery() time.Duration {
	if m.opts.SessionsEvery > 0 {
		return m.opts.SessionsEvery
	}
	return 30 * time.Second
}
