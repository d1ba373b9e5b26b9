package aws

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/docker"
	"github.com/fndeck/fndeck/cloud/registry"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

const motoECR = motoAccount + ".dkr.ecr.us-east-1.amazonaws.com"

// useRegistry wires b as the cloud helper does: registries.rewrite sends
// the ECR host to the distribution registry at addr, and tags resolve
// through cloud/registry with the backend's ECR credentials (from moto).
func useRegistry(b *Backend, addr string) {
	rw := map[string]string{motoECR: addr}
	b.opts.Rewrite = rw
	b.opts.Resolver = registry.NewResolver(registry.New(registry.Options{Auth: cloud.AuthChain{b}, Rewrite: rw}))
}

// callLog records the Lambda and ECR API calls a backend makes.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (c *callLog) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.calls = append(c.calls, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Amz-Target"))
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// codeUpdates counts UpdateFunctionCode calls (PUT …/functions/NAME/code).
func (c *callLog) codeUpdates() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range c.calls {
		if strings.HasPrefix(s, "PUT ") && strings.Contains(s, "/code") {
			n++
		}
	}
	return n
}

// motoFunctions starts moto and creates one image function per name →
// architecture, serving image; the backend records its API calls.
func motoFunctions(t *testing.T, image string, fns map[string]types.Architecture) (*Backend, *lambda.Client, *callLog) {
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
	for name, arch := range fns {
		_, err = lc.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
			FunctionName: sdkaws.String(name), Role: &role, PackageType: types.PackageTypeImage,
			Code: &types.FunctionCode{ImageUri: &image}, Architectures: []types.Architecture{arch},
		})
		if err != nil {
			t.Fatalf("creating %s in moto: %v", name, err)
		}
	}
	log := &callLog{}
	b := New(Options{Regions: []string{"us-east-1"}, HTTPClient: &http.Client{Transport: log},
		WaitMinDelay: 20 * time.Millisecond, WaitMaxDelay: 100 * time.Millisecond})
	return b, lc, log
}

func imageURI(t *testing.T, lc *lambda.Client, fn string) string {
	t.Helper()
	gf, err := lc.GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: &fn})
	if err != nil {
		t.Fatal(err)
	}
	return sdkaws.ToString(gf.Code.ImageUri)
}

