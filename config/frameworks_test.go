package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fndeck/fndeck/cloud"
)

func loadFramework(t *testing.T, dir string, opts ProjectOptions) *Project {
	t.Helper()
	p, err := LoadProjectWith(dir, opts)
	if err != nil {
		t.Fatalf("LoadProjectWith(%s): %v", dir, err)
	}
	if p == nil {
		t.Fatalf("LoadProjectWith(%s): no project", dir)
	}
	return p
}

func functionNames(p *Project) []string {
	var out []string
	for _, f := range p.Functions {
		out = append(out, f.Name)
	}
	return out
}

func TestServerlessFunctions(t *testing.T) {
	dir := filepath.Join("testdata", "frameworks", "serverless")
	abs, _ := filepath.Abs(dir)
	file := filepath.Join(dir, "serverless.yml")
	appBuild := func(stage string) *Build {
		return &Build{Context: filepath.Join(abs, "app"), Dockerfile: filepath.Join(abs, "app", "Dockerfile"),
			Platform: "linux/arm64", Args: map[string]string{"PYTHON_VERSION": "3.12", "STAGE": stage}}
	}
	workerBuild := &Build{Context: filepath.Join(abs, "worker"), Dockerfile: filepath.Join(abs, "worker", "Dockerfile.worker"), Args: map[string]string{}}

	type fnWant struct {
		name   string
		build  *Build
		target string
		lambda LambdaTarget
		ic     *cloud.ImageConfig
		unres  []string // substrings of the target's unresolved problems
	}
	cases := []struct {
		name string
		opts ProjectOptions
		want []fnWant
	}{
		{
			name: "default stage and region",
			opts: ProjectOptions{},
			want: []fnWant{
				{name: "resize", build: appBuild("dev"), target: "dev",
					lambda: LambdaTarget{Profile: "thumbs-dev", Region: "eu-west-1", Function: "thumbs-dev-resize", MemoryMB: 1024, TimeoutS: 10, Arch: "arm64"},
					ic:     &cloud.ImageConfig{Command: []string{"app.resize"}}},
				{name: "crop", build: appBuild("dev"), target: "dev",
					lambda: LambdaTarget{Profile: "thumbs-dev", Region: "eu-west-1", Function: "thumbs-crop-dev", MemoryMB: 512, TimeoutS: 10, Arch: "arm64"},
					ic:     &cloud.ImageConfig{Command: []string{"app.crop"}, Entrypoint: []string{"/lambda-entrypoint.sh"}, Workdir: "/var/task"}},
				{name: "worker", build: workerBuild, target: "dev",
					lambda: LambdaTarget{Profile: "thumbs-dev", Region: "eu-west-1", Function: "thumbs-dev-worker", MemoryMB: 2048, TimeoutS: 60, Arch: "x86_64"}},
				{name: "secretive", build: appBuild("dev"), target: "dev",
					lambda: LambdaTarget{Profile: "thumbs-dev", Region: "eu-west-1", MemoryMB: 512, TimeoutS: 10, Arch: "arm64"},
					unres:  []string{"functions.secretive.name: ${ssm:/thumbs/secretive-name}: ssm variables are resolved by the Serverless Framework"}},
				{name: "external", target: "dev",
					lambda: LambdaTarget{Profile: "thumbs-dev", Region: "eu-west-1", Function: "thumbs-dev-external", MemoryMB: 512, TimeoutS: 10, Arch: "arm64"}},
			},
		},
		{
			name: "--stage prod and the region from the environment",
			opts: ProjectOptions{Stage: "prod", Env: []string{"THUMBS_REGION=us-west-2"}},
			want: []fnWant{
				{name: "resize", build: appBuild("prod"), target: "prod",
					lambda: LambdaTarget{Profile: "thumbs-prod", Region: "us-west-2", Function: "thumbs-prod-resize", MemoryMB: 1024, TimeoutS: 10, Arch: "arm64"},
					ic:     &cloud.ImageConfig{Command: []string{"app.resize"}}},
				{name: "crop", build: appBuild("prod"), target: "prod",
					lambda: LambdaTarget{Profile: "thumbs-prod", Region: "us-west-2", Function: "thumbs-crop-prod", MemoryMB: 512, TimeoutS: 10, Arch: "arm64"},
					ic:     &cloud.ImageConfig{Command: []string{"app.crop"}, Entrypoint: []string{"/lambda-entrypoint.sh"}, Workdir: "/var/task"}},
				{name: "worker", build: workerBuild, target: "prod",
					lambda: LambdaTarget{Profile: "thumbs-prod", Region: "us-west-2", Function: "thumbs-prod-worker", MemoryMB: 2048, TimeoutS: 60, Arch: "x86_64"}},
				{name: "secretive", build: appBuild("prod"), target: "prod",
					lambda: LambdaTarget{Profile: "thumbs-prod", Region: "us-west-2", MemoryMB: 512, TimeoutS: 10, Arch: "arm64"},
					unres:  []string{"ssm variables"}},
				{name: "external", target: "prod",
					lambda: LambdaTarget{Profile: "thumbs-prod", Region: "us-west-2", Function: "thumbs-prod-external", MemoryMB: 512, TimeoutS: 10, Arch: "arm64"}},
			},
		},
		{
			name: "a stage without a profile falls back to the default",
			opts: ProjectOptions{Stage: "qa"},
			want: []fnWant{
				{name: "resize", build: appBuild("qa"), target: "qa",
					lambda: LambdaTarget{Profile: "default", Region: "eu-west-1", Function: "thumbs-qa-resize", MemoryMB: 1024, TimeoutS: 10, Arch: "arm64"},
					ic:     &cloud.ImageConfig{Command: []string{"app.resize"}}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := loadFramework(t, dir, tc.opts)
			if p.File != file {
				t.Errorf("File = %q, want %q", p.File, file)
			}
			for _, w := range tc.want {
				fn := p.Function(w.name)
				if fn == nil {
					t.Fatalf("no function %q in %v", w.name, functionNames(p))
				}
				if fn.Source != file {
					t.Errorf("%s: Source = %q, want %q", w.name, fn.Source, file)
				}
				if !reflect.DeepEqual(fn.Build, w.build) {
					t.Errorf("%s: Build = %+v, want %+v", w.name, fn.Build, w.build)
				}
				if len(fn.Targets) != 1 || fn.Targets[0].Name != w.target {
					t.Fatalf("%s: targets %+v, want one named %q", w.name, fn.Targets, w.target)
				}
				tg := fn.Targets[0]
				if tg.Lambda == nil || !reflect.DeepEqual(*tg.Lambda, w.lambda) {
					t.Errorf("%s: lambda = %+v, want %+v", w.name, tg.Lambda, w.lambda)
				}
				if !reflect.DeepEqual(tg.ImageConfig, w.ic) {
					t.Errorf("%s: image config = %+v, want %+v", w.name, tg.ImageConfig, w.ic)
				}
				if len(tg.Unresolved) != len(w.unres) {
					t.Errorf("%s: unresolved = %v, want %d", w.name, tg.Unresolved, len(w.unres))
				}
				for i, u := range w.unres {
					if i < len(tg.Unresolved) && !strings.Contains(tg.Unresolved[i].Error(), u) {
						t.Errorf("%s: unresolved[%d] = %q, want it to contain %q", w.name, i, tg.Unresolved[i].Error(), u)
					}
				}
				if (tg.Err() == nil) != (len(w.unres) == 0) {
					t.Errorf("%s: Err() = %v", w.name, tg.Err())
				}
				if !strings.Contains(tg.Note, "Serverless Framework") {
					t.Errorf("%s: note %q", w.name, tg.Note)
				}
			}
		})
	}
	// The zip function is not fndeck's; the order is the file's.
	p := loadFramework(t, dir, ProjectOptions{})
	if got, want := functionNames(p), []string{"resize", "crop", "worker", "secretive", "external"}; !reflect.DeepEqual(got, want) {
		t.Errorf("functions %v, want %v", got, want)
	}
	// The unresolved name points at where it is written.
	u := p.Function("secretive").Targets[0].Unresolved[0]
	if u.File != file || u.Line != 58 || u.Col != 11 {
		t.Errorf("unresolved at %s:%d:%d, want %s:58:11", u.File, u.Line, u.Col, file)
	}
}

func TestSAMFunctions(t *testing.T) {
	dir := filepath.Join("testdata", "frameworks", "sam")
	abs, _ := filepath.Abs(dir)
	file := filepath.Join(dir, "template.yaml")
	p := loadFramework(t, dir, ProjectOptions{})
	if got, want := functionNames(p), []string{"HelloFunction", "WorldFunction", "JoinedFunction"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("functions %v, want %v", got, want)
	}
	builds := map[string]*Build{
		"HelloFunction": {Context: filepath.Join(abs, "hello"), Dockerfile: filepath.Join(abs, "hello", "Dockerfile"), Platform: "linux/arm64",
			Args: map[string]string{"PYTHON_VERSION": "3.12"}, Target: "runtime", Tag: "python3.12-v1"},
		"WorldFunction":  {Context: filepath.Join(abs, "world"), Dockerfile: filepath.Join(abs, "world", "Dockerfile.world"), Platform: "linux/amd64", Args: map[string]string{}},
		"JoinedFunction": {Context: filepath.Join(abs, "hello"), Dockerfile: filepath.Join(abs, "hello", "Dockerfile"), Platform: "linux/arm64", Args: map[string]string{}},
	}
	for name, want := range builds {
		fn := p.Function(name)
		if !reflect.DeepEqual(fn.Build, want) {
			t.Errorf("%s: Build = %+v, want %+v", name, fn.Build, want)
		}
		if fn.Source != file {
			t.Errorf("%s: Source = %q", name, fn.Source)
		}
	}
	cases := []struct {
		fn, target string
		lambda     LambdaTarget
		ic         *cloud.ImageConfig
		unres      string
	}{
		{"HelloFunction", "default", LambdaTarget{Profile: "dev", Region: "eu-west-1", Function: "thumbs-dev-hello", MemoryMB: 1024, TimeoutS: 30, Arch: "arm64"},
			&cloud.ImageConfig{Command: []string{"app.lambda_handler"}, Workdir: "/var/task"}, ""},
		{"HelloFunction", "prod", LambdaTarget{Profile: "prod", Region: "us-east-1", Function: "thumbs-prod-hello", MemoryMB: 2048, TimeoutS: 30, Arch: "arm64"},
			&cloud.ImageConfig{Command: []string{"app.lambda_handler"}, Workdir: "/var/task"}, ""},
		{"WorldFunction", "default", LambdaTarget{Profile: "dev", Region: "eu-west-1", MemoryMB: 512, TimeoutS: 5, Arch: "x86_64"},
			nil, ""},
		{"WorldFunction", "prod", LambdaTarget{Profile: "prod", Region: "us-east-1", MemoryMB: 512, TimeoutS: 5, Arch: "x86_64"},
			nil, ""},
		{"JoinedFunction", "default", LambdaTarget{Profile: "dev", Region: "eu-west-1", Function: "thumbs-euw1-joined", MemoryMB: 512, TimeoutS: 30, Arch: "arm64"},
			&cloud.ImageConfig{Entrypoint: []string{"/debug.sh"}}, ""},
		{"JoinedFunction", "prod", LambdaTarget{Profile: "prod", Region: "us-east-1", Function: "big-use1-joined", MemoryMB: 512, TimeoutS: 30, Arch: "arm64"},
			nil, ""},
	}
	for _, tc := range cases {
		tg := p.Function(tc.fn).Target(tc.target)
		if tg == nil {
			t.Errorf("%s.%s: no such target", tc.fn, tc.target)
			continue
		}
		if !reflect.DeepEqual(*tg.Lambda, tc.lambda) {
			t.Errorf("%s.%s: lambda = %+v, want %+v", tc.fn, tc.target, *tg.Lambda, tc.lambda)
		}
		if !reflect.DeepEqual(tg.ImageConfig, tc.ic) {
			t.Errorf("%s.%s: image config = %+v, want %+v", tc.fn, tc.target, tg.ImageConfig, tc.ic)
		}
		// Without a FunctionName the name comes from the environment's stack.
		var wantStack *cloud.StackResource
		if tc.fn == "WorldFunction" {
			wantStack = &cloud.StackResource{Profile: tc.lambda.Profile, Region: tc.lambda.Region, Stack: "thumbs-" + map[string]string{"default": "dev", "prod": "prod"}[tc.target], LogicalID: "WorldFunction"}
		}
		if !reflect.DeepEqual(tg.Stack, wantStack) {
			t.Errorf("%s.%s: stack = %+v, want %+v", tc.fn, tc.target, tg.Stack, wantStack)
		}
		switch {
		case tc.unres == "" && tg.Err() != nil:
			t.Errorf("%s.%s: unexpected unresolved %v", tc.fn, tc.target, tg.Err())
		case tc.unres != "" && (tg.Err() == nil || !strings.Contains(tg.Err().Error(), tc.unres)):
			t.Errorf("%s.%s: unresolved %v, want %q", tc.fn, tc.target, tg.Err(), tc.unres)
		}
	}
}

func TestSAMWithoutSamconfigHasDefaultEnvironment(t *testing.T) {
	dir := t.TempDir()
	writeIn(t, dir, "Dockerfile", "FROM scratch\n")
	writeIn(t, dir, "template.yml", `Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      FunctionName: !Sub "${AWS::StackName}-api"
    Metadata:
      DockerContext: .
`)
	p := loadFramework(t, dir, ProjectOptions{})
	tg := p.Function("Api").Target("default")
	if tg == nil {
		t.Fatalf("targets %+v, want default", p.Function("Api").Targets)
	}
	err := tg.Err()
	if err == nil || !strings.Contains(err.Error(), "AWS::StackName") || !strings.Contains(err.Error(), "samconfig.toml") {
		t.Errorf("unresolved = %v, want the stack name and the region to be asked for", err)
	}
}

func TestKnativeService(t *testing.T) {
	dir := filepath.Join("testdata", "frameworks", "knative")
	file := filepath.Join(dir, "service.yaml")
	cases := []struct {
		name    string
		opts    ProjectOptions
		project string
		unres   string
	}{
		{"project number mapped by the one configured project", ProjectOptions{GCPProjects: []string{"acme-web"}}, "acme-web", ""},
		{"project number without a configured project", ProjectOptions{}, "", "123456789012 is a project number"},
		{"project number with several configured projects", ProjectOptions{GCPProjects: []string{"a-one", "b-two"}}, "", "gcp.projects"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := loadFramework(t, dir, tc.opts)
			fn := p.Function("thumbs-web")
			if fn == nil || fn.Source != file || fn.Build != nil {
				t.Fatalf("function %+v", fn)
			}
			tg := fn.Target("cloudrun")
			want := CloudRunTarget{Project: tc.project, Region: "europe-west1", Service: "thumbs-web", Port: 8080,
				Memory: "512Mi", MemoryMB: 512, TimeoutS: 300, Env: map[string]string{"LOG_LEVEL": "info"}}
			if !reflect.DeepEqual(*tg.CloudRun, want) {
				t.Errorf("cloudrun = %+v, want %+v", *tg.CloudRun, want)
			}
			if want := (&cloud.ImageConfig{Entrypoint: []string{"/server"}, Command: []string{"--listen", ":8080"}}); !reflect.DeepEqual(tg.ImageConfig, want) {
				t.Errorf("image config = %+v, want %+v", tg.ImageConfig, want)
			}
			switch {
			case tc.unres == "" && tg.Err() != nil:
				t.Errorf("unexpected unresolved %v", tg.Err())
			case tc.unres != "" && (tg.Err() == nil || !strings.Contains(tg.Err().Error(), tc.unres)):
				t.Errorf("unresolved %v, want %q", tg.Err(), tc.unres)
			}
			if tc.unres != "" && !strings.HasPrefix(tg.Err().Error(), file+":6:14: ") {
				t.Errorf("unresolved %q, want it at the namespace, %s:6:14", tg.Err(), file)
			}
		})
	}
}

