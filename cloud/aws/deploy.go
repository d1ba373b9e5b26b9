package aws

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fndeck/fndeck/cloud"
)

var reVersion = regexp.MustCompile(`^([0-9]+|\$LATEST)$`)

// Deploy updates an image function to req.Image (or creates one with
// req.Create), pushing a local image (Options.Pusher) or copying a remote one
// to the account's ECR first when it is not there already, and waits
// with the SDK's waiters until the function is Active and its last update
// Successful. A qualified target (an alias) is deployed by publishing a
// version and moving the alias to it.
func (b *Backend) Deploy(ctx context.Context, req cloud.DeployRequest, out cloud.Sink) (cloud.DeployResult, error) {
	if out == nil {
		out = cloud.DiscardSink{}
	}
	t := req.Target
	if t.Provider != cloud.AWS {
		return cloud.DeployResult{}, fmt.Errorf("deploying to %s: not a lambda: address: %w", t, cloud.ErrInvalid)
	}
	if reVersion.MatchString(t.Qualifier) {
		return cloud.DeployResult{}, cloud.WithHint(fmt.Errorf("deploying to %s: %q is a version, and versions are immutable: %w", t, t.Qualifier, cloud.ErrInvalid),
			"deploy to the function, or to an alias (lambda:REGION/FUNCTION:ALIAS)")
	}
	profile := b.profileFor(t)
	rc, err := b.clients(ctx, profile, t.Region)
	if err != nil {
		return cloud.DeployResult{}, err
	}
	acct, err := b.account(ctx, profile, t.Region)
	if err != nil {
		return cloud.DeployResult{}, err
	}
	res := cloud.DeployResult{Target: t.String()}

	cur, err := b.getFunctionRaw(ctx, rc, nil, t.Function, "")
	exists := err == nil
	if err != nil {
		if cerr := classify(err, profile); !errors.Is(cerr, cloud.ErrNotFound) {
			return res, errorf(profile, "looking up %s: %w", t, err)
		}
	}
	arch := string(types.ArchitectureX8664)
	switch {
	case req.Create && exists:
		return res, cloud.WithHint(fmt.Errorf("creating %s: the function already exists: %w", t, cloud.ErrConflict), "deploy without --create to update it")
	case !req.Create && !exists:
		return res, cloud.WithHint(fmt.Errorf("deploying to %s: no such function: %w", t, cloud.ErrNotFound), "pass --create (with --role) to create it")
	case exists:
		c := cur.Configuration
		if c != nil && c.PackageType != types.PackageTypeImage {
			return res, cloud.WithHint(fmt.Errorf("deploying to %s: it is a %s function, and fndeck deploys container images only: %w", t, packageTypeOf(c), cloud.ErrInvalid),
				"create an Image function under another name with --create")
		}
		if c != nil && len(c.Architectures) > 0 {
			arch = string(c.Architectures[0])
		}
		res.OldImage = servingImage(cur.Code)
		res.OldImageDigest = digestOf(res.OldImage)
		res.OldSettings = settingsOf(c)
	case req.Create:
		if t.Qualifier != "" {
			return res, fmt.Errorf("creating %s: create the function without a qualifier first: %w", t, cloud.ErrInvalid)
		}
		if req.Role == "" {
			return res, cloud.WithHint(fmt.Errorf("creating %s: an execution role is required: %w", t, cloud.ErrInvalid), "pass --role arn:aws:iam::ACCOUNT:role/NAME")
		}
	}
	if req.Arch != "" {
		a, err := normalizeArch(req.Arch)
		if err != nil {
			return res, fmt.Errorf("deploying to %s: %w", t, err)
		}
		arch = a
	}

	image, err := b.prepareImage(ctx, rc, profile, acct, t.Region, req, arch, out)
	if err != nil {
		return res, err
	}
	res.NewImage, res.ImageRef, res.ImageDigest = image, req.Image, digestOf(image)

	if req.Create {
		res, err = b.create(ctx, rc, profile, req, image, arch, res, out)
		if err == nil {
			res.Settings = &cloud.DeploySettings{Env: req.Env, MemoryMB: req.MemoryMB, TimeoutS: req.TimeoutS, Arch: arch}
			b.tagSource(ctx, rc, functionARN(t.Region, acct, t.Function), t, req.Image, out)
		}
		return res, err
	}
	// An update still in progress (someone else's deploy, a config change)
	// would make ours fail with ResourceConflictException: let it finish.
	if c := cur.Configuration; c != nil && (c.LastUpdateStatus == types.LastUpdateStatusInProgress || c.State == types.StatePending) {
		out.Line(fmt.Sprintf("%s is still being updated; waiting for that to finish first", t))
		if err := b.waitUpdated(ctx, rc, profile, t, out); err != nil {
			return res, err
		}
	}
	// The configuration first: a version published with the code takes
	// the configuration $LATEST has at that moment.
	want := withRequest(res.OldSettings, req, arch)
	if !configEqual(want, res.OldSettings) {
		if err := b.updateConfig(ctx, rc, profile, t, want, out); err != nil {
			return res, err
		}
	}
	if err := b.applyImageConfig(ctx, rc, profile, t, req.ImageConfig, cur.Configuration, out); err != nil {
		return res, err
	}
	in := &lambda.UpdateFunctionCodeInput{FunctionName: &t.Function, ImageUri: &image, Publish: t.Qualifier != ""}
	if req.Arch != "" {
		in.Architectures = []types.Architecture{types.Architecture(arch)}
	}
	out.Line(fmt.Sprintf("updating %s: %s → %s", t, orNone(res.OldImage), image))
	upd, err := b.updateCode(ctx, rc, profile, t, in, "updating the code of", out)
	if err != nil {
		return res, err
	}
	res.Revision = sdkaws.ToString(upd.Version)
	res.Settings = want
	if res.ImageDigest == "" {
		// Deployed by tag: what Lambda resolved it to is the digest to keep.
		if got, err := b.getFunctionRaw(ctx, rc, nil, t.Function, ""); err == nil {
			res.ImageDigest = digestOf(servingImage(got.Code))
		}
	}
	b.tagSource(ctx, rc, sdkaws.ToString(upd.FunctionArn), t, req.Image, out)
	if t.Qualifier != "" {
		old, err := b.moveAlias(ctx, rc, profile, t, res.Revision, out)
		if err != nil {
			return res, err
		}
		res.OldRevision = old
	}
	out.Line(fmt.Sprintf("%s is serving %s", t, image))
	return res, nil
}

