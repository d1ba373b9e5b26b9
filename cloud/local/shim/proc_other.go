//go:build !unix

package shim

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
)

// The shim is the entrypoint of Linux containers: fndeck on Windows mounts
// the embedded Linux build (package shimbin) into them and never runs this
// one. What follows keeps the package compiling here; Main refuses to start.

var forwarded = []os.Signal{os.Interrupt}

// checkPlatform reports why the shim cannot run here.
func checkPlatform() error {
	return fmt.Errorf("the shim runs only inside Linux containers, not on %s/%s (fndeck mounts its embedded Linux shim into them)", runtime.GOOS, runtime.GOARCH)
}

func ownProcessGroup(*exec.Cmd) {}

func killGroup(p *os.Process) { _ = p.Kill() }

func reapGroup(int) {}

func waitChild(p *os.Process) int {
	st, err := p.Wait()
	if err != nil {
		return 1
	}
	return st.ExitCode()
}
