package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
	"github.com/fndeck/fndeck/internal/testsupport/gcpfake"
)

// The end-to-end proof of the cloud inventories (issues 5 and 6): the real
// binary, built once, lists what moto and the Cloud Run fake hold, exactly.

// motoAccount is the account moto answers for with its default test keys.
const motoAccount = "123456789012"

// awsRegions are the three regions every AWS test seeds.
var awsRegions = []string{"us-east-1", "eu-west-1", "ap-southeast-2"}

// fnRow is the part of `functions --json` a row is checked on.
type fnRow struct {
	Address             string `json:"address"`
	Provider            string `json:"provider"`
	Name                string `json:"name"`
	Region              string `json:"region"`
	Account             string `json:"account"`
	Profile             string `json:"profile"`
	Project             string `json:"project"`
	PackageType         string `json:"package_type"`
	Architecture        string `json:"architecture"`
	MemoryMB            int    `json:"memory_mb"`
	TimeoutS            int    `json:"timeout_s"`
	ImageURI            string `json:"image_uri"`
	State               string `json:"state"`
	URL                 string `json:"url"`
	LatestReadyRevision string `json:"latest_ready_revision"`
	Ready               *bool  `json:"ready"`
}

type errRow struct {
	Provider string `json:"provider"`
	Scope    string `json:"scope"`
	Error    string `json:"error"`
	Hint     string `json:"hint"`
}

type fnListing struct {
	Functions []fnRow  `json:"functions"`
	Errors    []errRow `json:"errors"`
}

// functionsJSON runs `fndeck functions --json ARGS` and decodes its one object.
func functionsJSON(t *testing.T, env []string, args ...string) (fnListing, int, string) {
	t.Helper()
	out, errOut, code := runCLI(t, env, "", append([]string{"functions", "--json"}, args...)...)
	// Pointers tell a missing or null array from an empty one.
	var raw struct {
		Functions *[]fnRow  `json:"functions"`
		Errors    *[]errRow `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("functions --json (exit %d) did not print one JSON object: %v\nstdout: %s\nstderr: %s", code, err, out, errOut)
	}
	if raw.Functions == nil || raw.Errors == nil {
		t.Fatalf("functions --json lacks the functions or errors array: %s", out)
	}
	return fnListing{Functions: *raw.Functions, Errors: *raw.Errors}, code, errOut
}

// checkExactly fails unless got holds exactly the rows of want (by address),
// each equal field by field.
func checkExactly(t *testing.T, got []fnRow, want map[string]fnRow) {
	t.Helper()
	seen := map[string]bool{}
	for _, g := range got {
		if seen[g.Address] {
			t.Errorf("%s listed twice", g.Address)
			continue
		}
		seen[g.Address] = true
		w, ok := want[g.Address]
		if !ok {
			t.Errorf("listed %s, which was never seeded: %+v", g.Address, g)
			continue
		}
		if !rowsEqual(g, w) {
			t.Errorf("%s:\n got %s\nwant %s", g.Address, rowString(g), rowString(w))
		}
	}
	var missing []string
	for a := range want {
		if !seen[a] {
			missing = append(missing, a)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("seeded but not listed: %v", missing)
	}
}

func rowsEqual(a, b fnRow) bool {
	ra, rb := a.Ready, b.Ready
	a.Ready, b.Ready = nil, nil
	if a != b {
		return false
	}
	return (ra == nil) == (rb == nil) && (ra == nil || *ra == *rb)
}

func rowString(r fnRow) string {
	ready := "<nil>"
	if r.Ready != nil {
		ready = fmt.Sprint(*r.Ready)
	}
	r.Ready = nil
	return fmt.Sprintf("%+v ready=%s", r, ready)
}

// ---------- AWS through moto ----------

// awsSeed is one function created in moto.
type awsSeed struct {
	region, name, pkg, arch, image string
	memory, timeout                int
}

// row is what `functions --json` must print for the seed under profile
// ("" = the default chain).
func (s awsSeed) row(profile string) fnRow {
	addr := "lambda:" + s.region + "/" + s.name
	if profile != "" {
		addr = "lambda:" + profile + "@" + s.region + "/" + s.name
	}
	return fnRow{Address: addr, Provider: "aws", Name: s.name, Region: s.region, Account: motoAccount, Profile: profile,
		PackageType: s.pkg, Architecture: s.arch, MemoryMB: s.memory, TimeoutS: s.timeout, ImageURI: s.image, State: "Active"}
}

// motoConfig is an SDK config for moto with its test keys.
func motoConfig(t *testing.T, endpoint string) sdkaws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithBaseEndpoint(endpoint),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("testing", "testing", "")),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
	if err != nil {
		t.Fatalf("aws config for moto: %v", err)
	}
	return cfg
}

// createMotoRole makes the IAM role Lambda functions need in moto. fndeck has
// no IAM client module, so this one Query-protocol call is signed by hand.
func createMotoRole(t *testing.T, endpoint string) string {
	t.Helper()
	body := url.Values{
		"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {"fndeck-e2e"},
		"AssumeRolePolicyDocument": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`},
	}.Encode()
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), sdkaws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"},
		req, hex.EncodeToString(sum[:]), "iam", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("creating the IAM role in moto: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("creating the IAM role in moto: %s: %s", resp.Status, b)
	}
	return "arn:aws:iam::" + motoAccount + ":role/fndeck-e2e"
}

func pythonZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("index.py")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "def handler(event, context):\n    return event\n"); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// seedAWS creates, in each region, an x86_64 Image function ("api-…") and a
// Zip function ("cron-…"); eu-west-1 also gets an arm64 Image function.
// Names carry the region so that a row listed under the wrong region fails.
func seedAWS(t *testing.T, endpoint string, regions []string) []awsSeed {
	t.Helper()
	cfg := motoConfig(t, endpoint)
	role := createMotoRole(t, endpoint)
	zipCode := pythonZip(t)
	var out []awsSeed
	for i, region := range regions {
		short := regionShort[region]
		seeds := []awsSeed{
			{region: region, name: "api-" + short, pkg: "Image", arch: "x86_64", memory: 256 + 128*i, timeout: 10 + i,
				image: fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/api:v%d", motoAccount, region, i+1)},
			{region: region, name: "cron-" + short, pkg: "Zip", arch: "x86_64", memory: 128, timeout: 60 + i},
		}
		if region == "eu-west-1" {
			seeds = append(seeds, awsSeed{region: region, name: "thumbs-" + short, pkg: "Image", arch: "arm64", memory: 1024, timeout: 30,
				image: motoAccount + ".dkr.ecr.eu-west-1.amazonaws.com/thumbs@sha256:" + strings.Repeat("ab", 32)})
		}
		lc := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Region = region })
		for _, s := range seeds {
			in := &lambda.CreateFunctionInput{
				FunctionName: sdkaws.String(s.name), Role: sdkaws.String(role),
				MemorySize: sdkaws.Int32(int32(s.memory)), Timeout: sdkaws.Int32(int32(s.timeout)),
				Architectures: []lambdatypes.Architecture{lambdatypes.Architecture(s.arch)},
			}
			if s.pkg == "Zip" {
				in.PackageType = lambdatypes.PackageTypeZip
				in.Runtime = lambdatypes.RuntimePython312
				in.Handler = sdkaws.String("index.handler")
				in.Code = &lambdatypes.FunctionCode{ZipFile: zipCode}
			} else {
				in.PackageType = lambdatypes.PackageTypeImage
				in.Code = &lambdatypes.FunctionCode{ImageUri: sdkaws.String(s.image)}
			}
			if _, err := lc.CreateFunction(context.Background(), in); err != nil {
				t.Fatalf("seeding %s in %s: %v", s.name, region, err)
			}
			out = append(out, s)
		}
	}
	return out
}

// regionShort abbreviates the seeded regions so that function names fit the
// TUI's name column whole.
var regionShort = map[string]string{"us-east-1": "use1", "eu-west-1": "euw1", "ap-southeast-2": "apse2"}

// awsEnv points the binary at moto through the SDK's standard variables.
func awsEnv(m *cloudtest.Moto) []string {
	return append(m.Env(), "FNDECK_AWS_REGIONS="+strings.Join(awsRegions, ","))
}