// TestMotoIndexDeploysTheFunctionsPlatform: an OCI index (linux/amd64,
// linux/arm64, an attestation) in "ECR" (the distribution registry through
// registries.rewrite) deployed by tag to an x86_64 function runs its amd64
// child, to an arm64 function its arm64 child, by the index's digest too;
// an arm64-only index is refused for the x86_64 function before
// UpdateFunctionCode, naming the platforms it has.
func TestMotoIndexDeploysTheFunctionsPlatform(t *testing.T) {
	reg := cloudtest.StartRegistry(t, false)
	multi := cloudtest.PushIndex(t, reg.Addr, "app", "multi", "linux/amd64", "linux/arm64")
	armOnly := cloudtest.PushIndex(t, reg.Addr, "app", "armonly", "linux/arm64")
	repo := motoECR + "/app"
	b, lc, calls := motoFunctions(t, repo+"@sha256:"+strings.Repeat("0", 64), map[string]types.Architecture{
		"api": types.ArchitectureX8664, "api-arm": types.ArchitectureArm64})
	useRegistry(b, reg.Addr)
	f := flowsFor(t)
	ctx := testCtx(t)

	out := &lines{}
	res, err := f.Deploy(ctx, b, cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: repo + ":multi"}, out)
	if err != nil {
		t.Fatalf("deploying the index to the x86_64 function: %v\n%s", err, out)
	}
	amd := repo + "@" + multi.Children["linux/amd64"]
	if got := imageURI(t, lc, "api"); got != amd || res.NewImage != amd || res.ImageDigest != multi.Children["linux/amd64"] || res.ImageRef != repo+":multi" {
		t.Errorf("x86_64 function: ImageUri %s, result %+v; want %s", got, res, amd)
	}
	for _, want := range []string{"is an image index (linux/amd64, linux/arm64): deploying its linux/amd64 image", "deploying " + repo + ":multi as " + multi.Children["linux/amd64"]} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	if _, err := f.Deploy(ctx, b, cloud.DeployRequest{Target: addr("lambda:us-east-1/api-arm"), Image: repo + ":multi"}, cloud.DiscardSink{}); err != nil {
		t.Fatalf("deploying the index to the arm64 function: %v", err)
	}
	if got := imageURI(t, lc, "api-arm"); got != repo+"@"+multi.Children["linux/arm64"] {
		t.Errorf("arm64 function: ImageUri %s, want the arm64 child %s", got, multi.Children["linux/arm64"])
	}

	// The index named by its digest is resolved to the child all the same.
	if _, err := f.Deploy(ctx, b, cloud.DeployRequest{Target: addr("lambda:us-east-1/api-arm"), Image: repo + "@" + multi.Digest}, cloud.DiscardSink{}); err != nil {
		t.Fatalf("deploying the index by digest: %v", err)
	}
	if got := imageURI(t, lc, "api-arm"); got != repo+"@"+multi.Children["linux/arm64"] {
		t.Errorf("index by digest: ImageUri %s, want the arm64 child", got)
	}

	before := calls.codeUpdates()
	_, err = f.Deploy(ctx, b, cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: repo + ":armonly"}, cloud.DiscardSink{})
	if !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), "has no linux/amd64 image (it has linux/arm64)") {
		t.Fatalf("arm64-only index to an x86_64 function = %v, want a refusal naming linux/arm64", err)
	}
	if h := cloud.Hint(err); !strings.Contains(h, "--platform linux/amd64") {
		t.Errorf("hint = %q", h)
	}
	if n := calls.codeUpdates() - before; n != 0 {
		t.Errorf("the refused deploy sent %d UpdateFunctionCode calls", n)
	}
	if got := imageURI(t, lc, "api"); got != amd {
		t.Errorf("after the refusal ImageUri = %s, want %s still", got, amd)
	}
	// A single arm64 image (no index) is refused as well, from its config.
	cloudtest.PushImage(t, reg.Addr, "app", "arm", "linux", "arm64")
	_, err = f.Deploy(ctx, b, cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: repo + ":arm"}, cloud.DiscardSink{})
	if !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), "is linux/arm64 but lambda:us-east-1/api runs on x86_64") || calls.codeUpdates() != before {
		t.Errorf("single arm64 image to an x86_64 function = %v, %d code updates", err, calls.codeUpdates()-before)
	}
	if armOnly.Children["linux/arm64"] == "" {
		t.Fatal("the arm64-only index has no arm64 child")
	}
}

// TestMotoRollbackRefusesAnExpiredDigest: deploy app:one, deploy app:two,
// delete the first digest from the registry (as a lifecycle policy
// would), roll back → refused with ErrNotFound saying so, nothing changed.
func TestMotoRollbackRefusesAnExpiredDigest(t *testing.T) {
	reg := cloudtest.StartRegistry(t, false)
	repo := motoECR + "/app"
	b, lc, calls := motoFunctions(t, repo+"@sha256:"+strings.Repeat("0", 64), map[string]types.Architecture{"api": types.ArchitectureX8664})
	useRegistry(b, reg.Addr)
	f := flowsFor(t)
	ctx := testCtx(t)
	d1 := cloudtest.PushImage(t, reg.Addr, "app", "one", "linux", "amd64")
	d2 := cloudtest.PushImage(t, reg.Addr, "app", "two", "linux", "amd64")
	for _, tag := range []string{"one", "two"} {
		if _, err := f.Deploy(ctx, b, cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: repo + ":" + tag}, cloud.DiscardSink{}); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(http.MethodDelete, "http://"+reg.Addr+"/v2/app/manifests/"+d1, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("deleting %s: %v %v", d1, resp, err)
	}
	resp.Body.Close()
	before := calls.codeUpdates()
	_, err = f.Rollback(ctx, b, addr("lambda:us-east-1/api"), cloud.DiscardSink{})
	if !errors.Is(err, cloud.ErrNotFound) || !strings.Contains(err.Error(), repo+"@"+d1+" is no longer in its registry") {
		t.Fatalf("rollback to an expired digest = %v", err)
	}
	if calls.codeUpdates() != before || imageURI(t, lc, "api") != repo+"@"+d2 {
		t.Errorf("the refused rollback changed the function: %s", imageURI(t, lc, "api"))
	}
}

