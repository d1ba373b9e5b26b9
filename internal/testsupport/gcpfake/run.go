// Package gcpfake runs in-process fakes of the Cloud Run Admin API v2
// (Services, Revisions, Locations, Operations) and of the Cloud Logging API v2
// on 127.0.0.1, built on the real generated protos, so the real Google
// clients — inside a test or inside the fndeck binary a test starts — talk to
// them over gRPC exactly as they talk to Google.
//
// The fakes behave like the real APIs where fndeck depends on them: the
// locations/- wildcard is refused, lists page, mutations return long-running
// operations carrying the Service, an update creates a revision only when the
// template changes (an identical template leaves the latest ready revision
// as it is), traffic may name only existing ready revisions, revisions carry
// their template's containers and annotations (GetRevision, ListRevisions),
// a revision that fails to start leaves the previous one serving with a
// failed terminal condition, and log filters are applied to the entries they
// hold. Tests seed and inspect them through
// methods that are safe to call while a client is using the server.
//
// Where they are weaker than the real thing: no authentication or IAM
// (every caller may do everything), revisions become ready at once (no
// container is started, no cold start, no image pull, so a bad image only
// fails when a test marks it so), no v1 API (status.imageDigest), log
// filters understand only the subset fndeck sends (service names, severity,
// timestamps, OR of services), and no sampling of the live tail above
// 500 entries/s.
package gcpfake

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"cloud.google.com/go/run/apiv2/runpb"
	locationpb "google.golang.org/genproto/googleapis/cloud/location"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// DefaultPageSize is how many items a fake list returns per page unless the
// request asks for fewer: small, so that paging happens with a few items.
const DefaultPageSize = 2

// CrashMessage is the terminal-condition message of a revision whose image
// fails to start (by default, any image whose reference contains "crash").
const CrashMessage = "Revision is not ready and cannot serve traffic. The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable."

// CloudRun is the state behind the fake Cloud Run servers.
type CloudRun struct {
	// Addr is the host:port the servers listen on (127.0.0.1).
	Addr string

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
	getCalls  int
	locCalls  int
}

// NewCloudRun returns fake Cloud Run state with no server; most tests want
// StartCloudRun. Register serves it on a gRPC server of the caller's.
func NewCloudRun() *CloudRun {
	return &CloudRun{
		services: map[string]*runpb.Service{}, revisions: map[string]*runpb.Revision{},
		locations: map[string][]string{}, projectErr: map[string]error{}, regionErr: map[string]error{},
		pageSize: DefaultPageSize, nextRev: map[string]int{}, ops: map[string]*pendingOp{},
		failMessage: func(image string) string {
			if strings.Contains(image, "crash") {
				return CrashMessage
			}
			return ""
		},
	}
}

// StartCloudRun serves a new fake on a free 127.0.0.1 port until the test ends.
func StartCloudRun(t testing.TB) *CloudRun {
	t.Helper()
	f := NewCloudRun()
	f.Addr = Serve(t, f.Register)
	return f
}

// Register adds the Services, Revisions, Locations and Operations servers to s.
func (f *CloudRun) Register(s *grpc.Server) {
	runpb.RegisterServicesServer(s, &services{f: f})
	runpb.RegisterRevisionsServer(s, &revisions{f: f})
	locationpb.RegisterLocationsServer(s, &locations{f: f})
	longrunningpb.RegisterOperationsServer(s, &operations{f: f})
}

// Serve starts a gRPC server on a free 127.0.0.1 port with register's
// services, stops it when the test ends, and returns its address.
func Serve(t testing.TB, register func(*grpc.Server)) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("gcpfake: listening on 127.0.0.1: %v", err)
	}
	srv := grpc.NewServer()
	register(srv)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// ServiceName is the full resource name of a service.
func ServiceName(project, region, service string) string {
	return fmt.Sprintf("projects/%s/locations/%s/services/%s", project, region, service)
}

// AddService creates a ready service (unless its image fails, see
// SetFailMessage) with its first revision, taking all traffic, and makes
// region a location of project.
func (f *CloudRun) AddService(project, region, name, image, uri string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	full := ServiceName(project, region, name)
	s := &runpb.Service{
		Name:     full,
		Uri:      uri,
		Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{{Image: image}}},
		Traffic:  []*runpb.TrafficTarget{{Type: runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST, Percent: 100}},
	}
	f.newRevisionLocked(s)
	f.services[full] = s
	f.addRegionLocked(project, region)
}

// AddRegion makes region a Cloud Run location of project, with or without services.
func (f *CloudRun) AddRegion(project, region string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addRegionLocked(project, region)
}

func (f *CloudRun) addRegionLocked(project, region string) {
	for _, r := range f.locations[project] {
		if r == region {
			return
		}
	}
	f.locations[project] = append(f.locations[project], region)
}

