package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/remote/wire"
	"github.com/fndeck/fndeck/internal/reghost"
)

// Backend is one provider's backend (AWS or GCP) served by the helper. It
// implements what cloud/aws.Backend and cloud/gcp.Backend implement:
// cloud.Lister, Describer, Deployer, RollBacker, Invoker, LogTailer,
// AuthProvider and LoginHint (docker.LoginHinter).
type Backend struct {
	provider cloud.Provider
	c        *Client

	mu    sync.Mutex
	hints map[string]string // LoginHint per host, from AuthFor answers
}

// New returns provider's backend on c's helper. Several backends share one
// Client (and so one helper process).
func New(provider cloud.Provider, c *Client) *Backend {
	return &Backend{provider: provider, c: c, hints: map[string]string{}}
}

// Provider implements cloud.Lister.
func (b *Backend) Provider() cloud.Provider { return b.provider }

// Close closes the shared client: the helper exits. Closing both backends
// of one client is fine.
func (b *Backend) Close() error { return b.c.Close() }

func decodeInto(data json.RawMessage, v any, what string) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding the cloud helper's %s: %w", what, err)
	}
	return nil
}

// noStream rejects streamed messages a method does not expect.
func noStream(m *wire.Msg) error {
	return fmt.Errorf("unexpected %q message from the cloud helper", m.T)
}

// List implements cloud.Lister: each source's GroupResult is emitted as the
// helper reports it, in the calling goroutine.
func (b *Backend) List(ctx context.Context, f cloud.ListFilter, emit func(cloud.GroupResult)) error {
	_, err := b.c.call(ctx, b.provider, wire.MList, wire.ListArgs{Filter: f}, func(m *wire.Msg) error {
		if m.T != wire.TGroup {
			return noStream(m)
		}
		var g wire.GroupResult
		if err := decodeInto(m.Data, &g, "group"); err != nil {
			return err
		}
		emit(g.ToGroupResult())
		return nil
	})
	return err
}

// Describe implements cloud.Describer.
func (b *Backend) Describe(ctx context.Context, target cloud.Address) (cloud.Function, error) {
	data, err := b.c.call(ctx, b.provider, wire.MDescribe, wire.DescribeArgs{Target: target}, noStream)
	if err != nil {
		return cloud.Function{}, err
	}
	var f wire.Function
	if err := decodeInto(data, &f, "function"); err != nil {
		return cloud.Function{}, err
	}
	return f.ToFunction(), nil
}

// sinkStream forwards a deploy's lines and progress to out.
func sinkStream(out cloud.Sink) func(*wire.Msg) error {
	return func(m *wire.Msg) error {
		switch m.T {
		case wire.TLine:
			var s string
			if err := decodeInto(m.Data, &s, "output line"); err != nil {
				return err
			}
			out.Line(s)
		case wire.TProgress:
			var p cloud.Progress
			if err := decodeInto(m.Data, &p, "progress"); err != nil {
				return err
			}
			out.Progress(p)
		default:
			return noStream(m)
		}
		return nil
	}
}

// Deploy implements cloud.Deployer; out gets the helper's lines and progress.
func (b *Backend) Deploy(ctx context.Context, req cloud.DeployRequest, out cloud.Sink) (cloud.DeployResult, error) {
	if out == nil {
		out = cloud.DiscardSink{}
	}
	data, err := b.c.call(ctx, b.provider, wire.MDeploy, wire.DeployArgs{Req: req}, sinkStream(out))
	return deployResult(data, err)
}

// StackResource implements cloud.StackResolver (AWS).
func (b *Backend) StackResource(ctx context.Context, r cloud.StackResource) (string, error) {
	data, err := b.c.call(ctx, b.provider, wire.MStack, wire.StackArgs{Ref: r}, noStream)
	if err != nil {
		return "", err
	}
	var name string
	if err := decodeInto(data, &name, "stack resource"); err != nil {
		return "", err
	}
	return name, nil
}

// Rollback implements cloud.RollBacker.
func (b *Backend) Rollback(ctx context.Context, target cloud.Address, to cloud.DeployResult, out cloud.Sink) (cloud.DeployResult, error) {
	if out == nil {
		out = cloud.DiscardSink{}
	}
	data, err := b.c.call(ctx, b.provider, wire.MRollback, wire.RollbackArgs{Target: target, To: to}, sinkStream(out))
	return deployResult(data, err)
}

// deployResult decodes a deploy's answer; a failed deploy keeps whatever
// partial result the backend returned next to its error.
func deployResult(data json.RawMessage, err error) (cloud.DeployResult, error) {
	var r cloud.DeployResult
	if len(data) > 0 {
		if derr := decodeInto(data, &r, "deploy result"); derr != nil && err == nil {
			err = derr
		}
	}
	return r, err
}

