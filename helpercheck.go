package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/fndeck/fndeck/cloud/remote"
)

// helperCheck starts the cloud helper (if it is not running) and reports
// its path, build, protocol and capabilities from its handshake.
func helperCheck(ctx context.Context, c *remote.Client) (string, error) {
	h, path, err := c.Hello(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("cloud helper %s, build %s, protocol %d (%s)", path, h.Build, h.Protocol, strings.Join(h.Capabilities, ", ")), nil
}
