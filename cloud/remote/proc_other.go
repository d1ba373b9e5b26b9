//go:build !linux

package remote

import "os/exec"

// setProcAttr: outside Linux the helper relies on its stdin closing.
func setProcAttr(cmd *exec.Cmd) {}