// EditService changes a stored service in place (e.g. its resource limits);
// it reports whether the service exists.
func (f *CloudRun) EditService(name string, edit func(*runpb.Service)) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.services[name]
	if ok {
		edit(s)
	}
	return ok
}

// Service returns a copy of a stored service, or nil.
func (f *CloudRun) Service(name string) *runpb.Service {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.services[name]; ok {
		return proto.Clone(s).(*runpb.Service)
	}
	return nil
}

// SetProjectError makes ListLocations on project fail with err (nil clears it).
func (f *CloudRun) SetProjectError(project string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.projectErr[project] = err
}

// SetRegionError makes ListServices in project/region fail with err (nil clears it).
func (f *CloudRun) SetRegionError(project, region string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.regionErr[project+"/"+region] = err
}

// SetPageSize sets the largest page a list returns (default DefaultPageSize).
func (f *CloudRun) SetPageSize(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pageSize = n
}

// SetFailMessage replaces the rule saying why a revision of an image fails
// to start ("" = it starts). The default fails images containing "crash".
func (f *CloudRun) SetFailMessage(fail func(image string) string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failMessage = fail
}

// SetPendingPolls makes mutations return an unfinished operation that
// GetOperation reports done after n polls (0 = done at once).
func (f *CloudRun) SetPendingPolls(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pendingPolls = n
}

// SetOperationErrors makes a revision that fails to start fail the
// operation itself, as the real API does for a deploy.
func (f *CloudRun) SetOperationErrors(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opErrors = on
}

// Updates returns copies of the UpdateService requests received so far.
func (f *CloudRun) Updates() []*runpb.UpdateServiceRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*runpb.UpdateServiceRequest, len(f.updates))
	for i, u := range f.updates {
		out[i] = proto.Clone(u).(*runpb.UpdateServiceRequest)
	}
	return out
}

// Creates returns copies of the CreateService requests received so far.
func (f *CloudRun) Creates() []*runpb.CreateServiceRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*runpb.CreateServiceRequest, len(f.creates))
	for i, c := range f.creates {
		out[i] = proto.Clone(c).(*runpb.CreateServiceRequest)
	}
	return out
}

// ListCalls returns one "PARENT#PAGETOKEN" per ListServices call so far.
func (f *CloudRun) ListCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.listCalls...)
}

// GetCalls is the number of GetService calls so far.
func (f *CloudRun) GetCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.getCalls
}

// LocationCalls is the number of ListLocations calls so far.
func (f *CloudRun) LocationCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.locCalls
}

// Polls is the number of GetOperation calls so far.
func (f *CloudRun) Polls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.polls
}

// RevisionCount is the number of revisions of every service.
func (f *CloudRun) RevisionCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.revisions)
}

// newRevisionLocked makes a revision from s.Template and updates s's status.
func (f *CloudRun) newRevisionLocked(s *runpb.Service) {
	f.nextRev[s.Name]++
	short := fmt.Sprintf("%s-%05d-abc", s.Name[strings.LastIndex(s.Name, "/")+1:], f.nextRev[s.Name])
	full := s.Name + "/revisions/" + short
	tpl := proto.Clone(s.Template).(*runpb.RevisionTemplate)
	// A revision carries its template's containers (their image as given:
	// the v2 Revision has no digest field) and annotations.
	rev := &runpb.Revision{Name: full, Service: s.Name, Containers: tpl.Containers, Annotations: tpl.Annotations,
		Timeout: tpl.Timeout, CreateTime: timestamppb.Now()}
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
	statusLocked(s)
}

// statusLocked computes TrafficStatuses from the Traffic spec, as the API does.
func statusLocked(s *runpb.Service) {
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

// finishOpLocked returns the operation for a mutation: done at once, or pending.
func (f *CloudRun) finishOpLocked(name string, s *runpb.Service) (*longrunningpb.Operation, error) {
	op, err := doneOp(name, s)
	if c := s.GetTerminalCondition(); f.opErrors && c.GetState() == runpb.Condition_CONDITION_FAILED {
		op = &longrunningpb.Operation{Name: name, Done: true, Result: &longrunningpb.Operation_Error{
			Error: status.New(codes.FailedPrecondition, c.GetMessage()).Proto()}}
	}
	if err != nil || f.pendingPolls == 0 {
		return op, err
	}
	f.ops[name] = &pendingOp{left: f.pendingPolls, done: op}
	return &longrunningpb.Operation{Name: name}, nil
}

func doneOp(name string, s *runpb.Service) (*longrunningpb.Operation, error) {
	a, err := anypb.New(s)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "packing the service: %v", err)
	}
	return &longrunningpb.Operation{Name: name, Done: true, Result: &longrunningpb.Operation_Response{Response: a}}, nil
}

type operations struct {
	longrunningpb.UnimplementedOperationsServer
	f *CloudRun
}

