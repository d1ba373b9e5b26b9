package shim

import (
	"os"
	"syscall"
	"unsafe"
)

// pipeBuffered returns how many bytes wait unread in the pipe f (FIONREAD);
// 0 when it cannot tell.
func pipeBuffered(f *os.File) int {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0
	}
	var n int32
	_ = rc.Control(func(fd uintptr) {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); e != 0 {
			n = 0
		}
	})
	return int(n)
}
