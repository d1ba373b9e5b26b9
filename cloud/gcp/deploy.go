package gcp

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/fndeck/fndeck/cloud"
)

// Deploy points a service at a new image (or creates it with req.Create) and
// waits for the operation and the Ready condition. A failing revision's
// condition message is the error. Traffic pinned to one revision (by a
// rollback) is sent back to the latest revision, as PRODUCT.md asks.
// Serialization per target across processes is the caller's (actions.LockTarget).
func (b *Backend) Deploy(ctx context.Context, req cloud.DeployRequest, out cloud.Sink) (cloud.DeployResult, error) {
	if out == nil {
		out = cloud.DiscardSink{}
	}
	t := req.Target
	if t.Provider != cloud.GCP {
		return cloud.DeployResult{}, fmt.Errorf("deploying to %s: not a cloud run address: %w", t, cloud.ErrInvalid)
	}
	if req.Image == "" {
		return cloud.DeployResult{}, fmt.Errorf("deploying to %s: no image given: %w", t, cloud.ErrInvalid)
	}
	services, _, _, err := b.runClients(ctx)
	if err != nil {
		return cloud.DeployResult{}, err
	}
	existing, err := b.getService(ctx, t)
	if err != nil {
		if !errors.Is(err, cloud.ErrNotFound) {
			return cloud.DeployResult{}, err
		}
		if !req.Create {
			return cloud.DeployResult{}, cloud.WithHint(fmt.Errorf("deploying to %s: service does not exist: %w", t, cloud.ErrNotFound), "add --create to create the service")
		}
		existing = nil
	}
	image, err := b.deployableImage(ctx, req, out)
	if err != nil {
		return cloud.DeployResult{}, err
	}
	image, digest, err := b.pin(ctx, req.Image, image, out)
	if err != nil {
		return cloud.DeployResult{}, fmt.Errorf("deploying to %s: %w", t, err)
	}
	res := cloud.DeployResult{Target: t.String(), NewImage: image, ImageRef: req.Image, ImageDigest: digest}
	var svc *runpb.Service
	if existing == nil {
		out.Line(fmt.Sprintf("creating cloud run service %s with %s", t, image))
		tpl := newTemplate(req, image)
		annotate(tpl, req.Image, digest)
		op, err := services.CreateService(ctx, &runpb.CreateServiceRequest{
			Parent:    "projects/" + t.Project + "/locations/" + t.Region,
			ServiceId: t.Function,
			Service:   &runpb.Service{Template: tpl},
		})
		if err != nil {
			return res, classify(err, "creating cloud run service "+t.String(), t.Project, runAPI)
		}
		out.Line("waiting for the service to become ready")
		svc, err = op.Wait(ctx)
		if err != nil {
			return res, classify(err, "creating cloud run service "+t.String(), t.Project, runAPI)
		}
		res.Created = true
	} else {
		res.OldImage = containerImage(existing)
		res.OldRevision = servingRevision(existing)
		res.OldSettings = settingsOf(existing.GetTemplate())
		res.OldImageDigest = existing.GetTemplate().GetAnnotations()[AnnotationDigest]
		if res.OldImageDigest == "" {
			_, res.OldImageDigest, _ = strings.Cut(res.OldImage, "@")
		}
		upd := proto.Clone(existing).(*runpb.Service)
		applyRequest(upd, req, image)
		annotate(upd.Template, req.Image, digest)
		unchanged := sameTemplate(existing.GetTemplate(), upd.GetTemplate())
		pinned := !trafficIsLatest(upd.GetTraffic())
		latest := lastSegment(existing.GetLatestReadyRevision())
		if unchanged && !pinned && latest != "" && latestIsReady(existing) {
			// Cloud Run would create no revision: say what serves, wait for nothing.
			res.NoOp, res.Revision, res.OldRevision = true, latest, latest
			res.Settings = res.OldSettings
			out.Line(fmt.Sprintf("already serving %s (revision %s): nothing to deploy", image, latest))
			if digest == "" {
				// Without a digest fndeck cannot tell whether the tag moved.
				out.Line("note: " + image + " was not resolved to a digest; if the tag moved since, deploy it by digest (REPO@sha256:…)")
			}
			return res, nil
		}
		if unchanged {
			// Keep the template byte for byte (its source annotation too),
			// so that only the traffic changes and no revision is made.
			upd.Template = proto.Clone(existing.GetTemplate()).(*runpb.RevisionTemplate)
		}
		if pinned {
			out.Line(fmt.Sprintf("traffic was pinned (serving %s); sending 100%% to the latest revision", res.OldRevision))
			upd.Traffic = latestTraffic(upd.GetTraffic())
		}
		if unchanged {
			out.Line(fmt.Sprintf("%s already runs %s in revision %s; only the traffic changes", t, image, latest))
		} else {
			out.Line(fmt.Sprintf("updating %s: %s → %s", t, res.OldImage, image))
		}
		op, err := services.UpdateService(ctx, &runpb.UpdateServiceRequest{Service: upd})
		if err != nil {
			return res, classify(err, "updating cloud run service "+t.String(), t.Project, runAPI)
		}
		if unchanged {
			out.Line("waiting for the traffic change")
		} else {
			out.Line("waiting for the new revision to become ready")
		}
		svc, err = op.Wait(ctx)
		if err != nil {
			return res, classify(err, "deploying "+image+" to "+t.String(), t.Project, runAPI)
		}
	}
	if err := readyError(svc); err != nil {
		return res, fmt.Errorf("deploying %s to %s: %w", image, t, err)
	}
	res.Revision = lastSegment(svc.GetLatestReadyRevision())
	res.Settings = settingsOf(svc.GetTemplate())
	out.Line(fmt.Sprintf("revision %s is ready and serving at %s", res.Revision, svc.GetUri()))
	return res, nil
}

