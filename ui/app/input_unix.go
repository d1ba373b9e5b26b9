//go:build unix

package app

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// inputWaiting returns a channel that closes once in has bytes to read (a
// key typed), or once d has passed. Nothing is read: the bytes stay for the
// program's reader.
func inputWaiting(in *os.File, d time.Duration) <-chan struct{} {
	ch := make(chan struct{})
	fd := int32(in.Fd())
	go func() {
		defer close(ch)
		deadline := time.Now().Add(d)
		for {
			left := time.Until(deadline)
			if left <= 0 {
				return
			}
			fds := []unix.PollFd{{Fd: fd, Events: unix.POLLIN}}
			n, err := unix.Poll(fds, int(left.Milliseconds())+1)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || n > 0 {
				return
			}
		}
	}()
	return ch
}