// Issue 5: `fndeck functions --json --provider aws` across three regions
// lists exactly the seeded functions with their fields.
func TestAWSFunctionsJSONAcrossRegions(t *testing.T) {
	m := cloudtest.StartMoto(t)
	seeds := seedAWS(t, m.Endpoint, awsRegions)

	got, code, errOut := functionsJSON(t, isolatedEnv(t, awsEnv(m)...), "--provider", "aws")
	if code != 0 {
		t.Fatalf("exit %d, want 0; stderr: %s; errors: %+v", code, errOut, got.Errors)
	}
	if len(got.Errors) != 0 {
		t.Errorf("errors = %+v, want none", got.Errors)
	}
	want := map[string]fnRow{}
	for _, s := range seeds {
		want[s.row("").Address] = s.row("")
	}
	if len(want) != 7 {
		t.Fatalf("fixture: %d seeds, want 7", len(want))
	}
	checkExactly(t, got.Functions, want)

	// --region narrows the listing to one region, still exactly.
	got, code, errOut = functionsJSON(t, isolatedEnv(t, awsEnv(m)...), "--provider", "aws", "--region", "eu-west-1")
	if code != 0 {
		t.Fatalf("--region eu-west-1: exit %d; stderr: %s", code, errOut)
	}
	euWant := map[string]fnRow{}
	for a, r := range want {
		if r.Region == "eu-west-1" {
			euWant[a] = r
		}
	}
	checkExactly(t, got.Functions, euWant)
}

// goodBadProfiles writes an AWS config file with two profiles, "good" on
// moto and "bad" on a closed 127.0.0.1 port, each naming its own
// endpoint_url as a user pointing one profile at a dead endpoint would, and
// returns the environment selecting both profiles and the three regions.
func goodBadProfiles(t *testing.T, m *cloudtest.Moto) []string {
	t.Helper()
	closed := fmt.Sprintf("http://127.0.0.1:%d", cloudtest.FreePort(t))
	cfgFile := filepath.Join(t.TempDir(), "aws-config")
	profile := func(name, endpoint string) string {
		return fmt.Sprintf("[profile %s]\nregion = us-east-1\naws_access_key_id = testing\naws_secret_access_key = testing\nendpoint_url = %s\n\n", name, endpoint)
	}
	if err := os.WriteFile(cfgFile, []byte(profile("good", m.Endpoint)+profile("bad", closed)), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"AWS_CONFIG_FILE=" + cfgFile, "FNDECK_AWS_PROFILES=good,bad", "FNDECK_AWS_REGIONS=" + strings.Join(awsRegions, ",")}
}

// Issue 5: a profile whose endpoint refuses connections shows its error for
// each of its regions, while the good profile's functions all load; exit 1.
func TestAWSFailingProfileShowsErrorWhileOthersLoad(t *testing.T) {
	m := cloudtest.StartMoto(t)
	seeds := seedAWS(t, m.Endpoint, awsRegions)
	env := isolatedEnv(t, goodBadProfiles(t, m)...)

	got, code, errOut := functionsJSON(t, env, "--provider", "aws")
	if code != 1 {
		t.Errorf("exit %d, want 1 (a source failed); stderr: %s", code, errOut)
	}
	want := map[string]fnRow{}
	for _, s := range seeds {
		want[s.row("good").Address] = s.row("good")
	}
	checkExactly(t, got.Functions, want)

	var scopes []string
	for _, e := range got.Errors {
		scopes = append(scopes, e.Provider+" "+e.Scope)
		if !strings.Contains(e.Error, "profile bad") {
			t.Errorf("error for %s does not name the profile: %q", e.Scope, e.Error)
		}
	}
	sort.Strings(scopes)
	wantScopes := []string{"aws bad/ap-southeast-2", "aws bad/eu-west-1", "aws bad/us-east-1"}
	if strings.Join(scopes, "|") != strings.Join(wantScopes, "|") {
		t.Errorf("error scopes = %q, want %q", scopes, wantScopes)
	}
}

// ---------- GCP through the in-process fake ----------

