package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/aws"
	"github.com/fndeck/fndeck/cloud/docker"
	"github.com/fndeck/fndeck/cloud/gcp"
	"github.com/fndeck/fndeck/cloud/registry"
	"github.com/fndeck/fndeck/cloud/remote/wire"
)

// backend is what both cloud backends implement.
type backend interface {
	cloud.Lister
	cloud.Describer
	cloud.Deployer
	cloud.RollBacker
	cloud.Invoker
	cloud.LogTailer
	cloud.AuthProvider
	LoginHint(host string) string
}

type server struct {
	ctx      context.Context
	backends map[cloud.Provider]backend
	closers  []func()

	wmu sync.Mutex // one message at a time on out
	w   *bufio.Writer
	enc *json.Encoder

	mu    sync.Mutex
	calls map[uint64]context.CancelFunc
	wg    sync.WaitGroup
}

func newServer(ctx context.Context, init wire.Init, out io.Writer) (*server, error) {
	s := &server{ctx: ctx, calls: map[uint64]context.CancelFunc{}, w: bufio.NewWriterSize(out, 64<<10)}
	s.enc = json.NewEncoder(s.w)
	ep, err := docker.Resolve(init.DockerHost)
	if err != nil {
		return nil, fmt.Errorf("docker engine: %w", err)
	}
	auth := &docker.AuthRef{}
	engine, err := docker.New(ep, docker.WithAuth(auth), docker.WithRewrite(init.Rewrite))
	if err != nil {
		return nil, fmt.Errorf("docker engine at %s: %w", ep.Host, err)
	}
	s.closers = append(s.closers, func() { _ = engine.Close() })
	// Every Lambda and Cloud Run deploy goes by digest: tags are resolved
	// (registries.rewrite honoured, each backend's registry credentials
	// through auth) to the manifest the platform will run.
	resolver := registry.NewResolver(engine.Registry())
	awsB := aws.New(aws.Options{
		Profiles:       init.AWS.Profiles,
		Regions:        init.AWS.Regions,
		LiveTail:       init.AWS.LiveTail,
		Pusher:         engine,
		ImageInspector: engine.Inspect,
		Rewrite:        init.Rewrite,
		Auth:           &docker.DockerConfigAuth{},
		Resolver:       resolver,
		DescribeAll:    init.AWS.DescribeAll,
	})
	gcpB := gcp.New(gcp.Options{
		Projects:        init.GCP.Projects,
		Regions:         init.GCP.Regions,
		RunEndpoint:     init.GCP.RunEndpoint,
		LoggingEndpoint: init.GCP.LoggingEndpoint,
		Pusher:          engine,
		ImageInspector:  engine.Inspect,
		Rewrite:         init.Rewrite,
		Auth:            &docker.DockerConfigAuth{},
		Resolver:        resolver,
	})
	s.closers = append(s.closers, func() { _ = gcpB.Close() })
	auth.Chain = cloud.AuthChain{awsB, gcpB, &docker.DockerConfigAuth{}}
	s.backends = map[cloud.Provider]backend{cloud.AWS: awsB, cloud.GCP: gcpB}
	return s, nil
}

