package aws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fndeck/fndeck/actions"
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// motoFunction starts moto, creates an image function serving image and
// returns the backend, an SDK client for checks and the target.
func motoFunction(t *testing.T, image string) (*Backend, *lambda.Client, cloud.Address) {
	t.Helper()
	m := cloudtest.StartMoto(t)
	m.SetEnv(t)
	t.Setenv("AWS_CA_BUNDLE", "")
	role := motoRole(t, m.Endpoint)
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	lc := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Region = "us-east-1" })
	_, err = lc.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: sdkaws.String("api"), Role: &role, PackageType: types.PackageTypeImage,
		Code: &types.FunctionCode{ImageUri: &image}, MemorySize: sdkaws.Int32(128), Timeout: sdkaws.Int32(3),
	})
	if err != nil {
		t.Fatalf("creating the function in moto: %v", err)
	}
	b := New(Options{Regions: []string{"us-east-1"}, WaitMinDelay: 20 * time.Millisecond, WaitMaxDelay: 100 * time.Millisecond})
	return b, lc, addr("lambda:us-east-1/api")
}

func motoImage(lc *lambda.Client, t *testing.T) (string, map[string]string) {
	t.Helper()
	gf, err := lc.GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: sdkaws.String("api")})
	if err != nil {
		t.Fatal(err)
	}
	gc, err := lc.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: sdkaws.String("api")})
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]string
	if gc.Environment != nil {
		env = gc.Environment.Variables
	}
	return sdkaws.ToString(gf.Code.ImageUri), env
}

func flowsFor(t *testing.T) actions.Flows {
	dir := t.TempDir()
	return actions.Flows{StateDir: dir, History: actions.NewHistory(dir, nil)}
}

// TestMotoRollbackRestoresDigestAndEnv: deploy with A=1, deploy another
// image with A=2, roll back → the first image and A=1 (GetFunction /
// GetFunctionConfiguration); the function carries the fndeck:source tag; a
// second rollback onto what serves is refused.
func TestMotoRollbackRestoresDigestAndEnv(t *testing.T) {
	repo := motoAccount + ".dkr.ecr.us-east-1.amazonaws.com/app"
	first, second := repo+"@sha256:"+strings.Repeat("1", 64), repo+"@sha256:"+strings.Repeat("2", 64)
	b, lc, target := motoFunction(t, repo+"@sha256:"+strings.Repeat("0", 64))
	f := flowsFor(t)
	ctx := testCtx(t)

	r1, err := f.Deploy(ctx, b, cloud.DeployRequest{Target: target, Image: first, Env: map[string]string{"A": "1"}}, cloud.DiscardSink{})
	if err != nil {
		t.Fatalf("first deploy: %v", err)
	}
	if r1.ImageDigest != "sha256:"+strings.Repeat("1", 64) || r1.ImageRef != first || r1.Settings == nil || r1.Settings.Env["A"] != "1" {
		t.Errorf("first deploy result = %+v (settings %+v)", r1, r1.Settings)
	}
	if _, err := f.Deploy(ctx, b, cloud.DeployRequest{Target: target, Image: second, Env: map[string]string{"A": "2"}, MemoryMB: 256}, cloud.DiscardSink{}); err != nil {
		t.Fatalf("second deploy: %v", err)
	}
	if img, env := motoImage(lc, t); img != second || env["A"] != "2" {
		t.Fatalf("after the second deploy: %s %v", img, env)
	}
	out := &lines{}
	rb, err := f.Rollback(ctx, b, target, out)
	if err != nil {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	img, env := motoImage(lc, t)
	if img != first || env["A"] != "1" {
		t.Errorf("after rollback: ImageUri %s, env %v; want %s and A=1", img, env, first)
	}
	gc, _ := lc.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: sdkaws.String("api")})
	if sdkaws.ToInt32(gc.MemorySize) != 128 {
		t.Errorf("after rollback memory = %d, want 128 again", sdkaws.ToInt32(gc.MemorySize))
	}
	if rb.OldImage != second || rb.NewImage != first || !strings.Contains(out.String(), "served "+second) {
		t.Errorf("rollback result %+v, output:\n%s", rb, out)
	}
	tags, err := lc.ListTags(context.Background(), &lambda.ListTagsInput{Resource: sdkaws.String(functionARN("us-east-1", motoAccount, "api"))})
	if err != nil || tags.Tags[SourceTag] != second {
		t.Errorf("tags = %v (%v), want %s=%s", tags, err, SourceTag, second)
	}

	// Deploy the first again: the history's previous entry is what serves.
	if _, err := f.Deploy(ctx, b, cloud.DeployRequest{Target: target, Image: first, Env: map[string]string{"A": "1"}}, cloud.DiscardSink{}); err != nil {
		t.Fatal(err)
	}
	_, err = f.Rollback(ctx, b, target, cloud.DiscardSink{})
	if !errors.Is(err, cloud.ErrNothingToDo) || !strings.Contains(err.Error(), "already serves") {
		t.Errorf("rollback onto what serves = %v, want ErrNothingToDo", err)
	}
}

