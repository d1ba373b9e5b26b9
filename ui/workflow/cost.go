package workflow

import (
	"context"
	"fmt"
	"sync"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/pricing"
)

// archCache remembers each function's description for cost estimates, so
// invoking a Lambda function again does not cost another GetFunction. A
// deploy that changes the architecture is rare; the cache lives as long as
// the Flow.
type archCache struct {
	mu  sync.Mutex
	fns map[string]cloud.Function
}

// describer asks the backend once per address.
type cachedDescriber struct {
	d     cloud.Describer
	cache *archCache
}

func (c cachedDescriber) Describe(ctx context.Context, addr cloud.Address) (cloud.Function, error) {
	c.cache.mu.Lock()
	fn, ok := c.cache.fns[addr.String()]
	c.cache.mu.Unlock()
	if ok {
		return fn, nil
	}
	fn, err := c.d.Describe(ctx, addr)
	if err != nil {
		return fn, err
	}
	c.cache.mu.Lock()
	if c.cache.fns == nil {
		c.cache.fns = map[string]cloud.Function{}
	}
	c.cache.fns[addr.String()] = fn
	c.cache.mu.Unlock()
	return fn, nil
}

// annotateCost puts the cost estimate on res (package pricing).
func (f *Flow) annotateCost(ctx context.Context, addr cloud.Address, res *cloud.InvokeResult) {
	if f.d.Pricing == nil {
		return
	}
	var d cloud.Describer
	if bd, ok := f.d.Backends(addr.Provider).(cloud.Describer); ok {
		d = cachedDescriber{d: bd, cache: &f.costFns}
	}
	f.d.Pricing.Annotate(ctx, addr, res, d)
}

// costLine is the task output's cost line.
func costLine(res cloud.InvokeResult) string {
	if res.CostUSD != nil && res.CostPerMillionUSD != nil {
		return fmt.Sprintf("cost ≈ %s (estimate), %s per million (%s)", pricing.FormatUSD(*res.CostUSD), pricing.FormatUSD(*res.CostPerMillionUSD), res.CostNote)
	}
	return "cost: " + res.CostNote
}