func packageTypeOf(c *types.FunctionConfiguration) string {
	if c.PackageType == "" {
		return string(types.PackageTypeZip)
	}
	return string(c.PackageType)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// normalizeArch maps Docker and Lambda architecture names to Lambda's.
func normalizeArch(a string) (string, error) {
	switch strings.ToLower(a) {
	case "x86_64", "amd64", "x86-64":
		return string(types.ArchitectureX8664), nil
	case "arm64", "aarch64":
		return string(types.ArchitectureArm64), nil
	}
	return "", fmt.Errorf("architecture %q: use x86_64 or arm64: %w", a, cloud.ErrInvalid)
}

// create creates an Image function and waits until it is Active.
func (b *Backend) create(ctx context.Context, rc *regionClients, profile string, req cloud.DeployRequest, image, arch string, res cloud.DeployResult, out cloud.Sink) (cloud.DeployResult, error) {
	t := req.Target
	in := &lambda.CreateFunctionInput{
		FunctionName:  &t.Function,
		PackageType:   types.PackageTypeImage,
		Code:          &types.FunctionCode{ImageUri: &image},
		Role:          &req.Role,
		Architectures: []types.Architecture{types.Architecture(arch)},
		ImageConfig:   lambdaImageConfig(req.ImageConfig),
	}
	if req.MemoryMB > 0 {
		in.MemorySize = sdkaws.Int32(int32(req.MemoryMB))
	}
	if req.TimeoutS > 0 {
		in.Timeout = sdkaws.Int32(int32(req.TimeoutS))
	}
	if len(req.Env) > 0 {
		in.Environment = &types.Environment{Variables: req.Env}
	}
	out.Line(fmt.Sprintf("creating %s from %s (%s)", t, image, arch))
	var cr *lambda.CreateFunctionOutput
	err := b.call(ctx, nil, func() error {
		var e error
		cr, e = rc.lambda.CreateFunction(ctx, in)
		return e
	})
	if err != nil {
		return res, errorf(profile, "creating %s: %w", t, err)
	}
	out.Line(fmt.Sprintf("waiting for %s to become Active", t))
	w := lambda.NewFunctionActiveV2Waiter(rc.lambda, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = b.opts.WaitMinDelay, b.opts.WaitMaxDelay
	})
	if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: &t.Function}, b.opts.WaitTimeout); err != nil {
		return res, b.failureReason(ctx, rc, profile, t, "creating", err)
	}
	res.Created = true
	res.Revision = sdkaws.ToString(cr.Version)
	out.Line(fmt.Sprintf("%s is serving %s", t, image))
	return res, nil
}

