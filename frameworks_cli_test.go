package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fndeck/fndeck/ui/cli"
)

// runIn runs the fndeck command line in dir, as the binary does.
func runIn(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(home, "state"))
	t.Setenv("FNDECK_CONFIG", "")
	t.Chdir(dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := cli.Execute(ctx, cli.Deps{Version: "test", Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Open: open}, args)
	return code, stdout.String() + stderr.String()
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for n, text := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Malformed framework files, unknown intrinsics and values a command needs
// but fndeck cannot resolve end `fndeck deploy` with exit 2 and positioned
// problems, before anything is built or deployed.
func TestDeployFrameworkProblemsExit2(t *testing.T) {
	const sls = "service: thumbs\nprovider:\n  name: aws\n  stage: ${opt:stage}\n  ecr:\n    images:\n      app: {path: .}\nfunctions:\n  resize:\n    image: app\n  secretive:\n    name: ${ssm:/thumbs/name}\n    image: app\n"
	cases := []struct {
		name  string
		files map[string]string
		args  []string
		want  []string
	}{
		{
			name:  "malformed serverless.yml",
			files: map[string]string{"serverless.yml": "service: x\nfunctions:\n  a: [\n"},
			args:  []string{"deploy", "img:1", "a.dev"},
			want:  []string{"serverless.yml:3:"},
		},
		{
			name:  "unknown intrinsic in template.yaml",
			files: map[string]string{"Dockerfile": "FROM scratch\n", "template.yaml": "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      FunctionName: !Nope x\n    Metadata: {DockerContext: .}\n"},
			args:  []string{"deploy", "img:1", "Fn.default"},
			want:  []string{"template.yaml:7:21: unknown intrinsic function !Nope"},
		},
		{
			name:  "the stage is needed and not given",
			files: map[string]string{"Dockerfile": "FROM scratch\n", "serverless.yml": sls},
			args:  []string{"deploy", "img:1", "resize.dev"},
			want:  []string{"serverless.yml:4:10: provider.stage: ${opt:stage}", "--stage S"},
		},
		{
			name:  "a function name fndeck cannot resolve",
			files: map[string]string{"Dockerfile": "FROM scratch\n", "serverless.yml": sls},
			args:  []string{"--stage", "prod", "deploy", "img:1", "secretive.prod"},
			want:  []string{"target secretive.prod cannot be used yet", "serverless.yml:12:11: functions.secretive.name: ${ssm:/thumbs/name}"},
		},
		{
			name:  "a stage that the file does not have",
			files: map[string]string{"Dockerfile": "FROM scratch\n", "serverless.yml": sls},
			args:  []string{"--stage", "prod", "deploy", "img:1", "resize.dev"},
			want:  []string{"unknown target \"resize.dev\""},
		},
		{
			name:  "serverless.ts",
			files: map[string]string{"serverless.ts": "export default {}\n"},
			args:  []string{"deploy", "img:1", "a.dev"},
			want:  []string{"serverless.ts: ", "serverless print"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			code, out := runIn(t, dir, tc.args...)
			if code != cli.ExitUsage {
				t.Errorf("exit %d, want %d:\n%s", code, cli.ExitUsage, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output:\n%s\nwant it to contain %q", out, w)
				}
			}
		})
	}
}