// close cancels every call, waits for them and closes the clients.
func (s *server) close() {
	s.mu.Lock()
	for _, c := range s.calls {
		c()
	}
	s.mu.Unlock()
	s.wg.Wait()
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// send writes one message. A write error means the parent is gone; the
// read loop sees EOF and ends the process, so it is only logged.
func (s *server) send(id uint64, t string, data any, err error) {
	m := wire.Msg{ID: id, T: t, Err: wire.EncodeError(err)}
	if data != nil {
		b, merr := json.Marshal(data)
		if merr != nil {
			m.Err = wire.EncodeError(fmt.Errorf("encoding the %s answer: %w", t, merr))
		} else {
			m.Data = b
		}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if werr := s.enc.Encode(&m); werr == nil {
		werr = s.w.Flush()
		if werr != nil {
			slog.Debug("writing to fndeck failed", "err", werr)
		}
	}
}

func (s *server) cancel(id uint64) {
	s.mu.Lock()
	c := s.calls[id]
	s.mu.Unlock()
	if c != nil {
		c()
	}
}

func (s *server) start(m wire.Msg) {
	ctx, cancel := context.WithCancel(s.ctx)
	s.mu.Lock()
	s.calls[m.ID] = cancel
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		data, err := s.run(ctx, m)
		// Unregister before answering: once the parent has the result, a
		// MInflight call must no longer count this one.
		s.mu.Lock()
		delete(s.calls, m.ID)
		s.mu.Unlock()
		cancel()
		s.send(m.ID, wire.TResult, data, err)
	}()
}

// sink forwards a Deploy/Rollback's output.
type sink struct {
	s  *server
	id uint64
}

func (k sink) Line(text string)          { k.s.send(k.id, wire.TLine, text, nil) }
func (k sink) Progress(p cloud.Progress) { k.s.send(k.id, wire.TProgress, p, nil) }

// run decodes a call, runs it on the backend and returns its result.
func (s *server) run(ctx context.Context, m wire.Msg) (any, error) {
	if m.M == wire.MInflight {
		s.mu.Lock()
		n := len(s.calls) - 1 // not this call
		s.mu.Unlock()
		return n, nil
	}
	if m.M == wire.MFlood {
		var a wire.FloodArgs
		if err := json.Unmarshal(m.Data, &a); err != nil {
			return nil, fmt.Errorf("decoding %s arguments: %w", m.M, err)
		}
		return nil, s.flood(ctx, m.ID, a.N)
	}
	b, ok := s.backends[m.P]
	if !ok {
		return nil, fmt.Errorf("the cloud helper has no %q backend: %w", m.P, cloud.ErrInvalid)
	}
	decode := func(v any) error {
		if err := json.Unmarshal(m.Data, v); err != nil {
			return fmt.Errorf("decoding %s arguments: %w", m.M, err)
		}
		return nil
	}
	switch m.M {
	case wire.MList:
		var a wire.ListArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		return nil, b.List(ctx, a.Filter, func(g cloud.GroupResult) {
			s.send(m.ID, wire.TGroup, wire.FromGroupResult(g), nil)
		})
	case wire.MDescribe:
		var a wire.DescribeArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		f, err := b.Describe(ctx, a.Target)
		return wire.FromFunction(f), err
	case wire.MDeploy:
		var a wire.DeployArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		return b.Deploy(ctx, a.Req, sink{s, m.ID})
	case wire.MRollback:
		var a wire.RollbackArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		return b.Rollback(ctx, a.Target, a.To, sink{s, m.ID})
	case wire.MInvoke:
		var a wire.InvokeArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		var chunk func([]byte)
		if a.Stream {
			chunk = func(p []byte) { s.send(m.ID, wire.TChunk, p, nil) }
		}
		r, err := b.Invoke(ctx, a.Req, chunk)
		return wire.FromInvokeResult(r), err
	case wire.MLogs:
		var a wire.LogsArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		bt := s.batcher(m.ID)
		err := b.Logs(ctx, a.Req, bt.add)
		bt.flush()
		return nil, err
	case wire.MHealth:
		if hc, ok := b.(cloud.HealthChecker); ok {
			return hc.Health(ctx), nil
		}
		return []cloud.HealthCheck{}, nil
	case wire.MLoginMFA:
		var a wire.LoginMFAArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		l, ok := b.(interface {
			LoginMFA(ctx context.Context, profile, code string) (cloud.LoginResult, error)
		})
		if !ok {
			return nil, fmt.Errorf("%s has no MFA login: %w", m.P, cloud.ErrInvalid)
		}
		return l.LoginMFA(ctx, a.Profile, a.Code)
	case wire.MAuth:
		var a wire.AuthArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		auth, ok, err := b.AuthFor(ctx, a.Host)
		return wire.AuthResult{Auth: auth, OK: ok, Hint: b.LoginHint(a.Host)}, err
	case wire.MStack:
		var a wire.StackArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		sr, ok := b.(cloud.StackResolver)
		if !ok {
			return nil, fmt.Errorf("the %s backend has no stacks: %w", m.P, cloud.ErrInvalid)
		}
		return sr.StackResource(ctx, a.Ref)
	}
	return nil, fmt.Errorf("the cloud helper has no method %q: %w", m.M, cloud.ErrInvalid)
}

// Log lines are sent in batches: one JSON message per line costs a write
// and a wake-up on each side; at 20k lines/s that is most of a core.
const (
	batchLines = 512
	batchDelay = 5 * time.Millisecond
)

type batcher struct {
	s     *server
	id    uint64
	mu    sync.Mutex
	lines []wire.LogLine
	timer *time.Timer
}

func (s *server) batcher(id uint64) *batcher { return &batcher{s: s, id: id} }

func (b *batcher) add(l cloud.LogLine) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, wire.FromLogLine(l))
	switch {
	case len(b.lines) >= batchLines:
		b.flushLocked()
	case b.timer == nil:
		// A quiet stream still shows its lines within a few ms.
		b.timer = time.AfterFunc(batchDelay, b.flush)
	}
}

func (b *batcher) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

// flushLocked sends under b.mu so batches keep their order.
func (b *batcher) flushLocked() {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if len(b.lines) == 0 {
		return
	}
	b.s.send(b.id, wire.TLogs, b.lines, nil)
	b.lines = b.lines[:0]
}

// flood emits n synthetic lines as fast as the pipe takes them.
func (s *server) flood(ctx context.Context, id uint64, n int) error {
	bt := s.batcher(id)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		if i%1024 == 0 && ctx.Err() != nil {
			bt.flush()
			return ctx.Err()
		}
		bt.add(cloud.LogLine{Time: t0.Add(time.Duration(i) * time.Microsecond), Address: "lambda:us-east-1/flood", Stream: "2026/11/26/[$LATEST]flood",
			Message: "START RequestId: 7d8e2f4a-flood line " + strconv.Itoa(i) + " of a synthetic log flood", ID: strconv.Itoa(i)})
	}
	bt.flush()
	return nil
}
