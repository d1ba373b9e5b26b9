package gcpfake_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	logging "cloud.google.com/go/logging/apiv2"
	"cloud.google.com/go/logging/apiv2/loggingpb"
	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	locationpb "google.golang.org/genproto/googleapis/cloud/location"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/fndeck/fndeck/internal/testsupport/gcpfake"
)

// The fakes are driven here through the real generated clients, as fndeck
// drives them, so a fake that drifts from the real API's behaviour fails.

func clientOptions(addr string) []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(addr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

func TestCloudRunRejectsWildcardAndPages(t *testing.T) {
	ctx := context.Background()
	f := gcpfake.StartCloudRun(t)
	for _, n := range []string{"a", "b", "c"} {
		f.AddService("acme-web", "europe-west1", n, "gcr.io/acme-web/"+n+":1", "https://"+n)
	}
	f.AddService("acme-web", "us-central1", "d", "gcr.io/acme-web/d:1", "https://d")
	f.AddRegion("acme-web", "asia-east1")

	services, err := run.NewServicesClient(ctx, clientOptions(f.Addr)...)
	if err != nil {
		t.Fatal(err)
	}
	defer services.Close()
	_, err = services.ListServices(ctx, &runpb.ListServicesRequest{Parent: "projects/acme-web/locations/-"}).Next()
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("ListServices on locations/- = %v, want InvalidArgument as the v2 API answers", err)
	}

	var names []string
	it := services.ListServices(ctx, &runpb.ListServicesRequest{Parent: "projects/acme-web/locations/europe-west1"})
	for {
		s, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, s.GetName()[strings.LastIndex(s.GetName(), "/")+1:])
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Errorf("services = %v, want a,b,c", names)
	}
	// Three services at two a page; the refused wildcard call is not recorded.
	if calls := f.ListCalls(); len(calls) != 2 {
		t.Errorf("ListServices calls = %q, want two pages", calls)
	}

	locations, err := run.NewLocationsClient(ctx, clientOptions(f.Addr)...)
	if err != nil {
		t.Fatal(err)
	}
	defer locations.Close()
	var regions []string
	lit := locations.ListLocations(ctx, &locationpb.ListLocationsRequest{Name: "projects/acme-web"})
	for {
		l, err := lit.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		regions = append(regions, l.GetLocationId())
	}
	if strings.Join(regions, ",") != "asia-east1,europe-west1,us-central1" {
		t.Errorf("locations = %v", regions)
	}

	f.SetProjectError("acme-web", status.Error(codes.PermissionDenied, "denied"))
	_, err = locations.ListLocations(ctx, &locationpb.ListLocationsRequest{Name: "projects/acme-web"}).Next()
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("ListLocations of a failing project = %v, want PermissionDenied", err)
	}
}

func TestLoggingFiltersAndTails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l := gcpfake.StartLogging(t)
	now := time.Now()
	l.AddEntries(
		gcpfake.TextEntry("acme-web", "europe-west1", "api", "1", "mine", now),
		gcpfake.TextEntry("acme-web", "europe-west1", "web", "2", "other service", now),
		gcpfake.TextEntry("acme-data", "europe-west1", "api", "3", "other project", now),
		gcpfake.TextEntry("acme-web", "europe-west1", "api", "4", "too old", now.Add(-time.Hour)),
	)
	c, err := logging.NewClient(ctx, clientOptions(l.Addr)...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	it := c.ListLogEntries(ctx, &loggingpb.ListLogEntriesRequest{
		ResourceNames: []string{"projects/acme-web"},
		Filter:        `resource.labels.service_name="api" AND timestamp>="` + now.Add(-time.Minute).UTC().Format(time.RFC3339Nano) + `"`,
	})
	var got []string
	for {
		e, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.GetTextPayload())
	}
	if strings.Join(got, ",") != "mine" {
		t.Errorf("entries = %q, want only the api entry of acme-web in the last minute", got)
	}

	stream, err := c.TailLogEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&loggingpb.TailLogEntriesRequest{ResourceNames: []string{"projects/acme-web"}}); err != nil {
		t.Fatal(err)
	}
	tail := l.NextTail(t)
	if err := tail.SendEntries(gcpfake.TextEntry("acme-web", "europe-west1", "api", "5", "live", now)); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil || len(resp.GetEntries()) != 1 || resp.GetEntries()[0].GetTextPayload() != "live" {
		t.Fatalf("tail received %v, %v", resp, err)
	}
	tail.End(status.Error(codes.PermissionDenied, "denied"))
	if _, err := stream.Recv(); status.Code(err) != codes.PermissionDenied {
		t.Errorf("after End: %v, want PermissionDenied", err)
	}
	<-tail.Done()
	if err := tail.SendEntries(); !errors.Is(err, gcpfake.ErrTailClosed) {
		t.Errorf("Send on an ended stream = %v, want ErrTailClosed", err)
	}
	if l.Opened() != 1 {
		t.Errorf("opened = %d", l.Opened())
	}
}