// TestMotoImmutableRepositoryPushesUnderAUniqueTag: with ECR repositories
// whose tags are IMMUTABLE (moto's DescribeRepositories says so), a local
// image is pushed by the real engine under TAG-<image id> and a remote
// index's child is copied under TAG-<digest>, each said; deploying the
// same remote image again finds its tag there and writes nothing.
func TestMotoImmutableRepositoryPushesUnderAUniqueTag(t *testing.T) {
	cloudtest.RequireDocker(t)
	reg := cloudtest.StartRegistry(t, false)
	b, lc, _ := motoFunctions(t, motoECR+"/app@sha256:"+strings.Repeat("0", 64), map[string]types.Architecture{"api": types.ArchitectureX8664})
	useRegistry(b, reg.Addr)
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ec := ecr.NewFromConfig(cfg)
	local := cloudtest.UniqueName("fndeck-imm")
	src := cloudtest.PushIndex(t, reg.Addr, "upstream/web", "1", "linux/amd64", "linux/arm64")
	for _, repo := range []string{local, "upstream/web"} {
		if _, err := ec.CreateRepository(context.Background(), &ecr.CreateRepositoryInput{RepositoryName: sdkaws.String(repo), ImageTagMutability: ecrtypes.ImageTagMutabilityImmutable}); err != nil {
			t.Fatalf("creating the immutable repository %s in moto: %v", repo, err)
		}
	}
	ep, err := docker.Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := docker.New(ep, docker.WithRewrite(map[string]string{motoECR: reg.Addr}), docker.WithAuth(cloud.AuthChain{b}))
	if err != nil {
		t.Fatal(err)
	}
	b.opts.Pusher, b.opts.ImageInspector = eng, eng.Inspect
	id := cloudtest.LoadImage(t, local+":1", cloudtest.ImageSpec{Cmd: []string{"app.handler"}, LayerBytes: 100})
	t.Cleanup(func() {
		_, _ = cloudtestDockerQuiet("rmi", "-f", motoECR+"/"+local+":1-"+id[7:19], reg.Addr+"/"+local+":1-"+id[7:19])
	})
	ctx := testCtx(t)
	f := flowsFor(t)

	out := &lines{}
	res, err := f.Deploy(ctx, b, cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: local + ":1"}, out)
	if err != nil {
		t.Fatalf("deploying a local image to an immutable repository: %v\n%s", err, out)
	}
	tag := "1-" + id[7:19]
	if !strings.Contains(out.String(), "has immutable tags: pushing as "+local+":"+tag) {
		t.Errorf("output does not name the unique tag %s:\n%s", tag, out)
	}
	got, err := registry.New(registry.Options{}).Resolve(ctx, reg.Addr+"/"+local+":"+tag)
	if err != nil || motoECR+"/"+local+"@"+got.Digest != res.NewImage || imageURI(t, lc, "api") != res.NewImage {
		t.Errorf("registry %s:%s = %+v (%v); deployed %s, function %s", local, tag, got, err, res.NewImage, imageURI(t, lc, "api"))
	}

	out = &lines{}
	ref := reg.Addr + "/upstream/web:1"
	if _, err := f.Deploy(ctx, b, cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: ref}, out); err != nil {
		t.Fatalf("copying an index to an immutable repository: %v\n%s", err, out)
	}
	amd := src.Children["linux/amd64"]
	tag = "1-" + amd[7:19]
	if !strings.Contains(out.String(), "has immutable tags: copying as upstream/web:"+tag) || imageURI(t, lc, "api") != motoECR+"/upstream/web@"+amd {
		t.Errorf("copy: function %s, output:\n%s", imageURI(t, lc, "api"), out)
	}
	// Deployed again (after another image): the tag holds that digest already.
	if _, err := f.Deploy(ctx, b, cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: local + ":1"}, cloud.DiscardSink{}); err != nil {
		t.Fatal(err)
	}
	out = &lines{}
	if _, err := f.Deploy(ctx, b, cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: ref}, out); err != nil {
		t.Fatalf("second copy: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "upstream/web:"+tag+" already holds "+amd) || strings.Contains(out.String(), "copying it to") {
		t.Errorf("second copy output:\n%s", out)
	}
}

