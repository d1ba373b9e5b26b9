package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/text"
)

// cleanupTimeout bounds the work after a cancelled build (removing the
// step's container and any tag already applied).
const cleanupTimeout = 30 * time.Second

// Build builds an image with the classic builder (API build version "1").
// The classic builder always produces a single-platform image, which is what
// Lambda and Cloud Run take; BuildKit would need a session and protobuf
// progress decoding for no gain here.
//
// The build output goes to out line by line. A failing build returns an
// error naming the failing step. Cancelling ctx stops the build and removes
// its intermediate container and any tag it already applied.
func (e *Engine) Build(ctx context.Context, opts cloud.BuildOptions, out cloud.Sink) (cloud.BuildResult, error) {
	if out == nil {
		out = cloud.DiscardSink{}
	}
	bc, err := prepareContext(opts.ContextDir, opts.Dockerfile)
	if err != nil {
		return cloud.BuildResult{}, fmt.Errorf("building: %w", invalid(err))
	}
	for _, t := range opts.Tags {
		if _, err := reference.ParseNormalizedNamed(t); err != nil {
			return cloud.BuildResult{}, fmt.Errorf("building: %w", invalid(fmt.Errorf("invalid tag %q: %w", t, err)))
		}
	}
	var platforms []ocispec.Platform
	if opts.Platform != "" {
		p, err := parsePlatform(opts.Platform)
		if err != nil {
			return cloud.BuildResult{}, fmt.Errorf("building: %w", err)
		}
		platforms = []ocispec.Platform{p}
	}
	args := make(map[string]*string, len(opts.BuildArgs))
	for k, v := range opts.BuildArgs {
		args[k] = &v
	}

	for attempt := 1; ; attempt++ {
		res, err := e.buildOnce(ctx, opts, bc, platforms, args, out)
		var lost *lostImageError
		if errors.As(err, &lost) && attempt == 1 {
			out.Line("fndeck: the engine lost an image it was comparing against its build cache (one removed at the same moment); building again")
			continue
		}
		return res, err
	}
}

// lostImageError is dockerd's classic builder failing a step because an
// image it was checking as a cache candidate was removed meanwhile: it
// lists the candidates (for FROM scratch, every image without a parent),
// then reads each, and one removed in between fails the whole build with
// `unable to find image "sha256:…"`. Nothing was wrong with the build, so
// Build runs it once more.
type lostImageError struct{ err error }

func (e *lostImageError) Error() string { return e.err.Error() }
func (e *lostImageError) Unwrap() error { return e.err }

