package aws

import (
	"context"
	"fmt"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/fndeck/fndeck/cloud"
)

// StackResource implements cloud.StackResolver with CloudFormation's
// DescribeStackResources: a SAM function without a FunctionName is named
// STACK-LOGICALID-RANDOM when the stack creates it, and only the stack
// knows the name.
func (b *Backend) StackResource(ctx context.Context, r cloud.StackResource) (string, error) {
	what := fmt.Sprintf("finding %s in the stack %s (%s)", r.LogicalID, r.Stack, r.Region)
	if r.Stack == "" || r.LogicalID == "" || r.Region == "" {
		return "", fmt.Errorf("%s: a stack, a logical ID and a region are needed: %w", what, cloud.ErrInvalid)
	}
	p := b.profile(r.Profile)
	cfg, err := b.config(ctx, p)
	if err != nil {
		return "", err
	}
	cf := cloudformation.NewFromConfig(cfg, func(o *cloudformation.Options) { o.Region = r.Region })
	var out *cloudformation.DescribeStackResourcesOutput
	err = b.call(ctx, nil, func() error {
		var e error
		out, e = cf.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{
			StackName: sdkaws.String(r.Stack), LogicalResourceId: sdkaws.String(r.LogicalID),
		})
		return e
	})
	if err != nil {
		// CloudFormation says "Stack with id X does not exist" as a
		// ValidationError, not as a not-found code.
		if strings.Contains(err.Error(), "does not exist") {
			return "", cloud.WithHint(fmt.Errorf("%s: the stack is not deployed: %w", what, cloud.ErrNotFound),
				"deploy it first (sam deploy), or give the function a FunctionName")
		}
		return "", errorf(r.Profile, "%s: %w", what, err)
	}
	for _, res := range out.StackResources {
		if sdkaws.ToString(res.LogicalResourceId) == r.LogicalID && sdkaws.ToString(res.PhysicalResourceId) != "" {
			return sdkaws.ToString(res.PhysicalResourceId), nil
		}
	}
	return "", cloud.WithHint(fmt.Errorf("%s: the stack has no such resource: %w", what, cloud.ErrNotFound),
		"deploy the template first (sam deploy)")
}