// gcpService is one service seeded in the Cloud Run fake.
type gcpService struct {
	project, region, name, image string
	memoryMB, timeoutS           int
	crash                        bool
}

var gcpProjects = []string{"acme-web", "acme-data"}

// gcpFixture: two projects × three regions; acme-web's europe-west1 holds
// three services, more than the fake's page of two, so listing pages; each
// project's three locations also take two pages of ListLocations.
func gcpFixture() []gcpService {
	return []gcpService{
		{project: "acme-web", region: "europe-west1", name: "api", image: "europe-west1-docker.pkg.dev/acme-web/app/api:v3", memoryMB: 512, timeoutS: 300},
		{project: "acme-web", region: "europe-west1", name: "web", image: "europe-west1-docker.pkg.dev/acme-web/app/web:v1"},
		{project: "acme-web", region: "europe-west1", name: "worker", image: "gcr.io/acme-web/worker:2", memoryMB: 2048},
		{project: "acme-web", region: "us-central1", name: "api", image: "gcr.io/acme-web/api:v3"},
		{project: "acme-web", region: "asia-east1", name: "edge", image: "asia-docker.pkg.dev/acme-web/app/edge:1", timeoutS: 60},
		{project: "acme-data", region: "europe-west1", name: "etl", image: "europe-west1-docker.pkg.dev/acme-data/jobs/etl:7"},
		{project: "acme-data", region: "us-east1", name: "report", image: "gcr.io/acme-data/report:crash", crash: true},
		{project: "acme-data", region: "asia-east1", name: "ingest", image: "asia-docker.pkg.dev/acme-data/app/ingest:4"},
	}
}

func (s gcpService) url() string {
	return "https://" + s.name + "-" + s.project + "-" + s.region + ".a.run.app"
}

func (s gcpService) row() fnRow {
	r := fnRow{Address: "cloudrun:" + s.project + "/" + s.region + "/" + s.name, Provider: "gcp", Name: s.name,
		Region: s.region, Project: s.project, PackageType: "Image", ImageURI: s.image, MemoryMB: s.memoryMB,
		TimeoutS: s.timeoutS, URL: s.url()}
	ready := !s.crash
	r.Ready = &ready
	if s.crash {
		r.State = "Failed"
	} else {
		r.State, r.LatestReadyRevision = "Ready", s.name+"-00001-abc"
	}
	return r
}

func seedGCP(t *testing.T, f *gcpfake.CloudRun, services []gcpService) {
	t.Helper()
	for _, s := range services {
		f.AddService(s.project, s.region, s.name, s.image, s.url())
		if s.memoryMB == 0 && s.timeoutS == 0 {
			continue
		}
		ok := f.EditService(gcpfake.ServiceName(s.project, s.region, s.name), func(svc *runpb.Service) {
			if s.memoryMB > 0 {
				svc.Template.Containers[0].Resources = &runpb.ResourceRequirements{Limits: map[string]string{"memory": fmt.Sprintf("%dMi", s.memoryMB)}}
			}
			if s.timeoutS > 0 {
				svc.Template.Timeout = durationpb.New(time.Duration(s.timeoutS) * time.Second)
			}
		})
		if !ok {
			t.Fatalf("seeded service %s/%s/%s is missing", s.project, s.region, s.name)
		}
	}
}

func gcpEnv(t *testing.T, run *gcpfake.CloudRun, logs *gcpfake.Logging) []string {
	env := []string{"FNDECK_GCP_PROJECTS=" + strings.Join(gcpProjects, ",")}
	if run != nil {
		env = append(env, "FNDECK_GCP_RUN_ENDPOINT="+run.Addr)
	}
	if logs != nil {
		env = append(env, "FNDECK_GCP_LOGGING_ENDPOINT="+logs.Addr)
	}
	return isolatedEnv(t, env...)
}

