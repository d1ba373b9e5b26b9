package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fndeck/fndeck/cloud"
)

// Flows are the provider-neutral deploy and rollback procedures the TUI and
// the headless CLI share: serialize on the target (across processes), do the
// backend's work, keep the history that rollback reads.
type Flows struct {
	StateDir string
	History  *History
	// Inspect, when set, inspects a local image (the engine's image
	// inspect); a deploy of a local image runs doctor's checks on it first
	// and stops, before any push, on an error.
	Inspect func(ctx context.Context, ref string) (cloud.ImageDetail, error)
}

// precheck runs doctor on a local image before it is deployed. An image the
// engine does not hold is a registry reference: its checks are the registry's.
func (f Flows) precheck(ctx context.Context, d cloud.Deployer, req cloud.DeployRequest, out cloud.Sink) error {
	checks := f.Check(ctx, d, req)
	for _, c := range checks {
		if c.Level == LevelWarning {
			out.Line("doctor: warning: " + c.Message)
		}
	}
	return DoctorError(req.Image, req.Target.String(), checks)
}

// Check runs doctor's checks for deploying req.Image to req.Target with
// backend; nil when the image is not a local one (its checks are the
// registry's) or no engine is wired.
func (f Flows) Check(ctx context.Context, backend any, req cloud.DeployRequest) []Check {
	if f.Inspect == nil {
		return nil
	}
	img, err := f.Inspect(ctx, req.Image)
	if err != nil {
		return nil // not a local image (or no engine): the backend reports it
	}
	return Doctor(img, DoctorTargetFor(ctx, backend, req))
}

// CheckLines is Check as lines for a confirmation: "LEVEL  message".
func (f Flows) CheckLines(ctx context.Context, backend any, req cloud.DeployRequest) []string {
	var out []string
	for _, c := range f.Check(ctx, backend, req) {
		out = append(out, fmt.Sprintf("%-7s %s", c.Level, c.Message))
	}
	return out
}

// Deploy deploys req.Image to req.Target with d, holding the target's lock,
// and records the result for rollback.
func (f Flows) Deploy(ctx context.Context, d cloud.Deployer, req cloud.DeployRequest, out cloud.Sink) (cloud.DeployResult, error) {
	unlock, err := LockTargetWait(ctx, f.StateDir, req.Target, func(holder string) {
		out.Line(fmt.Sprintf("waiting: another deploy to %s is running (%s)", req.Target, holder))
	})
	if err != nil {
		return cloud.DeployResult{}, err // LockTargetWait's error names the target
	}
	defer unlock()
	if err := f.precheck(ctx, d, req, out); err != nil {
		return cloud.DeployResult{}, err
	}
	res, err := d.Deploy(ctx, req, out)
	if err != nil {
		if errors.Is(err, cloud.ErrNeedsConfirmation) && cloud.Hint(err) == "" {
			err = cloud.WithHint(err, "pass --yes (or confirm in the TUI) to let fndeck create the repository")
		}
		return res, err
	}
	if res.Target == "" {
		res.Target = req.Target.String()
	}
	if res.ImageRef == "" {
		res.ImageRef = req.Image
	}
	if res.NoOp {
		return res, nil // nothing changed: not a rollback point
	}
	if err := f.History.Record(ctx, req.Target, res); err != nil {
		out.Line("warning: the deploy succeeded but recording it for rollback failed: " + err.Error())
	}
	return res, nil
}

// Rollback returns target to what served before fndeck's most recent
// deploy to it; each call steps one entry further back.
func (f Flows) Rollback(ctx context.Context, rb cloud.RollBacker, target cloud.Address, out cloud.Sink) (cloud.DeployResult, error) {
	unlock, err := LockTargetWait(ctx, f.StateDir, target, func(holder string) {
		out.Line(fmt.Sprintf("waiting: another deploy to %s is running (%s)", target, holder))
	})
	if err != nil {
		return cloud.DeployResult{}, err
	}
	defer unlock()
	prev, ok, err := f.History.Previous(ctx, target)
	if err != nil {
		return cloud.DeployResult{}, fmt.Errorf("reading the deploy history of %s: %w", target, err)
	}
	if !ok {
		return cloud.DeployResult{}, fmt.Errorf("%s: no earlier deploy recorded by fndeck, nothing to roll back to: %w", target, cloud.ErrNotFound)
	}
	res, err := rb.Rollback(ctx, target, prev, out)
	if err != nil {
		if errors.Is(err, cloud.ErrNothingToDo) && cloud.Hint(err) == "" {
			err = cloud.WithHint(err, "the history's previous entry already serves; deploy the image you want instead")
		}
		return res, err
	}
	out.Line(fmt.Sprintf("%s served %s before; it now serves %s", target, describeServing(res.OldImage, res.OldRevision), describeServing(res.NewImage, res.Revision)))
	if err := f.History.MarkRolledBack(ctx, target); err != nil {
		return res, fmt.Errorf("rolled back %s, but recording it failed: %w", target, err)
	}
	return res, nil
}

// PreviewRollback says what a rollback of target would restore, for the
// TUI's confirmation; ok=false when there is nothing to roll back to.
func (f Flows) PreviewRollback(ctx context.Context, target cloud.Address) (cloud.DeployResult, bool, error) {
	return f.History.Previous(ctx, target)
}

// describeServing names what serves: the image and, when known, the
// provider's revision.
func describeServing(image, revision string) string {
	if len(revision) == 64 && strings.Trim(revision, "0123456789abcdef") == "" {
		revision = revision[:12] // a container ID
	}
	switch {
	case image == "" && revision == "":
		return "(unknown)"
	case revision == "" || revision == image:
		return image
	case image == "":
		return "revision " + revision
	}
	return image + " (revision " + revision + ")"
}