func (e *Engine) buildOnce(ctx context.Context, opts cloud.BuildOptions, bc *buildContext, platforms []ocispec.Platform, args map[string]*string, out cloud.Sink) (cloud.BuildResult, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(bc.writeTar(pw)) }()
	defer pr.Close()

	start := time.Now()
	resp, err := e.cli.ImageBuild(ctx, pr, client.ImageBuildOptions{
		Tags:        opts.Tags,
		Dockerfile:  bc.dockerfileName,
		BuildArgs:   args,
		Target:      opts.Target,
		NoCache:     opts.NoCache,
		Remove:      true,
		ForceRemove: true, // no container left behind by a failing step either
		Platforms:   platforms,
		Version:     build.BuilderV1,
	})
	if err != nil {
		if ctx.Err() != nil {
			return cloud.BuildResult{}, fmt.Errorf("build cancelled: %w", ctx.Err())
		}
		// Parse errors come back here ("dockerfile parse error line 2: ...").
		return cloud.BuildResult{}, e.wrap(ctx, err, "building "+bc.dockerfilePath)
	}
	defer resp.Body.Close()

	tr := &buildTracker{}
	dec := json.NewDecoder(resp.Body)
	var streamErr error
	for {
		var m streamMessage
		if err := dec.Decode(&m); err != nil {
			if !errors.Is(err, io.EOF) {
				streamErr = err
			}
			break
		}
		for _, l := range tr.feed(&m) {
			out.Line(l)
		}
		if m.Progress != nil && m.ID != "" {
			out.Progress(cloud.Progress{ID: m.ID, Status: m.Status, Current: m.Progress.Current, Total: m.Progress.Total})
		}
	}
	for _, l := range tr.flush() {
		out.Line(l)
	}
	if ctx.Err() != nil {
		resp.Body.Close()
		cerr := e.cleanupCancelledBuild(ctx, tr, opts.Tags, start, out)
		if cerr != nil {
			return cloud.BuildResult{}, fmt.Errorf("build cancelled: %w; cleanup failed: %w", ctx.Err(), cerr)
		}
		return cloud.BuildResult{}, fmt.Errorf("build cancelled: %w", ctx.Err())
	}
	where := "build of " + bc.dockerfilePath
	if tr.step != "" {
		where = "build at " + tr.step
	}
	if tr.errMsg != "" {
		var err error
		if tr.errStep != "" {
			err = fmt.Errorf("build failed at %s: %s", tr.errStep, tr.errMsg)
		} else {
			err = fmt.Errorf("build of %s failed: %s", bc.dockerfilePath, tr.errMsg)
		}
		if !opts.NoCache && strings.HasPrefix(tr.errMsg, `unable to find image "sha256:`) {
			err = &lostImageError{err: err}
		}
		// A step killed (137) while the engine stops: say the engine
		// stopped, not only the step's code. An OOM kill or the step's own
		// kill leaves the engine answering, and the step's error stands.
		if killedStep(tr.errMsg) {
			if gone := e.engineGone(ctx); gone != nil {
				return cloud.BuildResult{}, engineStopped(where, "its step was killed: "+tr.errMsg, gone)
			}
		}
		return cloud.BuildResult{}, err
	}
	id := tr.imageID
	if id == "" {
		id = tr.built
	}
	if streamErr != nil || id == "" {
		// The stream broke off (or ended without a result): when the
		// engine no longer answers, that is the reason.
		if gone := e.engineGone(ctx); gone != nil {
			return cloud.BuildResult{}, engineStopped(where, "its connection dropped", gone)
		}
		if streamErr != nil {
			return cloud.BuildResult{}, e.wrap(ctx, streamErr, "reading build output")
		}
		return cloud.BuildResult{}, errors.New("build ended without producing an image")
	}
	ins, err := e.cli.ImageInspect(ctx, id)
	if err != nil {
		return cloud.BuildResult{}, e.wrap(ctx, err, fmt.Sprintf("inspecting built image %s", id))
	}
	res := cloud.BuildResult{ImageID: ins.ID, Tags: opts.Tags, Architecture: ins.Architecture, OS: ins.Os}
	if len(platforms) == 1 {
		want := platforms[0]
		if want.Architecture != ins.Architecture || want.OS != ins.Os {
			// dockerd 20.10's classic builder labels a FROM scratch image with
			// the engine's architecture whatever --platform said.
			out.Line(fmt.Sprintf("warning: requested platform %s but the engine recorded the image as %s/%s; its binaries are what they are, the label is not",
				opts.Platform, ins.Os, ins.Architecture))
		}
	}
	return res, nil
}

// engineStoppedError says a stream ended because the Docker engine went
// away (stopped or crashed mid-build). It matches cloud.ErrUnreachable
// through the failed ping it wraps.
type engineStoppedError struct {
	where, how string
	ping       error
}

func (e *engineStoppedError) Error() string {
	return fmt.Sprintf("%s: the Docker engine stopped (%s; %v)", e.where, e.how, e.ping)
}
func (e *engineStoppedError) Unwrap() error { return e.ping }

func engineStopped(where, how string, ping error) error {
	return &engineStoppedError{where: where, how: how, ping: ping}
}

// engineGoneTimeout bounds the ping that tells a stopped engine from a
// failed step.
const engineGoneTimeout = 3 * time.Second

// engineGone pings the engine after a stream ended abnormally: it returns
// the ping's error (matching cloud.ErrUnreachable) when the engine no
// longer answers, nil when it does.
func (e *Engine) engineGone(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), engineGoneTimeout)
	defer cancel()
	err := e.Ping(pctx)
	if err == nil || !errors.Is(err, cloud.ErrUnreachable) {
		return nil
	}
	return err
}

