package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fndeck/fndeck/cloud"
)

func TestLoadProjectSample(t *testing.T) {
	p, err := LoadProject("testdata/project")
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Abs("testdata/project")
	if p.Dir != dir || p.File != filepath.Join("testdata/project", ProjectFile) {
		t.Errorf("Dir, File = %q, %q", p.Dir, p.File)
	}
	var names []string
	for _, f := range p.Functions {
		names = append(names, f.Name)
	}
	if !reflect.DeepEqual(names, []string{"thumbnailer", "api"}) {
		t.Fatalf("functions in order %v, want file order [thumbnailer api]", names)
	}

	th := p.Function("thumbnailer")
	wantBuild := &Build{
		Context:    filepath.Join(dir, "thumb"),
		Dockerfile: filepath.Join(dir, "thumb", "Dockerfile"),
		Platform:   "linux/arm64",
		Args:       map[string]string{"GO_VERSION": "1.26", "DEBUG": "false"},
	}
	if !reflect.DeepEqual(th.Build, wantBuild) {
		t.Errorf("build = %+v, want %+v", th.Build, wantBuild)
	}
	var targets []string
	for _, tg := range th.Targets {
		targets = append(targets, tg.Name)
	}
	if !reflect.DeepEqual(targets, []string{"prod", "web", "dev"}) {
		t.Errorf("targets %v, want file order", targets)
	}
	wantLambda := &LambdaTarget{Profile: "prod", Region: "eu-west-1", Function: "thumbnailer",
		Role: "arn:aws:iam::123456789012:role/thumb", MemoryMB: 1024, TimeoutS: 30, Arch: "arm64",
		Env: map[string]string{"LOG_LEVEL": "info"}}
	if got := th.Target("prod").Lambda; !reflect.DeepEqual(got, wantLambda) {
		t.Errorf("prod = %+v, want %+v", got, wantLambda)
	}
	wantRun := &CloudRunTarget{Project: "acme-web", Region: "europe-west1", Service: "thumbnailer", Port: 8080, Memory: "512Mi", MemoryMB: 512}
	if got := th.Target("web").CloudRun; !reflect.DeepEqual(got, wantRun) {
		t.Errorf("web = %+v, want %+v", got, wantRun)
	}
	if got := th.Target("dev").Local; !reflect.DeepEqual(got, &LocalTarget{As: "lambda", MemoryMB: 1024, TimeoutS: 30}) {
		t.Errorf("dev = %+v", got)
	}
	if want := []Payload{{Name: "small", File: filepath.Join(dir, "payloads", "small.json")}}; !reflect.DeepEqual(th.Payloads, want) {
		t.Errorf("payloads = %+v, want %+v", th.Payloads, want)
	}

	api := p.Function("api")
	if api.Build.Dockerfile != filepath.Join(dir, "api", "Dockerfile") || api.Build.Platform != "" {
		t.Errorf("api build = %+v", api.Build)
	}
	if got := api.Target("staging").CloudRun; got.MemoryMB != 1024 || got.TimeoutS != 300 || got.Env["MODE"] != "staging" {
		t.Errorf("staging = %+v", got)
	}
	if got := api.Target("local").Local; !reflect.DeepEqual(got, &LocalTarget{As: "cloudrun", Name: "api-local", Port: 8080, MemoryMB: 256}) {
		t.Errorf("api local = %+v", got)
	}

	addrs := map[string]cloud.Address{
		"prod":    {Provider: cloud.AWS, Profile: "prod", Region: "eu-west-1", Function: "thumbnailer"},
		"web":     {Provider: cloud.GCP, Project: "acme-web", Region: "europe-west1", Function: "thumbnailer"},
		"dev":     {Provider: cloud.Local, Function: "thumbnailer"},
		"staging": {Provider: cloud.GCP, Project: "acme-web", Region: "us-central1", Function: "api"},
		"local":   {Provider: cloud.Local, Function: "api-local"},
	}
	for _, f := range p.Functions {
		for _, tg := range f.Targets {
			a := tg.Address()
			if a != addrs[tg.Name] {
				t.Errorf("%s/%s Address = %+v, want %+v", f.Name, tg.Name, a, addrs[tg.Name])
			}
			// Every address the project yields must parse back to itself.
			back, err := cloud.ParseAddress(a.String())
			if err != nil || back != a {
				t.Errorf("ParseAddress(%q) = %+v, %v", a.String(), back, err)
			}
		}
	}
}

