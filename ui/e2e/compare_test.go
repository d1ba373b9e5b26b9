package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// compareEchoImages builds ui/e2e/testdata/compareecho into two FROM
// scratch images that differ only in VARIANT (v1, v2).
func compareEchoImages(t *testing.T) (v1, v2 string) {
	t.Helper()
	cloudtest.RequireDocker(t)
	bin := t.TempDir()
	cloudtest.BuildStatic(t, "github.com/fndeck/fndeck/ui/e2e/testdata/compareecho", bin, "compareecho")
	refs := make([]string, 2)
	for i, variant := range []string{"v1", "v2"} {
		dir := t.TempDir()
		b, err := os.ReadFile(filepath.Join(bin, "compareecho"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "compareecho"), b, 0o755)
		os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nENV VARIANT="+variant+"\nCOPY compareecho /var/task/compareecho\nENTRYPOINT [\"/var/task/compareecho\"]\n"), 0o644)
		refs[i] = cloudtest.UniqueName("fndeck-e2e-compareecho") + ":" + variant
		cloudtest.Docker(t, "build", "-q", "--no-cache", "-t", refs[i], dir)
		ref := refs[i]
		t.Cleanup(func() { _, _, _ = runDocker("rmi", "-f", ref) })
	}
	return refs[0], refs[1]
}