// Annotations fndeck puts on the revision templates it deploys, so anyone
// (a teammate's fndeck, the console, CI) can see what a revision came from:
// a v2 Revision has no digest field.
const (
	AnnotationSource = "fndeck.dev/source"
	AnnotationDigest = "fndeck.dev/digest"
)

// pin resolves image to its linux/amd64 manifest digest (Options.Resolver)
// and returns the reference to deploy (repo@digest) and the digest. An image
// already pinned by digest is kept; without a resolver a tag is deployed as
// given, with no digest known.
func (b *Backend) pin(ctx context.Context, given, image string, out cloud.Sink) (string, string, error) {
	if _, d, ok := strings.Cut(image, "@"); ok {
		if given != image {
			out.Line(fmt.Sprintf("deploying %s as %s", given, d))
		}
		return image, d, nil
	}
	if b.opts.Resolver == nil {
		return image, "", nil
	}
	r, err := b.opts.Resolver.Resolve(ctx, image, "linux/amd64")
	if err != nil {
		if cannotAsk(ctx, err) {
			// Cloud Run's service agent pulls, not the user: a registry
			// the user cannot read is no reason to refuse the deploy.
			out.Line(fmt.Sprintf("warning: could not resolve %s to a digest (%v): deploying the tag as given", image, err))
			return image, "", nil
		}
		return "", "", fmt.Errorf("resolving %s to a digest: %w", image, err)
	}
	if r.Index != "" {
		out.Line(fmt.Sprintf("%s is an image index (%s): deploying its linux/amd64 image", image, strings.Join(r.Platforms, ", ")))
	}
	if p := r.Platform; p != "" && !strings.HasPrefix(p+"/", "linux/amd64/") {
		return "", "", cloud.WithHint(fmt.Errorf("image %s is %s but cloud run runs linux/amd64 only (it would fail later as \"failed to start and listen on PORT\"): %w", image, p, cloud.ErrInvalid),
			"rebuild with --platform linux/amd64")
	}
	out.Line(fmt.Sprintf("deploying %s as %s", given, r.Digest))
	return r.Pinned(), r.Digest, nil
}

// stillThere checks, before a rollback, that the image of the revision it
// restores is still in its registry (a lifecycle policy or a cleanup may
// have deleted it; the revision could then start no new instance). A
// registry that cannot be asked is told, not fatal.
func (b *Backend) stillThere(ctx context.Context, t cloud.Address, rev, image string, out cloud.Sink) error {
	if b.opts.Resolver == nil || !strings.Contains(image, "@sha256:") {
		return nil
	}
	_, err := b.opts.Resolver.Resolve(ctx, image, "")
	switch {
	case err == nil:
		return nil
	case errors.Is(err, cloud.ErrNotFound):
		return cloud.WithHint(fmt.Errorf("rolling back %s: revision %s runs %s, which is no longer in its registry (a lifecycle policy may have expired it): %w", t, rev, image, cloud.ErrNotFound),
			"deploy an image that exists instead (fndeck deploy IMAGE "+t.String()+")")
	case ctx.Err() != nil:
		return fmt.Errorf("rolling back %s: %w", t, ctx.Err())
	}
	out.Line(fmt.Sprintf("warning: could not check that %s is still in its registry: %v", image, err))
	return nil
}

