package actions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/gofrs/flock"
)

// fileKey turns a target key into a file name: readable characters kept,
// the rest replaced, and a short hash of the exact key appended so two keys
// that sanitize alike never share a file.
func fileKey(key string) string {
	var b strings.Builder
	for _, c := range key {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 100 {
			break
		}
	}
	sum := sha256.Sum256([]byte(key))
	return b.String() + "-" + hex.EncodeToString(sum[:4])
}

// Lock waiting backs off from lockPollMin to lockPollMax between attempts.
const (
	lockPollMin = 10 * time.Millisecond
	lockPollMax = 500 * time.Millisecond
)

// LockTarget takes the per-target lock that serializes deploys and rollbacks
// to one target across goroutines and fndeck processes (an flock on
// StateDir/locks/<key>.lock). The key leaves out a Lambda qualifier: a
// deploy through an alias still updates the one function. It waits, polling with backoff, until the lock
// is free or ctx ends; the error then says who holds it. unlock releases it.
func LockTarget(ctx context.Context, stateDir string, target cloud.Address) (unlock func(), err error) {
	return LockTargetWait(ctx, stateDir, target, nil)
}

// LockTargetWait is LockTarget that calls waiting once, with a description
// of the holder ("pid 1234"), when it has to wait — so the UI can say why
// a deploy is not starting.
func LockTargetWait(ctx context.Context, stateDir string, target cloud.Address, waiting func(holder string)) (unlock func(), err error) {
	if target.IsZero() {
		return nil, fmt.Errorf("locking target: empty address: %w", cloud.ErrInvalid)
	}
	target.Qualifier = ""
	return lockFile(ctx, filepath.Join(stateDir, "locks", fileKey(target.Key())+".lock"), target.Key(), waiting)
}

// inProcess queues goroutines of this process on one lock file in a
// channel (fair and ctx-aware), so only one of them polls the flock at a
// time; flock alone would have them all polling with backoff. It is process
// state by nature (flock's own state is too), hence package-level.
var inProcess = struct {
	mu    sync.Mutex
	slots map[string]chan struct{}
}{slots: map[string]chan struct{}{}}

func processSlot(path string) chan struct{} {
	inProcess.mu.Lock()
	defer inProcess.mu.Unlock()
	c, ok := inProcess.slots[path]
	if !ok {
		c = make(chan struct{}, 1)
		inProcess.slots[path] = c
	}
	return c
}

func lockFile(ctx context.Context, path, what string, waiting func(holder string)) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("locking %s: %w", what, err)
	}
	slot := processSlot(path)
	select {
	case slot <- struct{}{}:
	default:
		if waiting != nil {
			waiting(lockHolder(path))
			waiting = nil
		}
		select {
		case slot <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the lock on %s (held by %s): %w", what, lockHolder(path), ctx.Err())
		}
	}
	release := func() { <-slot }
	fl := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o600))
	delay := lockPollMin
	for {
		ok, err := fl.TryLock()
		if err != nil {
			release()
			return nil, fmt.Errorf("locking %s: %w", what, err)
		}
		if ok {
			break
		}
		if waiting != nil {
			waiting(lockHolder(path))
			waiting = nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			release()
			return nil, fmt.Errorf("waiting for the lock on %s (held by %s): %w", what, lockHolder(path), ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, lockPollMax)
	}
	// Say who holds it, for whoever waits. The lock is on the inode, so
	// rewriting the content does not disturb it.
	_ = os.WriteFile(path, []byte("pid "+strconv.Itoa(os.Getpid())+"\n"), 0o600)
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = os.Truncate(path, 0)
			_ = fl.Unlock()
			release()
		})
	}, nil
}

// lockHolder reads the holder note from a lock file.
func lockHolder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return "another fndeck process or task"
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
