// Over 600 lines, on purpose for now: history reads, the shared live tail
// hub, gap filling and quota pacing interlock on one per-project state;
// splitting them by concern is issue 19's part 4.

package gcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	logging "cloud.google.com/go/logging/apiv2"
	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/fndeck/fndeck/cloud"
)

const loggingAPI = "logging.googleapis.com"

// subscriberBuffer is how many tail entries wait for a slow reader before
// the hub drops (and counts) the rest instead of stalling other panes.
const subscriberBuffer = 8192

// historyPageSize is the largest page ListLogEntries returns.
const historyPageSize = 1000

// revisionFilter selects Cloud Run services' logs.
const revisionFilter = `resource.type="cloud_run_revision"`

// serviceFilter is the Cloud Logging filter for one service.
func serviceFilter(t cloud.Address) string {
	return revisionFilter + " AND " + serviceTerm(t)
}

// serviceTerm names one service in its region.
func serviceTerm(t cloud.Address) string {
	return fmt.Sprintf(`resource.labels.service_name=%s AND resource.labels.location=%s`,
		strconv.Quote(t.Function), strconv.Quote(t.Region))
}

// servicesFilter selects the logs of every service named: an OR of them,
// not the whole project. Services and regions are still told apart
// client-side, since one tail serves many panes.
func servicesFilter(svcs []cloud.Address, query string) string {
	terms := make([]string, len(svcs))
	for i, a := range svcs {
		terms[i] = "(" + serviceTerm(a) + ")"
	}
	f := revisionFilter
	if len(terms) > 0 {
		f += " AND (" + strings.Join(terms, " OR ") + ")"
	}
	if query != "" {
		f += " AND (" + query + ")"
	}
	return f
}

// entryKey identifies a Cloud Logging entry: (logName, timestamp,
// insertId), as the API de-duplicates. It is comparable, and building it
// copies no string.
type entryKey struct {
	logName, insertID string
	sec               int64
	nanos             int32
}

func keyOf(e *loggingpb.LogEntry) entryKey {
	ts := e.GetTimestamp()
	return entryKey{logName: e.GetLogName(), insertID: e.GetInsertId(), sec: ts.GetSeconds(), nanos: ts.GetNanos()}
}

