//go:build !unix

package app

import (
	"os"
	"time"
)

// inputWaiting cannot tell a waiting key here without reading it: the wait
// is bounded by d alone.
func inputWaiting(_ *os.File, d time.Duration) <-chan struct{} {
	ch := make(chan struct{})
	time.AfterFunc(d, func() { close(ch) })
	return ch
}
