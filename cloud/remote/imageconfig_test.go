package remote_test

import (
	"context"
	"slices"
	"testing"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/remote"
	"github.com/fndeck/fndeck/cloud/remote/wire"
	"github.com/fndeck/fndeck/internal/testsupport/gcpfake"
)

// A deploy's image config crosses the helper's wire and reaches the
// provider's request.
func TestDeployImageConfigCrossesTheWire(t *testing.T) {
	isolate(t)
	f := gcpfake.StartCloudRun(t)
	f.AddService("acme-web", "europe-west1", "api", "gcr.io/acme-web/api:1", "http://127.0.0.1:1")
	c := newClient(t, wire.Init{GCP: wire.GCPOptions{Projects: []string{"acme-web"}, RunEndpoint: f.Addr}})
	b := remote.New(cloud.GCP, c)
	req := cloud.DeployRequest{Target: mustAddr(t, "cloudrun:acme-web/europe-west1/api"), Image: "gcr.io/acme-web/api:2",
		ImageConfig: &cloud.ImageConfig{Entrypoint: []string{"/server"}, Command: []string{"--handler", "resize"}, Workdir: "/app"}}
	if _, err := b.Deploy(context.Background(), req, cloud.DiscardSink{}); err != nil {
		t.Fatalf("deploy through the helper: %v", err)
	}
	ups := f.Updates()
	if len(ups) != 1 {
		t.Fatalf("%d updates, want 1", len(ups))
	}
	ctr := ups[0].GetService().GetTemplate().GetContainers()[0]
	if !slices.Equal(ctr.GetCommand(), []string{"/server"}) || !slices.Equal(ctr.GetArgs(), []string{"--handler", "resize"}) || ctr.GetWorkingDir() != "/app" {
		t.Errorf("container after the helper's deploy: command %v args %v workdir %q", ctr.GetCommand(), ctr.GetArgs(), ctr.GetWorkingDir())
	}
}