// Issue 6: `fndeck functions --json --provider gcp` over two projects ×
// three regions lists exactly the seeded services; a project whose
// locations cannot be listed shows its error while the other still lists.
func TestGCPFunctionsJSONAcrossProjects(t *testing.T) {
	run := gcpfake.StartCloudRun(t)
	services := gcpFixture()
	seedGCP(t, run, services)

	got, code, errOut := functionsJSON(t, gcpEnv(t, run, nil), "--provider", "gcp")
	if code != 0 || len(got.Errors) != 0 {
		t.Fatalf("exit %d, errors %+v, want 0 and none; stderr: %s", code, got.Errors, errOut)
	}
	want := map[string]fnRow{}
	for _, s := range services {
		want[s.row().Address] = s.row()
	}
	checkExactly(t, got.Functions, want)
	// The 3-service region really took two pages, so paging was followed.
	pages := 0
	for _, c := range run.ListCalls() {
		if strings.HasPrefix(c, "projects/acme-web/locations/europe-west1#") {
			pages++
		}
	}
	if pages != 2 {
		t.Errorf("acme-web/europe-west1 was listed in %d pages, want 2", pages)
	}

	run.SetProjectError("acme-data", status.Error(codes.PermissionDenied, "Permission 'run.locations.list' denied on resource 'projects/acme-data'"))
	got, code, errOut = functionsJSON(t, gcpEnv(t, run, nil), "--provider", "gcp")
	if code != 1 {
		t.Errorf("with acme-data failing: exit %d, want 1; stderr: %s", code, errOut)
	}
	webOnly := map[string]fnRow{}
	for _, s := range services {
		if s.project == "acme-web" {
			webOnly[s.row().Address] = s.row()
		}
	}
	checkExactly(t, got.Functions, webOnly)
	if len(got.Errors) != 1 {
		t.Fatalf("errors = %+v, want one for acme-data", got.Errors)
	}
	e := got.Errors[0]
	if e.Provider != "gcp" || e.Scope != "acme-data" || !strings.Contains(e.Error, "run.locations.list") || !strings.Contains(e.Hint, "acme-data") {
		t.Errorf("error = %+v, want gcp acme-data naming the denied permission, with a hint naming the project", e)
	}
}

// hostileLine is log text that would retitle, clear and recolour a terminal
// and reverse the text direction if printed raw.
const hostileLine = "\x1b]0;owned\x07\x1b[2J\x1b[31mpwned\u202e by a log line"

// `fndeck logs cloudrun:P/R/S` prints the entries the fake holds for that
// service: JSON payloads rendered, hostile escapes neutralised.
func TestGCPLogsPrintsEntriesSafely(t *testing.T) {
	logs := gcpfake.StartLogging(t)
	now := time.Now()
	jsonMsg, err := gcpfake.JSONEntry("acme-web", "europe-west1", "api", "j1", now.Add(-50*time.Second), map[string]any{"message": "request served", "status": 200})
	if err != nil {
		t.Fatal(err)
	}
	jsonRaw, err := gcpfake.JSONEntry("acme-web", "europe-west1", "api", "j2", now.Add(-40*time.Second), map[string]any{"path": "/v1/items", "latency_ms": 12})
	if err != nil {
		t.Fatal(err)
	}
	logs.AddEntries(
		gcpfake.TextEntry("acme-web", "europe-west1", "api", "old", "from last hour", now.Add(-time.Hour)),
		gcpfake.TextEntry("acme-web", "europe-west1", "api", "t1", "booted on :8080", now.Add(-60*time.Second)),
		jsonMsg, jsonRaw,
		gcpfake.TextEntry("acme-web", "europe-west1", "api", "h1", hostileLine, now.Add(-30*time.Second)),
		gcpfake.TextEntry("acme-web", "europe-west1", "web", "w1", "another service", now.Add(-20*time.Second)),
		gcpfake.TextEntry("acme-web", "us-central1", "api", "u1", "another region", now.Add(-20*time.Second)),
		gcpfake.TextEntry("acme-data", "europe-west1", "api", "d1", "another project", now.Add(-20*time.Second)),
	)
	out, errOut, code := runCLI(t, gcpEnv(t, nil, logs), "", "logs", "cloudrun:acme-web/europe-west1/api", "--since", "5m")
	if code != 0 {
		t.Fatalf("logs exited %d; stderr: %s", code, errOut)
	}
	checkLogLines(t, out, []string{"booted on :8080", "request served", `{"latency_ms":12,"path":"/v1/items"}`, "pwned"})
}

