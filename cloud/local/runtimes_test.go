package local

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/docker"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// TestImageShapes deploys the layouts Lambda accepts besides a plain
// entrypoint: an AWS-base-image style /lambda-entrypoint.sh that runs RIE
// unless AWS_LAMBDA_RUNTIME_API is set, and a provided.al2023 style custom
// runtime (bootstrap in /var/runtime, CMD = handler name, no entrypoint).
func TestImageShapes(t *testing.T) {
	c := newClient(t)
	busybox := cloudtest.BusyboxPath(t)
	dir := t.TempDir()
	cloudtest.BuildStatic(t, "./testdata/hello", dir, "hello")
	bb, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	// Like the AWS base images' script: without the Runtime API it would start the emulator.
	script := `#!/bin/sh
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  echo "AWS_LAMBDA_RUNTIME_API is unset: would exec the RIE" >&2
  exit 1
fi
[ "$_HANDLER" = "app.handler" ] || { echo "_HANDLER=$_HANDLER" >&2; exit 1; }
exec /var/runtime/bootstrap "$@"
`
	if err := os.WriteFile(filepath.Join(dir, "lambda-entrypoint.sh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	shapes := map[string]string{
		"base": "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n" +
			"COPY hello /var/runtime/bootstrap\nCOPY lambda-entrypoint.sh /lambda-entrypoint.sh\nWORKDIR /var/task\n" +
			"ENTRYPOINT [\"/lambda-entrypoint.sh\"]\nCMD [\"app.handler\"]\n",
		"provided": "FROM scratch\nCOPY hello /var/runtime/bootstrap\nCMD [\"app.handler\"]\n",
	}
	b := newBackend(t, c, shimFromSource(t))
	ctx := testCtx(t)
	for shape, df := range shapes {
		t.Run(shape, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o600); err != nil {
				t.Fatal(err)
			}
			ref := cloudtest.UniqueName("fndeck-test-"+shape) + ":v1"
			cloudtest.Docker(t, "build", "-q", "--no-cache", "-t", ref, dir)
			t.Cleanup(func() { _ = execCommand("docker", "rmi", "-f", ref) })
			name := cloudtest.UniqueName(shape)
			removeOnCleanup(t, name)
			target := cloud.Address{Provider: cloud.Local, Function: name}
			if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: ref, As: "lambda"}, nil); err != nil {
				t.Fatalf("deploy: %v", err)
			}
			r, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target, Payload: []byte(`{"name":"` + shape + `"}`)}, nil)
			if err != nil || string(r.Response) != `{"greeting":"hello `+shape+`"}` {
				t.Fatalf("invoke: %v %s\nlog: %s", err, r.Response, r.LogTail)
			}
		})
	}
}

// TestDeployPullsRegistryImage deploys a registry reference that is not in
// the engine yet: the backend pulls it first.
func TestDeployPullsRegistryImage(t *testing.T) {
	c := newClient(t)
	reg := cloudtest.StartRegistry(t, false)
	local := buildImage(t, "./testdata/hello", "hello", `ENTRYPOINT ["/hello"]`)
	remote := reg.Addr + "/" + cloudtest.UniqueName("fndeck-pull") + ":v1"
	cloudtest.Docker(t, "tag", local, remote)
	cloudtest.Docker(t, "push", remote)
	cloudtest.Docker(t, "rmi", remote)
	t.Cleanup(func() { _ = execCommand("docker", "rmi", "-f", remote) })

	// The pull is the engine's (docker.Engine.Pull), as main wires it.
	ep, err := docker.Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := docker.New(ep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	b, err := New(Options{Client: c, Network: NetworkHost, ShimPath: shimFromSource(t), StateDir: t.TempDir(), ReadyTimeout: 30 * time.Second, Pull: eng.Pull})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	name := cloudtest.UniqueName("pulled")
	removeOnCleanup(t, name)
	target := cloud.Address{Provider: cloud.Local, Function: name}
	sink := &lineSink{}
	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: remote}, sink); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if len(sink.lines) == 0 || sink.lines[0] != "pulling "+remote {
		t.Errorf("deploy output does not say it pulled: %q", sink.lines)
	}
	r, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target, Payload: []byte(`{"name":"pulled"}`)}, nil)
	if err != nil || string(r.Response) != `{"greeting":"hello pulled"}` {
		t.Fatalf("invoke: %v %s", err, r.Response)
	}
	// A bare name missing locally is not fetched from Docker Hub.
	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: cloudtest.UniqueName("nosuch") + ":v1"}, nil); err == nil {
		t.Error("deploying a missing bare image succeeded")
	}
	if r, err := b.Invoke(ctx, cloud.InvokeRequest{Target: target, Payload: []byte(`{"name":"still"}`)}, nil); err != nil || string(r.Response) != `{"greeting":"hello still"}` {
		t.Errorf("a failed deploy broke the running function: %v %s", err, r.Response)
	}
}
