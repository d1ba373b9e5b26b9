package gcp

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"cloud.google.com/go/run/apiv2/runpb"
	monitoredres "google.golang.org/genproto/googleapis/api/monitoredres"
	locationpb "google.golang.org/genproto/googleapis/cloud/location"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// fakeCloudRun is the state behind the fake Services, Revisions and
// Locations servers. It behaves like the Cloud Run Admin API v2 where fndeck
// depends on it: the locations/- wildcard is refused, lists page, mutations
// return a finished long-running operation carrying the Service, a failing
// revision leaves the previous one serving with a failed terminal condition.
type fakeCloudRun struct {
	mu         sync.Mutex
	services   map[string]*runpb.Service  // full name → service
	revisions  map[string]*runpb.Revision // full name → revision
	locations  map[string][]string        // project → region IDs
	projectErr map[string]error           // ListLocations answer for a project
	regionErr  map[string]error           // "P/R" → ListServices answer
	pageSize   int
	nextRev    map[string]int
	// failMessage says why a revision of image would fail to start ("" = it starts).
	failMessage func(image string) string
	// pendingPolls > 0 makes mutations return an unfinished operation that
	// GetOperation reports done after that many polls, as real deploys do.
	pendingPolls int
	ops          map[string]*pendingOp
	polls        int
	// opErrors makes a failed revision fail the operation itself (as the
	// real API does for a deploy) instead of only the terminal condition.
	opErrors  bool
	updates   []*runpb.UpdateServiceRequest
	creates   []*runpb.CreateServiceRequest
	listCalls []string
	getCalls  atomic.Int32
	locCalls  atomic.Int32
}

func newFakeCloudRun() *fakeCloudRun {
	return &fakeCloudRun{
		services: map[string]*runpb.Service{}, revisions: map[string]*runpb.Revision{},
		locations: map[string][]string{}, projectErr: map[string]error{}, regionErr: map[string]error{},
		pageSize: 2, nextRev: map[string]int{},
		failMessage: func(image string) string {
			if strings.Contains(image, "crash") {
				return "Revision is not ready and cannot serve traffic. The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable."
			}
			return ""
		},
	}
}

// addService creates a ready service with its first revision.
func (f *fakeCloudRun) addService(project, region, name, image, uri string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	full := fmt.Sprintf("projects/%s/locations/%s/services/%s", project, region, name)
	s := &runpb.Service{
		Name:     full,
		Uri:      uri,
		Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{{Image: image}}},
		Traffic:  []*runpb.TrafficTarget{{Type: runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST, Percent: 100}},
	}
	f.newRevisionLocked(s)
	f.services[full] = s
	if !containsString(f.locations[project], region) {
		f.locations[project] = append(f.locations[project], region)
	}
}