func (o *operations) GetOperation(_ context.Context, req *longrunningpb.GetOperationRequest) (*longrunningpb.Operation, error) {
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

type services struct {
	runpb.UnimplementedServicesServer
	f *CloudRun
}

func (s *services) GetService(_ context.Context, req *runpb.GetServiceRequest) (*runpb.Service, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.getCalls++
	svc, ok := s.f.services[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Resource '%s' was not found", req.GetName())
	}
	return proto.Clone(svc).(*runpb.Service), nil
}

var reParent = regexp.MustCompile(`^projects/([^/]+)/locations/([^/]+)$`)

func (s *services) ListServices(_ context.Context, req *runpb.ListServicesRequest) (*runpb.ListServicesResponse, error) {
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
	start, err := pageStart(req.GetPageToken(), len(names))
	if err != nil {
		return nil, err
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

// pageStart decodes a page token (an offset into n items).
func pageStart(tok string, n int) (int, error) {
	if tok == "" {
		return 0, nil
	}
	start, err := strconv.Atoi(tok)
	if err != nil || start < 0 || start > n {
		return 0, status.Errorf(codes.InvalidArgument, "bad page token %q", tok)
	}
	return start, nil
}

func (s *services) CreateService(_ context.Context, req *runpb.CreateServiceRequest) (*longrunningpb.Operation, error) {
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
	if m := reParent.FindStringSubmatch(req.GetParent()); m != nil {
		s.f.addRegionLocked(m[1], m[2])
	}
	return s.f.finishOpLocked("projects/x/locations/y/operations/create-"+req.GetServiceId(), proto.Clone(svc).(*runpb.Service))
}

func (s *services) UpdateService(_ context.Context, req *runpb.UpdateServiceRequest) (*longrunningpb.Operation, error) {
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
		statusLocked(next)
	}
	s.f.services[next.Name] = next
	return s.f.finishOpLocked(fmt.Sprintf("projects/x/locations/y/operations/update-%d", len(s.f.updates)), proto.Clone(next).(*runpb.Service))
}

type revisions struct {
	runpb.UnimplementedRevisionsServer
	f *CloudRun
}

func (r *revisions) GetRevision(_ context.Context, req *runpb.GetRevisionRequest) (*runpb.Revision, error) {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	rev, ok := r.f.revisions[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Resource '%s' was not found", req.GetName())
	}
	return proto.Clone(rev).(*runpb.Revision), nil
}

var reService = regexp.MustCompile(`^projects/([^/]+)/locations/([^/]+)/services/([^/]+)$`)

// ListRevisions lists a service's revisions, newest first, in pages; "-" as
// the service (all services of a location) is served too, as the API does.
func (r *revisions) ListRevisions(_ context.Context, req *runpb.ListRevisionsRequest) (*runpb.ListRevisionsResponse, error) {
	m := reService.FindStringSubmatch(req.GetParent())
	if m == nil || m[2] == "-" {
		return nil, status.Errorf(codes.InvalidArgument, "invalid parent %q", req.GetParent())
	}
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	if m[3] != "-" {
		if _, ok := r.f.services[req.GetParent()]; !ok {
			return nil, status.Errorf(codes.NotFound, "Resource '%s' was not found", req.GetParent())
		}
	}
	prefix := req.GetParent() + "/revisions/"
	if m[3] == "-" {
		prefix = strings.TrimSuffix(req.GetParent(), "-")
	}
	var names []string
	for n := range r.f.revisions {
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	// Revision names end in a zero-padded generation: newest first.
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	start, err := pageStart(req.GetPageToken(), len(names))
	if err != nil {
		return nil, err
	}
	size := r.f.pageSize
	if ps := int(req.GetPageSize()); ps > 0 && ps < size {
		size = ps
	}
	end := min(start+size, len(names))
	resp := &runpb.ListRevisionsResponse{}
	for _, n := range names[start:end] {
		resp.Revisions = append(resp.Revisions, proto.Clone(r.f.revisions[n]).(*runpb.Revision))
	}
	if end < len(names) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

type locations struct {
	locationpb.UnimplementedLocationsServer
	f *CloudRun
}

func (l *locations) ListLocations(_ context.Context, req *locationpb.ListLocationsRequest) (*locationpb.ListLocationsResponse, error) {
	project, ok := strings.CutPrefix(req.GetName(), "projects/")
	if !ok || project == "" || strings.Contains(project, "/") {
		return nil, status.Errorf(codes.InvalidArgument, "invalid name %q", req.GetName())
	}
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	l.f.locCalls++
	if err := l.f.projectErr[project]; err != nil {
		return nil, err
	}
	regions := append([]string(nil), l.f.locations[project]...)
	sort.Strings(regions)
	start, err := pageStart(req.GetPageToken(), len(regions))
	if err != nil {
		return nil, err
	}
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
