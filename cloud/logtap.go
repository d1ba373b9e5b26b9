package cloud

import "context"

type logBusyKey struct{}

// WithLogBusy tells a LogTailer called with the returned context that its
// consumer can be momentarily full: while busy() reports true, a backend
// that can drop lines cheaply at the source (the local target's log tap)
// skips them, counts them, and emits the count as a notice line once the
// consumer has room again, rather than decoding lines that would be thrown
// away. Backends that cannot drop ignore it and emit every line.
func WithLogBusy(ctx context.Context, busy func() bool) context.Context {
	return context.WithValue(ctx, logBusyKey{}, busy)
}

// LogBusy returns the function WithLogBusy put in ctx, or nil.
func LogBusy(ctx context.Context) func() bool {
	f, _ := ctx.Value(logBusyKey{}).(func() bool)
	return f
}