// checkLogLines asserts stdout holds exactly one line per wanted message, in
// order, each containing it, and no control byte a terminal would obey.
func checkLogLines(t *testing.T, out string, want []string) {
	t.Helper()
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("stdout carries raw escape/control characters: %q", out)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d = %q, want it to contain %q", i+1, lines[i], w)
		}
	}
}

// `fndeck logs --follow` prints the history, then what the live tail sends,
// until interrupted; it exits 0 on the interrupt.
func TestGCPLogsFollow(t *testing.T) {
	logs := gcpfake.StartLogging(t)
	now := time.Now()
	logs.AddEntries(gcpfake.TextEntry("acme-web", "europe-west1", "api", "h1", "from the history", now.Add(-time.Minute)))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, fndeckBin(t), "logs", "cloudrun:acme-web/europe-west1/api", "--follow", "--since", "5m")
	cmd.Env = append(os.Environ(), gcpEnv(t, nil, logs)...)
	stdout := &outputWatch{added: make(chan struct{}, 1)}
	stderr := &outputWatch{added: make(chan struct{}, 1)}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitLine := func(want string) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for !strings.Contains(stdout.text(), want) {
			select {
			case <-stdout.added:
			case <-timeout:
				t.Fatalf("%q was not printed within 30s; stdout: %q; stderr: %s", want, stdout.text(), stderr.text())
			}
		}
	}
	waitLine("from the history")
	tail := logs.NextTail(t)
	if rn := tail.Request.GetResourceNames(); len(rn) != 1 || rn[0] != "projects/acme-web" {
		t.Errorf("tail opened on %v, want projects/acme-web", rn)
	}
	live, err := gcpfake.JSONEntry("acme-web", "europe-west1", "api", "l1", time.Now(), map[string]any{"event": "cache_miss", "key": "k1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tail.SendEntries(
		gcpfake.TextEntry("acme-web", "europe-west1", "web", "l0", "not for api", time.Now()),
		live,
		gcpfake.TextEntry("acme-web", "europe-west1", "api", "l2", hostileLine, time.Now()),
		gcpfake.TextEntry("acme-web", "europe-west1", "api", "l3", "last live line", time.Now()),
	); err != nil {
		t.Fatal(err)
	}
	waitLine("last live line")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("fndeck logs --follow ended with %v after an interrupt, want exit 0; stderr: %s", err, stderr.text())
	}
	checkLogLines(t, stdout.text(), []string{"from the history", `{"event":"cache_miss","key":"k1"}`, "pwned", "last live line"})
}

// outputWatch collects a process's output, safe to read while it runs,
// and signals each write.
type outputWatch struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	added chan struct{}
}