func containsString(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// newRevisionLocked makes a revision from s.Template and updates s's status.
func (f *fakeCloudRun) newRevisionLocked(s *runpb.Service) {
	f.nextRev[s.Name]++
	short := fmt.Sprintf("%s-%05d-abc", lastSegment(s.Name), f.nextRev[s.Name])
	full := s.Name + "/revisions/" + short
	rev := &runpb.Revision{Name: full, Service: s.Name, Containers: proto.Clone(s.Template).(*runpb.RevisionTemplate).Containers}
	s.LatestCreatedRevision = full
	s.UpdateTime = timestamppb.Now()
	if msg := f.failMessage(s.Template.Containers[0].Image); msg != "" {
		rev.Conditions = []*runpb.Condition{{Type: "Ready", State: runpb.Condition_CONDITION_FAILED, Message: msg}}
		s.TerminalCondition = &runpb.Condition{Type: "Ready", State: runpb.Condition_CONDITION_FAILED,
			Message: fmt.Sprintf("Revision '%s' is not ready and cannot serve traffic. %s", short, msg)}
	} else {
		rev.Conditions = []*runpb.Condition{{Type: "Ready", State: runpb.Condition_CONDITION_SUCCEEDED}}
		s.LatestReadyRevision = full
		s.TerminalCondition = &runpb.Condition{Type: "Ready", State: runpb.Condition_CONDITION_SUCCEEDED}
	}
	f.revisions[full] = rev
	f.statusLocked(s)
}

// statusLocked computes TrafficStatuses from the Traffic spec, as the API does.
func (f *fakeCloudRun) statusLocked(s *runpb.Service) {
	s.TrafficStatuses = nil
	for _, t := range s.Traffic {
		s.TrafficStatuses = append(s.TrafficStatuses, &runpb.TrafficTargetStatus{
			Type: t.Type, Revision: t.Revision, Percent: t.Percent, Tag: t.Tag})
	}
}

// pendingOp is an operation GetOperation finishes after some polls.
type pendingOp struct {
	left int
	done *longrunningpb.Operation
}

// finishOp returns the operation for a mutation: done at once, or pending.
func (f *fakeCloudRun) finishOpLocked(name string, s *runpb.Service) (*longrunningpb.Operation, error) {
	op, err := doneOp(name, s)
	if c := s.GetTerminalCondition(); f.opErrors && c.GetState() == runpb.Condition_CONDITION_FAILED {
		op = &longrunningpb.Operation{Name: name, Done: true, Result: &longrunningpb.Operation_Error{
			Error: status.New(codes.FailedPrecondition, c.GetMessage()).Proto()}}
	}
	if err != nil || f.pendingPolls == 0 {
		return op, err
	}
	if f.ops == nil {
		f.ops = map[string]*pendingOp{}
	}
	f.ops[name] = &pendingOp{left: f.pendingPolls, done: op}
	return &longrunningpb.Operation{Name: name}, nil
}

type fakeOperations struct {
	longrunningpb.UnimplementedOperationsServer
	f *fakeCloudRun
}

func (o *fakeOperations) GetOperation(_ context.Context, req *longrunningpb.GetOperationRequest) (*longrunningpb.Operation, error) {
	o.f.mu.Lock()
	defer o.f.mu.Unlock()
	o.f.polls++
	p, ok := o.f.ops[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "operation %s not found", req.GetName())
	}
	if p.left--; p.left > 0 {
		return &longrunningpb.Operation{Name: req.GetName()}, nil
	}
	return p.done, nil
}

func doneOp(name string, s *runpb.Service) (*longrunningpb.Operation, error) {
	a, err := anypb.New(s)
	if err != nil {
		return nil, err
	}
	return &longrunningpb.Operation{Name: name, Done: true, Result: &longrunningpb.Operation_Response{Response: a}}, nil
}

type fakeServices struct {
	runpb.UnimplementedServicesServer
	f *fakeCloudRun
}

func (s *fakeServices) GetService(_ context.Context, req *runpb.GetServiceRequest) (*runpb.Service, error) {
	s.f.getCalls.Add(1)
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	svc, ok := s.f.services[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Resource '%s' was not found", req.GetName())
	}
	return proto.Clone(svc).(*runpb.Service), nil
}

var reParent = regexp.MustCompile(`^projects/([^/]+)/locations/([^/]+)$`)

func (s *fakeServices) ListServices(_ context.Context, req *runpb.ListServicesRequest) (*runpb.ListServicesResponse, error) {
	m := reParent.FindStringSubmatch(req.GetParent())
	if m == nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid parent %q", req.GetParent())
	}
	if m[2] == "-" {
		// The v2 API does not accept the wildcard location.
		return nil, status.Error(codes.InvalidArgument, "Invalid location: '-'. Wildcard location is not supported in v2.")
	}
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.listCalls = append(s.f.listCalls, req.GetParent()+"#"+req.GetPageToken())
	if err := s.f.regionErr[m[1]+"/"+m[2]]; err != nil {
		return nil, err
	}
	var names []string
	for n := range s.f.services {
		if strings.HasPrefix(n, req.GetParent()+"/services/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	start := 0
	if tok := req.GetPageToken(); tok != "" {
		var err error
		if start, err = strconv.Atoi(tok); err != nil {
			return nil, status.Error(codes.InvalidArgument, "bad page token")
		}
	}
	size := s.f.pageSize
	if ps := int(req.GetPageSize()); ps > 0 && ps < size {
		size = ps
	}
	resp := &runpb.ListServicesResponse{}
	end := min(start+size, len(names))
	for _, n := range names[start:end] {
		resp.Services = append(resp.Services, proto.Clone(s.f.services[n]).(*runpb.Service))
	}
	if end < len(names) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

func (s *fakeServices) CreateService(_ context.Context, req *runpb.CreateServiceRequest) (*longrunningpb.Operation, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.creates = append(s.f.creates, proto.Clone(req).(*runpb.CreateServiceRequest))
	full := req.GetParent() + "/services/" + req.GetServiceId()
	if _, ok := s.f.services[full]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "service %s already exists", full)
	}
	svc := proto.Clone(req.GetService()).(*runpb.Service)
	svc.Name = full
	svc.Uri = "https://" + req.GetServiceId() + "-xyz.a.run.app"
	if len(svc.Traffic) == 0 {
		svc.Traffic = []*runpb.TrafficTarget{{Type: runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST, Percent: 100}}
	}
	s.f.newRevisionLocked(svc)
	s.f.services[full] = svc
	return s.f.finishOpLocked("projects/x/locations/y/operations/create-"+req.GetServiceId(), proto.Clone(svc).(*runpb.Service))
}