// Logs reads a service's logs. History comes from ListLogEntries, paced
// within the project's quota: without Since, the last req.Tail entries
// whatever their age (newest first, shown oldest first); with Since,
// everything since then (its last req.Tail when set). With Follow the live
// tail is subscribed to before the history is read, and tail entries the
// history already showed are skipped, so nothing is lost or shown twice at
// the seam. Live tails are shared per project among concurrent calls.
// req.Filter is a literal substring matched here; req.Query is appended to
// the server filter as raw Cloud Logging syntax.
func (b *Backend) Logs(ctx context.Context, req cloud.LogRequest, emit func(cloud.LogLine)) error {
	t := req.Target
	if t.Provider != cloud.GCP {
		return fmt.Errorf("reading logs of %s: not a cloud run address: %w", t, cloud.ErrInvalid)
	}
	if req.Tail < 0 {
		return fmt.Errorf("reading logs of %s: tail %d must not be negative: %w", t, req.Tail, cloud.ErrInvalid)
	}
	client, err := b.loggingClient(ctx)
	if err != nil {
		return err
	}
	addr := t.String()
	match := func(l *cloud.LogLine) bool {
		if l.Notice {
			return true
		}
		if l.Address != addr {
			return false
		}
		return req.Filter == "" || strings.Contains(l.Message, req.Filter) || bytes.Contains(l.JSON, []byte(req.Filter))
	}
	var sub *tailSub
	if req.Follow {
		var release func()
		sub, release = b.subscribe(ctx, t, req.Query)
		defer release()
	}
	n := req.Tail
	if req.Since.IsZero() && n <= 0 {
		n = cloud.DefaultLogTail
	}
	notify := func(wait time.Duration) {
		emit(cloud.LogLine{Time: time.Now(), Address: addr, Notice: true,
			Message: fmt.Sprintf("cloud logging read quota of project %s reached; retrying in %s", t.Project, wait)})
	}
	filter := serviceFilter(t)
	order := "timestamp desc"
	if !req.Since.IsZero() {
		filter += fmt.Sprintf(` AND timestamp>=%q`, req.Since.UTC().Format(time.RFC3339Nano))
		order = "timestamp asc"
	}
	if req.Query != "" {
		filter += " AND (" + req.Query + ")"
	}
	seen := map[entryKey]struct{}{}
	var histStart, histEnd time.Time
	shown := 0
	show := func(e *loggingpb.LogEntry) {
		line := entryToLine(t.Project, e)
		if req.Follow {
			seen[keyOf(e)] = struct{}{}
		}
		if histStart.IsZero() || line.Time.Before(histStart) {
			histStart = line.Time
		}
		if line.Time.After(histEnd) {
			histEnd = line.Time
		}
		if match(&line) {
			shown++
			emit(line)
		}
	}
	// Everything since Since streams out as it is read; a tail (the last
	// n) is gathered first, newest first when there is no Since.
	streaming := order == "timestamp asc" && n <= 0
	var hist []*loggingpb.LogEntry
	listReq := &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/" + t.Project}, Filter: filter, OrderBy: order}
	pageSize := historyPageSize
	if order == "timestamp desc" {
		pageSize = min(n, historyPageSize) // the newest n: one page when it fits
	}
	err = b.listEntries(ctx, client, t.Project, listReq, pageSize, notify, func(e *loggingpb.LogEntry) bool {
		if streaming {
			show(e)
			return true
		}
		if req.Filter != "" {
			if l := entryToLine(t.Project, e); !match(&l) {
				return true
			}
		}
		hist = append(hist, e)
		if order == "timestamp desc" {
			return len(hist) < n
		}
		if len(hist) > 2*n {
			hist = append(hist[:0], hist[len(hist)-n:]...) // keep the newest n, amortised
		}
		return true
	})
	if err != nil {
		return classify(err, "reading logs of "+addr, t.Project, loggingAPI)
	}
	if order == "timestamp desc" {
		slices.Reverse(hist)
	}
	if n > 0 && len(hist) > n {
		hist = hist[len(hist)-n:]
	}
	for _, e := range hist {
		show(e)
	}
	if !req.Follow {
		return nil
	}
	if shown == 0 && req.Since.IsZero() && req.Filter == "" && req.Query == "" {
		emit(cloud.LogLine{Time: time.Now(), Address: addr, Notice: true, Message: cloud.WaitingNotice + " (no log entries yet)"})
	}
	if !req.Since.IsZero() && histStart.IsZero() {
		histStart = req.Since
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-sub.ch:
			if !ok {
				return nil
			}
			if n := sub.dropped.Swap(0); n > 0 {
				emit(cloud.LogLine{Time: time.Now(), Address: addr, Notice: true,
					Message: fmt.Sprintf("%d entries dropped: the reader fell behind the live tail", n)})
			}
			if ev.err != nil {
				return classify(ev.err, "tailing logs of "+addr, t.Project, loggingAPI)
			}
			line := ev.line
			if line.Notice {
				line.Address = addr
			} else {
				// A gap fill after a restart may reach back before this
				// reader's history: what is older than the history
				// started with is not this reader's to show.
				if line.Time.Before(histStart) {
					continue
				}
				if len(seen) > 0 {
					if _, dup := seen[ev.key]; dup {
						delete(seen, ev.key)
						continue
					}
					// Entries arrive at most a buffer window late; well past
					// the history's end nothing can repeat, so free the set.
					if line.Time.Sub(histEnd) > 2*time.Minute {
						seen = nil
					}
				}
			}
			if match(&line) {
				emit(line)
			}
		}
	}
}

