package gcpfake

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	monitoredres "google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Logging is the state behind the fake Cloud Logging server: the history
// ListLogEntries answers from, and the TailLogEntries streams a test drives.
type Logging struct {
	// Addr is the host:port the server listens on (127.0.0.1).
	Addr string

	loggingpb.UnimplementedLoggingServiceV2Server
	mu       sync.Mutex
	history  []*loggingpb.LogEntry
	filters  []string
	pageSize int
	opened   int
	tails    chan *Tail
	// quota: at most quotaN ListLogEntries per quotaPer per project, as
	// the real API (60 per minute); 0 = unlimited. now is the clock the
	// window is measured on (tests pass their fake clock).
	quotaN   int
	quotaPer time.Duration
	now      func() time.Time
	calls    map[string][]time.Time // project → accepted request times
	rejected int
}

// SetQuota limits ListLogEntries to n requests per `per` per project, as
// Cloud Logging's 60 read requests per minute: a request beyond it fails
// with ResourceExhausted (and does not count). now is the clock the window
// is measured on; nil means time.Now.
func (l *Logging) SetQuota(n int, per time.Duration, now func() time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	l.quotaN, l.quotaPer, l.now, l.calls = n, per, now, map[string][]time.Time{}
}

// UseQuota spends n requests of project's quota, as another reader would.
func (l *Logging) UseQuota(project string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range n {
		l.calls[project] = append(l.calls[project], l.now())
	}
}

// Rejected is how many ListLogEntries requests the quota refused.
func (l *Logging) Rejected() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rejected
}

// ListCalls is how many ListLogEntries requests were answered (quota
// refusals not counted).
func (l *Logging) ListCalls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.filters) - l.rejected
}

// overQuota records a request of project and reports whether the quota
// refuses it. Called with l.mu held.
func (l *Logging) overQuota(project string) bool {
	if l.quotaN <= 0 {
		return false
	}
	now := l.now()
	calls := l.calls[project]
	i := 0
	for i < len(calls) && !calls[i].After(now.Add(-l.quotaPer)) {
		i++
	}
	calls = calls[i:]
	if len(calls) >= l.quotaN {
		l.calls[project] = calls
		l.rejected++
		return true
	}
	l.calls[project] = append(calls, now)
	return false
}

// NewLogging returns fake Cloud Logging state with no server; most tests
// want StartLogging. Register serves it on a gRPC server of the caller's.
func NewLogging() *Logging {
	return &Logging{pageSize: DefaultPageSize, tails: make(chan *Tail, 16)}
}

// StartLogging serves a new fake on a free 127.0.0.1 port until the test ends.
func StartLogging(t testing.TB) *Logging {
	t.Helper()
	l := NewLogging()
	l.Addr = Serve(t, l.Register)
	return l
}

// Register adds the LoggingServiceV2 server to s.
func (l *Logging) Register(s *grpc.Server) { loggingpb.RegisterLoggingServiceV2Server(s, l) }

// AddEntries appends entries to the history ListLogEntries answers from.
func (l *Logging) AddEntries(entries ...*loggingpb.LogEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range entries {
		l.history = append(l.history, proto.Clone(e).(*loggingpb.LogEntry))
	}
}

// SetPageSize sets the largest page ListLogEntries returns (default DefaultPageSize).
func (l *Logging) SetPageSize(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pageSize = n
}

// Filters returns the filter of every ListLogEntries call so far.
func (l *Logging) Filters() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.filters...)
}

// Opened is the number of TailLogEntries streams opened so far.
func (l *Logging) Opened() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.opened
}

var (
	reFilterPair    = regexp.MustCompile(`resource\.labels\.service_name="([^"]+)" AND resource\.labels\.location="([^"]+)"`)
	reFilterService = regexp.MustCompile(`resource\.labels\.service_name="([^"]+)"`)
	reFilterRegion  = regexp.MustCompile(`resource\.labels\.location="([^"]+)"`)
	reFilterSince   = regexp.MustCompile(`timestamp>="([^"]+)"`)
)

// ListLogEntries understands the parts of the filter fndeck sends (service,
// location, timestamp lower bound) so that a wrong filter returns wrong
// entries; it answers only for the one project named.
func (l *Logging) ListLogEntries(_ context.Context, req *loggingpb.ListLogEntriesRequest) (*loggingpb.ListLogEntriesResponse, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.filters = append(l.filters, req.GetFilter())
	if len(req.GetResourceNames()) != 1 || !strings.HasPrefix(req.GetResourceNames()[0], "projects/") {
		return nil, status.Error(codes.InvalidArgument, "resource_names must name one project")
	}
	project := strings.TrimPrefix(req.GetResourceNames()[0], "projects/")
	if l.overQuota(project) {
		return nil, status.Errorf(codes.ResourceExhausted, "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'logging.googleapis.com' for consumer 'project_number:%s'.", project)
	}
	// A filter naming several services ORs "(service AND location)" pairs.
	pairs := reFilterPair.FindAllStringSubmatch(req.GetFilter(), -1)
	svc := reFilterService.FindStringSubmatch(req.GetFilter())
	region := reFilterRegion.FindStringSubmatch(req.GetFilter())
	if len(pairs) > 1 {
		svc, region = nil, nil
	}
	var since time.Time
	if m := reFilterSince.FindStringSubmatch(req.GetFilter()); m != nil {
		var err error
		if since, err = time.Parse(time.RFC3339Nano, m[1]); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "bad timestamp %q", m[1])
		}
	}
	var match []*loggingpb.LogEntry
	for _, e := range l.history {
		labels := e.GetResource().GetLabels()
		if p := labels["project_id"]; p != "" && p != project {
			continue
		}
		if svc != nil && labels["service_name"] != svc[1] || region != nil && labels["location"] != region[1] {
			continue
		}
		if len(pairs) > 1 && !slices.ContainsFunc(pairs, func(p []string) bool {
			return labels["service_name"] == p[1] && labels["location"] == p[2]
		}) {
			continue
		}
		if e.GetTimestamp().AsTime().Before(since) {
			continue
		}
		match = append(match, e)
	}
	switch req.GetOrderBy() {
	case "", "timestamp asc":
		slices.SortStableFunc(match, func(a, b *loggingpb.LogEntry) int {
			return a.GetTimestamp().AsTime().Compare(b.GetTimestamp().AsTime())
		})
	case "timestamp desc":
		slices.SortStableFunc(match, func(a, b *loggingpb.LogEntry) int {
			return b.GetTimestamp().AsTime().Compare(a.GetTimestamp().AsTime())
		})
	default:
		return nil, status.Errorf(codes.InvalidArgument, "order_by %q: use \"timestamp asc\" or \"timestamp desc\"", req.GetOrderBy())
	}
	start, err := pageStart(req.GetPageToken(), len(match))
	if err != nil {
		return nil, err
	}
	size := l.pageSize
	if ps := int(req.GetPageSize()); ps > 0 && ps < size {
		size = ps
	}
	end := min(start+size, len(match))
	resp := &loggingpb.ListLogEntriesResponse{}
	for _, e := range match[start:end] {
		resp.Entries = append(resp.Entries, proto.Clone(e).(*loggingpb.LogEntry))
	}
	if end < len(match) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

