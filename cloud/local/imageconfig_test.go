package local

import (
	"testing"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// A deploy's image config replaces the image's ENTRYPOINT, CMD and WORKDIR
// in the container (the app reports what it runs with), and a rollback to
// an earlier deploy restores that deploy's image config with its image.
func TestDeployAppliesImageConfig(t *testing.T) {
	c := newClient(t)
	image := supervisedImage(t)
	b := newBackend(t, c, shimFromSource(t))
	ctx := testCtx(t)
	name := cloudtest.UniqueName("imgcfg")
	removeOnCleanup(t, name)
	target := cloud.Address{Provider: cloud.Local, Function: name}

	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image, As: "cloudrun"}, nil); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if got, want := get(t, b, target, "/info"), `wd=/srv args=from-entrypoint,from-cmd x=from-image uid=1000 token=""`; got != want {
		t.Fatalf("without image config /info = %q, want %q", got, want)
	}

	ic := &cloud.ImageConfig{Entrypoint: []string{"/supervised", "from-config-entrypoint"}, Command: []string{"from-config-cmd"}, Workdir: "/var/task"}
	withConfig, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image, As: "cloudrun", ImageConfig: ic}, nil)
	if err != nil {
		t.Fatalf("deploy with image config: %v", err)
	}
	want := `wd=/var/task args=from-config-entrypoint,from-config-cmd x=from-image uid=1000 token=""`
	if got := get(t, b, target, "/info"); got != want {
		t.Errorf("with image config /info = %q, want %q", got, want)
	}

	// Only the command given: the image's entrypoint and WORKDIR stay.
	if _, err := b.Deploy(ctx, cloud.DeployRequest{Target: target, Image: image, As: "cloudrun", ImageConfig: &cloud.ImageConfig{Command: []string{"other-handler"}}}, nil); err != nil {
		t.Fatalf("deploy with a command: %v", err)
	}
	if got, want := get(t, b, target, "/info"), `wd=/srv args=from-entrypoint,other-handler x=from-image uid=1000 token=""`; got != want {
		t.Errorf("with a command only /info = %q, want %q", got, want)
	}

	// Rolling back the last deploy restores the one before it (history
	// hands Rollback that entry): the same image, with its image config.
	if withConfig.Settings == nil || withConfig.Settings.ImageConfig == nil {
		t.Fatalf("the deploy result records no image config: %+v", withConfig.Settings)
	}
	if _, err := b.Rollback(ctx, target, withConfig, nil); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if got := get(t, b, target, "/info"); got != want {
		t.Errorf("after rollback /info = %q, want %q (the earlier image config)", got, want)
	}
}