func TestLoadProjectNone(t *testing.T) {
	p, err := LoadProject(t.TempDir())
	if p != nil || err != nil {
		t.Errorf("LoadProject(empty dir) = %v, %v; want nil, nil", p, err)
	}
}

// project writes fndeck.yaml (and a Dockerfile, a payload and a src/ dir the
// snippets may point at) into a temp dir.
func project(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		ProjectFile:        yaml,
		"Dockerfile":       "FROM scratch\n",
		"src/Dockerfile":   "FROM scratch\n",
		"payloads/ok.json": "{}\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestProjectProblems(t *testing.T) {
	const head = "functions:\n  fn:\n" // the snippets below start on line 3
	tests := []struct {
		name, yaml string
		want       string // LINE:COL: message prefix
	}{
		{"unknown function key", head + "    targest: {}\n", `3:5: unknown key "targest" in functions.fn (did you mean "targets"?)`},
		{"unknown top key", "function:\n  fn: {}\n", `1:1: unknown key "function" (did you mean "functions"?)`},
		{"no functions", "# empty\n", `1:1: no functions defined`},
		{"functions not a map", "functions: [a]\n", `1:12: functions: expected a mapping of function name to function, got a list`},
		{"bad function name", "functions:\n  \"my fn\": {}\n", `2:3: function name "my fn"`},
		{"target without provider", head + "    targets:\n      prod: {}\n", `4:7: functions.fn.targets.prod: give one of lambda, cloudrun or local`},
		{"target with two providers", head + "    targets:\n      prod:\n        lambda: {region: eu-west-1, function: f}\n        local: {as: lambda}\n",
			`6:9: functions.fn.targets.prod: a target deploys to one place, but it has both lambda and local`},
		{"unknown provider", head + "    targets:\n      prod: {lamda: {}}\n", `4:14: unknown key "lamda" in functions.fn.targets.prod (did you mean "lambda"?)`},
		{"lambda missing region", head + "    targets:\n      prod: {lambda: {function: f}}\n", `4:14: functions.fn.targets.prod.lambda: "region" is required`},
		{"lambda missing function", head + "    targets:\n      prod: {lambda: {region: eu-west-1}}\n", `4:14: functions.fn.targets.prod.lambda: "function" is required`},
		{"lambda bad region", head + "    targets:\n      prod: {lambda: {region: europe-west1, function: f}}\n", `4:31: functions.fn.targets.prod.lambda.region: "europe-west1" is not an AWS region`},
		{"lambda bad function name", head + "    targets:\n      prod: {lambda: {region: eu-west-1, function: \"a b\"}}\n", `4:52: functions.fn.targets.prod.lambda.function: "a b" is not a Lambda function name`},
		{"lambda memory low", head + "    targets:\n      prod: {lambda: {region: eu-west-1, function: f, memory: 64}}\n", `4:63: functions.fn.targets.prod.lambda.memory: 64 is out of range; use 128 to 10240 MB`},
		{"lambda memory high", head + "    targets:\n      prod: {lambda: {region: eu-west-1, function: f, memory: 20000}}\n", `4:63: functions.fn.targets.prod.lambda.memory: 20000 is out of range`},
		{"lambda memory string", head + "    targets:\n      prod: {lambda: {region: eu-west-1, function: f, memory: 1Gi}}\n", `4:63: functions.fn.targets.prod.lambda.memory: expected a whole number, got "1Gi"`},
		{"lambda timeout", head + "    targets:\n      prod: {lambda: {region: eu-west-1, function: f, timeout: 901}}\n", `4:64: functions.fn.targets.prod.lambda.timeout: 901 is out of range; use 1 to 900 seconds`},
		{"lambda timeout zero", head + "    targets:\n      prod: {lambda: {region: eu-west-1, function: f, timeout: 0}}\n", `4:64: functions.fn.targets.prod.lambda.timeout: 0 is out of range`},
		{"lambda arch", head + "    targets:\n      prod: {lambda: {region: eu-west-1, function: f, arch: amd64}}\n", `4:61: functions.fn.targets.prod.lambda.arch: "amd64" is not one of x86_64, arm64`},
		{"lambda role", head + "    targets:\n      prod: {lambda: {region: eu-west-1, function: f, role: admin}}\n", `4:61: functions.fn.targets.prod.lambda.role: "admin" is not an IAM role ARN`},
		{"lambda env name", head + "    targets:\n      prod:\n        lambda:\n          region: eu-west-1\n          function: f\n          env: {\"1BAD\": x}\n", `8:17: functions.fn.targets.prod.lambda.env: "1BAD" is not a valid variable name`},
		{"lambda env value", head + "    targets:\n      prod:\n        lambda:\n          region: eu-west-1\n          function: f\n          env: {A: [x]}\n", `8:20: functions.fn.targets.prod.lambda.env.A: expected a string, got a list`},
		{"cloudrun missing", head + "    targets:\n      web: {cloudrun: {project: acme-web, region: us-central1}}\n", `4:13: functions.fn.targets.web.cloudrun: "service" is required`},
		{"cloudrun memory", head + "    targets:\n      web: {cloudrun: {project: acme-web, region: us-central1, service: s, memory: 512}}\n", `4:84: functions.fn.targets.web.cloudrun.memory: "512" is not a Cloud Run memory size like 512Mi or 1Gi (did you mean "512Mi"?)`},
		{"cloudrun memory range", head + "    targets:\n      web: {cloudrun: {project: acme-web, region: us-central1, service: s, memory: 64Gi}}\n", `4:84: functions.fn.targets.web.cloudrun.memory: 64Gi is out of range; use 128Mi to 32Gi`},
		{"cloudrun port", head + "    targets:\n      web: {cloudrun: {project: acme-web, region: us-central1, service: s, port: 70000}}\n", `4:82: functions.fn.targets.web.cloudrun.port: 70000 is out of range; use 1 to 65535`},
		{"cloudrun service", head + "    targets:\n      web: {cloudrun: {project: acme-web, region: us-central1, service: My_Svc}}\n", `4:73: functions.fn.targets.web.cloudrun.service: "My_Svc" is not a Cloud Run service name`},
		{"cloudrun project", head + "    targets:\n      web: {cloudrun: {project: Acme, region: us-central1, service: s}}\n", `4:33: functions.fn.targets.web.cloudrun.project: "Acme" is not a GCP project ID`},
		{"local missing as", head + "    targets:\n      dev: {local: {memory: 512}}\n", `4:13: functions.fn.targets.dev.local: "as" is required`},
		{"local bad as", head + "    targets:\n      dev: {local: {as: lamda}}\n", `4:25: functions.fn.targets.dev.local.as: "lamda" is not one of lambda, cloudrun (did you mean "lambda"?)`},
		{"local lambda port", head + "    targets:\n      dev: {local: {as: lambda, port: 8080}}\n", `4:33: functions.fn.targets.dev.local.port: only a local target run as cloudrun listens on a port`},
		{"local cloudrun memory", head + "    targets:\n      dev: {local: {as: cloudrun, memory: 1024}}\n", `4:43: functions.fn.targets.dev.local.memory: "1024" is not a Cloud Run memory size`},
		{"local bad name", head + "    targets:\n      dev: {local: {as: lambda, name: Dev}}\n", `4:39: functions.fn.targets.dev.local.name: "Dev" is not a local name`},
		{"local function name not usable", "functions:\n  Fn:\n    targets:\n      dev: {local: {as: lambda}}\n", `4:13: functions.Fn.targets.dev.local: the function name "Fn" is not a valid local name`},
		{"local name clash", head + "    targets:\n      a: {local: {as: lambda}}\n      b: {local: {as: cloudrun}}\n", `5:11: functions.fn.targets.b.local: local name "fn" is already used by fn/a`},
		{"build context missing", head + "    build: {context: nowhere}\n", `3:22: functions.fn.build.context: directory "nowhere" does not exist`},
		{"build context is a file", head + "    build: {context: Dockerfile}\n", `3:22: functions.fn.build.context: "Dockerfile" is not a directory`},
		{"dockerfile missing", head + "    build: {context: src, dockerfile: Dockerfile.prod}\n", `3:39: functions.fn.build.dockerfile: file "Dockerfile.prod" does not exist`},
		{"default dockerfile missing", head + "    build: {context: payloads}\n", `3:22: functions.fn.build.dockerfile: file "Dockerfile" does not exist`},
		{"platform", head + "    build: {platform: linux/x86_64}\n", `3:23: functions.fn.build.platform: "linux/x86_64" is not one of linux/amd64, linux/arm64`},
		{"build args", head + "    build: {args: [A=1]}\n", `3:19: functions.fn.build.args: expected a mapping of NAME: value, got a list`},
		{"payload missing", head + "    payloads: {big: payloads/big.json}\n", `3:21: functions.fn.payloads.big: file "payloads/big.json" does not exist`},
		{"payload is a dir", head + "    payloads: {dir: payloads}\n", `3:21: functions.fn.payloads.dir: "payloads" is a directory, not a file`},
		{"targets not a map", head + "    targets: [prod]\n", `3:14: functions.fn.targets: expected a mapping of target name to target, got a list`},
		{"yaml syntax", head + "    targets: {prod: {lambda: }\n", `3:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := project(t, tt.yaml)
			p, err := LoadProject(dir)
			if p != nil {
				t.Errorf("LoadProject returned a project along with problems")
			}
			ps := problemsOf(t, err)
			if len(ps) != 1 {
				t.Fatalf("want one problem, got %d:\n%v", len(ps), err)
			}
			want := filepath.Join(dir, ProjectFile) + ":" + tt.want
			if got := ps[0].Error(); !strings.HasPrefix(got, want) {
				t.Errorf("got  %s\nwant %s…", got, want)
			}
		})
	}
}

func TestProjectTwoMistakesBothReported(t *testing.T) {
	dir := project(t, `functions:
  fn:
    build: {platform: linux/386}
    targets:
      prod: {lambda: {region: eu-west-1, function: fn, memory: 99999, timeout: -1}}
      web: {cloudrun: {project: acme-web, service: fn}}
    payloads: {a: missing.json}
  other:
    targets:
      dev: {local: {as: docker}}
`)
	_, err := LoadProject(dir)
	ps := problemsOf(t, err)
	want := []string{
		"3:23: functions.fn.build.platform",
		"5:64: functions.fn.targets.prod.lambda.memory",
		"5:80: functions.fn.targets.prod.lambda.timeout",
		"6:13: functions.fn.targets.web.cloudrun: \"region\" is required",
		"7:19: functions.fn.payloads.a",
		"10:25: functions.other.targets.dev.local.as",
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for i, w := range want {
		if got := ps[i].Error(); !strings.HasPrefix(got, filepath.Join(dir, ProjectFile)+":"+w) {
			t.Errorf("problem %d = %s\nwant prefix %s", i, got, w)
		}
	}
}

func TestProjectMergeKeys(t *testing.T) {
	dir := project(t, `functions:
  fn:
    targets:
      eu: &lambda {lambda: {region: eu-west-1, function: fn, memory: 512}}
      us:
        lambda:
          <<: {region: us-east-1, function: fn, memory: 512}
          memory: 1024
`)
	p, err := LoadProject(dir)
	if err != nil {
		t.Fatal(err)
	}
	us := p.Function("fn").Target("us").Lambda
	if us.Region != "us-east-1" || us.MemoryMB != 1024 {
		t.Errorf("merged target = %+v", us)
	}
}
