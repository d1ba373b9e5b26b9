package fake

import (
	"context"
	"fmt"
	"sync"

	"github.com/fndeck/fndeck/cloud"
)

// Lister is a function source answering from memory. Results are emitted in
// order; a Gate, when set, is waited on before emitting (to test loading).
// It implements every optional capability; use Basic to hide them.
type Lister struct {
	Prov    cloud.Provider
	Results []cloud.GroupResult
	Gate    chan struct{}

	mu        sync.Mutex
	Described []string // addresses passed to Describe
	Full      map[string]cloud.Function
	Removed   []string
}

var (
	_ cloud.Lister    = (*Lister)(nil)
	_ cloud.Describer = (*Lister)(nil)
	_ cloud.Remover   = (*Lister)(nil)
	_ cloud.Invoker   = (*Lister)(nil)
	_ cloud.LogTailer = (*Lister)(nil)
	_ cloud.Deployer  = (*Lister)(nil)
)

// Provider implements cloud.Lister.
func (l *Lister) Provider() cloud.Provider { return l.Prov }

// List implements cloud.Lister.
func (l *Lister) List(ctx context.Context, f cloud.ListFilter, emit func(cloud.GroupResult)) error {
	if l.Gate != nil {
		select {
		case <-l.Gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	l.mu.Lock()
	results := append([]cloud.GroupResult(nil), l.Results...)
	removed := append([]string(nil), l.Removed...)
	l.mu.Unlock()
	for _, r := range results {
		var keep []cloud.Function
		for _, fn := range r.Functions {
			if !contains(removed, fn.Address) {
				keep = append(keep, fn)
			}
		}
		r.Functions = keep
		emit(r)
	}
	return nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Describe implements cloud.Describer from Full (or the listed function).
func (l *Lister) Describe(ctx context.Context, target cloud.Address) (cloud.Function, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Described = append(l.Described, target.String())
	if fn, ok := l.Full[target.String()]; ok {
		return fn, nil
	}
	for _, r := range l.Results {
		for _, fn := range r.Functions {
			if fn.Address == target.String() {
				fn.Partial = false
				return fn, nil
			}
		}
	}
	return cloud.Function{}, fmt.Errorf("describing %s: %w", target, cloud.ErrNotFound)
}

// Remove implements cloud.Remover.
func (l *Lister) Remove(ctx context.Context, target cloud.Address) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Removed = append(l.Removed, target.String())
	return nil
}

// Invoke implements cloud.Invoker with an echo.
func (l *Lister) Invoke(ctx context.Context, req cloud.InvokeRequest, chunk func([]byte)) (cloud.InvokeResult, error) {
	return cloud.InvokeResult{Address: req.Target.String(), StatusCode: 200, Response: req.Payload, Body: req.Payload}, nil
}

// Logs implements cloud.LogTailer with nothing to say.
func (l *Lister) Logs(ctx context.Context, req cloud.LogRequest, emit func(cloud.LogLine)) error {
	return nil
}

// Deploy implements cloud.Deployer by recording nothing but the result.
func (l *Lister) Deploy(ctx context.Context, req cloud.DeployRequest, out cloud.Sink) (cloud.DeployResult, error) {
	return cloud.DeployResult{Target: req.Target.String(), NewImage: req.Image}, nil
}

// Basic wraps a Lister to expose only cloud.Lister (no capabilities), so a
// test can check keys are bound only when supported.
type Basic struct{ L *Lister }

// Provider implements cloud.Lister.
func (b Basic) Provider() cloud.Provider { return b.L.Provider() }

// List implements cloud.Lister.
func (b Basic) List(ctx context.Context, f cloud.ListFilter, emit func(cloud.GroupResult)) error {
	return b.L.List(ctx, f, emit)
}