// waitUpdated waits until the function's last update is Successful; a
// failure carries LastUpdateStatusReason.
func (b *Backend) waitUpdated(ctx context.Context, rc *regionClients, profile string, t cloud.Address, out cloud.Sink) error {
	out.Line(fmt.Sprintf("waiting for %s to finish updating", t))
	w := lambda.NewFunctionUpdatedV2Waiter(rc.lambda, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = b.opts.WaitMinDelay, b.opts.WaitMaxDelay
	})
	if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: &t.Function}, b.opts.WaitTimeout); err != nil {
		return b.failureReason(ctx, rc, profile, t, "updating", err)
	}
	return nil
}

// failureReason turns a waiter error into one that says why the platform
// refused the update (LastUpdateStatusReason / StateReason).
func (b *Backend) failureReason(ctx context.Context, rc *regionClients, profile string, t cloud.Address, doing string, werr error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s %s: %w", doing, t, ctx.Err())
	}
	got, err := b.getFunctionRaw(ctx, rc, nil, t.Function, "")
	if err == nil && got.Configuration != nil {
		c := got.Configuration
		if c.LastUpdateStatus == types.LastUpdateStatusFailed || c.State == types.StateFailed {
			reason := sdkaws.ToString(c.LastUpdateStatusReason)
			code := string(c.LastUpdateStatusReasonCode)
			if reason == "" {
				reason, code = sdkaws.ToString(c.StateReason), string(c.StateReasonCode)
			}
			if code != "" {
				reason = code + ": " + reason
			}
			return fmt.Errorf("%s %s failed: %s: %w", doing, t, reason, cloud.ErrInvalid)
		}
	}
	return errorf(profile, "%s %s: waiting for the function: %w", doing, t, werr)
}

// moveAlias points the target's alias at version and returns the version it
// pointed to before.
func (b *Backend) moveAlias(ctx context.Context, rc *regionClients, profile string, t cloud.Address, version string, out cloud.Sink) (string, error) {
	var cur *lambda.GetAliasOutput
	err := b.call(ctx, nil, func() error {
		var e error
		cur, e = rc.lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: &t.Function, Name: &t.Qualifier})
		return e
	})
	if err != nil {
		return "", errorf(profile, "reading alias %s: %w", t, err)
	}
	old := sdkaws.ToString(cur.FunctionVersion)
	out.Line(fmt.Sprintf("moving alias %s: version %s → %s", t, old, version))
	err = b.call(ctx, nil, func() error {
		_, e := rc.lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: &t.Function, Name: &t.Qualifier, FunctionVersion: &version})
		return e
	})
	if err != nil {
		return old, errorf(profile, "moving alias %s to version %s: %w", t, version, err)
	}
	return old, nil
}

// checkArch refuses an image whose architecture differs from the function's.
func checkArch(d cloud.ImageDetail, fnArch, ref string, t cloud.Address) error {
	if d.Architecture == "" {
		return nil
	}
	ia, err := normalizeArch(d.Architecture)
	if err != nil {
		return fmt.Errorf("image %s: %w", ref, err)
	}
	if ia != fnArch {
		return cloud.WithHint(fmt.Errorf("image %s is %s but %s runs on %s: %w", ref, ia, t, fnArch, cloud.ErrInvalid),
			"rebuild with --platform linux/"+dockerArch(fnArch)+", or deploy with --arch "+ia)
	}
	return nil
}

func dockerArch(lambdaArch string) string {
	if lambdaArch == string(types.ArchitectureArm64) {
		return "arm64"
	}
	return "amd64"
}