func (s *fakeServices) UpdateService(_ context.Context, req *runpb.UpdateServiceRequest) (*longrunningpb.Operation, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.updates = append(s.f.updates, proto.Clone(req).(*runpb.UpdateServiceRequest))
	in := req.GetService()
	cur, ok := s.f.services[in.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Resource '%s' was not found", in.GetName())
	}
	if in.GetTemplate().GetRevision() != "" && in.GetTemplate().GetRevision() != cur.GetTemplate().GetRevision() {
		return nil, status.Error(codes.InvalidArgument, "template revision name must be new")
	}
	for _, t := range in.GetTraffic() {
		if t.GetType() == runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION {
			rev, ok := s.f.revisions[in.GetName()+"/revisions/"+t.GetRevision()]
			if !ok {
				return nil, status.Errorf(codes.InvalidArgument, "revision %s does not exist", t.GetRevision())
			}
			if rev.GetConditions()[0].GetState() != runpb.Condition_CONDITION_SUCCEEDED {
				return nil, status.Errorf(codes.FailedPrecondition, "revision %s is not ready", t.GetRevision())
			}
		}
	}
	templateChanged := !proto.Equal(in.GetTemplate(), cur.GetTemplate())
	next := proto.Clone(cur).(*runpb.Service)
	next.Template = proto.Clone(in.GetTemplate()).(*runpb.RevisionTemplate)
	next.Traffic = in.GetTraffic()
	if templateChanged {
		s.f.newRevisionLocked(next)
	} else {
		s.f.statusLocked(next)
	}
	s.f.services[next.Name] = next
	return s.f.finishOpLocked(fmt.Sprintf("projects/x/locations/y/operations/update-%d", len(s.f.updates)), proto.Clone(next).(*runpb.Service))
}

type fakeRevisions struct {
	runpb.UnimplementedRevisionsServer
	f *fakeCloudRun
}

func (r *fakeRevisions) GetRevision(_ context.Context, req *runpb.GetRevisionRequest) (*runpb.Revision, error) {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	rev, ok := r.f.revisions[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Resource '%s' was not found", req.GetName())
	}
	return proto.Clone(rev).(*runpb.Revision), nil
}

type fakeLocations struct {
	locationpb.UnimplementedLocationsServer
	f *fakeCloudRun
}

