package actions

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/redact"
)

// MaxInvokeHistory is how many invocations are kept per target.
const MaxInvokeHistory = 100

// Stored invoke payloads and responses are cut to these sizes: the history
// is for finding an invocation again, the full body was shown at the time.
const (
	maxStoredPayload  = 64 << 10
	maxStoredResponse = 4 << 10
)

// InvokeRecord summarizes one invocation for the history.
type InvokeRecord struct {
	Time          time.Time     `json:"time"`
	Payload       string        `json:"payload"`
	PayloadCut    bool          `json:"payload_cut,omitempty"`
	StatusCode    int           `json:"status_code"`
	FunctionError string        `json:"function_error,omitempty"`
	Response      string        `json:"response,omitempty"` // first 4 KiB of the body
	RequestID     string        `json:"request_id,omitempty"`
	ElapsedMS     float64       `json:"elapsed_ms,omitempty"`
	TimedOut      bool          `json:"timed_out,omitempty"`
	Report        *cloud.Report `json:"report,omitempty"`
	Error         string        `json:"error,omitempty"` // the invoke failed before a result
	// CostUSD and CostPerMillionUSD are the invoke's cost estimate (package pricing).
	CostUSD           *float64 `json:"cost_usd,omitempty"`
	CostPerMillionUSD *float64 `json:"cost_per_million_usd,omitempty"`
}

// InvokeStore keeps invoke history (StateDir/invokes/<key>.jsonl, the last
// 100) and saved payloads (StateDir/payloads/<key>/<name>.json), files 0600.
type InvokeStore struct {
	dir string
	now func() time.Time
}

// NewInvokeStore returns the store under stateDir. now may be nil (time.Now).
func NewInvokeStore(stateDir string, now func() time.Time) *InvokeStore {
	if now == nil {
		now = time.Now
	}
	return &InvokeStore{dir: stateDir, now: now}
}

func cutUTF8(b []byte, n int) (string, bool) {
	if len(b) <= n {
		return string(b), false
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]), true
}

// Append adds one invocation (its payload, its result, or invokeErr when
// it failed) to the target's history, keeping the last 100. The response
// is redacted of credential-looking text before it is stored.
func (s *InvokeStore) Append(ctx context.Context, target cloud.Address, payload []byte, res cloud.InvokeResult, invokeErr error) error {
	if target.IsZero() {
		return fmt.Errorf("invoke history: empty address: %w", cloud.ErrInvalid)
	}
	rec := InvokeRecord{
		Time:              s.now(),
		StatusCode:        res.StatusCode,
		FunctionError:     res.FunctionError,
		RequestID:         res.RequestID,
		ElapsedMS:         res.ElapsedMS,
		TimedOut:          res.TimedOut,
		Report:            res.Report,
		CostUSD:           res.CostUSD,
		CostPerMillionUSD: res.CostPerMillionUSD,
	}
	rec.Payload, rec.PayloadCut = cutUTF8(payload, maxStoredPayload)
	body := res.Body
	if body == nil {
		body = res.Response
	}
	resp, _ := cutUTF8(body, maxStoredResponse)
	rec.Response = redact.Patterns(resp)
	if invokeErr != nil {
		rec.Error = redact.Patterns(invokeErr.Error())
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding invoke history of %s: %w", target.Key(), err)
	}
	p := filepath.Join(s.dir, "invokes", fileKey(target.Key())+".jsonl")
	unlock, err := lockFile(ctx, p+".lock", "invoke history of "+target.Key(), nil)
	if err != nil {
		return err
	}
	defer unlock()
	old, err := readJSONLines(p)
	if err != nil {
		return err
	}
	old = append(old, line)
	if over := len(old) - MaxInvokeHistory; over > 0 {
		old = old[over:]
	}
	return writeFileAtomic(p, append(bytes.Join(old, []byte("\n")), '\n'))
}

func readJSONLines(p string) ([][]byte, error) {
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading invoke history: %w", err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			out = append(out, slices.Clone(l))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading invoke history %s: %w", p, err)
	}
	return out, nil
}

// Recent returns the target's invocations, newest first. Lines that do not
// decode (a hand-edited file) are skipped and reported in err alongside
// the records that did.
func (s *InvokeStore) Recent(ctx context.Context, target cloud.Address) ([]InvokeRecord, error) {
	p := filepath.Join(s.dir, "invokes", fileKey(target.Key())+".jsonl")
	unlock, err := lockFile(ctx, p+".lock", "invoke history of "+target.Key(), nil)
	if err != nil {
		return nil, err
	}
	lines, err := readJSONLines(p)
	unlock()
	if err != nil {
		return nil, err
	}
	var out []InvokeRecord
	var errs []error
	for i := len(lines) - 1; i >= 0; i-- {
		var r InvokeRecord
		if err := json.Unmarshal(lines[i], &r); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", p, i+1, err))
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

var rePayloadName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`) })

func (s *InvokeStore) payloadDir(target cloud.Address) string {
	return filepath.Join(s.dir, "payloads", fileKey(target.Key()))
}

// SavePayload saves a named payload for the target, replacing one of the
// same name. Names are 1-64 letters, digits, '.', '_' or '-'.
func (s *InvokeStore) SavePayload(target cloud.Address, name string, body []byte) error {
	if target.IsZero() {
		return fmt.Errorf("saving payload: empty address: %w", cloud.ErrInvalid)
	}
	if !rePayloadName().MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("saving payload %q: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit: %w", name, cloud.ErrInvalid)
	}
	return writeFileAtomic(filepath.Join(s.payloadDir(target), name+".json"), body)
}

// Payloads returns the target's saved payloads by name.
func (s *InvokeStore) Payloads(target cloud.Address) (map[string][]byte, error) {
	dir := s.payloadDir(target)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return map[string][]byte{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading saved payloads of %s: %w", target.Key(), err)
	}
	out := make(map[string][]byte, len(entries))
	var errs []error
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if e.IsDir() || !ok || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, fmt.Errorf("reading saved payload %s: %w", name, err))
			continue
		}
		out[name] = b
	}
	return out, errors.Join(errs...)
}

// Stats summarizes a set of invocations' REPORT figures.
type Stats struct {
	Count int
	// Latest is the most recent report of the set (reports are given oldest first).
	Latest cloud.Report
	// Medians over the set.
	MedianDurationMS  float64
	MedianBilledMS    float64
	MedianInitMS      float64 // cold starts only; 0 for warm
	MedianMaxMemoryMB float64
}

// Figures splits reports (oldest first) into cold starts (InitMS > 0) and
// warm invocations and summarizes each. An empty set has Count 0.
func Figures(reports []cloud.Report) (cold, warm Stats) {
	var c, w []cloud.Report
	for _, r := range reports {
		if r.InitMS > 0 {
			c = append(c, r)
		} else {
			w = append(w, r)
		}
	}
	return stats(c), stats(w)
}

func stats(rs []cloud.Report) Stats {
	if len(rs) == 0 {
		return Stats{}
	}
	pick := func(f func(cloud.Report) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		return median(v)
	}
	return Stats{
		Count:             len(rs),
		Latest:            rs[len(rs)-1],
		MedianDurationMS:  pick(func(r cloud.Report) float64 { return r.DurationMS }),
		MedianBilledMS:    pick(func(r cloud.Report) float64 { return r.BilledMS }),
		MedianInitMS:      pick(func(r cloud.Report) float64 { return r.InitMS }),
		MedianMaxMemoryMB: pick(func(r cloud.Report) float64 { return float64(r.MaxMemoryMB) }),
	}
}

func median(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
