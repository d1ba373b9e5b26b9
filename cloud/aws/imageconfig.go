package aws

import (
	"context"
	"fmt"
	"slices"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fndeck/fndeck/cloud"
)

// lambdaImageConfig is a deploy's image config as Lambda's ImageConfig;
// nil when it overrides nothing.
func lambdaImageConfig(ic *cloud.ImageConfig) *types.ImageConfig {
	if ic.IsZero() {
		return nil
	}
	out := &types.ImageConfig{Command: ic.Command, EntryPoint: ic.Entrypoint}
	if ic.Workdir != "" {
		out.WorkingDirectory = sdkaws.String(ic.Workdir)
	}
	return out
}

// imageConfigChange returns the ImageConfig to set on a function whose
// current one is cur, or nil when the deploy's already holds. Fields the
// deploy leaves empty keep the function's values.
func imageConfigChange(ic *cloud.ImageConfig, cur *types.FunctionConfiguration) *types.ImageConfig {
	want := lambdaImageConfig(ic)
	if want == nil {
		return nil
	}
	var have types.ImageConfig
	if cur != nil && cur.ImageConfigResponse != nil && cur.ImageConfigResponse.ImageConfig != nil {
		have = *cur.ImageConfigResponse.ImageConfig
	}
	next := have
	if len(want.Command) > 0 {
		next.Command = want.Command
	}
	if len(want.EntryPoint) > 0 {
		next.EntryPoint = want.EntryPoint
	}
	if want.WorkingDirectory != nil {
		next.WorkingDirectory = want.WorkingDirectory
	}
	if slices.Equal(next.Command, have.Command) && slices.Equal(next.EntryPoint, have.EntryPoint) &&
		sdkaws.ToString(next.WorkingDirectory) == sdkaws.ToString(have.WorkingDirectory) {
		return nil
	}
	return &next
}

// applyImageConfig updates the function's ImageConfig when the deploy asks
// for a different one, and waits for the update. It runs before the code
// update so that a version published with the new image has it too.
func (b *Backend) applyImageConfig(ctx context.Context, rc *regionClients, profile string, t cloud.Address, ic *cloud.ImageConfig, cur *types.FunctionConfiguration, out cloud.Sink) error {
	next := imageConfigChange(ic, cur)
	if next == nil {
		return nil
	}
	out.Line(fmt.Sprintf("setting the image config of %s: entrypoint %v, command %v, workdir %q", t, next.EntryPoint, next.Command, sdkaws.ToString(next.WorkingDirectory)))
	err := b.call(ctx, nil, func() error {
		_, e := rc.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: &t.Function, ImageConfig: next})
		return e
	})
	if err != nil {
		return errorf(profile, "setting the image config of %s: %w", t, err)
	}
	return b.waitUpdated(ctx, rc, profile, t, out)
}