func (l *fakeLocations) ListLocations(_ context.Context, req *locationpb.ListLocationsRequest) (*locationpb.ListLocationsResponse, error) {
	l.f.locCalls.Add(1)
	project, ok := strings.CutPrefix(req.GetName(), "projects/")
	if !ok || strings.Contains(project, "/") {
		return nil, status.Errorf(codes.InvalidArgument, "invalid name %q", req.GetName())
	}
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	if err := l.f.projectErr[project]; err != nil {
		return nil, err
	}
	regions := append([]string(nil), l.f.locations[project]...)
	sort.Strings(regions)
	start, _ := strconv.Atoi(req.GetPageToken())
	end := min(start+l.f.pageSize, len(regions))
	resp := &locationpb.ListLocationsResponse{}
	for _, r := range regions[start:end] {
		resp.Locations = append(resp.Locations, &locationpb.Location{Name: "projects/" + project + "/locations/" + r, LocationId: r})
	}
	if end < len(regions) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

// serve starts a gRPC server on a free 127.0.0.1 port and returns its address.
func serve(t testing.TB, register func(*grpc.Server)) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	srv := grpc.NewServer()
	register(srv)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func startFakeCloudRun(t testing.TB) (*fakeCloudRun, string) {
	f := newFakeCloudRun()
	addr := serve(t, func(s *grpc.Server) {
		runpb.RegisterServicesServer(s, &fakeServices{f: f})
		runpb.RegisterRevisionsServer(s, &fakeRevisions{f: f})
		locationpb.RegisterLocationsServer(s, &fakeLocations{f: f})
		longrunningpb.RegisterOperationsServer(s, &fakeOperations{f: f})
	})
	return f, addr
}

// ---------- fake Cloud Logging ----------

// fakeTail is one open TailLogEntries stream the test drives.
type fakeTail struct {
	req  *loggingpb.TailLogEntriesRequest
	send chan *loggingpb.TailLogEntriesResponse
	end  chan error
}

type fakeLogging struct {
	loggingpb.UnimplementedLoggingServiceV2Server
	mu       sync.Mutex
	history  []*loggingpb.LogEntry
	filters  []string
	pageSize int
	tails    chan *fakeTail
	opened   atomic.Int32
}

var (
	reFilterService = regexp.MustCompile(`resource\.labels\.service_name="([^"]+)"`)
	reFilterRegion  = regexp.MustCompile(`resource\.labels\.location="([^"]+)"`)
	reFilterSince   = regexp.MustCompile(`timestamp>="([^"]+)"`)
)

// ListLogEntries understands the parts of the filter fndeck sends (service,
// location, timestamp lower bound) so a wrong filter returns wrong entries.
func (l *fakeLogging) ListLogEntries(_ context.Context, req *loggingpb.ListLogEntriesRequest) (*loggingpb.ListLogEntriesResponse, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.filters = append(l.filters, req.GetFilter())
	if len(req.GetResourceNames()) != 1 || !strings.HasPrefix(req.GetResourceNames()[0], "projects/") {
		return nil, status.Error(codes.InvalidArgument, "resource_names must name one project")
	}
	svc := reFilterService.FindStringSubmatch(req.GetFilter())
	region := reFilterRegion.FindStringSubmatch(req.GetFilter())
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
		if svc != nil && labels["service_name"] != svc[1] || region != nil && labels["location"] != region[1] {
			continue
		}
		if e.GetTimestamp().AsTime().Before(since) {
			continue
		}
		match = append(match, e)
	}
	start, _ := strconv.Atoi(req.GetPageToken())
	size := l.pageSize
	if size == 0 {
		size = 2
	}
	end := min(start+size, len(match))
	resp := &loggingpb.ListLogEntriesResponse{Entries: match[start:end]}
	if end < len(match) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

func (l *fakeLogging) TailLogEntries(stream loggingpb.LoggingServiceV2_TailLogEntriesServer) error {
	req, err := stream.Recv()
	if err != nil {
		return err
	}
	if len(req.GetResourceNames()) == 0 {
		return status.Error(codes.InvalidArgument, "resource_names is required")
	}
	l.opened.Add(1)
	ft := &fakeTail{req: req, send: make(chan *loggingpb.TailLogEntriesResponse), end: make(chan error, 1)}
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

func startFakeLogging(t testing.TB) (*fakeLogging, string) {
	l := &fakeLogging{tails: make(chan *fakeTail, 16)}
	addr := serve(t, func(s *grpc.Server) { loggingpb.RegisterLoggingServiceV2Server(s, l) })
	return l, addr
}

// nextTail waits for fndeck to open a tail stream.
func (l *fakeLogging) nextTail(t testing.TB) *fakeTail {
	t.Helper()
	select {
	case ft := <-l.tails:
		return ft
	case <-time.After(30 * time.Second):
		t.Fatal("no TailLogEntries stream was opened within 30s")
		return nil
	}
}

func logEntry(project, region, service, id string, ts time.Time) *loggingpb.LogEntry {
	return &loggingpb.LogEntry{
		LogName:   "projects/" + project + "/logs/run.googleapis.com%2Fstdout",
		InsertId:  id,
		Timestamp: timestamppb.New(ts),
		Resource: &monitoredres.MonitoredResource{Type: "cloud_run_revision", Labels: map[string]string{
			"project_id": project, "location": region, "service_name": service, "revision_name": service + "-00001-abc"}},
	}
}