// Tail is one open TailLogEntries stream, driven by the test.
type Tail struct {
	// Request is the first message the client sent.
	Request *loggingpb.TailLogEntriesRequest
	send    chan *loggingpb.TailLogEntriesResponse
	end     chan error
	done    chan struct{} // closed when the stream is over
}

// ErrTailClosed is returned by Tail.Send once the stream is over.
var ErrTailClosed = errors.New("gcpfake: the tail stream is closed")

// Send delivers resp to the client; it blocks until the stream takes it and
// returns ErrTailClosed if the stream ended first.
func (t *Tail) Send(resp *loggingpb.TailLogEntriesResponse) error {
	select {
	case t.send <- resp:
		return nil
	case <-t.done:
		return ErrTailClosed
	}
}

// SendEntries delivers entries to the client in one response.
func (t *Tail) SendEntries(entries ...*loggingpb.LogEntry) error {
	return t.Send(&loggingpb.TailLogEntriesResponse{Entries: entries})
}

// End closes the stream with err (nil = a clean close, as the server does
// after an hour).
func (t *Tail) End(err error) {
	select {
	case t.end <- err:
	case <-t.done:
	}
}

// Done is closed once the stream is over.
func (t *Tail) Done() <-chan struct{} { return t.done }

// TailLogEntries hands each stream to the test (NextTail) and then sends
// what the test sends until the test ends it or the client leaves.
func (l *Logging) TailLogEntries(stream loggingpb.LoggingServiceV2_TailLogEntriesServer) error {
	req, err := stream.Recv()
	if err != nil {
		return err
	}
	if len(req.GetResourceNames()) == 0 {
		return status.Error(codes.InvalidArgument, "resource_names is required")
	}
	l.mu.Lock()
	l.opened++
	l.mu.Unlock()
	ft := &Tail{Request: req, send: make(chan *loggingpb.TailLogEntriesResponse), end: make(chan error), done: make(chan struct{})}
	defer close(ft.done)
	select {
	case l.tails <- ft:
	case <-stream.Context().Done():
		return nil
	}
	for {
		select {
		case r := <-ft.send:
			if err := stream.Send(r); err != nil {
				return err
			}
		case err := <-ft.end:
			return err
		case <-stream.Context().Done():
			return nil
		}
	}
}

// NextTail waits (at most 30 s) for the client to open a tail stream.
func (l *Logging) NextTail(t testing.TB) *Tail {
	t.Helper()
	select {
	case ft := <-l.tails:
		return ft
	case <-time.After(30 * time.Second):
		t.Fatal("gcpfake: no TailLogEntries stream was opened within 30s")
		return nil
	}
}

// Entry is a Cloud Run log entry of project/region/service on stdout,
// without a payload.
func Entry(project, region, service, id string, ts time.Time) *loggingpb.LogEntry {
	return &loggingpb.LogEntry{
		LogName:   "projects/" + project + "/logs/run.googleapis.com%2Fstdout",
		InsertId:  id,
		Timestamp: timestamppb.New(ts),
		Resource: &monitoredres.MonitoredResource{Type: "cloud_run_revision", Labels: map[string]string{
			"project_id": project, "location": region, "service_name": service, "revision_name": service + "-00001-abc"}},
	}
}

// TextEntry is Entry with a text payload and INFO severity.
func TextEntry(project, region, service, id, text string, ts time.Time) *loggingpb.LogEntry {
	e := Entry(project, region, service, id, ts)
	e.Payload = &loggingpb.LogEntry_TextPayload{TextPayload: text}
	e.Severity = 200 // INFO
	return e
}

// JSONEntry is Entry with a structured (jsonPayload) payload.
func JSONEntry(project, region, service, id string, ts time.Time, fields map[string]any) (*loggingpb.LogEntry, error) {
	s, err := structpb.NewStruct(fields)
	if err != nil {
		return nil, err
	}
	e := Entry(project, region, service, id, ts)
	e.Payload = &loggingpb.LogEntry_JsonPayload{JsonPayload: s}
	return e, nil
}
