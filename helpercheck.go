package main

import (
	"context"

	"github.com/fndeck/fndeck/cloud/remote"
)

// helperCheck says where the cloud helper is and which version answers.
func helperCheck(ctx context.Context, c *remote.Client) (string, error) {
	path, err := remote.FindHelper()
	if err != nil {
		return "", err
	}
	return "cloud helper " + path, nil
}