// cannotAsk reports whether a resolution failed because the registry could
// not be asked (credentials refused or missing, unreachable), not because
// of what it answered (no such tag, no platform's image).
func cannotAsk(ctx context.Context, err error) bool {
	return ctx.Err() == nil && (cloud.AuthRefused(err) || errors.Is(err, cloud.ErrUnreachable))
}

// annotate records the reference the user gave and its digest on tpl.
func annotate(tpl *runpb.RevisionTemplate, source, digest string) {
	if tpl.Annotations == nil {
		tpl.Annotations = map[string]string{}
	}
	tpl.Annotations[AnnotationSource] = source
	if digest != "" {
		tpl.Annotations[AnnotationDigest] = digest
	} else {
		delete(tpl.Annotations, AnnotationDigest)
	}
}

// sameTemplate reports whether deploying next over cur would leave Cloud Run
// nothing to do: the templates are equal, ignoring the explicit revision name
// applyRequest clears and — when the image and digest are the same — the
// source annotation (app:1 and app@sha256:… of the same digest are one image).
func sameTemplate(cur, next *runpb.RevisionTemplate) bool {
	a := proto.Clone(cur).(*runpb.RevisionTemplate)
	bt := proto.Clone(next).(*runpb.RevisionTemplate)
	a.Revision, bt.Revision = "", ""
	if a.Annotations[AnnotationDigest] != "" && a.Annotations[AnnotationDigest] == bt.Annotations[AnnotationDigest] {
		delete(a.Annotations, AnnotationSource)
		delete(bt.Annotations, AnnotationSource)
	}
	if len(a.Annotations) == 0 {
		a.Annotations = nil
	}
	if len(bt.Annotations) == 0 {
		bt.Annotations = nil
	}
	return proto.Equal(a, bt)
}

// latestIsReady reports whether the latest created revision is the latest
// ready one (a failed last revision is worth deploying over again).
func latestIsReady(s *runpb.Service) bool {
	return s.GetLatestCreatedRevision() == "" || s.GetLatestCreatedRevision() == s.GetLatestReadyRevision()
}

// settingsOf reads the settings fndeck deploys from a template.
func settingsOf(tpl *runpb.RevisionTemplate) *cloud.DeploySettings {
	cs := tpl.GetContainers()
	if len(cs) == 0 {
		return nil
	}
	c := cs[0]
	st := &cloud.DeploySettings{}
	if ps := c.GetPorts(); len(ps) > 0 {
		st.Port = int(ps[0].GetContainerPort())
	}
	if m := c.GetResources().GetLimits()["memory"]; strings.HasSuffix(m, "Mi") {
		fmt.Sscanf(strings.TrimSuffix(m, "Mi"), "%d", &st.MemoryMB)
	}
	if d := tpl.GetTimeout(); d != nil {
		st.TimeoutS = int(d.AsDuration().Seconds())
	}
	for _, e := range c.GetEnv() {
		if v, ok := e.GetValues().(*runpb.EnvVar_Value); ok {
			if st.Env == nil {
				st.Env = map[string]string{}
			}
			st.Env[e.GetName()] = v.Value
		}
	}
	return st
}