// listEntries pages through ListLogEntries, one paced request per page,
// handing each entry to each until it returns false.
func (b *Backend) listEntries(ctx context.Context, client *logging.Client, project string, req *loggingpb.ListLogEntriesRequest, pageSize int, notify func(time.Duration), each func(*loggingpb.LogEntry) bool) error {
	req.PageSize = int32(pageSize)
	token := ""
	for {
		var entries []*loggingpb.LogEntry
		var next string
		err := b.paced(ctx, project, notify, func() error {
			// InternalFetch sends exactly one request: the iterator's own
			// paging would send several (it skips empty pages) unpaced.
			var err error
			entries, next, err = client.ListLogEntries(ctx, req).InternalFetch(pageSize, token)
			return err
		})
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !each(e) {
				return nil
			}
		}
		if next == "" {
			return nil
		}
		token = next
	}
}

// entryToLine turns a Cloud Logging entry into a LogLine. project is the
// project the entry was read from (the resource labels may omit it).
func entryToLine(project string, e *loggingpb.LogEntry) cloud.LogLine {
	labels := e.GetResource().GetLabels()
	line := cloud.LogLine{
		Address: "cloudrun:" + project + "/" + labels["location"] + "/" + labels["service_name"],
		ID:      e.GetInsertId(),
		Stream:  streamName(e.GetLogName()),
	}
	switch {
	case e.GetTimestamp() != nil:
		line.Time = e.GetTimestamp().AsTime()
	case e.GetReceiveTimestamp() != nil:
		line.Time = e.GetReceiveTimestamp().AsTime()
	}
	if sev := e.GetSeverity(); sev != 0 {
		line.Severity = sev.String()
	}
	switch p := e.GetPayload().(type) {
	case *loggingpb.LogEntry_TextPayload:
		line.Message = strings.TrimRight(p.TextPayload, "\n")
	case *loggingpb.LogEntry_JsonPayload:
		js := appendStruct(make([]byte, 0, 256), p.JsonPayload)
		line.JSON = js
		if m, ok := p.JsonPayload.GetFields()["message"]; ok {
			if s, ok := m.GetKind().(*structpb.Value_StringValue); ok {
				line.Message = s.StringValue
				break
			}
		}
		line.Message = string(js)
	case *loggingpb.LogEntry_ProtoPayload:
		line.Message = "[" + lastSegment(p.ProtoPayload.GetTypeUrl()) + "]"
	}
	if r := e.GetHttpRequest(); r != nil && line.Message == "" {
		line.Message = fmt.Sprintf("%s %d %s", r.GetRequestMethod(), r.GetStatus(), r.GetRequestUrl())
		if d := r.GetLatency(); d != nil {
			line.Message += " " + d.AsDuration().String()
		}
	}
	return line
}

// streamName shortens projects/P/logs/run.googleapis.com%2Fstdout to "stdout".
func streamName(logName string) string {
	_, id, ok := strings.Cut(logName, "/logs/")
	if !ok {
		return ""
	}
	if u, err := url.PathUnescape(id); err == nil {
		id = u
	}
	return lastSegment(id)
}

// appendStruct writes s as compact JSON with sorted keys. It is hand-rolled
// because protojson output deliberately varies its whitespace and the tail
// path is hot.
func appendStruct(buf []byte, s *structpb.Struct) []byte {
	fields := s.GetFields()
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, k)
		buf = append(buf, ':')
		buf = appendValue(buf, fields[k])
	}
	return append(buf, '}')
}

