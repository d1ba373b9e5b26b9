package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// linFn is the part of a function row lineage is checked on.
type linFn struct {
	Address     string `json:"address"`
	ImageDigest string `json:"image_digest"`
	SourceRef   string `json:"source_ref"`
	Lineage     *struct {
		Status     string `json:"status"`
		LocalImage string `json:"local_image"`
		TagMoved   bool   `json:"tag_moved"`
		Tag        string `json:"tag"`
		Error      string `json:"error"`
	} `json:"lineage"`
}

func lineageFunctions(t *testing.T, env []string, args ...string) (map[string]linFn, int, string) {
	t.Helper()
	out, errOut, code := runCLI(t, env, "", append([]string{"functions", "--json"}, args...)...)
	var got struct {
		Functions []linFn `json:"functions"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("functions --json: %v\n%s\n%s", err, out, errOut)
	}
	m := map[string]linFn{}
	for _, f := range got.Functions {
		m[f.Address] = f
	}
	return m, code, out + errOut
}

// imageLive returns the live addresses `images --json` gives the image id.
func imageLive(t *testing.T, env []string, id string, args ...string) ([]string, bool) {
	t.Helper()
	out, errOut, code := runCLI(t, env, "", append([]string{"images", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("images --json exited %d: %s", code, errOut)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var im struct {
			ID   string `json:"id"`
			Live *[]struct {
				Address string `json:"address"`
				Digest  string `json:"digest"`
			} `json:"live"`
		}
		if err := json.Unmarshal([]byte(line), &im); err != nil {
			t.Fatalf("images --json line %q: %v", line, err)
		}
		if im.Live == nil {
			t.Fatalf("images --json line lacks live: %s", line)
		}
		if im.ID == id {
			var addrs []string
			for _, l := range *im.Live {
				addrs = append(addrs, l.Address)
			}
			return addrs, true
		}
	}
	return nil, false
}

func writeConfig(t *testing.T, ecrHost, to string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(fmt.Sprintf("registries:\n  rewrite:\n    %q: %q\n", ecrHost, to)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Issue 15: an image deployed to a local function and to a Lambda function
// (moto; the ECR host rewritten to a test registry) is live in both, in the
// TUI's LIVE cell and in images --json; when its tag moves in the registry
// the Lambda function shows tag_moved and --drift lists it; when the image
// is gone locally the function runs something not local; a registry that
// fails marks the rows unknown without changing the exit code.
func TestLineageLiveTagMovedAndNotLocal(t *testing.T) {
	m := cloudtest.StartMoto(t)
	reg := cloudtest.StartRegistry(t, false)
	ecrHost := motoAccount + ".dkr.ecr.us-east-1.amazonaws.com"
	env := isolatedEnv(t, append(m.Env(), "FNDECK_AWS_REGIONS=us-east-1", "FNDECK_LOCAL_NETWORK=host",
		"FNDECK_CONFIG="+writeConfig(t, ecrHost, reg.Addr))...)

	ref := helloImage(t)
	id := cloudtest.Docker(t, "image", "inspect", "-f", "{{.ID}}", ref)
	repo := strings.ToLower(strings.TrimSuffix(ref, ":v1"))
	ecrRef := ecrHost + "/" + repo + ":v1"
	t.Cleanup(func() { _, _, _ = runDocker("rmi", "-f", ecrRef, reg.Addr+"/"+repo+":v1") })

	out, errOut, code := runCLI(t, env, "", "push", ref, "--to", ecrRef)
	if code != 0 {
		t.Fatalf("push exited %d: %s %s", code, out, errOut)
	}
	mm := regexp.MustCompile(`@(sha256:[0-9a-f]{64})`).FindStringSubmatch(out)
	if mm == nil {
		t.Fatalf("push printed no digest: %s", out)
	}
	digest := mm[1]

	name := strings.ToLower(cloudtest.UniqueName("lin"))
	localAddr := "local:" + name
	t.Cleanup(func() { _, _, _ = runDocker("rm", "-f", "fndeck-"+name) })
	if out, errOut, code := runCLI(t, env, "", "deploy", ref, localAddr, "--as", "lambda"); code != 0 {
		t.Fatalf("local deploy exited %d: %s %s", code, out, errOut)
	}

	// The Lambda function as fndeck's deploy by digest leaves it: ImageUri
	// pinned to the digest, the tag it came from in fndeck:source.
	lc := lambda.NewFromConfig(motoConfig(t, m.Endpoint))
	role := createMotoRole(t, m.Endpoint)
	_, err := lc.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: sdkaws.String("lin-api"), Role: &role, PackageType: lambdatypes.PackageTypeImage,
		Code: &lambdatypes.FunctionCode{ImageUri: sdkaws.String(ecrHost + "/" + repo + "@" + digest)},
		Tags: map[string]string{"fndeck:source": ecrRef},
	})
	if err != nil {
		t.Fatalf("creating the function in moto: %v", err)
	}
	lambdaAddr := "lambda:us-east-1/lin-api"

	live, ok := imageLive(t, env, id)
	if !ok || strings.Join(live, ",") != lambdaAddr+","+localAddr {
		t.Fatalf("images --json live of %s = %v (found %v), want %s and %s", ref, live, ok, lambdaAddr, localAddr)
	}
	fns, code, text := lineageFunctions(t, env)
	if code != 0 {
		t.Fatalf("functions --json exited %d: %s", code, text)
	}
	lf := fns[lambdaAddr]
	if lf.ImageDigest != digest || lf.SourceRef != ecrRef || lf.Lineage == nil || lf.Lineage.Status != "local" || lf.Lineage.TagMoved || lf.Lineage.Tag != "same" {
		t.Errorf("lambda row %+v (lineage %+v), want digest %s, source %s, local, tag same", lf, lf.Lineage, digest, ecrRef)
	}
	if l := fns[localAddr]; l.ImageDigest != id || l.SourceRef != ref || l.Lineage == nil || l.Lineage.Status != "local" {
		t.Errorf("local row %+v (lineage %+v)", l, l.Lineage)
	}

	// The TUI: LIVE 2 on the image's row.
	s := startTUI(t, env)
	s.waitFor(regexp.QuoteMeta(ref)+`\s.*\s2\s*┃`, 60*time.Second)
	s.keys("q")

	// Move the tag: another image pushed as the same ECR tag.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+ref+"\nLABEL fndeck.e2e.moved=1\n"), 0o644)
	second := repo + ":moved"
	cloudtest.Docker(t, "build", "-q", "--no-cache", "-t", second, dir)
	t.Cleanup(func() { _, _, _ = runDocker("rmi", "-f", second) })
	if out, errOut, code := runCLI(t, env, "", "push", second, "--to", ecrRef); code != 0 {
		t.Fatalf("second push exited %d: %s %s", code, out, errOut)
	}
	fns, code, text = lineageFunctions(t, env)
	if l := fns[lambdaAddr].Lineage; code != 0 || l == nil || !l.TagMoved || l.Tag != "moved" {
		t.Errorf("after the tag moved: exit %d, lambda lineage %+v\n%s", code, l, text)
	}
	if l := fns[localAddr].Lineage; l == nil || l.TagMoved {
		t.Errorf("the local function's tag %s did not move, lineage %+v", ref, l)
	}
	drift, code, text := lineageFunctions(t, env, "--drift")
	if _, ok := drift[lambdaAddr]; code != 0 || !ok || len(drift) != 1 {
		t.Errorf("--drift lists %v (exit %d), want only %s\n%s", keys(drift), code, lambdaAddr, text)
	}
	// Only images that run somewhere (other tests' local functions on the
	// same engine may add theirs): the moved image runs nowhere.
	secondID := cloudtest.Docker(t, "image", "inspect", "-f", "{{.ID}}", second)
	onlyLive, _, _ := runCLI(t, env, "", "images", "--live", "--json")
	if !strings.Contains(onlyLive, `"`+id+`"`) || strings.Contains(onlyLive, `"`+secondID+`"`) {
		t.Errorf("images --live lists:\n%s\nwant %s and not the moved image", onlyLive, id)
	}

	// The image gone locally (its local function and the image built on it
	// first): not local.
	cloudtest.Docker(t, "rm", "-f", "fndeck-"+name)
	cloudtest.Docker(t, "rmi", "-f", secondID)
	cloudtest.Docker(t, "rmi", "-f", id)
	fns, code, text = lineageFunctions(t, env)
	if l := fns[lambdaAddr].Lineage; code != 0 || l == nil || l.Status != "not_local" {
		t.Errorf("after the image was deleted: exit %d, lambda lineage %+v\n%s", code, l, text)
	}

	// A registry that fails: the rows are unknown with the reason; the
	// listing and its exit code stand.
	dead := fmt.Sprintf("127.0.0.1:%d", cloudtest.FreePort(t))
	badEnv := append(env[:len(env):len(env)], "FNDECK_CONFIG="+writeConfig(t, ecrHost, dead))
	fns, code, text = lineageFunctions(t, badEnv)
	l := fns[lambdaAddr].Lineage
	if code != 0 || l == nil || l.Tag != "unknown" || !strings.Contains(l.Error, "resolving "+ecrRef) {
		t.Errorf("with a failing registry: exit %d, lambda lineage %+v\n%s", code, l, text)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