// Rollback makes the target serve to.NewImage again (or, for an alias, moves
// it back to to.Revision) and waits until the function is updated.
func (b *Backend) Rollback(ctx context.Context, target cloud.Address, to cloud.DeployResult, out cloud.Sink) (cloud.DeployResult, error) {
	if out == nil {
		out = cloud.DiscardSink{}
	}
	profile := b.profileFor(target)
	rc, err := b.clients(ctx, profile, target.Region)
	if err != nil {
		return cloud.DeployResult{}, err
	}
	res := cloud.DeployResult{Target: target.String(), NewImage: to.NewImage}
	if target.Qualifier != "" && to.Revision != "" && to.Revision != "$LATEST" {
		old, err := b.moveAlias(ctx, rc, profile, target, to.Revision, out)
		if err != nil {
			return res, err
		}
		res.OldRevision, res.Revision = old, to.Revision
		return res, nil
	}
	if to.NewImage == "" {
		return res, fmt.Errorf("rolling back %s: the history entry names no image: %w", target, cloud.ErrInvalid)
	}
	cur, err := b.getFunctionRaw(ctx, rc, nil, target.Function, "")
	if err != nil {
		return res, errorf(profile, "looking up %s: %w", target, err)
	}
	if cur.Configuration != nil && cur.Configuration.PackageType != types.PackageTypeImage {
		return res, fmt.Errorf("rolling back %s: it is a %s function: %w", target, packageTypeOf(cur.Configuration), cloud.ErrInvalid)
	}
	res.OldImage = servingImage(cur.Code)
	res.OldImageDigest = digestOf(res.OldImage)
	res.ImageRef, res.ImageDigest = to.ImageRef, digestOf(to.NewImage)
	curSettings := settingsOf(cur.Configuration)
	res.OldSettings = curSettings
	want := to.Settings
	sameImage := res.OldImage == to.NewImage || (res.OldImageDigest != "" && res.OldImageDigest == res.ImageDigest)
	sameConfig := want == nil || (configEqual(want, curSettings) && (want.Arch == "" || want.Arch == curSettings.Arch))
	if sameImage && sameConfig {
		return res, fmt.Errorf("rolling back %s: it already serves %s with those settings: %w", target, to.NewImage, cloud.ErrNothingToDo)
	}
	if !sameImage {
		if err := b.stillThere(ctx, target, to.NewImage, out); err != nil {
			return res, err
		}
	}
	if !sameImage || (want != nil && want.Arch != "" && want.Arch != curSettings.Arch) {
		in := &lambda.UpdateFunctionCodeInput{FunctionName: &target.Function, ImageUri: &to.NewImage}
		if want != nil && want.Arch != "" && want.Arch != curSettings.Arch {
			in.Architectures = []types.Architecture{types.Architecture(want.Arch)}
		}
		out.Line(fmt.Sprintf("rolling back %s: %s → %s", target, orNone(res.OldImage), to.NewImage))
		upd, err := b.updateCode(ctx, rc, profile, target, in, "rolling back", out)
		if err != nil {
			return res, err
		}
		res.Revision = sdkaws.ToString(upd.Version)
	}
	res.Settings = curSettings
	if want != nil && !configEqual(want, curSettings) {
		if err := b.updateConfig(ctx, rc, profile, target, want, out); err != nil {
			return res, err
		}
		res.Settings = want
	}
	return res, nil
}

// servingImage is what a function runs, pinned when Lambda says: the digest
// reference in ImageUri when it holds one, else ResolvedImageUri (the digest
// Lambda resolved the tag to), else ImageUri as it is.
func servingImage(code *types.FunctionCodeLocation) string {
	if code == nil {
		return ""
	}
	uri := sdkaws.ToString(code.ImageUri)
	if strings.Contains(uri, "@sha256:") {
		return uri
	}
	if r := sdkaws.ToString(code.ResolvedImageUri); strings.Contains(r, "@sha256:") {
		return r
	}
	return uri
}

// digestOf is the digest of a pinned reference, "" for a tag.
func digestOf(ref string) string {
	if _, d, ok := strings.Cut(ref, "@"); ok {
		return d
	}
	return ""
}

// settingsOf reads the settings deploy changes from a function's configuration.
func settingsOf(c *types.FunctionConfiguration) *cloud.DeploySettings {
	if c == nil {
		return nil
	}
	st := &cloud.DeploySettings{MemoryMB: int(sdkaws.ToInt32(c.MemorySize)), TimeoutS: int(sdkaws.ToInt32(c.Timeout))}
	if len(c.Architectures) > 0 {
		st.Arch = string(c.Architectures[0])
	}
	if c.Environment != nil && len(c.Environment.Variables) > 0 {
		st.Env = maps.Clone(c.Environment.Variables)
	}
	return st
}

