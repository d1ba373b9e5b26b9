package gcp

import (
	"context"
	"slices"
	"testing"

	"github.com/fndeck/fndeck/cloud"
)

// A deploy's image config reaches the service's container: the entrypoint
// as command, the command as args, the working directory; what it leaves
// out keeps the service's value.
func TestDeployAppliesImageConfig(t *testing.T) {
	f, b, target := deployFixture(t)
	img := "europe-west1-docker.pkg.dev/acme-web/app/api:v2"
	ic := &cloud.ImageConfig{Entrypoint: []string{"/server"}, Command: []string{"--handler", "resize"}, Workdir: "/app"}
	if _, err := b.Deploy(context.Background(), cloud.DeployRequest{Target: target, Image: img, ImageConfig: ic}, nil); err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	ups := f.Updates()
	if len(ups) != 1 {
		t.Fatalf("%d updates, want 1", len(ups))
	}
	c := ups[0].GetService().GetTemplate().GetContainers()[0]
	if !slices.Equal(c.GetCommand(), []string{"/server"}) || !slices.Equal(c.GetArgs(), []string{"--handler", "resize"}) || c.GetWorkingDir() != "/app" || c.GetImage() != img {
		t.Errorf("container = command %v args %v workdir %q image %s", c.GetCommand(), c.GetArgs(), c.GetWorkingDir(), c.GetImage())
	}

	// A second deploy with only a command keeps the entrypoint and workdir.
	if _, err := b.Deploy(context.Background(), cloud.DeployRequest{Target: target, Image: img, ImageConfig: &cloud.ImageConfig{Command: []string{"--handler", "crop"}}}, nil); err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	ups = f.Updates()
	c = ups[len(ups)-1].GetService().GetTemplate().GetContainers()[0]
	if !slices.Equal(c.GetCommand(), []string{"/server"}) || !slices.Equal(c.GetArgs(), []string{"--handler", "crop"}) || c.GetWorkingDir() != "/app" {
		t.Errorf("second deploy container = command %v args %v workdir %q", c.GetCommand(), c.GetArgs(), c.GetWorkingDir())
	}
}
