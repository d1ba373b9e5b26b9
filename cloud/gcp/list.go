package gcp

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/iterator"
	locationpb "google.golang.org/genproto/googleapis/cloud/location"

	"github.com/fndeck/fndeck/cloud"
)

const runAPI = "run.googleapis.com"

// List emits one GroupResult per project×region as each answers. Regions come
// from the filter, else Options.Regions, else the project's Cloud Run
// locations: ListServices does not accept the locations/- wildcard, so each
// region is asked on its own, in parallel. A project whose locations cannot be
// listed is one GroupResult with Region "" carrying the error and its hint.
func (b *Backend) List(ctx context.Context, f cloud.ListFilter, emit func(cloud.GroupResult)) error {
	projects, err := b.projects(ctx, f)
	if err != nil {
		return err
	}
	services, _, locations, err := b.runClients(ctx)
	if err != nil {
		return err
	}
	regions := f.Regions
	if len(regions) == 0 {
		regions = b.opts.Regions
	}
	sem := make(chan struct{}, b.opts.ListConcurrency)
	var wg sync.WaitGroup
	for _, project := range projects {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs := regions
			if len(rs) == 0 {
				var err error
				rs, err = listRegions(ctx, locations, project)
				if err != nil {
					emit(cloud.GroupResult{Group: cloud.Group{Provider: cloud.GCP, Scope: b.scope(project)}, Err: err, Hint: cloud.Hint(err)})
					return
				}
			}
			for _, region := range rs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					select {
					case sem <- struct{}{}:
					case <-ctx.Done():
						emit(cloud.GroupResult{Group: cloud.Group{Provider: cloud.GCP, Scope: b.scope(project), Region: region}, Err: ctx.Err()})
						return
					}
					defer func() { <-sem }()
					fns, err := listServices(ctx, services, project, region)
					emit(cloud.GroupResult{
						Group:     cloud.Group{Provider: cloud.GCP, Scope: b.scope(project), Region: region},
						Functions: fns, Err: err, Hint: cloud.Hint(err),
					})
				}()
			}
		}()
	}
	wg.Wait()
	return nil
}

// listRegions returns the project's Cloud Run locations, sorted.
func listRegions(ctx context.Context, c *locationsClient, project string) ([]string, error) {
	it := c.ListLocations(ctx, &locationpb.ListLocationsRequest{Name: "projects/" + project})
	var out []string
	for {
		loc, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, classify(err, "listing cloud run locations of "+project, project, runAPI)
		}
		id := loc.GetLocationId()
		if id == "" {
			id = lastSegment(loc.GetName())
		}
		out = append(out, id)
	}
	sort.Strings(out)
	return out, nil
}

// listServices pages through one region's services.
func listServices(ctx context.Context, c *servicesClient, project, region string) ([]cloud.Function, error) {
	it := c.ListServices(ctx, &runpb.ListServicesRequest{Parent: "projects/" + project + "/locations/" + region})
	var out []cloud.Function
	for {
		s, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return out, classify(err, fmt.Sprintf("listing cloud run services in %s/%s", project, region), project, runAPI)
		}
		out = append(out, serviceToFunction(s))
	}
	return out, nil
}

// Describe returns one service with every field filled.
func (b *Backend) Describe(ctx context.Context, target cloud.Address) (cloud.Function, error) {
	s, err := b.getService(ctx, target)
	if err != nil {
		return cloud.Function{}, err
	}
	return serviceToFunction(s), nil
}

func (b *Backend) getService(ctx context.Context, target cloud.Address) (*runpb.Service, error) {
	if target.Provider != cloud.GCP {
		return nil, fmt.Errorf("%s is not a cloud run address: %w", target, cloud.ErrInvalid)
	}
	services, _, _, err := b.runClients(ctx)
	if err != nil {
		return nil, err
	}
	s, err := services.GetService(ctx, &runpb.GetServiceRequest{Name: serviceName(target)})
	if err != nil {
		return nil, classify(err, "getting cloud run service "+target.String(), target.Project, runAPI)
	}
	return s, nil
}

