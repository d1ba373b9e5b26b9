package invoke

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/fndeck/fndeck/cloud/events"
	"github.com/fndeck/fndeck/ui/common"
)

// templateItems are the sample events (package events) that suit the
// target, filled with its names: AWS events for event-style targets, HTTP
// bodies (with their Content-Type) for HTTP ones.
func (m *Model) templateItems() []pickItem {
	var items []pickItem
	for _, t := range events.For(m.http) {
		b, err := t.Fill(events.VarsFor(m.addr))
		if err != nil {
			continue // a broken embedded template is the tests' to catch
		}
		it := pickItem{label: "event  " + t.Title, content: string(b)}
		if len(t.Headers) > 0 {
			names := make([]string, 0, len(t.Headers))
			for k := range t.Headers {
				names = append(names, k)
			}
			sort.Strings(names)
			parts := make([]string, len(names))
			for i, k := range names {
				parts[i] = k + ": " + t.Headers[k]
			}
			it.headers = strings.Join(parts, "; ")
		}
		items = append(items, it)
	}
	return items
}

var rePayloadName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`) })

// savePayload asks to keep the editor's payload under the typed name.
func (m *Model) savePayload() tea.Cmd {
	name := strings.TrimSpace(m.fieldInput)
	if !rePayloadName().MatchString(name) || strings.Contains(name, "..") {
		return errorCmd(fmt.Errorf("payload name %q: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", name))
	}
	m.mode = modeNormal
	body := m.editor.Value()
	saved := make(map[string]string, len(m.saved)+1) // the caller's map is not ours to change
	for k, v := range m.saved {
		saved[k] = v
	}
	saved[name] = body
	m.saved = saved
	msg := common.SavePayloadMsg{Address: m.addr, Name: name, Payload: []byte(body)}
	return func() tea.Msg { return msg }
}