func appendValue(buf []byte, v *structpb.Value) []byte {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return appendJSONString(buf, k.StringValue)
	case *structpb.Value_NumberValue:
		f := k.NumberValue
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return appendJSONString(buf, strconv.FormatFloat(f, 'g', -1, 64))
		}
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			return strconv.AppendInt(buf, int64(f), 10)
		}
		return strconv.AppendFloat(buf, f, 'g', -1, 64)
	case *structpb.Value_BoolValue:
		return strconv.AppendBool(buf, k.BoolValue)
	case *structpb.Value_StructValue:
		return appendStruct(buf, k.StructValue)
	case *structpb.Value_ListValue:
		buf = append(buf, '[')
		for i, e := range k.ListValue.GetValues() {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendValue(buf, e)
		}
		return append(buf, ']')
	}
	return append(buf, "null"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s for JSON; control characters (ESC included) are
// escaped, invalid UTF-8 becomes U+FFFD.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c == '\n':
				buf = append(buf, '\\', 'n')
			case c == '\t':
				buf = append(buf, '\\', 't')
			case c == '\r':
				buf = append(buf, '\\', 'r')
			case c < 0x20 || c == 0x7f:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			buf = append(buf, `\ufffd`...)
		} else {
			buf = append(buf, s[i:i+n]...)
		}
		i += n
	}
	return append(buf, '"')
}

// ---------- shared live tail ----------

// gapLookback re-reads this much before the newest entry a tail saw when
// filling the gap after a restart: entries can arrive a buffer window late
// with earlier timestamps. Keys de-duplicate what is read twice.
const gapLookback = 10 * time.Second

// A hub remembers the keys of the entries it delivered within recentKeep of
// the newest one (what a gap fill re-reads), at most recentCap of them, so
// memory stays bounded during a flood.
const (
	recentKeep = 2 * gapLookback
	recentCap  = 100_000
)

// recentKey is one remembered key, in delivery order.
type recentKey struct {
	key entryKey
	ts  time.Time
}

// tailEvent is one thing a hub delivers: a line (entry or notice) with the
// entry's key, or the error that ended the tail.
type tailEvent struct {
	line cloud.LogLine
	key  entryKey
	err  error
}

// tailSub is one Logs call's view of a shared tail.
type tailSub struct {
	ch      chan tailEvent
	dropped atomic.Int64
	target  cloud.Address
}

// tailHub runs one TailLogEntries stream for a project (and raw query)
// whose filter names the services its subscribers follow, and fans its
// entries out to every subscriber. Cloud Logging limits open tails per
// project, so panes share. The stream restarts when the set of services
// changes and reconnects when it ends; after either, the gap is filled from
// ListLogEntries since the newest entry seen, de-duplicated by entry key.
type tailHub struct {
	project, query string
	cancel         context.CancelFunc
	// changed is signalled when the set of services changes.
	changed chan struct{}

	mu   sync.Mutex
	subs map[*tailSub]struct{}

	// Owned by runTail's goroutine.
	newest time.Time             // newest entry timestamp seen
	recent map[entryKey]struct{} // keys of recently delivered entries
	order  []recentKey           // the same keys, oldest delivered first
}

// services returns the distinct services the subscribers follow, sorted.
func (h *tailHub) services() []cloud.Address {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]cloud.Address{}
	for s := range h.subs {
		seen[s.target.String()] = s.target
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]cloud.Address, len(keys))
	for i, k := range keys {
		out[i] = seen[k]
	}
	return out
}

func (h *tailHub) signalChanged() {
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

// subscribe joins (or starts) the project's live tail for target. release
// leaves it; the last one to leave stops the stream.
func (b *Backend) subscribe(ctx context.Context, target cloud.Address, query string) (*tailSub, func()) {
	project := target.Project
	key := project + "\x00" + query
	sub := &tailSub{ch: make(chan tailEvent, subscriberBuffer), target: target}
	b.mu.Lock()
	h, ok := b.tails[key]
	if !ok {
		hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		h = &tailHub{project: project, query: query, cancel: cancel, changed: make(chan struct{}, 1),
			subs: map[*tailSub]struct{}{}, recent: map[entryKey]struct{}{}}
		b.tails[key] = h
		h.subs[sub] = struct{}{}
		go b.runTail(hctx, key, h)
	} else {
		h.mu.Lock()
		fresh := true
		for s := range h.subs {
			if s.target == target {
				fresh = false
			}
		}
		h.subs[sub] = struct{}{}
		h.mu.Unlock()
		if fresh {
			h.signalChanged()
		}
	}
	b.mu.Unlock()
	release := func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		h.mu.Lock()
		delete(h.subs, sub)
		last := len(h.subs) == 0
		gone := true
		for s := range h.subs {
			if s.target == target {
				gone = false
			}
		}
		h.mu.Unlock()
		if last {
			h.cancel()
			if b.tails[key] == h {
				delete(b.tails, key)
			}
		} else if gone {
			h.signalChanged()
		}
	}
	return sub, release
}

