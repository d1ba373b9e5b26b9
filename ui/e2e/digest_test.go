package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// Issue 12 end to end through the real binaries: fndeck and its cloud
// helper, moto, and the distribution registry standing in for ECR through
// registries.rewrite. Deploy app:latest, move the tag, deploy again, roll
// back → the function runs the first digest (GetFunction's ImageUri),
// though the tag now names the second; an index deploys the function's
// platform's child, and an index without it is refused.
func TestLambdaDeployByDigestThroughTheHelper(t *testing.T) {
	m := cloudtest.StartMoto(t)
	reg := cloudtest.StartRegistry(t, false)
	ecrHost := motoAccount + ".dkr.ecr.us-east-1.amazonaws.com"
	repo := ecrHost + "/app"
	lc := lambda.NewFromConfig(motoConfig(t, m.Endpoint))
	role := createMotoRole(t, m.Endpoint)
	zero := repo + "@sha256:" + strings.Repeat("0", 64)
	if _, err := lc.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: sdkaws.String("api"), Role: &role, PackageType: lambdatypes.PackageTypeImage,
		Code: &lambdatypes.FunctionCode{ImageUri: &zero}, Architectures: []lambdatypes.Architecture{lambdatypes.ArchitectureX8664},
	}); err != nil {
		t.Fatalf("creating the function in moto: %v", err)
	}
	imageURI := func() string {
		t.Helper()
		gf, err := lc.GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: sdkaws.String("api")})
		if err != nil {
			t.Fatal(err)
		}
		return sdkaws.ToString(gf.Code.ImageUri)
	}
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("aws:\n  regions: [us-east-1]\nregistries:\n  rewrite:\n    "+ecrHost+": "+reg.Addr+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := isolatedEnv(t, m.Env()...)
	deploy := func(image string) (string, string, int) {
		return runCLI(t, env, "", "--config", cfg, "deploy", image, "lambda:us-east-1/api")
	}

	d1 := cloudtest.PushImage(t, reg.Addr, "app", "latest", "linux", "amd64")
	out, errOut, code := deploy(repo + ":latest")
	if code != 0 || imageURI() != repo+"@"+d1 || !strings.Contains(out+errOut, "deploying "+repo+":latest as "+d1) {
		t.Fatalf("first deploy: exit %d, ImageUri %s, want %s\n%s\n%s", code, imageURI(), d1, out, errOut)
	}
	d2 := cloudtest.PushImage(t, reg.Addr, "app", "latest", "linux", "amd64")
	if out, errOut, code = deploy(repo + ":latest"); code != 0 || imageURI() != repo+"@"+d2 {
		t.Fatalf("deploy of the moved tag: exit %d, ImageUri %s, want %s\n%s\n%s", code, imageURI(), d2, out, errOut)
	}
	out, errOut, code = runCLI(t, env, "", "--config", cfg, "rollback", "lambda:us-east-1/api")
	if code != 0 || imageURI() != repo+"@"+d1 {
		t.Fatalf("rollback: exit %d, ImageUri %s, want the first digest %s\n%s\n%s", code, imageURI(), d1, out, errOut)
	}

	idx := cloudtest.PushIndex(t, reg.Addr, "app", "multi", "linux/amd64", "linux/arm64")
	if out, errOut, code = deploy(repo + ":multi"); code != 0 || imageURI() != repo+"@"+idx.Children["linux/amd64"] ||
		!strings.Contains(out+errOut, "deploying its linux/amd64 image") {
		t.Fatalf("index: exit %d, ImageUri %s, want the amd64 child %s\n%s\n%s", code, imageURI(), idx.Children["linux/amd64"], out, errOut)
	}
	cloudtest.PushIndex(t, reg.Addr, "app", "armonly", "linux/arm64")
	out, errOut, code = deploy(repo + ":armonly")
	if code != 1 || !strings.Contains(errOut, "has no linux/amd64 image (it has linux/arm64)") || imageURI() != repo+"@"+idx.Children["linux/amd64"] {
		t.Fatalf("arm64-only index: exit %d, ImageUri %s\n%s\n%s", code, imageURI(), out, errOut)
	}
}