func TestImmutableRefusalIsRecognised(t *testing.T) {
	ecrMsg := errors.New("pushing x: tag invalid: The image tag '1' already exists in the 'app' repository and cannot be overwritten because the repository is immutable.")
	if !immutableRefusal(ecrMsg) {
		t.Error("ECR's refusal not recognised")
	}
	if immutableRefusal(errors.New("denied: not authorized")) {
		t.Error("an auth refusal taken for an immutable tag")
	}
	if got := uniqueTag("v1", "sha256:0123456789abcdef"); got != "v1-0123456789ab" {
		t.Errorf("uniqueTag = %s", got)
	}
	if got := uniqueTag(strings.Repeat("t", 128), "sha256:0123456789abcdef"); len(got) != 128 {
		t.Errorf("uniqueTag of a long tag has %d characters", len(got))
	}
}

// TestMotoPushedIndexDeploysItsChild: a push that leaves an index in ECR
// (what an engine with the containerd image store pushes for a
// multi-platform or attested build) deploys the child for the function's
// architecture, by the push's manifest media type. The real engine pushes:
// it lacks the image, so it copies the index whole registry to registry;
// the inspector answers as a containerd-store engine holding it would.
func TestMotoPushedIndexDeploysItsChild(t *testing.T) {
	cloudtest.RequireDocker(t)
	reg := cloudtest.StartRegistry(t, false)
	src := cloudtest.StartRegistry(t, false) // another registry than "ECR"
	b, lc, calls := motoFunctions(t, motoECR+"/src/web@sha256:"+strings.Repeat("0", 64), map[string]types.Architecture{"api": types.ArchitectureX8664})
	useRegistry(b, reg.Addr)
	ep, err := docker.Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := docker.New(ep, docker.WithRewrite(map[string]string{motoECR: reg.Addr}), docker.WithAuth(cloud.AuthChain{b}))
	if err != nil {
		t.Fatal(err)
	}
	multi := cloudtest.PushIndex(t, src.Addr, "src/web", "multi", "linux/amd64", "linux/arm64")
	cloudtest.PushIndex(t, src.Addr, "src/web", "armonly", "linux/arm64")
	b.opts.Pusher = eng
	b.opts.ImageInspector = func(ctx context.Context, ref string) (cloud.ImageDetail, error) {
		if strings.HasPrefix(ref, src.Addr+"/src/web:") {
			return cloud.ImageDetail{MediaType: "application/vnd.oci.image.index.v1+json"}, nil
		}
		return eng.Inspect(ctx, ref)
	}
	f := flowsFor(t)
	ctx := testCtx(t)
	out := &lines{}
	if _, err := f.Deploy(ctx, b, cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: src.Addr + "/src/web:multi", Yes: true}, out); err != nil {
		t.Fatalf("deploy: %v\n%s", err, out)
	}
	amd := multi.Children["linux/amd64"]
	if got := imageURI(t, lc, "api"); got != motoECR+"/src/web@"+amd || !strings.Contains(out.String(), "is an image index (linux/amd64, linux/arm64): deploying its linux/amd64 image") {
		t.Errorf("ImageUri %s, want the amd64 child %s; output:\n%s", got, amd, out)
	}
	before := calls.codeUpdates()
	_, err = f.Deploy(ctx, b, cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: src.Addr + "/src/web:armonly", Yes: true}, cloud.DiscardSink{})
	if !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), "(it has linux/arm64)") || calls.codeUpdates() != before {
		t.Errorf("pushed arm64-only index: %v, %d code updates", err, calls.codeUpdates()-before)
	}
}

// TestMotoUnreadableRegistryDeploysTheTagAsGiven: when the registry
// refuses fndeck's credentials the tag goes to Lambda as given (Lambda
// pulls with its own rights), with a warning; the digest Lambda resolved is
// read back for the history.
func TestMotoUnreadableRegistryDeploysTheTagAsGiven(t *testing.T) {
	reg := cloudtest.StartRegistry(t, true)
	repo := motoECR + "/app"
	b, lc, _ := motoFunctions(t, repo+"@sha256:"+strings.Repeat("0", 64), map[string]types.Architecture{"api": types.ArchitectureX8664})
	useRegistry(b, reg.Addr)
	out := &lines{}
	res, err := flowsFor(t).Deploy(testCtx(t), b, cloud.DeployRequest{Target: addr("lambda:us-east-1/api"), Image: repo + ":v2"}, out)
	if err != nil || imageURI(t, lc, "api") != repo+":v2" || !strings.Contains(out.String(), "warning: could not resolve "+repo+":v2 to a digest") {
		t.Fatalf("deploy: %+v %v, ImageUri %s\n%s", res, err, imageURI(t, lc, "api"), out)
	}
}
