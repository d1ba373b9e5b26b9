package remote

import (
	"os/exec"
	"syscall"
)

// setProcAttr kills the helper when fndeck dies (even by kill -9), and puts
// it in its own process group so the terminal's Ctrl-C reaches fndeck only:
// fndeck cancels the helper's calls itself.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