// killedStep reports whether a classic-builder error is a step killed by
// SIGKILL ("The command '/bin/sh -c …' returned a non-zero code: 137"),
// which is what a step reports when the engine stops under it.
func killedStep(msg string) bool {
	return strings.HasSuffix(strings.TrimSpace(msg), "returned a non-zero code: 137")
}

// parsePlatform reads "os/arch[/variant]".
func parsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return ocispec.Platform{}, invalid(fmt.Errorf("platform %q: want os/arch, e.g. linux/amd64 or linux/arm64", s))
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// cleanupCancelledBuild removes what a cancelled classic build may leave:
// the container of the step that was running, and tags already applied.
// The daemon kills and removes the step container itself when the client
// goes away, but asynchronously and not on every path, so this makes sure.
// It only touches containers this build's stream named ("Running in ID"),
// plus, for the window where the container was created but the line had
// not reached us, containers whose image is this build's last step image
// and that were created after the build started.
func (e *Engine) cleanupCancelledBuild(ctx context.Context, tr *buildTracker, tags []string, start time.Time, out cloud.Sink) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	ids := append([]string{}, tr.running...)
	if tr.lastImage != "" {
		list, err := e.cli.ContainerList(cctx, client.ContainerListOptions{
			All:     true,
			Filters: make(client.Filters).Add("ancestor", tr.lastImage),
		})
		if err == nil {
			for _, c := range list.Items {
				if strings.HasPrefix(strings.TrimPrefix(c.ImageID, "sha256:"), tr.lastImage) &&
					c.Created >= start.Unix()-1 && !contains(ids, c.ID) {
					ids = append(ids, c.ID)
				}
			}
		}
	}
	var errs []error
	for _, id := range ids {
		if err := e.removeContainer(cctx, id); err != nil {
			errs = append(errs, fmt.Errorf("removing build container %s: %w", text.ShortID(id), err))
			continue
		}
		out.Line(fmt.Sprintf("removed build container %s", text.ShortID(id)))
	}
	// Tags are applied only after the last step; if the cancel landed
	// between two tags, undo the ones that point at this build's image.
	built := tr.imageID
	if built == "" {
		built = tr.built
	}
	if built != "" {
		for _, t := range tags {
			ins, err := e.cli.ImageInspect(cctx, t)
			if err != nil {
				continue
			}
			if strings.HasPrefix(strings.TrimPrefix(ins.ID, "sha256:"), strings.TrimPrefix(built, "sha256:")) {
				if _, err := e.cli.ImageRemove(cctx, t, client.ImageRemoveOptions{PruneChildren: true}); err != nil && !cerrdefs.IsNotFound(err) {
					errs = append(errs, fmt.Errorf("removing tag %s of the cancelled build: %w", t, err))
				} else {
					out.Line(fmt.Sprintf("removed tag %s of the cancelled build", t))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// removeContainer force-removes a container and waits until it is gone;
// "removal already in progress" (the daemon cleaning up itself) is retried.
func (e *Engine) removeContainer(ctx context.Context, id string) error {
	for {
		_, err := e.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true})
		if err == nil || cerrdefs.IsNotFound(err) {
			if _, ierr := e.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{}); cerrdefs.IsNotFound(ierr) {
				return nil
			}
		} else if !cerrdefs.IsConflict(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still present after %s: %w", cleanupTimeout, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.HasPrefix(s, x) || strings.HasPrefix(x, s) {
			return true
		}
	}
	return false
}

// invalidError marks bad input (cloud.ErrInvalid) while keeping the
// message about what and where unchanged.
type invalidError struct{ err error }

func (e invalidError) Error() string        { return e.err.Error() }
func (e invalidError) Unwrap() error        { return e.err }
func (e invalidError) Is(target error) bool { return target == cloud.ErrInvalid }

func invalid(err error) error { return invalidError{err} }