// broadcast hands ev to every subscriber without ever blocking: a full
// subscriber loses the entry and learns how many it lost.
func (h *tailHub) broadcast(ev tailEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.ch <- ev:
		default:
			s.dropped.Add(1)
		}
	}
}

// deliver broadcasts an entry unless the hub already delivered it.
func (h *tailHub) deliver(e *loggingpb.LogEntry) {
	k := keyOf(e)
	if _, dup := h.recent[k]; dup {
		return
	}
	line := entryToLine(h.project, e)
	h.recent[k] = struct{}{}
	h.order = append(h.order, recentKey{key: k, ts: line.Time})
	if line.Time.After(h.newest) {
		h.newest = line.Time
	}
	h.broadcast(tailEvent{line: line, key: k})
	h.prune()
}

// prune forgets keys delivered longest ago once they are well behind the
// newest entry, or beyond recentCap. Entries arrive roughly in time order,
// so the oldest delivered are the oldest in time.
func (h *tailHub) prune() {
	floor := h.newest.Add(-recentKeep)
	i := 0
	for i < len(h.order) && (len(h.order)-i > recentCap || h.order[i].ts.Before(floor)) {
		delete(h.recent, h.order[i].key)
		i++
	}
	if i > 0 {
		if i >= len(h.order)/2 {
			h.order = append(h.order[:0], h.order[i:]...) // amortised compaction
		} else {
			h.order = h.order[i:]
		}
	}
}

// fail delivers a terminal error; it waits for room so no subscriber misses it.
func (h *tailHub) fail(ctx context.Context, err error) {
	h.mu.Lock()
	subs := make([]*tailSub, 0, len(h.subs))
	for s := range h.subs {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	for _, s := range subs {
		select {
		case s.ch <- tailEvent{err: err}:
		case <-ctx.Done():
			return
		}
	}
}

// retryableTailError reports whether a tail error is worth reconnecting for.
func retryableTailError(err error) bool {
	if errors.Is(err, io.EOF) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Internal, codes.Aborted, codes.ResourceExhausted, codes.Unknown:
		return true
	}
	return false
}

// errServicesChanged ends a stream whose filter no longer names the
// services followed.
var errServicesChanged = errors.New("the services followed changed")