// TestInvokeCompareLocalAndMoto compares two local --as lambda functions
// (v1 and a changed v2) with a Lambda function in moto, which echoes the
// payload (moto's docker-less invoke): that proves the diff across a local
// and a cloud target, not the function. The payload is shaped like the v1
// response without its echo, so the differences are exactly $.echo (absent
// from moto), $.items[2] (only v2 has it) and $.version (v2).
func TestInvokeCompareLocalAndMoto(t *testing.T) {
	v1, v2 := compareEchoImages(t)
	m := cloudtest.StartMoto(t)
	lc := lambda.NewFromConfig(motoConfig(t, m.Endpoint), func(o *lambda.Options) { o.Region = "us-east-1" })
	fn := "cmp-" + flowName("moto")
	if _, err := lc.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: sdkaws.String(fn), Role: sdkaws.String(createMotoRole(t, m.Endpoint)),
		PackageType: lambdatypes.PackageTypeImage,
		Code:        &lambdatypes.FunctionCode{ImageUri: sdkaws.String(motoAccount + ".dkr.ecr.us-east-1.amazonaws.com/cmp:v1")},
	}); err != nil {
		t.Fatalf("creating %s in moto: %v", fn, err)
	}
	env := isolatedEnv(t, append(awsEnv(m), "FNDECK_LOCAL_NETWORK=host")...)
	var addrs []string
	for _, d := range []struct{ prefix, ref string }{{"cmpm1", v1}, {"cmpm2", v2}} {
		name := flowName(d.prefix)
		t.Cleanup(func() { _, _, _ = runDocker("rm", "-f", "fndeck-"+name) })
		if out, errOut, code := runCLI(t, env, "", "deploy", d.ref, "local:"+name, "--as", "lambda"); code != 0 {
			t.Fatalf("deploy %s exited %d\nstdout: %s\nstderr: %s", name, code, out, errOut)
		}
		addrs = append(addrs, "local:"+name)
	}
	addrs = append(addrs, "lambda:us-east-1/"+fn)
	payload := `{"items":["a","b"],"version":"v1"}`
	out, errOut, code := runCLI(t, env, "", append([]string{"invoke", "--json", "--payload", payload}, addrs...)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (they differ)\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var res struct {
		Results []struct {
			Address  string          `json:"address"`
			Response json.RawMessage `json:"response"`
			Error    string          `json:"error"`
		} `json:"results"`
		Differences []struct {
			Path   string `json:"path"`
			Values []any  `json:"values"`
			Absent []int  `json:"absent"`
		} `json:"differences"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Results) != 3 {
		t.Fatalf("invoke --json: %v\n%s", err, out)
	}
	if r := res.Results[2]; r.Address != addrs[2] || r.Error != "" || string(r.Response) != payload {
		t.Errorf("moto result %+v, want %s echoing %s", r, addrs[2], payload)
	}
	got := map[string]string{}
	for _, d := range res.Differences {
		b, _ := json.Marshal(d.Values)
		got[d.Path] = fmt.Sprintf("%s absent %v", b, d.Absent)
	}
	want := map[string]string{
		"$.echo":     `[{"items":["a","b"],"version":"v1"},{"items":["a","b"],"version":"v1"},null] absent [2]`,
		"$.items[2]": `[null,"c",null] absent [0 2]`,
		"$.version":  `["v1","v2","v1"] absent []`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("differences\n got %v\nwant %v\n%s", got, want, out)
	}
}

// TestInvokeCompareLocal goes through the real binary and the real engine:
// two local --as lambda functions on the same image agree (exit 0), a third
// on a changed image differs at exactly the paths the change touches (exit
// 1, --json {results, differences}), and a set mixing a Lambda-style and
// a Cloud Run-style function is refused with the reason (exit 2).
//
// moto is not among the targets: it does not invoke image functions
// (TESTING.md), so three local functions stand in for the mixed set.
func TestInvokeCompareLocal(t *testing.T) {
	v1, v2 := compareEchoImages(t)
	web := streamerImage(t)
	env := isolatedEnv(t, "FNDECK_LOCAL_NETWORK=host")
	var addrs []string
	for _, d := range []struct{ prefix, ref, as string }{
		{"cmpa", v1, "lambda"}, {"cmpb", v1, "lambda"}, {"cmpc", v2, "lambda"}, {"cmpweb", web, "cloudrun"}, {"cmpweb2", web, "cloudrun"},
	} {
		name := flowName(d.prefix)
		t.Cleanup(func() { _, _, _ = runDocker("rm", "-f", "fndeck-"+name) })
		if out, errOut, code := runCLI(t, env, "", "deploy", d.ref, "local:"+name, "--as", d.as); code != 0 {
			t.Fatalf("deploy %s exited %d\nstdout: %s\nstderr: %s", name, code, out, errOut)
		}
		addrs = append(addrs, "local:"+name)
	}
	a, b, c, web, web2 := addrs[0], addrs[1], addrs[2], addrs[3], addrs[4]
	payload := `{"order":{"id":7,"lines":[1,2]}}`

	out, errOut, code := runCLI(t, env, "", "invoke", a, b, "--payload", payload)
	if code != 0 || !strings.Contains(out, "the responses agree") || strings.Count(out, "status: 200") != 2 {
		t.Errorf("same image twice: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}

	out, errOut, code = runCLI(t, env, "", "invoke", a, b, c, "--payload", payload, "--json")
	if code != 1 {
		t.Fatalf("changed image: exit %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var res struct {
		Results []struct {
			Address    string          `json:"address"`
			StatusCode int             `json:"status_code"`
			Response   json.RawMessage `json:"response"`
			Error      string          `json:"error"`
		} `json:"results"`
		Differences []struct {
			Path   string `json:"path"`
			Values []any  `json:"values"`
			Absent []int  `json:"absent"`
		} `json:"differences"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("invoke --json is not one {results, differences} object: %v\n%s", err, out)
	}
	if len(res.Results) != 3 {
		t.Fatalf("results: %d, want 3\n%s", len(res.Results), out)
	}
	for i, r := range res.Results {
		var body struct {
			Echo json.RawMessage `json:"echo"`
		}
		if r.Address != addrs[i] || r.Error != "" || json.Unmarshal(r.Response, &body) != nil || string(body.Echo) != payload {
			t.Errorf("result %d = %+v, want %s echoing the payload", i, r, addrs[i])
		}
	}
	var paths []string
	for _, d := range res.Differences {
		paths = append(paths, d.Path)
	}
	if want := []string{"$.items[2]", "$.version"}; !reflect.DeepEqual(paths, want) {
		t.Fatalf("differing paths %q, want exactly %q\n%s", paths, want, out)
	}
	if d := res.Differences[0]; !reflect.DeepEqual(d.Values, []any{nil, nil, "c"}) || !reflect.DeepEqual(d.Absent, []int{0, 1}) {
		t.Errorf("$.items[2]: values %v absent %v, want [nil nil c] absent [0 1]", d.Values, d.Absent)
	}
	if d := res.Differences[1]; !reflect.DeepEqual(d.Values, []any{"v1", "v1", "v2"}) || len(d.Absent) != 0 {
		t.Errorf("$.version: values %v absent %v", d.Values, d.Absent)
	}

	// The human form names the paths too.
	out, _, code = runCLI(t, env, "", "invoke", a, c, "--payload", payload)
	if code != 1 || !strings.Contains(out, "differences (2):") || !strings.Contains(out, "  $.version\n    [1] \"v1\"\n    [2] \"v2\"") || !strings.Contains(out, "[1] (absent)") {
		t.Errorf("human compare: exit %d\n%s", code, out)
	}

	out, errOut, code = runCLI(t, env, "", "invoke", a, web, "--payload", payload)
	if code != 2 || !strings.Contains(errOut, "cannot compare "+a) || !strings.Contains(errOut, "not supported yet") || strings.Contains(out, "status:") {
		t.Errorf("mixed kinds: exit %d, want 2 with the reason\nstdout: %s\nstderr: %s", code, out, errOut)
	}

	// Two HTTP (local --as cloudrun) targets: the streamer's text answers
	// are line-diffed. "/" echoes method, path and body alike on both;
	// "/fail" answers 500 with the service's own name, so line 1 differs.
	out, errOut, code = runCLI(t, env, "", "invoke", web, web2, "--path", "/", "--payload", payload, "--json")
	if code != 0 || !strings.Contains(out, `"differences":[]`) {
		t.Errorf("two HTTP targets alike: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, env, "", "invoke", web, web2, "--path", "/fail", "--json")
	if code != 1 || !strings.Contains(out, `"differences":[{"path":"line 1","values":["boom: `+strings.TrimPrefix(web, "local:")+`","boom: `+strings.TrimPrefix(web2, "local:")+`"]}]`) {
		t.Errorf("two HTTP targets failing differently: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}
