package gcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/fndeck/fndeck/cloud"
)

const loggingAPI = "logging.googleapis.com"

// defaultSince is how far back a non-follow read looks without --since.
const defaultSince = 15 * time.Minute

// subscriberBuffer is how many tail entries wait for a slow reader before
// the hub drops (and counts) the rest instead of stalling other panes.
const subscriberBuffer = 8192

// revisionFilter selects every Cloud Run service's logs; services and
// regions are told apart client-side so one tail serves many panes.
const revisionFilter = `resource.type="cloud_run_revision"`

// serviceFilter is the Cloud Logging filter for one service.
func serviceFilter(t cloud.Address) string {
	return fmt.Sprintf(`%s AND resource.labels.service_name=%s AND resource.labels.location=%s`,
		revisionFilter, strconv.Quote(t.Function), strconv.Quote(t.Region))
}

// Logs reads a service's logs. History comes from ListLogEntries (from
// req.Since, default 15 minutes when not following); with Follow the live
// tail is subscribed to before the history is read, and tail entries already
// seen in the history (same insertId) are skipped, so nothing is lost or
// shown twice at the seam. Live tails are shared per project among
// concurrent calls. req.Filter is a literal substring matched here;
// req.Query is appended to the server filter as raw Cloud Logging syntax.
func (b *Backend) Logs(ctx context.Context, req cloud.LogRequest, emit func(cloud.LogLine)) error {
	t := req.Target
	if t.Provider != cloud.GCP {
		return fmt.Errorf("reading logs of %s: not a cloud run address: %w", t, cloud.ErrInvalid)
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
		sub, release = b.subscribe(ctx, t.Project, req.Query)
		defer release()
	}
	since := req.Since
	if since.IsZero() && !req.Follow {
		since = time.Now().Add(-defaultSince)
	}
	seen := map[string]struct{}{}
	var histEnd time.Time
	if !since.IsZero() {
		filter := serviceFilter(t) + fmt.Sprintf(` AND timestamp>=%q`, since.UTC().Format(time.RFC3339Nano))
		if req.Query != "" {
			filter += " AND (" + req.Query + ")"
		}
		it := client.ListLogEntries(ctx, &loggingpb.ListLogEntriesRequest{
			ResourceNames: []string{"projects/" + t.Project},
			Filter:        filter,
			OrderBy:       "timestamp asc",
			PageSize:      1000,
		})
		for {
			e, err := it.Next()
			if err == iterator.Done {
				break
			}
			if err != nil {
				return classify(err, "reading logs of "+addr, t.Project, loggingAPI)
			}
			line := entryToLine(t.Project, e)
			if req.Follow && line.ID != "" {
				seen[line.ID] = struct{}{}
			}
			if line.Time.After(histEnd) {
				histEnd = line.Time
			}
			if match(&line) {
				emit(line)
			}
		}
	}
	if !req.Follow {
		return nil
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
			}
			if len(seen) > 0 && line.ID != "" {
				if _, dup := seen[line.ID]; dup {
					delete(seen, line.ID)
					continue
				}
				// Entries arrive at most a buffer window late; well past the
				// history's end nothing can repeat, so free the set.
				if line.Time.Sub(histEnd) > 2*time.Minute {
					seen = nil
				}
			}
			if match(&line) {
				emit(line)
			}
		}
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

// tailEvent is one thing a hub delivers: a line (entry or notice) or the
// error that ended the tail.
type tailEvent struct {
	line cloud.LogLine
	err  error
}

// tailSub is one Logs call's view of a shared tail.
type tailSub struct {
	ch      chan tailEvent
	dropped atomic.Int64
}

// tailHub runs one TailLogEntries stream for a project (and raw query) and
// fans its entries out to every subscriber. Cloud Logging limits open tails
// per project, so panes share. It reconnects when the stream ends.
type tailHub struct {
	project, query string
	cancel         context.CancelFunc

	mu   sync.Mutex
	subs map[*tailSub]struct{}
}

// subscribe joins (or starts) the project's live tail. release leaves it;
// the last one to leave stops the stream.
func (b *Backend) subscribe(ctx context.Context, project, query string) (*tailSub, func()) {
	key := project + "\x00" + query
	sub := &tailSub{ch: make(chan tailEvent, subscriberBuffer)}
	b.mu.Lock()
	h, ok := b.tails[key]
	if !ok {
		hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		h = &tailHub{project: project, query: query, cancel: cancel, subs: map[*tailSub]struct{}{}}
		b.tails[key] = h
		go b.runTail(hctx, key, h)
	}
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	b.mu.Unlock()
	release := func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		h.mu.Lock()
		delete(h.subs, sub)
		last := len(h.subs) == 0
		h.mu.Unlock()
		if last {
			h.cancel()
			if b.tails[key] == h {
				delete(b.tails, key)
			}
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

// runTail keeps the project's TailLogEntries stream open until ctx ends.
func (b *Backend) runTail(ctx context.Context, key string, h *tailHub) {
	defer func() {
		b.mu.Lock()
		if b.tails[key] == h {
			delete(b.tails, key)
		}
		b.mu.Unlock()
	}()
	filter := revisionFilter
	if h.query != "" {
		filter += " AND (" + h.query + ")"
	}
	backoff := time.Second
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(backoff*2, 30*time.Second)
		}
		got, err := b.tailOnce(ctx, h, filter)
		if ctx.Err() != nil {
			return
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
	}
}

// tailOnce runs one stream to its end; got reports whether it delivered anything.
func (b *Backend) tailOnce(ctx context.Context, h *tailHub, filter string) (got bool, err error) {
	client, err := b.loggingClient(ctx)
	if err != nil {
		return false, err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.TailLogEntries(sctx)
	if err != nil {
		return false, err
	}
	if err := stream.Send(&loggingpb.TailLogEntriesRequest{
		ResourceNames: []string{"projects/" + h.project},
		Filter:        filter,
		BufferWindow:  durationpb.New(2 * time.Second),
	}); err != nil {
		if err == io.EOF {
			_, err = stream.Recv() // the real error is on the receive side
		}
		return false, err
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return got, err
		}
		got = true
		for _, e := range resp.GetEntries() {
			h.broadcast(tailEvent{line: entryToLine(h.project, e)})
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