func writeIn(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFrameworkProblems(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string // each problem, in order, as FILE:LINE:COL: message prefix
	}{
		{
			name:  "malformed serverless.yml",
			files: map[string]string{"serverless.yml": "service: x\nprovider:\n  name: aws\n   stage: dev\n"},
			want:  []string{"serverless.yml:3:9: invalid YAML"},
		},
		{
			name: "an image not in ecr.images, a bad architecture and a missing Dockerfile, all at once",
			files: map[string]string{"serverless.yml": `service: x
provider:
  name: aws
  ecr:
    images:
      app:
        path: ./nowhere
functions:
  a:
    image: ap
  b:
    image: app
    architecture: sparc
`},
			want: []string{
				"serverless.yml:7:15: provider.ecr.images.app: build context \"./nowhere\" does not exist",
				"serverless.yml:10:12: functions.a.image: image \"ap\" is not in provider.ecr.images (did you mean \"app\"?)",
				"serverless.yml:13:19: functions.b.architecture: \"sparc\" is not x86_64 or arm64",
			},
		},
		{
			name:  "a stage that cannot be resolved",
			files: map[string]string{"serverless.yml": "service: x\nprovider:\n  name: aws\n  stage: ${opt:stage}\n"},
			want:  []string{"serverless.yml:4:10: provider.stage: ${opt:stage}: no stage given and the variable has no default; pass the global --stage S"},
		},
		{
			name:  "a variable loop",
			files: map[string]string{"serverless.yml": "service: x\ncustom:\n  a: ${self:custom.b}\n  b: ${self:custom.a}\nprovider:\n  name: aws\n  stage: ${self:custom.a}\n"},
			want:  []string{"serverless.yml:7:10: provider.stage: variables in", "refer to each other in a loop"},
		},
		{
			name:  "serverless.ts next to a serverless.yml is left to the yml",
			files: map[string]string{"serverless.ts": "export default {}\n", "serverless.yml": "service: x\nprovider:\n  name: aws\n  region: nowhere\n"},
			want:  []string{"serverless.yml:4:11: provider.region: \"nowhere\" is not an AWS region"},
		},
		{
			name:  "serverless.ts",
			files: map[string]string{"serverless.ts": "export default {}\n"},
			want:  []string{"serverless.ts: ", "serverless print > serverless.yml"},
		},
		{
			name: "an unknown intrinsic function and a malformed one",
			files: map[string]string{"Dockerfile": "FROM scratch\n", "template.yaml": `Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      FunctionName: !Bogus name
      Timeout: !Select [one]
    Metadata:
      DockerContext: .
`},
			want: []string{
				"template.yaml:7:21: unknown intrinsic function !Bogus",
				"template.yaml:8:16: Resources.Fn.Properties.Timeout: Fn::Select: expected a list of 2 arguments",
			},
		},
		{
			name: "a SAM Metadata whose Dockerfile is missing",
			files: map[string]string{"template.yaml": `Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {PackageType: Image, FunctionName: fn}
    Metadata:
      DockerContext: .
      Dockerfile: Dockerfile.nope
`},
			want: []string{"template.yaml:8:19: Resources.Fn.Metadata: Dockerfile \"Dockerfile.nope\" does not exist"},
		},
		{
			name:  "invalid samconfig.toml",
			files: map[string]string{"samconfig.toml": "[default\n", "template.yaml": "Transform: AWS::Serverless-2016-10-31\nResources: {}\n"},
			want:  []string{"samconfig.toml:2:9: invalid TOML"},
		},
		{
			name: "a function in fndeck.yaml clashes with an included one",
			files: map[string]string{
				"Dockerfile":     "FROM scratch\n",
				"fndeck.yaml":    "include: [serverless.yml]\nfunctions:\n  api:\n    targets:\n      dev: {local: {as: lambda}}\n",
				"serverless.yml": "service: x\nprovider:\n  name: aws\n  ecr:\n    images:\n      app: {path: .}\nfunctions:\n  api:\n    image: app\n",
			},
			want: []string{"serverless.yml:8:3: function \"api\" is defined twice: here and in "},
		},
		{
			name:  "an included serverless.yml of another cloud",
			files: map[string]string{"fndeck.yaml": "include: [serverless.yml]\n", "serverless.yml": "service: x\nprovider:\n  name: google\n"},
			want:  []string{"serverless.yml:3:9: provider.name: fndeck reads Serverless Framework projects on AWS; got \"google\""},
		},
		{
			name:  "an included file that is no framework file",
			files: map[string]string{"fndeck.yaml": "include: [other.yaml]\n", "other.yaml": "a: b\n"},
			want:  []string{"fndeck.yaml:1:11: ", "is not a Serverless Framework file"},
		},
		{
			name:  "a Knative service with a bad memory and no containers",
			files: map[string]string{"service.yaml": "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: Web\nspec:\n  template:\n    spec: {}\n"},
			want:  []string{"service.yaml:4:9: metadata.name: \"Web\" is not a Cloud Run service name"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, text := range tc.files {
				writeIn(t, dir, n, text)
			}
			_, err := LoadProjectWith(dir, ProjectOptions{})
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err = %v, want Problems", err)
			}
			got := err.Error()
			positioned := 0
			for _, w := range tc.want {
				full := w
				if strings.Contains(w, ".yml:") || strings.Contains(w, ".yaml:") || strings.Contains(w, ".toml:") || strings.Contains(w, ".ts:") {
					full = filepath.Join(dir, w)
					positioned++
				}
				if !strings.Contains(got, full) {
					t.Errorf("problems:\n%s\nwant them to contain %q", got, full)
				}
			}
			if len(ps) != positioned {
				t.Errorf("got %d problems, want %d:\n%s", len(ps), positioned, got)
			}
		})
	}
}