// Rollback routes 100 % of the traffic to to.Revision, the revision that
// served before the deploy being undone. The template is left alone, so no
// new revision is created.
func (b *Backend) Rollback(ctx context.Context, target cloud.Address, to cloud.DeployResult, out cloud.Sink) (cloud.DeployResult, error) {
	if out == nil {
		out = cloud.DiscardSink{}
	}
	if to.Revision == "" {
		return cloud.DeployResult{}, fmt.Errorf("rolling back %s: the history entry names no revision: %w", target, cloud.ErrInvalid)
	}
	services, revisions, _, err := b.runClients(ctx)
	if err != nil {
		return cloud.DeployResult{}, err
	}
	existing, err := b.getService(ctx, target)
	if err != nil {
		return cloud.DeployResult{}, err
	}
	revName := serviceName(target) + "/revisions/" + to.Revision
	rev, err := revisions.GetRevision(ctx, &runpb.GetRevisionRequest{Name: revName})
	if err != nil {
		return cloud.DeployResult{}, classify(err, "rolling back "+target.String()+": getting revision "+to.Revision, target.Project, runAPI)
	}
	for _, c := range rev.GetConditions() {
		if c.GetType() == "Ready" && c.GetState() == runpb.Condition_CONDITION_FAILED {
			return cloud.DeployResult{}, fmt.Errorf("rolling back %s: revision %s is not ready: %s: %w", target, to.Revision, c.GetMessage(), cloud.ErrConflict)
		}
	}
	res := cloud.DeployResult{Target: target.String(), OldImage: containerImage(existing), NewImage: to.NewImage,
		Revision: to.Revision, OldRevision: servingRevision(existing)}
	if cs := rev.GetContainers(); len(cs) > 0 {
		res.NewImage = cs[0].GetImage()
	}
	res.ImageRef, res.ImageDigest = rev.GetAnnotations()[AnnotationSource], rev.GetAnnotations()[AnnotationDigest]
	if res.ImageDigest == "" {
		if _, d, ok := strings.Cut(res.NewImage, "@"); ok {
			res.ImageDigest = d
		}
	}
	res.Settings = settingsOf(&runpb.RevisionTemplate{Containers: rev.GetContainers(), Timeout: rev.GetTimeout()})
	res.OldSettings = settingsOf(existing.GetTemplate())
	if servesOnly(existing, to.Revision) {
		return res, fmt.Errorf("rolling back %s: it already serves revision %s (%s): %w", target, to.Revision, res.NewImage, cloud.ErrNothingToDo)
	}
	if err := b.stillThere(ctx, target, to.Revision, res.NewImage, out); err != nil {
		return res, err
	}
	upd := proto.Clone(existing).(*runpb.Service)
	traffic := []*runpb.TrafficTarget{{
		Type:     runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION,
		Revision: to.Revision, Percent: 100,
	}}
	upd.Traffic = append(traffic, taggedOnly(existing.GetTraffic())...)
	out.Line(fmt.Sprintf("routing 100%% of %s's traffic to %s (was %s)", target, to.Revision, res.OldRevision))
	op, err := services.UpdateService(ctx, &runpb.UpdateServiceRequest{Service: upd})
	if err != nil {
		return res, classify(err, "rolling back "+target.String(), target.Project, runAPI)
	}
	svc, err := op.Wait(ctx)
	if err != nil {
		return res, classify(err, "rolling back "+target.String(), target.Project, runAPI)
	}
	if err := readyError(svc); err != nil {
		return res, fmt.Errorf("rolling back %s: %w", target, err)
	}
	out.Line(fmt.Sprintf("%s now serves revision %s", target, to.Revision))
	return res, nil
}

// servesOnly reports whether all of s's traffic goes to revision rev
// (pinned to it, or following the latest revision while rev is the latest
// ready one).
func servesOnly(s *runpb.Service, rev string) bool {
	ts := s.GetTrafficStatuses()
	if len(ts) == 0 {
		return lastSegment(s.GetLatestReadyRevision()) == rev
	}
	for _, t := range ts {
		if t.GetPercent() == 0 {
			continue
		}
		name := lastSegment(t.GetRevision())
		if t.GetType() == runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST {
			name = lastSegment(s.GetLatestReadyRevision())
		}
		if name != rev || t.GetPercent() != 100 {
			return false
		}
	}
	return true
}

// newTemplate is the revision template of a service created by --create.
func newTemplate(req cloud.DeployRequest, image string) *runpb.RevisionTemplate {
	tpl := &runpb.RevisionTemplate{Containers: []*runpb.Container{{Image: image}}}
	applyContainer(tpl, req)
	return tpl
}