// withRequest is old with a deploy's --env (merged over the function's own
// variables, as Cloud Run does), --memory, --timeout and architecture.
func withRequest(old *cloud.DeploySettings, req cloud.DeployRequest, arch string) *cloud.DeploySettings {
	st := &cloud.DeploySettings{}
	if old != nil {
		*st = *old
		st.Env = maps.Clone(old.Env)
	}
	for k, v := range req.Env {
		if st.Env == nil {
			st.Env = map[string]string{}
		}
		st.Env[k] = v
	}
	if req.MemoryMB > 0 {
		st.MemoryMB = req.MemoryMB
	}
	if req.TimeoutS > 0 {
		st.TimeoutS = req.TimeoutS
	}
	st.Arch = arch
	return st
}

// configEqual compares what UpdateFunctionConfiguration sets (env, memory,
// timeout); a nil side is unknown and equal to anything.
func configEqual(a, b *cloud.DeploySettings) bool {
	if a == nil || b == nil {
		return true
	}
	return a.MemoryMB == b.MemoryMB && a.TimeoutS == b.TimeoutS && maps.Equal(a.Env, b.Env)
}

// updateConfig sets the function's env (replacing it), memory and timeout
// to st and waits until the update is done.
func (b *Backend) updateConfig(ctx context.Context, rc *regionClients, profile string, t cloud.Address, st *cloud.DeploySettings, out cloud.Sink) error {
	in := &lambda.UpdateFunctionConfigurationInput{FunctionName: &t.Function,
		Environment: &types.Environment{Variables: st.Env}}
	if in.Environment.Variables == nil {
		in.Environment.Variables = map[string]string{}
	}
	if st.MemoryMB > 0 {
		in.MemorySize = sdkaws.Int32(int32(st.MemoryMB))
	}
	if st.TimeoutS > 0 {
		in.Timeout = sdkaws.Int32(int32(st.TimeoutS))
	}
	names := slices.Sorted(maps.Keys(st.Env))
	out.Line(fmt.Sprintf("setting %s's configuration: %d MB, %d s, environment %s", t, st.MemoryMB, st.TimeoutS, orNone(strings.Join(names, ","))))
	err := b.call(ctx, nil, func() error {
		_, e := rc.lambda.UpdateFunctionConfiguration(ctx, in)
		return e
	})
	if err != nil {
		return errorf(profile, "updating the configuration of %s: %w", t, err)
	}
	return b.waitUpdated(ctx, rc, profile, t, out)
}

// tagSource records the reference the user gave as the function's
// fndeck:source tag, for teammates, the console and CI. A failure is told,
// not fatal: the deploy itself succeeded.
func (b *Backend) tagSource(ctx context.Context, rc *regionClients, arn string, t cloud.Address, source string, out cloud.Sink) {
	if arn == "" {
		return
	}
	if i := strings.Index(arn, ":function:"); i >= 0 {
		// Tags belong to the function, not to a version or alias ARN.
		rest := arn[i+len(":function:"):]
		if name, _, ok := strings.Cut(rest, ":"); ok {
			arn = arn[:i+len(":function:")] + name
		}
	}
	err := b.call(ctx, nil, func() error {
		_, e := rc.lambda.TagResource(ctx, &lambda.TagResourceInput{Resource: &arn, Tags: map[string]string{SourceTag: source}})
		return e
	})
	if err != nil {
		out.Line(fmt.Sprintf("warning: could not tag %s with %s=%s: %v", t, SourceTag, source, err))
	}
}

// functionARN builds a function's ARN in the region's partition.
func functionARN(region, acct, name string) string {
	partition := "aws"
	switch {
	case strings.HasPrefix(region, "cn-"):
		partition = "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		partition = "aws-us-gov"
	}
	return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", partition, region, acct, name)
}

// SourceTag is the Lambda tag naming the reference a function was deployed from.
const SourceTag = "fndeck:source"

// updateCode sends UpdateFunctionCode and waits until the function is
// updated (deploy and rollback alike); what starts the error message.
func (b *Backend) updateCode(ctx context.Context, rc *regionClients, profile string, t cloud.Address, in *lambda.UpdateFunctionCodeInput, what string, out cloud.Sink) (*lambda.UpdateFunctionCodeOutput, error) {
	var upd *lambda.UpdateFunctionCodeOutput
	err := b.call(ctx, nil, func() error {
		var e error
		upd, e = rc.lambda.UpdateFunctionCode(ctx, in)
		return e
	})
	if err != nil {
		return nil, errorf(profile, "%s %s: %w", what, t, err)
	}
	if err := b.waitUpdated(ctx, rc, profile, t, out); err != nil {
		return nil, err
	}
	return upd, nil
}
