package gcp

import (
	"cloud.google.com/go/run/apiv2/runpb"

	"github.com/fndeck/fndeck/cloud"
)

// applyImageConfig sets the container's command (the image's ENTRYPOINT
// replaced), args (its CMD) and working directory from a deploy's image
// config; fields it leaves empty keep the service's current values.
func applyImageConfig(c *runpb.Container, ic *cloud.ImageConfig) {
	if ic.IsZero() {
		return
	}
	if len(ic.Entrypoint) > 0 {
		c.Command = append([]string(nil), ic.Entrypoint...)
	}
	if len(ic.Command) > 0 {
		c.Args = append([]string(nil), ic.Command...)
	}
	if ic.Workdir != "" {
		c.WorkingDir = ic.Workdir
	}
}
