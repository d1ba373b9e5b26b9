//go:build unix

package shim

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// forwarded are the signals a supervisor passes to the app: what `docker
// stop`, `docker kill -s` and a terminal send. SIGKILL/SIGSTOP cannot be
// caught (docker kill then ends the whole container anyway).
var forwarded = []os.Signal{
	syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH,
}

// checkPlatform reports why the shim cannot run here; on Unix it can.
func checkPlatform() error { return nil }

// ownProcessGroup makes cmd the leader of a new process group, so
// killGroup ends its children too.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the process group p leads (see ownProcessGroup).
func killGroup(p *os.Process) {
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
}

// reapGroup collects the runtime's orphaned children: the shim is PID 1 in
// the container, so they are reparented to it and would stay zombies.
func reapGroup(pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-pgid, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// waitChild waits for p and returns its exit code (128+N when killed by
// signal N, as a shell reports it). As PID 1 of the container the shim also
// inherits the app's orphaned children: it reaps every child then, so none
// stays a zombie.
func waitChild(p *os.Process) int {
	pid := p.Pid
	var ws syscall.WaitStatus
	if os.Getpid() != 1 {
		for {
			_, err := syscall.Wait4(pid, &ws, 0, nil)
			if !errors.Is(err, syscall.EINTR) {
				return exitCode(ws)
			}
		}
	}
	for {
		got, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || got == pid {
			if got == pid {
				go reapOrphans()
			}
			return exitCode(ws)
		}
	}
}

// reapOrphans keeps collecting children reparented to PID 1 until the shim exits.
func reapOrphans() {
	for {
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(-1, &ws, 0, nil); err != nil && !errors.Is(err, syscall.EINTR) {
			if errors.Is(err, syscall.ECHILD) {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			return
		}
	}
}

func exitCode(ws syscall.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return 1
}