// fndeck.yaml's image_config per target, and include: naming a framework
// file whose functions join the file's own (with their Source).
func TestProjectFileImageConfigAndInclude(t *testing.T) {
	dir := t.TempDir()
	writeIn(t, dir, "Dockerfile", "FROM scratch\n")
	writeIn(t, dir, "infra/serverless.yml", "service: thumbs\nprovider:\n  name: aws\n  ecr:\n    images:\n      app: {path: ..}\nfunctions:\n  resize:\n    image: {name: app, command: [app.resize]}\n")
	writeIn(t, dir, "fndeck.yaml", `include: [infra/serverless.yml]
functions:
  api:
    build: {context: .}
    targets:
      dev:
        local: {as: lambda}
        image_config: {command: [app.handler], entrypoint: /lambda-entrypoint.sh, workdir: /var/task}
      web:
        cloudrun: {project: acme-web, region: europe-west1, service: api}
`)
	p := loadFramework(t, dir, ProjectOptions{})
	if got, want := functionNames(p), []string{"api", "resize"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("functions %v, want %v", got, want)
	}
	api := p.Function("api")
	if api.Source != filepath.Join(dir, ProjectFile) {
		t.Errorf("api.Source = %q", api.Source)
	}
	want := &cloud.ImageConfig{Command: []string{"app.handler"}, Entrypoint: []string{"/lambda-entrypoint.sh"}, Workdir: "/var/task"}
	if got := api.Target("dev").ImageConfig; !reflect.DeepEqual(got, want) {
		t.Errorf("dev image config = %+v, want %+v", got, want)
	}
	if got := api.Target("web").ImageConfig; got != nil {
		t.Errorf("web image config = %+v, want none", got)
	}
	rs := p.Function("resize")
	if rs.Source != filepath.Join(dir, "infra", "serverless.yml") || rs.Build == nil || rs.Build.Context != dir {
		t.Errorf("resize = %+v (build %+v)", rs, rs.Build)
	}
	if tg := rs.Target("dev"); tg == nil || tg.Lambda.Function != "thumbs-dev-resize" || !reflect.DeepEqual(tg.ImageConfig, &cloud.ImageConfig{Command: []string{"app.resize"}}) {
		t.Errorf("resize.dev = %+v", tg)
	}

	// A bad image_config is a positioned problem.
	writeIn(t, dir, "fndeck.yaml", "functions:\n  api:\n    targets:\n      dev:\n        local: {as: lambda}\n        image_config: {workdir: relative, cmd: [x]}\n")
	_, err := LoadProjectWith(dir, ProjectOptions{})
	for _, w := range []string{
		filepath.Join(dir, ProjectFile) + ":6:43: unknown key \"cmd\" in functions.api.targets.dev.image_config",
		filepath.Join(dir, ProjectFile) + ":6:33: functions.api.targets.dev.image_config.workdir: \"relative\" is not an absolute path",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("err = %v, want %q", err, w)
		}
	}
}