// Invoke implements cloud.Invoker; chunk, when set, gets each piece of a
// streamed response as the helper receives it.
func (b *Backend) Invoke(ctx context.Context, req cloud.InvokeRequest, chunk func([]byte)) (cloud.InvokeResult, error) {
	data, err := b.c.call(ctx, b.provider, wire.MInvoke, wire.InvokeArgs{Req: req, Stream: chunk != nil}, func(m *wire.Msg) error {
		if m.T != wire.TChunk {
			return noStream(m)
		}
		var p []byte
		if err := decodeInto(m.Data, &p, "response chunk"); err != nil {
			return err
		}
		chunk(p)
		return nil
	})
	// The backends return a partial result next to some errors (a timed-out
	// invoke still has its elapsed time); keep it.
	var r wire.InvokeResult
	if len(data) > 0 {
		if derr := decodeInto(data, &r, "invoke result"); derr != nil && err == nil {
			err = derr
		}
	}
	return r.ToInvokeResult(), err
}

// Logs implements cloud.LogTailer; lines arrive in batches and are emitted
// one by one, in order, in the calling goroutine.
func (b *Backend) Logs(ctx context.Context, req cloud.LogRequest, emit func(cloud.LogLine)) error {
	_, err := b.c.call(ctx, b.provider, wire.MLogs, wire.LogsArgs{Req: req}, func(m *wire.Msg) error {
		if m.T != wire.TLogs {
			return noStream(m)
		}
		return emitLogBatch(m, emit)
	})
	return err
}

// emitLogBatch decodes one batch of log lines and emits them in order.
func emitLogBatch(m *wire.Msg, emit func(cloud.LogLine)) error {
	var batch []wire.LogLine
	if err := decodeInto(m.Data, &batch, "log lines"); err != nil {
		return err
	}
	for _, l := range batch {
		emit(l.ToLogLine())
	}
	return nil
}

// claims says whether host may be this provider's registry (internal/reghost:
// the same matchers the backends use), so that pushing to any other
// registry (Docker Hub, a local registry) never starts the helper.
func (b *Backend) claims(host string) bool {
	switch b.provider {
	case cloud.AWS:
		return reghost.IsECR(host)
	case cloud.GCP:
		return reghost.IsGoogle(host)
	}
	return false
}

// AuthName implements cloud.AuthNamer.
func (b *Backend) AuthName() string {
	switch b.provider {
	case cloud.AWS:
		return "aws ecr"
	case cloud.GCP:
		return "google cloud credentials"
	}
	return string(b.provider)
}

// AuthFor implements cloud.AuthProvider for the provider's registries (ECR,
// Artifact Registry). Other hosts are declined here, without the helper.
func (b *Backend) AuthFor(ctx context.Context, host string) (cloud.RegistryAuth, bool, error) {
	if !b.claims(host) {
		return cloud.RegistryAuth{}, false, nil
	}
	data, err := b.c.call(ctx, b.provider, wire.MAuth, wire.AuthArgs{Host: host}, noStream)
	if err != nil {
		// Any failure is this provider's to report: the host is its registry.
		return cloud.RegistryAuth{}, true, err
	}
	var r wire.AuthResult
	if err := decodeInto(data, &r, "registry credentials"); err != nil {
		return cloud.RegistryAuth{}, true, err
	}
	if r.Hint != "" {
		b.mu.Lock()
		b.hints[host] = r.Hint
		b.mu.Unlock()
	}
	return r.Auth, r.OK, nil
}

// LoginHint implements docker.LoginHinter: what to run when the registry
// refuses the credentials AuthFor gave (the helper sent it with them).
func (b *Backend) LoginHint(host string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hints[host]
}

// Inflight asks the helper how many calls it is running (tests, diagnostics).
func (c *Client) Inflight(ctx context.Context) (int, error) {
	data, err := c.call(ctx, "", wire.MInflight, struct{}{}, noStream)
	if err != nil {
		return 0, err
	}
	var n int
	return n, decodeInto(data, &n, "call count")
}

// Flood has the helper emit n synthetic log lines through the Logs path
// (BenchmarkLogStream measures the pipe with it).
func (c *Client) Flood(ctx context.Context, n int, emit func(cloud.LogLine)) error {
	_, err := c.call(ctx, "", wire.MFlood, wire.FloodArgs{N: n}, func(m *wire.Msg) error {
		return emitLogBatch(m, emit)
	})
	return err
}
