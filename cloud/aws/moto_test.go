package aws

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

const motoAccount = "123456789012"

// motoRole creates an IAM role in moto (fndeck has no IAM client, so this
// signs one Query-protocol request by hand) and returns its ARN.
func motoRole(t testing.TB, endpoint string) string {
	t.Helper()
	form := url.Values{
		"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {"fndeck-lambda"},
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
		t.Fatalf("creating role in moto: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("creating role in moto: %s: %s", resp.Status, b)
	}
	return "arn:aws:iam::" + motoAccount + ":role/fndeck-lambda"
}

func zipBytes(t testing.TB) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("index.py")
	_, _ = io.WriteString(w, "def handler(e, c):\n    return e\n")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type seeded struct {
	region, name, pkg, arch, image string
	memory, timeout                int
}

// seedMoto creates the fixture: functions in three regions, Zip and Image, one arm64.
func seedMoto(t testing.TB, perRegion int) []seeded {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	role := motoRole(t, sdkawsEndpoint())
	var out []seeded
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-southeast-2"} {
		lc := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Region = region })
		for i := range perRegion {
			s := seeded{region: region, name: fmt.Sprintf("fn-%s-%02d", region, i), pkg: "Image", arch: "x86_64", memory: 128 + 64*i, timeout: 3 + i}
			in := &lambda.CreateFunctionInput{FunctionName: &s.name, Role: &role, MemorySize: sdkaws.Int32(int32(s.memory)), Timeout: sdkaws.Int32(int32(s.timeout))}
			switch {
			case i == 0:
				s.pkg = "Zip"
				in.PackageType = types.PackageTypeZip
				in.Runtime = types.RuntimePython312
				in.Handler = sdkaws.String("index.handler")
				in.Code = &types.FunctionCode{ZipFile: zipBytes(t)}
			default:
				s.image = fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/app:%d", motoAccount, region, i)
				in.PackageType = types.PackageTypeImage
				in.Code = &types.FunctionCode{ImageUri: &s.image}
				if i == 1 && region == "eu-west-1" {
					s.arch = "arm64"
				}
			}
			in.Architectures = []types.Architecture{types.Architecture(s.arch)}
			if _, err := lc.CreateFunction(ctx, in); err != nil {
				t.Fatalf("seeding %s in %s: %v", s.name, region, err)
			}
			out = append(out, s)
		}
	}
	return out
}

func sdkawsEndpoint() string { return osGetenv("AWS_ENDPOINT_URL") }

// failRegion routes requests signed for one region to a closed port, so that
// region's endpoint really refuses connections while the others answer.
type failRegion struct {
	region string
	closed string
}

var reScope = regexp.MustCompile(`Credential=[^/]+/\d+/([^/]+)/`)

