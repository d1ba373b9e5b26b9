package local

import (
	"context"
	osexec "os/exec"
	"time"
)

// execCommand runs a cleanup command, ignoring its output.
func execCommand(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return osexec.CommandContext(ctx, name, args...).Run()
}