func (w *outputWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	w.mu.Unlock()
	select {
	case w.added <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *outputWatch) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// ---------- side by side in the TUI ----------

// functionsOutline reads the Functions pane off a screen as a person sees
// the tree: one entry per row, its indentation kept; a group row is its
// whole label ("  ▾ eu-west-1 (3)"), a function row its indented name.
func functionsOutline(t *testing.T, screen string) []string {
	t.Helper()
	var out []string
	in := false
	for _, line := range strings.Split(screen, "\n") {
		r := []rune(line)
		if !in {
			if strings.Contains(line, "2 Functions") {
				in = true
			}
			continue
		}
		if len(r) == 0 || (r[0] != '│' && r[0] != '┃') {
			break // the pane's bottom border
		}
		// The pane's right border is the next vertical bar.
		end := 1
		for end < len(r) && r[end] != '│' && r[end] != '┃' {
			end++
		}
		row := strings.TrimRight(string(r[1:end]), " ")
		body := strings.TrimLeft(row, " ")
		indent := row[:len(row)-len(body)]
		switch {
		case body == "" || strings.HasPrefix(body, "NAME "):
			continue
		case strings.HasPrefix(body, "▾") || strings.HasPrefix(body, "▸"):
			out = append(out, row)
		default:
			out = append(out, indent+strings.Fields(body)[0])
		}
	}
	if !in {
		t.Fatalf("no Functions pane on the screen:\n%s", screen)
	}
	return out
}

// treeSection returns the outline rows from the provider row starting with
// label up to the next provider row.
func treeSection(outline []string, label string) []string {
	for i, row := range outline {
		if strings.HasPrefix(row, "▾ "+label) || strings.HasPrefix(row, "▸ "+label) {
			j := i + 1
			for j < len(outline) && strings.HasPrefix(outline[j], " ") {
				j++
			}
			return outline[i:j]
		}
	}
	return nil
}

// treeOutline is the outline the pane must show for a provider: scopes,
// then regions, sorted, functions sorted by name, every group expanded.
func treeOutline(provider string, fns map[string]map[string][]string) []string {
	total := 0
	scopes := make([]string, 0, len(fns))
	for sc, regions := range fns {
		scopes = append(scopes, sc)
		for _, names := range regions {
			total += len(names)
		}
	}
	sort.Strings(scopes)
	out := []string{fmt.Sprintf("▾ %s (%d)", provider, total)}
	for _, sc := range scopes {
		regions := make([]string, 0, len(fns[sc]))
		n := 0
		for r, names := range fns[sc] {
			regions = append(regions, r)
			n += len(names)
		}
		sort.Strings(regions)
		out = append(out, fmt.Sprintf("  ▾ %s (%d)", sc, n))
		for _, r := range regions {
			names := append([]string(nil), fns[sc][r]...)
			sort.Strings(names)
			out = append(out, fmt.Sprintf("    ▾ %s (%d)", r, len(names)))
			for _, name := range names {
				out = append(out, "      "+name)
			}
		}
	}
	return out
}

func awsTree(seeds []awsSeed, scope string) []string {
	fns := map[string]map[string][]string{scope: {}}
	for _, s := range seeds {
		fns[scope][s.region] = append(fns[scope][s.region], s.name)
	}
	return treeOutline("AWS Lambda", fns)
}

func gcpTree(services []gcpService) []string {
	fns := map[string]map[string][]string{}
	for _, s := range services {
		if fns[s.project] == nil {
			fns[s.project] = map[string][]string{}
		}
		fns[s.project][s.region] = append(fns[s.project][s.region], s.name)
	}
	return treeOutline("Cloud Run", fns)
}

func sameRows(t *testing.T, what string, got, want []string, screen string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s in the Functions pane:\n%s\nwant:\n%s\nscreen:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"), screen)
	}
}

// focusFunctions waits for the TUI to be up and focuses the Functions pane
// with 2, as a person would; the focused pane has the heavy border.
func focusFunctions(s *session) {
	s.t.Helper()
	s.waitFor(`1 Images \(`, 30*time.Second)
	s.keys("2")
	s.waitFor(`┏━2 Functions`, 10*time.Second)
}