// TestMotoDeployByTagMoveTagRollbackToFirstDigest: deploy app:latest, move
// the tag, deploy again, roll back → the first digest, although the tag
// now names the second.
func TestMotoDeployByTagMoveTagRollbackToFirstDigest(t *testing.T) {
	reg := cloudtest.StartRegistry(t, false)
	repo := motoAccount + ".dkr.ecr.us-east-1.amazonaws.com/app"
	b, lc, target := motoFunction(t, repo+"@sha256:"+strings.Repeat("0", 64))
	useRegistry(b, reg.Addr)
	f := flowsFor(t)
	ctx := testCtx(t)
	d1 := putManifest(t, reg.Addr, "app", "latest", "one")
	if _, err := f.Deploy(ctx, b, cloud.DeployRequest{Target: target, Image: repo + ":latest"}, cloud.DiscardSink{}); err != nil {
		t.Fatal(err)
	}
	if img, _ := motoImage(lc, t); img != repo+"@"+d1 {
		t.Fatalf("after deploying the tag ImageUri = %s, want %s", img, repo+"@"+d1)
	}
	d2 := putManifest(t, reg.Addr, "app", "latest", "two")
	r2, err := f.Deploy(ctx, b, cloud.DeployRequest{Target: target, Image: repo + ":latest"}, cloud.DiscardSink{})
	if err != nil || r2.ImageDigest != d2 || r2.ImageRef != repo+":latest" {
		t.Fatalf("deploy of the moved tag: %+v %v", r2, err)
	}
	if _, err := f.Rollback(ctx, b, target, cloud.DiscardSink{}); err != nil {
		t.Fatal(err)
	}
	if img, _ := motoImage(lc, t); img != repo+"@"+d1 {
		t.Errorf("after rollback ImageUri = %s, want the first digest %s", img, d1)
	}
}

// putManifest stores a config blob and a schema 2 manifest under repo:tag
// in a distribution registry and returns the manifest digest.
func putManifest(t *testing.T, addr, repo, tag, content string) string {
	t.Helper()
	cfg := []byte(`{"architecture":"amd64","os":"linux","config":{"Env":["V=` + content + `"]},"rootfs":{"type":"layers","diff_ids":[]}}`)
	cd := sha256Digest(cfg)
	resp, err := http.Post("http://"+addr+"/v2/"+repo+"/blobs/uploads/", "", nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("starting a blob upload: %v %v", resp, err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "http") {
		loc = "http://" + addr + loc
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	httpPut(t, loc+sep+"digest="+cd, "application/octet-stream", cfg)
	man := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":"%s"},"layers":[]}`, len(cfg), cd)
	httpPut(t, "http://"+addr+"/v2/"+repo+"/manifests/"+tag, "application/vnd.docker.distribution.manifest.v2+json", []byte(man))
	return sha256Digest([]byte(man))
}

func httpPut(t *testing.T, url, ctype string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", url, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT %s: %s %s", url, resp.Status, b)
	}
}

func sha256Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}
