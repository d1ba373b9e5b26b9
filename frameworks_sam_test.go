package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fndeck/fndeck/cloud/remote"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// A SAM function without FunctionName, in a project with only template.yaml
// and samconfig.toml: `fndeck deploy` and `fndeck logs` on LOGICAL_ID.ENV
// find its generated name in the deployed stack (CloudFormation on moto,
// through the fndeck-cloud helper) and work on that function.
func TestSAMFunctionNameFromTheStack(t *testing.T) {
	m := cloudtest.StartMoto(t)
	m.SetEnv(t)
	t.Setenv("AWS_CA_BUNDLE", "")
	dir := t.TempDir()
	helperBin := filepath.Join(t.TempDir(), remote.HelperName)
	build := exec.Command("go", "build", "-o", helperBin, "github.com/fndeck/fndeck/cloud/remote/fndeck-cloud")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build fndeck-cloud: %v\n%s", err, out)
	}
	t.Setenv("FNDECK_CLOUD_HELPER", helperBin)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	roleARN := motoRole(t, m.Endpoint)
	// What the SAM transform makes of WorldFunction.
	tpl := `{"Resources": {"WorldFunction": {"Type": "AWS::Lambda::Function", "Properties": {
  "Role": "` + roleARN + `", "Runtime": "python3.12", "Handler": "index.handler", "Code": {"ZipFile": "x"}}}}}`
	cf := cloudformation.NewFromConfig(cfg)
	if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: sdkaws.String("thumbs-dev"), TemplateBody: sdkaws.String(tpl)}); err != nil {
		t.Fatal(err)
	}
	res, err := cf.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: sdkaws.String("thumbs-dev")})
	if err != nil || len(res.StackResources) != 1 {
		t.Fatalf("stack resources %+v, %v", res, err)
	}
	name := sdkaws.ToString(res.StackResources[0].PhysicalResourceId)
	// moto makes a Zip function, if any: make it the Image one SAM makes.
	lc := lambda.NewFromConfig(cfg)
	if _, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &name}); err == nil {
		if _, err := lc.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: &name}); err != nil {
			t.Fatal(err)
		}
	}
	oldImage := "123456789012.dkr.ecr.eu-west-1.amazonaws.com/world:1"
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: &name, Role: &roleARN, PackageType: types.PackageTypeImage,
		Code: &types.FunctionCode{ImageUri: &oldImage}}); err != nil {
		t.Fatal(err)
	}
	logs := cloudwatchlogs.NewFromConfig(cfg)
	group := "/aws/lambda/" + name
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &group, LogStreamName: sdkaws.String("s1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: &group, LogStreamName: sdkaws.String("s1"),
		LogEvents: []logtypes.InputLogEvent{{Message: sdkaws.String("hello from the stack's function"), Timestamp: sdkaws.Int64(time.Now().UnixMilli())}}}); err != nil {
		t.Fatal(err)
	}

	for n, text := range map[string]string{
		"Dockerfile": "FROM scratch\n",
		"template.yaml": `Transform: AWS::Serverless-2016-10-31
Resources:
  WorldFunction:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
    Metadata:
      DockerContext: .
`,
		"samconfig.toml": "version = 0.1\n[default.deploy.parameters]\nstack_name = \"thumbs-dev\"\nregion = \"eu-west-1\"\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	newImage := "123456789012.dkr.ecr.eu-west-1.amazonaws.com/world:2"
	code, out := runIn(t, dir, "deploy", newImage, "WorldFunction.default")
	if code != 0 || !strings.Contains(out, "lambda:eu-west-1/"+name) {
		t.Fatalf("deploy: exit %d\n%s", code, out)
	}
	got, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &name})
	if err != nil || sdkaws.ToString(got.Code.ImageUri) != newImage {
		t.Fatalf("after deploy: %v %v", got, err)
	}
	code, out = runIn(t, dir, "logs", "WorldFunction.default", "--since", "1h")
	if code != 0 || !strings.Contains(out, "hello from the stack's function") {
		t.Errorf("logs: exit %d\n%s", code, out)
	}

	// A stack that is not deployed: the command fails (exit 1) and says
	// what to do.
	if err := os.WriteFile(filepath.Join(dir, "samconfig.toml"), []byte("version = 0.1\n[default.deploy.parameters]\nstack_name = \"thumbs-nope\"\nregion = \"eu-west-1\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = runIn(t, dir, "deploy", newImage, "WorldFunction.default")
	if code != 1 || !strings.Contains(out, "the stack is not deployed") || !strings.Contains(out, "sam deploy") {
		t.Errorf("deploy to an undeployed stack: exit %d\n%s", code, out)
	}
}

// motoRole creates a Lambda execution role in moto with a signed IAM Query
// request (fndeck itself has no IAM client) and returns its ARN.
func motoRole(t *testing.T, endpoint string) string {
	t.Helper()
	form := url.Values{
		"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {"sam-role"},
		"AssumeRolePolicyDocument": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`},
	}
	body := form.Encode()
	req, _ := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(body))
	creds := sdkaws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "iam", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("creating a role in moto: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("creating a role in moto: %s: %s", resp.Status, b)
	}
	return "arn:aws:iam::123456789012:role/sam-role"
}