// runTail keeps the project's TailLogEntries stream open until ctx ends.
func (b *Backend) runTail(ctx context.Context, key string, h *tailHub) {
	defer func() {
		b.mu.Lock()
		if b.tails[key] == h {
			delete(b.tails, key)
		}
		b.mu.Unlock()
	}()
	backoff := time.Second
	var gapFrom time.Time // zero: the first stream, no gap to fill
	for attempt := 0; ; attempt++ {
		opened := b.clock.Now()
		got, err := b.tailOnce(ctx, h, gapFrom)
		if ctx.Err() != nil {
			return
		}
		// The next stream fills the gap from the newest entry seen, or
		// from when this one opened if it saw none.
		if !h.newest.IsZero() {
			gapFrom = h.newest.Add(-gapLookback)
		} else if gapFrom.IsZero() {
			gapFrom = opened.Add(-gapLookback)
		}
		if errors.Is(err, errServicesChanged) {
			backoff = time.Second
			continue
		}
		if got {
			backoff = time.Second
		}
		if err != nil && !retryableTailError(err) {
			// Unlist the hub first: a reader arriving now starts a fresh
			// tail instead of joining one that will never deliver.
			b.mu.Lock()
			if b.tails[key] == h {
				delete(b.tails, key)
			}
			b.mu.Unlock()
			h.fail(ctx, err)
			return
		}
		msg := "live tail ended; reconnecting"
		if err != nil && !errors.Is(err, io.EOF) {
			msg = "live tail interrupted (" + status.Convert(err).Message() + "); reconnecting"
		}
		h.broadcast(tailEvent{line: cloud.LogLine{Time: time.Now(), Notice: true, Message: msg}})
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// tailOnce runs one stream to its end; got reports whether it delivered
// anything. With gapFrom set (a restart or reconnect), it first fills the
// gap from ListLogEntries: the stream is open by then, so what arrives
// meanwhile waits in it, and keys drop what both deliver.
func (b *Backend) tailOnce(ctx context.Context, h *tailHub, gapFrom time.Time) (got bool, err error) {
	client, err := b.loggingClient(ctx)
	if err != nil {
		return false, err
	}
	select {
	case <-h.changed: // this stream's filter is computed now
	default:
	}
	svcs := h.services()
	if len(svcs) == 0 {
		return false, nil
	}
	filter := servicesFilter(svcs, h.query)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var changed atomic.Bool
	go func() {
		for {
			select {
			case <-h.changed:
				// A change that raced with reading svcs may already be
				// in this stream's filter.
				if !slices.Equal(h.services(), svcs) {
					changed.Store(true)
					cancel()
					return
				}
			case <-sctx.Done():
				return
			}
		}
	}()
	ended := func(err error) error {
		if changed.Load() && ctx.Err() == nil {
			return errServicesChanged
		}
		return err
	}
	stream, err := client.TailLogEntries(sctx)
	if err != nil {
		return false, ended(err)
	}
	if err := stream.Send(&loggingpb.TailLogEntriesRequest{
		ResourceNames: []string{"projects/" + h.project},
		Filter:        filter,
		BufferWindow:  durationpb.New(2 * time.Second),
	}); err != nil {
		if err == io.EOF {
			_, err = stream.Recv() // the real error is on the receive side
		}
		return false, ended(err)
	}
	if !gapFrom.IsZero() {
		req := &loggingpb.ListLogEntriesRequest{
			ResourceNames: []string{"projects/" + h.project},
			Filter:        filter + fmt.Sprintf(` AND timestamp>=%q`, gapFrom.UTC().Format(time.RFC3339Nano)),
			OrderBy:       "timestamp asc",
		}
		err := b.listEntries(sctx, client, h.project, req, historyPageSize, nil, func(e *loggingpb.LogEntry) bool {
			h.deliver(e)
			return true
		})
		if err != nil && sctx.Err() == nil {
			h.broadcast(tailEvent{line: cloud.LogLine{Time: time.Now(), Notice: true,
				Message: fmt.Sprintf("filling the gap after the live tail restarted failed (%s); entries logged meanwhile may be missing", status.Convert(err).Message())}})
		}
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return got, ended(err)
		}
		got = true
		for _, e := range resp.GetEntries() {
			h.deliver(e)
		}
		for _, s := range resp.GetSuppressionInfo() {
			h.broadcast(tailEvent{line: cloud.LogLine{Time: time.Now(), Notice: true,
				Message: fmt.Sprintf("%d entries suppressed: %s", s.GetSuppressedCount(), suppressionReason(s.GetReason()))}})
		}
	}
}

func suppressionReason(r loggingpb.TailLogEntriesResponse_SuppressionInfo_Reason) string {
	switch r {
	case loggingpb.TailLogEntriesResponse_SuppressionInfo_RATE_LIMIT:
		return "rate limited"
	case loggingpb.TailLogEntriesResponse_SuppressionInfo_NOT_CONSUMED:
		return "not consumed fast enough"
	}
	return "unspecified reason"
}
