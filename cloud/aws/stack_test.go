package aws

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// A SAM function without a FunctionName gets its name from the stack.
// moto has no SAM transform, so the stack holds the AWS::Lambda::Function
// the transform produces; moto creates it as a Zip function, so the test
// recreates it under the stack's name as an Image function and deploys to
// the name StackResource found.
func TestMotoStackResourceFindsTheFunction(t *testing.T) {
	m := cloudtest.StartMoto(t)
	m.SetEnv(t)
	t.Setenv("AWS_CA_BUNDLE", "")
	ctx := testCtx(t)
	role := motoRole(t, sdkawsEndpoint())
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	cf := cloudformation.NewFromConfig(cfg)
	tpl := `{"Resources": {
  "HelloFunction": {"Type": "AWS::Lambda::Function", "Properties": {
    "Role": "` + role + `", "Runtime": "python3.12", "Handler": "index.handler",
    "Code": {"ZipFile": "def handler(event, context):\n    return {}\n"},
    "MemorySize": 512, "Timeout": 30}},
  "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}}}}`
	if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: sdkaws.String("thumbs-dev"), TemplateBody: sdkaws.String(tpl)}); err != nil {
		t.Fatalf("CreateStack: %v", err)
	}

	b := New(Options{Regions: []string{"eu-west-1"}, WaitMinDelay: 50 * time.Millisecond, WaitMaxDelay: 200 * time.Millisecond})
	name, err := b.StackResource(ctx, cloud.StackResource{Region: "eu-west-1", Stack: "thumbs-dev", LogicalID: "HelloFunction"})
	if err != nil {
		t.Fatalf("StackResource: %v", err)
	}
	if !strings.HasPrefix(name, "thumbs-dev-HelloFunction-") {
		t.Errorf("physical name %q, want the stack's generated thumbs-dev-HelloFunction-…", name)
	}

	// Make it the Image function the SAM stack would have made (moto makes
	// a Zip one, when it makes one at all), under the stack's name, and
	// deploy to the address built from the name.
	lc := lambda.NewFromConfig(cfg)
	if _, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &name}); err == nil {
		if _, err := lc.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: &name}); err != nil {
			t.Fatal(err)
		}
	}
	image := motoAccount + ".dkr.ecr.eu-west-1.amazonaws.com/thumbs:1"
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: &name, Role: &role, PackageType: types.PackageTypeImage,
		Code: &types.FunctionCode{ImageUri: &image}}); err != nil {
		t.Fatal(err)
	}
	next := motoAccount + ".dkr.ecr.eu-west-1.amazonaws.com/thumbs:2"
	res, err := b.Deploy(ctx, cloud.DeployRequest{Target: cloud.Address{Provider: cloud.AWS, Region: "eu-west-1", Function: name}, Image: next}, nil)
	// OldImage is what served, by digest (moto resolves the tag it was made
	// with); the new image is the one named.
	if err != nil || !strings.Contains(res.OldImage, "/thumbs@sha256:") || res.NewImage != next {
		t.Fatalf("deploy to %s: %+v, %v", name, res, err)
	}

	// No such stack; no such resource: not found, with what to do.
	for _, r := range []cloud.StackResource{
		{Region: "eu-west-1", Stack: "nope", LogicalID: "HelloFunction"},
		{Region: "eu-west-1", Stack: "thumbs-dev", LogicalID: "WorldFunction"},
	} {
		_, err := b.StackResource(ctx, r)
		if !errors.Is(err, cloud.ErrNotFound) || !strings.Contains(cloud.Hint(err), "sam deploy") {
			t.Errorf("%+v: err %v, hint %q; want not found and sam deploy", r, err, cloud.Hint(err))
		}
	}
}