// applyRequest puts the new image (and any --port/--memory/--env/--timeout)
// into an existing service's template. The template's explicit revision name
// is cleared: reusing it would make the API refuse the update.
func applyRequest(s *runpb.Service, req cloud.DeployRequest, image string) {
	if s.Template == nil {
		s.Template = &runpb.RevisionTemplate{}
	}
	s.Template.Revision = ""
	if len(s.Template.Containers) == 0 {
		s.Template.Containers = []*runpb.Container{{}}
	}
	s.Template.Containers[0].Image = image
	applyContainer(s.Template, req)
}

func applyContainer(tpl *runpb.RevisionTemplate, req cloud.DeployRequest) {
	c := tpl.Containers[0]
	applyImageConfig(c, req.ImageConfig)
	if req.Port > 0 {
		c.Ports = []*runpb.ContainerPort{{ContainerPort: int32(req.Port)}}
	}
	if req.MemoryMB > 0 {
		if c.Resources == nil {
			c.Resources = &runpb.ResourceRequirements{}
		}
		if c.Resources.Limits == nil {
			c.Resources.Limits = map[string]string{}
		}
		c.Resources.Limits["memory"] = fmt.Sprintf("%dMi", req.MemoryMB)
	}
	if req.TimeoutS > 0 {
		tpl.Timeout = durationpb.New(timeSeconds(req.TimeoutS))
	}
	if len(req.Env) > 0 {
		names := make([]string, 0, len(req.Env))
		for k := range req.Env {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			v := &runpb.EnvVar{Name: k, Values: &runpb.EnvVar_Value{Value: req.Env[k]}}
			replaced := false
			for i, e := range c.Env {
				if e.GetName() == k {
					c.Env[i], replaced = v, true
				}
			}
			if !replaced {
				c.Env = append(c.Env, v)
			}
		}
	}
}

func containerImage(s *runpb.Service) string {
	if cs := s.GetTemplate().GetContainers(); len(cs) > 0 {
		return cs[0].GetImage()
	}
	return ""
}

// servingRevision names the revision taking the most traffic now.
func servingRevision(s *runpb.Service) string {
	best, pct := "", int32(-1)
	for _, t := range s.GetTrafficStatuses() {
		if t.GetPercent() > pct {
			pct = t.GetPercent()
			best = lastSegment(t.GetRevision())
			if t.GetType() == runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST && best == "" {
				best = lastSegment(s.GetLatestReadyRevision())
			}
		}
	}
	if best == "" {
		best = lastSegment(s.GetLatestReadyRevision())
	}
	return best
}

// trafficIsLatest reports whether all traffic follows the latest revision.
func trafficIsLatest(ts []*runpb.TrafficTarget) bool {
	if len(ts) == 0 {
		return true // the API's default is LATEST 100 %
	}
	for _, t := range ts {
		if t.GetPercent() > 0 && t.GetType() != runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST {
			return false
		}
	}
	return true
}

// latestTraffic sends 100 % to LATEST and keeps tag-only (0 %) entries so
// tagged URLs survive.
func latestTraffic(ts []*runpb.TrafficTarget) []*runpb.TrafficTarget {
	out := []*runpb.TrafficTarget{{Type: runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST, Percent: 100}}
	return append(out, taggedOnly(ts)...)
}

func taggedOnly(ts []*runpb.TrafficTarget) []*runpb.TrafficTarget {
	var out []*runpb.TrafficTarget
	for _, t := range ts {
		if t.GetTag() != "" {
			c := proto.Clone(t).(*runpb.TrafficTarget)
			c.Percent = 0
			out = append(out, c)
		}
	}
	return out
}

// readyError returns the reason a service is not ready after its operation,
// nil when its terminal condition succeeded.
func readyError(s *runpb.Service) error {
	c := s.GetTerminalCondition()
	if c == nil || c.GetState() != runpb.Condition_CONDITION_FAILED {
		return nil
	}
	msg := c.GetMessage()
	if msg == "" {
		for _, cc := range s.GetConditions() {
			if cc.GetState() == runpb.Condition_CONDITION_FAILED && cc.GetMessage() != "" {
				msg = cc.GetMessage()
				break
			}
		}
	}
	if msg == "" {
		msg = "the service is not ready (" + c.GetReason().String() + ")"
	}
	rev := lastSegment(s.GetLatestCreatedRevision())
	if rev != "" {
		return fmt.Errorf("revision %s failed: %s", rev, strings.TrimSpace(msg))
	}
	return errors.New(strings.TrimSpace(msg))
}