func (f failRegion) RoundTrip(r *http.Request) (*http.Response, error) {
	if m := reScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil && m[1] == f.region {
		r = r.Clone(r.Context())
		r.URL.Host = f.closed
		r.Host = f.closed
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestMotoListDeployRollbackLogs(t *testing.T) {
	m := cloudtest.StartMoto(t)
	m.SetEnv(t)
	t.Setenv("AWS_MAX_ATTEMPTS", "2")
	want := seedMoto(t, 4)

	// A custom HTTP client cannot take AWS_CA_BUNDLE's roots (the SDK refuses);
	// the test talks plain HTTP to 127.0.0.1 anyway.
	t.Setenv("AWS_CA_BUNDLE", "")
	closed := fmt.Sprintf("127.0.0.1:%d", cloudtest.FreePort(t))
	b := New(Options{
		Regions:      []string{"us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"},
		DescribeAll:  true,
		HTTPClient:   &http.Client{Transport: failRegion{region: "us-west-2", closed: closed}},
		WaitMinDelay: 50 * time.Millisecond, WaitMaxDelay: 200 * time.Millisecond,
	})
	groups := collect(t, b, cloud.ListFilter{})
	var got []cloud.Function
	for _, g := range groups {
		if g.Group.Region == "us-west-2" {
			if !errors.Is(g.Err, cloud.ErrUnreachable) {
				t.Errorf("us-west-2 should be unreachable: %+v", g)
			}
			continue
		}
		if g.Err != nil {
			t.Fatalf("group %+v: %v", g.Group, g.Err)
		}
		if g.Group.Scope != "default ("+motoAccount+")" {
			t.Errorf("scope = %q", g.Group.Scope)
		}
		got = append(got, g.Functions...)
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d functions, want %d", len(got), len(want))
	}
	for _, w := range want {
		i := slices.IndexFunc(got, func(f cloud.Function) bool { return f.Name == w.name && f.Region == w.region })
		if i < 0 {
			t.Errorf("missing %s/%s", w.region, w.name)
			continue
		}
		f := got[i]
		if f.PackageType != w.pkg || f.Architecture != w.arch || f.ImageURI != w.image || f.MemoryMB != w.memory || f.TimeoutS != w.timeout ||
			f.Account != motoAccount || f.State != "Active" || f.Partial || f.Address != "lambda:"+w.region+"/"+w.name || f.LastModified == nil {
			t.Errorf("%s: got %+v, want %+v", w.name, f, w)
		}
	}

	// Deploy changes the ImageUri (read back through the SDK) and rollback restores it.
	target := addr("lambda:us-east-1/fn-us-east-1-01")
	newImage := motoAccount + ".dkr.ecr.us-east-1.amazonaws.com/app:new"
	res, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: target, Image: newImage}, nil)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	cfg, _ := config.LoadDefaultConfig(context.Background())
	lc := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Region = "us-east-1" })
	gf, err := lc.GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: sdkaws.String(target.Function)})
	if err != nil || sdkaws.ToString(gf.Code.ImageUri) != newImage {
		t.Fatalf("after deploy ImageUri = %v (err %v)", gf, err)
	}
	if _, err := b.Rollback(testCtx(t), target, cloud.DeployResult{NewImage: res.OldImage}, nil); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	gf, _ = lc.GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: sdkaws.String(target.Function)})
	if sdkaws.ToString(gf.Code.ImageUri) != res.OldImage || res.OldImage == "" {
		t.Errorf("after rollback ImageUri = %s, want %s", sdkaws.ToString(gf.Code.ImageUri), res.OldImage)
	}
	// A Zip function refuses an image deploy.
	if _, err := b.Deploy(testCtx(t), cloud.DeployRequest{Target: addr("lambda:us-east-1/fn-us-east-1-00"), Image: newImage}, nil); !errors.Is(err, cloud.ErrInvalid) {
		t.Errorf("zip deploy: %v", err)
	}

	// Logs: moto keeps the events; StartLiveTail is not implemented there,
	// so following falls back to polling FilterLogEvents.
	logs := cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.Region = "us-east-1" })
	group, stream := "/aws/lambda/"+target.Function, "2026/11/25/[$LATEST]abc"
	ctx := context.Background()
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &group, LogStreamName: &stream}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	msgs := []string{"START RequestId: r1", "hello \x1b[31mred\x1b[0m", reportLine}
	var evs []logtypes.InputLogEvent
	for i, msg := range msgs {
		evs = append(evs, logtypes.InputLogEvent{Message: sdkaws.String(msg), Timestamp: sdkaws.Int64(now + int64(i))})
	}
	if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: &group, LogStreamName: &stream, LogEvents: evs}); err != nil {
		t.Fatal(err)
	}
	b.opts.LiveTail = true
	fctx, cancel := context.WithTimeout(testCtx(t), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	var lines []cloud.LogLine
	err = b.Logs(fctx, cloud.LogRequest{Target: target, Follow: true}, func(l cloud.LogLine) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, l)
		if l.Notice && strings.Contains(l.Message, "polling") {
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	var text []string
	fellBack := false
	for _, l := range lines {
		if l.Notice {
			fellBack = fellBack || strings.Contains(l.Message, "polling")
			continue
		}
		text = append(text, l.Message)
	}
	if !slices.Equal(text, msgs) || !fellBack {
		t.Errorf("log lines = %q, fell back = %v", text, fellBack)
	}
	if r, ok := cloud.ParseReport(text[len(text)-1]); !ok || r.InitMS != 150.2 {
		t.Errorf("report = %+v", r)
	}
}

func osGetenv(k string) string { return os.Getenv(k) }