// Issue 6's last item: with moto, the Cloud Run fake and one local function,
// the Functions pane shows the AWS, GCP and local groups with their
// functions, grouped provider → profile/account or project → region.
func TestTUIFunctionsSideBySide(t *testing.T) {
	requireTmux(t)
	m := cloudtest.StartMoto(t)
	seeds := seedAWS(t, m.Endpoint, awsRegions)
	run := gcpfake.StartCloudRun(t)
	services := gcpFixture()
	seedGCP(t, run, services)

	ref := helloImage(t)
	// Short enough for the name column; unique on the shared engine.
	name := fmt.Sprintf("e2e%d", time.Now().UnixNano()%1_000_000_000)
	t.Cleanup(func() { _, _, _ = runDocker("rm", "-f", "fndeck-"+name) })
	env := append(gcpEnv(t, run, nil), awsEnv(m)...)
	env = append(env, "FNDECK_LOCAL_NETWORK=host")
	if out, errOut, code := runCLI(t, env, "", "deploy", ref, "local:"+name, "--as", "lambda"); code != 0 {
		t.Fatalf("local deploy exited %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}

	s := startTUI(t, env)
	focusFunctions(s)
	// The engine is shared with other tests, so local may hold more than
	// ours: ours must be there, under local, as a ready lambda. Local sorts
	// first, and "e2e…" before the names other tests use.
	screen := s.waitFor(`(?m)^┃    `+name+`\s+lambda\s.*\bready\b`, 60*time.Second)
	local := treeSection(functionsOutline(t, screen), "local (")
	if !slices.Contains(local, "  ▾ docker ("+strconv.Itoa(len(local)-2)+")") || !slices.Contains(local, "    "+name) {
		t.Errorf("local section %q does not hold %s under docker; screen:\n%s", local, name, screen)
	}

	// Collapse local (the cursor starts on its row), so that other tests'
	// containers cannot push the cloud trees out of view; then every source
	// has answered once the counts are final and nothing loads.
	s.keys("space")
	screen = s.waitFor(`▸ local \((?s:.*)▾ AWS Lambda \(7\)\s*┃(?s:.*)▾ Cloud Run \(8\)\s*┃`, 60*time.Second)
	outline := functionsOutline(t, screen)
	sameRows(t, "the AWS tree", treeSection(outline, "AWS Lambda"), awsTree(seeds, "default ("+motoAccount+")"), screen)

	// Collapse AWS too: the Cloud Run tree then fits the pane.
	s.keys("j", "space")
	screen = s.waitFor(`▸ AWS Lambda \(7\)`, 10*time.Second)
	outline = functionsOutline(t, screen)
	sameRows(t, "the Cloud Run tree", treeSection(outline, "Cloud Run"), gcpTree(services), screen)
	// Its LINEAGE is unknown: deployed by tag, no digest recorded.
	if !regexp.MustCompile(`(?m)^┃      report\s+Image\s+report:crash\s+unknown\s+not ready\s`).MatchString(screen) {
		t.Errorf("the crashing service's row does not read \"not ready\":\n%s", screen)
	}
}

// Issue 5 in the TUI: AWS functions are grouped provider → profile (account)
// → region; a profile whose endpoint is dead shows an error under each of
// its regions while the good profile's tree is whole.
func TestTUIAWSGroupsWithFailingProfile(t *testing.T) {
	requireTmux(t)
	m := cloudtest.StartMoto(t)
	seeds := seedAWS(t, m.Endpoint, awsRegions)
	s := startTUI(t, isolatedEnv(t, goodBadProfiles(t, m)...))
	focusFunctions(s)
	// Collapse local (the cursor starts on it) so that containers of other
	// tests on the shared engine cannot push AWS out of view.
	s.waitFor(`[▾▸] local \(`, 30*time.Second)
	s.keys("space")
	// Loaded once the good profile's count is final and the dead one has
	// given up on its last region. The dead profile comes first (scopes
	// sort by name), one error and hint under each of its regions.
	screen := s.waitFor(`▸ local \((?s:.*)▾ AWS Lambda \(7\)\s*┃(?s:.*)▾ us-east-1 \(0\) ✗`, 90*time.Second)
	var wantBad []string
	for _, r := range []string{"ap-southeast-2", "eu-west-1", "us-east-1"} {
		wantBad = append(wantBad, "    ▾ "+r+" (0) ✗", "      error:", "      hint:")
	}
	aws := treeSection(functionsOutline(t, screen), "AWS Lambda")
	if len(aws) < 2+len(wantBad) {
		t.Fatalf("AWS section too short: %q\n%s", aws, screen)
	}
	sameRows(t, "the dead profile", aws[1:2+len(wantBad)], append([]string{"  ▾ bad (0)"}, wantBad...), screen)
	if n := len(regexp.MustCompile(`┃      error: resolving the account of profile bad: `).FindAllString(screen, -1)); n != 3 {
		t.Errorf("%d error rows name the dead profile, want 3:\n%s", n, screen)
	}

	// Collapse the dead profile: the good one's tree shows whole.
	s.keys("j", "j", "space")
	screen = s.waitFor(`▸ bad \(0\)`, 10*time.Second)
	good := awsTree(seeds, "good ("+motoAccount+")")
	want := append([]string{good[0], "  ▸ bad (0)"}, good[1:]...)
	sameRows(t, "the AWS tree", treeSection(functionsOutline(t, screen), "AWS Lambda"), want, screen)
}