func serviceName(a cloud.Address) string {
	return "projects/" + a.Project + "/locations/" + a.Region + "/services/" + a.Function
}

func lastSegment(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// serviceToFunction maps a Cloud Run service to fndeck's Function. The
// project and region come from the resource name
// (projects/P/locations/R/services/S).
func serviceToFunction(s *runpb.Service) cloud.Function {
	parts := strings.Split(s.GetName(), "/")
	var project, region, name string
	if len(parts) == 6 {
		project, region, name = parts[1], parts[3], parts[5]
	} else {
		name = lastSegment(s.GetName())
	}
	addr := cloud.Address{Provider: cloud.GCP, Project: project, Region: region, Function: name}
	fn := cloud.Function{
		Address:             addr.String(),
		Provider:            cloud.GCP,
		Name:                name,
		Region:              region,
		Project:             project,
		PackageType:         "Image",
		URL:                 s.GetUri(),
		LatestReadyRevision: lastSegment(s.GetLatestReadyRevision()),
	}
	if cs := s.GetTemplate().GetContainers(); len(cs) > 0 {
		fn.ImageURI = cs[0].GetImage()
		fn.MemoryMB = memoryMB(cs[0].GetResources().GetLimits()["memory"])
	}
	fn.ImageDigest, fn.SourceRef = templateLineage(s.GetTemplate())
	if d := s.GetTemplate().GetTimeout(); d != nil {
		fn.TimeoutS = int(d.AsDuration().Seconds())
	}
	for _, t := range s.GetTrafficStatuses() {
		tr := cloud.Traffic{Revision: lastSegment(t.GetRevision()), Percent: int(t.GetPercent()), Tag: t.GetTag(),
			Latest: t.GetType() == runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST}
		if tr.Latest && tr.Revision == "" {
			// LATEST entries name no revision; the one serving is the latest ready.
			tr.Revision = fn.LatestReadyRevision
		}
		fn.Traffic = append(fn.Traffic, tr)
	}
	if c := s.GetTerminalCondition(); c != nil {
		fn.ReadyMessage = c.GetMessage()
		switch c.GetState() {
		case runpb.Condition_CONDITION_SUCCEEDED:
			t := true
			fn.Ready, fn.State = &t, "Ready"
		case runpb.Condition_CONDITION_FAILED:
			f := false
			fn.Ready, fn.State = &f, "Failed"
		default:
			fn.State = "Pending"
		}
	}
	if s.GetReconciling() {
		fn.State = "Reconciling"
	}
	if u := s.GetUpdateTime(); u != nil {
		t := u.AsTime()
		fn.LastModified = &t
	}
	return fn
}

// memoryMB reads a Kubernetes quantity ("512Mi", "1Gi", "2G") as MiB; 0 when unknown.
func memoryMB(q string) int {
	units := []struct {
		suffix string
		mib    float64
	}{{"Ki", 1.0 / 1024}, {"Mi", 1}, {"Gi", 1024}, {"Ti", 1024 * 1024}, {"k", 1000.0 / (1 << 20)}, {"M", 1e6 / (1 << 20)}, {"G", 1e9 / (1 << 20)}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(q, u.suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil {
				return 0
			}
			return int(v*u.mib + 0.5)
		}
	}
	v, err := strconv.ParseFloat(q, 64)
	if err != nil {
		return 0
	}
	return int(v/(1<<20) + 0.5)
}

// templateLineage reads the digest a service's template runs (its image
// when deployed by digest, else the digest fndeck recorded) and the source
// fndeck recorded. A v2 service names no digest for an image deployed by
// tag without fndeck: the digest is then unknown ("").
func templateLineage(tpl *runpb.RevisionTemplate) (digest, source string) {
	if cs := tpl.GetContainers(); len(cs) > 0 {
		if _, d, ok := strings.Cut(cs[0].GetImage(), "@"); ok {
			digest = d
		}
	}
	if digest == "" {
		digest = tpl.GetAnnotations()[AnnotationDigest]
	}
	return digest, tpl.GetAnnotations()[AnnotationSource]
}
