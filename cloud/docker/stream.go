package docker

import (
	"encoding/json"
	"regexp"
	"strings"
	"sync"
)

// streamMessage is one JSON message of a build or push stream. Both the
// legacy "error" string and "errorDetail" are read: engines send either.
type streamMessage struct {
	Stream   string `json:"stream"`
	Status   string `json:"status"`
	ID       string `json:"id"`
	Progress *struct {
		Current int64 `json:"current"`
		Total   int64 `json:"total"`
	} `json:"progressDetail"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errorDetail"`
	Aux json.RawMessage `json:"aux"`
}

// errorText returns the message's error, "" when it carries none.
func (m *streamMessage) errorText() string {
	if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
		return m.ErrorDetail.Message
	}
	return m.Error
}

var (
	stepRe     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^Step \d+/\d+ : `) })
	runningRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^ ---> Running in ([0-9a-f]{12,64})$`) })
	removingRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^Removing intermediate container ([0-9a-f]{12,64})$`)
	})
	imageRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^ ---> ([0-9a-f]{12,64})$`) })
	builtRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^Successfully built ([0-9a-f]{12,64})$`) })
	taggedRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^Successfully tagged (\S+)$`) })
)

// buildTracker follows a classic-builder stream: it turns stream chunks into
// lines and remembers what a cancel has to clean up (the step's container,
// tags already applied) and what a failure has to name (the step).
type buildTracker struct {
	pending   strings.Builder // a chunk's unterminated tail
	step      string          // "Step 3/5 : RUN false"
	running   []string        // build containers started and not yet removed
	lastImage string          // short ID of the last committed step image
	built     string          // short ID from "Successfully built"
	imageID   string          // full ID from the aux message
	tagged    []string
	errMsg    string
	errStep   string
}

// feed consumes one message and returns the complete lines it produced.
func (t *buildTracker) feed(m *streamMessage) []string {
	var lines []string
	if m.Stream != "" {
		t.pending.WriteString(m.Stream)
		s := t.pending.String()
		last := strings.LastIndexByte(s, '\n')
		if last >= 0 {
			for _, l := range strings.Split(s[:last], "\n") {
				lines = append(lines, t.line(strings.TrimRight(l, "\r")))
			}
			t.pending.Reset()
			t.pending.WriteString(s[last+1:])
		}
	}
	if m.Status != "" {
		st := m.Status
		if m.ID != "" {
			st = m.ID + ": " + st
		}
		lines = append(lines, st)
	}
	if len(m.Aux) > 0 {
		var aux struct {
			ID string `json:"ID"`
		}
		if json.Unmarshal(m.Aux, &aux) == nil && aux.ID != "" {
			t.imageID = aux.ID
		}
	}
	if e := m.errorText(); e != "" && t.errMsg == "" {
		t.errMsg = strings.TrimSpace(e)
		t.errStep = t.step
	}
	return lines
}

// flush returns the unterminated tail, if any.
func (t *buildTracker) flush() []string {
	if t.pending.Len() == 0 {
		return nil
	}
	l := t.line(t.pending.String())
	t.pending.Reset()
	return []string{l}
}

func (t *buildTracker) line(l string) string {
	switch {
	case stepRe().MatchString(l):
		t.step = l
	case runningRe().MatchString(l):
		t.running = append(t.running, runningRe().FindStringSubmatch(l)[1])
	case removingRe().MatchString(l):
		id := removingRe().FindStringSubmatch(l)[1]
		for i, r := range t.running {
			if strings.HasPrefix(id, r) || strings.HasPrefix(r, id) {
				t.running = append(t.running[:i], t.running[i+1:]...)
				break
			}
		}
	case imageRe().MatchString(l):
		t.lastImage = imageRe().FindStringSubmatch(l)[1]
	case builtRe().MatchString(l):
		t.built = builtRe().FindStringSubmatch(l)[1]
	case taggedRe().MatchString(l):
		t.tagged = append(t.tagged, taggedRe().FindStringSubmatch(l)[1])
	}
	return l
}
