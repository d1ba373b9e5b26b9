package aws

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// recordBodies passes requests on to the real endpoint and keeps the
// bodies of those whose path ends in suffix.
type recordBodies struct {
	suffix string
	mu     sync.Mutex
	bodies []string
}

func (r *recordBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, r.suffix) && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recordBodies) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.bodies)
}

// On moto: a function created with an image config has it (GetFunction's
// ImageConfigResponse); an update to one whose image config differs sets it
// with UpdateFunctionConfiguration before the new code (moto accepts but
// does not keep an updated ImageConfig, so the request is what is checked);
// an update whose config already holds sends none.
func TestMotoDeployImageConfig(t *testing.T) {
	m := cloudtest.StartMoto(t)
	m.SetEnv(t)
	t.Setenv("AWS_CA_BUNDLE", "")
	ctx := testCtx(t)
	rec := &recordBodies{suffix: "/configuration"}
	b := New(Options{Regions: []string{"us-east-1"}, HTTPClient: &http.Client{Transport: rec},
		WaitMinDelay: 50 * time.Millisecond, WaitMaxDelay: 200 * time.Millisecond})
	role := motoRole(t, sdkawsEndpoint())
	target := addr("lambda:us-east-1/resize")
	image := motoAccount + ".dkr.ecr.us-east-1.amazonaws.com/thumbs:1"
	ic := &cloud.ImageConfig{Command: []string{"app.resize"}, Entrypoint: []string{"/lambda-entrypoint.sh"}, Workdir: "/var/task"}
	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image, Create: true, Role: role, ImageConfig: ic}, nil); err != nil {
		t.Fatalf("create: %v", err)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	lc := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Region = "us-east-1" })
	gf, err := lc.GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: sdkaws.String("resize")})
	if err != nil {
		t.Fatal(err)
	}
	got := gf.Configuration.ImageConfigResponse.ImageConfig
	if !slices.Equal(got.Command, ic.Command) || !slices.Equal(got.EntryPoint, ic.Entrypoint) || sdkaws.ToString(got.WorkingDirectory) != "/var/task" {
		t.Errorf("created with image config %+v, want %+v", got, ic)
	}
	if n := len(rec.all()); n != 0 {
		t.Errorf("create sent %d configuration updates, want none", n)
	}

	// The same config again: nothing to update.
	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image, ImageConfig: ic}, nil); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if n := len(rec.all()); n != 0 {
		t.Errorf("an unchanged image config sent %d configuration updates, want none", n)
	}
	// Another handler: one update carrying the whole config, the entrypoint
	// and workdir kept from the function.
	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image, ImageConfig: &cloud.ImageConfig{Command: []string{"app.crop"}}}, nil); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	bodies := rec.all()
	if len(bodies) != 1 || !strings.Contains(bodies[0], `"Command":["app.crop"]`) || !strings.Contains(bodies[0], `"EntryPoint":["/lambda-entrypoint.sh"]`) || !strings.Contains(bodies[0], `"WorkingDirectory":"/var/task"`) {
		t.Errorf("configuration updates %q, want one with the new command and the kept entrypoint and workdir", bodies)
	}
}

func TestImageConfigChange(t *testing.T) {
	cur := &types.FunctionConfiguration{ImageConfigResponse: &types.ImageConfigResponse{ImageConfig: &types.ImageConfig{
		Command: []string{"a.handler"}, EntryPoint: []string{"/entry"}, WorkingDirectory: sdkaws.String("/var/task")}}}
	cases := []struct {
		name string
		ic   *cloud.ImageConfig
		cur  *types.FunctionConfiguration
		want *types.ImageConfig
	}{
		{"none asked", nil, cur, nil},
		{"the same", &cloud.ImageConfig{Command: []string{"a.handler"}}, cur, nil},
		{"a new command keeps the rest", &cloud.ImageConfig{Command: []string{"b.handler"}}, cur,
			&types.ImageConfig{Command: []string{"b.handler"}, EntryPoint: []string{"/entry"}, WorkingDirectory: sdkaws.String("/var/task")}},
		{"on a function without one", &cloud.ImageConfig{Workdir: "/w"}, &types.FunctionConfiguration{},
			&types.ImageConfig{WorkingDirectory: sdkaws.String("/w")}},
	}
	for _, tc := range cases {
		got := imageConfigChange(tc.ic, tc.cur)
		if (got == nil) != (tc.want == nil) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
			continue
		}
		if got != nil && (!slices.Equal(got.Command, tc.want.Command) || !slices.Equal(got.EntryPoint, tc.want.EntryPoint) ||
			sdkaws.ToString(got.WorkingDirectory) != sdkaws.ToString(tc.want.WorkingDirectory)) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