// Files of other kinds found in the directory are left alone: a non-SAM
// template.yaml, a Kubernetes service.yaml, another cloud's serverless.yml.
func TestDiscoveryLeavesOtherFilesAlone(t *testing.T) {
	dir := t.TempDir()
	writeIn(t, dir, "template.yaml", "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n")
	writeIn(t, dir, "service.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n")
	writeIn(t, dir, "serverless.yml", "service: x\nprovider:\n  name: google\n")
	p, err := LoadProjectWith(dir, ProjectOptions{})
	if err != nil || p != nil {
		t.Fatalf("LoadProjectWith = %+v, %v; want no project and no error", p, err)
	}
}

// Values only the deployed stack knows are unresolved on the target that
// needs them, with where they are written; the rest of the template loads.
func TestSAMUnknowableValues(t *testing.T) {
	dir := t.TempDir()
	writeIn(t, dir, "Dockerfile", "FROM scratch\n")
	file := writeIn(t, dir, "template.yaml", `Transform: AWS::Serverless-2016-10-31
Parameters:
  NoDefault: {Type: String}
Resources:
  ByAttribute:
    Type: AWS::Serverless::Function
    Properties: {PackageType: Image, FunctionName: !GetAtt Other.Arn}
    Metadata: {DockerContext: .}
  ByImport:
    Type: AWS::Serverless::Function
    Properties: {PackageType: Image, FunctionName: !ImportValue shared-name}
    Metadata: {DockerContext: .}
  ByParameter:
    Type: AWS::Serverless::Function
    Properties: {PackageType: Image, FunctionName: !Ref NoDefault}
    Metadata: {DockerContext: .}
  Known:
    Type: AWS::Serverless::Function
    Properties: {PackageType: Image, FunctionName: known}
    Metadata: {DockerContext: .}
`)
	p := loadFramework(t, dir, ProjectOptions{})
	for fn, want := range map[string]string{
		"ByAttribute": file + ":7:52: Resources.ByAttribute.Properties.FunctionName: !GetAtt Other.Arn is known only once the stack is deployed",
		"ByImport":    file + ":11:52: Resources.ByImport.Properties.FunctionName: Fn::ImportValue is known only to CloudFormation",
		"ByParameter": file + ":15:52: Resources.ByParameter.Properties.FunctionName: !Ref NoDefault: the parameter has no Default",
	} {
		err := p.Function(fn).Target("default").Err()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", fn, err, want)
		}
		if err != nil && !strings.Contains(err.Error(), "there is no samconfig.toml") {
			t.Errorf("%s: %v, want the missing region asked for", fn, err)
		}
	}
	if tg := p.Function("Known").Target("default"); tg.Lambda.Function != "known" {
		t.Errorf("Known: %+v", tg.Lambda)
	}
}

// A setting fndeck cannot resolve makes only the targets it sets unusable.
func TestServerlessUnresolvedSettingStaysWithItsTarget(t *testing.T) {
	dir := t.TempDir()
	writeIn(t, dir, "Dockerfile", "FROM scratch\n")
	file := writeIn(t, dir, "serverless.yml", "service: s\nprovider:\n  name: aws\n  ecr:\n    images:\n      app: {path: .}\nfunctions:\n  a:\n    image: app\n    timeout: ${param:timeout}\n  b:\n    image: app\n    timeout: ${env:B_TIMEOUT, 20}\n")
	p := loadFramework(t, dir, ProjectOptions{})
	err := p.Function("a").Target("dev").Err()
	if want := file + ":10:14: functions.a.timeout: ${param:timeout}: param variables are resolved by the Serverless Framework"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a.dev: %v, want %q", err, want)
	}
	b := p.Function("b").Target("dev")
	if b.Err() != nil || b.Lambda.TimeoutS != 20 {
		t.Errorf("b.dev: %+v, %v", b.Lambda, b.Err())
	}
}
