package docker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/fndeck/fndeck/cloud"
)

// Engine is one Docker engine. It is safe for concurrent use.
type Engine struct {
	ep      Endpoint
	cli     *client.Client
	auth    cloud.AuthProvider
	rewrite map[string]string
	// transport, when set, carries registry API calls (manifest read after a push).
	transport http.RoundTripper
	// backoff is the wait before push retry n; tests shorten it.
	backoff func(n int) time.Duration
}

var (
	_ cloud.Images  = (*Engine)(nil)
	_ cloud.Builder = (*Engine)(nil)
	_ cloud.Pusher  = (*Engine)(nil)
)

// Option configures an Engine.
type Option func(*Engine)

// WithAuth sets the registry credential provider used by Push (usually a
// cloud.AuthChain ending with DockerConfigAuth). Without it pushes send no
// credentials.
func WithAuth(p cloud.AuthProvider) Option { return func(e *Engine) { e.auth = p } }

// WithRewrite sets registries.rewrite: registry host → host to push to instead.
func WithRewrite(m map[string]string) Option {
	return func(e *Engine) {
		e.rewrite = make(map[string]string, len(m))
		for k, v := range m {
			e.rewrite[strings.ToLower(k)] = v
		}
	}
}

// WithRegistryTransport replaces the HTTP transport used to query
// registries after a push (tests, proxies).
func WithRegistryTransport(t http.RoundTripper) Option { return func(e *Engine) { e.transport = t } }

// New prepares a client for ep without touching the network: the TUI's first
// frame must not wait for the engine. API version negotiation happens on the
// first request (the daemon here speaks 1.41; the client supports ≥ 1.40).
func New(ep Endpoint, opts ...Option) (*Engine, error) {
	if ep.Host == "" {
		ep.Host = defaultHost()
		ep.Source = SourceDefault
	}
	copts := []client.Opt{}
	if ep.TLSDir != "" || ep.SkipTLSVerify {
		tc, err := tlsConfig(ep)
		if err != nil {
			return nil, err
		}
		copts = append(copts, client.WithHTTPClient(&http.Client{
			Transport:     &http.Transport{TLSClientConfig: tc},
			CheckRedirect: client.CheckRedirect,
		}))
	}
	copts = append(copts, client.WithHost(ep.Host), client.WithAPIVersionNegotiation())
	cli, err := client.New(copts...)
	if err != nil {
		return nil, fmt.Errorf("docker client for %s: %w", ep.Host, err)
	}
	e := &Engine{ep: ep, cli: cli, backoff: pushBackoff}
	for _, o := range opts {
		o(e)
	}
	return e, nil
}

func tlsConfig(ep Endpoint) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: ep.SkipTLSVerify} // #nosec G402 -- only when the context says so
	if ep.TLSDir == "" {
		return tc, nil
	}
	ca := filepath.Join(ep.TLSDir, "ca.pem")
	if b, err := os.ReadFile(ca); err == nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("docker TLS: no certificate in %s", ca)
		}
		tc.RootCAs = pool
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("docker TLS: %w", err)
	}
	certFile, keyFile := filepath.Join(ep.TLSDir, "cert.pem"), filepath.Join(ep.TLSDir, "key.pem")
	if _, err := os.Stat(certFile); err == nil {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("docker TLS client certificate in %s: %w", ep.TLSDir, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Client returns the underlying moby client for the local backend, which
// runs containers on the same engine.
func (e *Engine) Client() *client.Client { return e.cli }

// Endpoint returns where the engine is and where that came from.
func (e *Engine) Endpoint() Endpoint { return e.ep }

// Host is the engine address as the user knows it.
func (e *Engine) Host() string { return e.ep.Host }

// Close releases idle connections.
func (e *Engine) Close() error { return e.cli.Close() }

// Ping checks the engine answers (and negotiates the API version).
func (e *Engine) Ping(ctx context.Context) error {
	if _, err := e.cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return e.wrap(ctx, err, "pinging docker")
	}
	return nil
}

// APIVersion returns the negotiated API version ("" before the first request).
func (e *Engine) APIVersion() string { return e.cli.ClientVersion() }

// wrap turns a moby client error into a fndeck error wrapping the matching
// cloud sentinel, with what was being done.
func (e *Engine) wrap(ctx context.Context, err error, doing string) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", doing, err)
	case client.IsErrConnectionFailed(err) || isNetErr(err):
		return fmt.Errorf("%s: %w", doing, &unreachableError{host: e.ep.Host, reason: e.netReason(ctx, err)})
	case cerrdefs.IsNotFound(err):
		return fmt.Errorf("%s: %w", doing, kindError{err, cloud.ErrNotFound})
	case cerrdefs.IsConflict(err):
		return fmt.Errorf("%s: %w", doing, kindError{err, cloud.ErrConflict})
	case cerrdefs.IsUnauthorized(err):
		return fmt.Errorf("%s: %w", doing, kindError{err, cloud.ErrUnauthenticated})
	case cerrdefs.IsPermissionDenied(err):
		return fmt.Errorf("%s: %w", doing, kindError{err, cloud.ErrPermission})
	case cerrdefs.IsInvalidArgument(err):
		return fmt.Errorf("%s: %w", doing, kindError{err, cloud.ErrInvalid})
	}
	return fmt.Errorf("%s: %w", doing, kindError{err, nil})
}

// kindError carries the engine's own message (without the client's
// "Error response from daemon: " prefix) and matches a cloud sentinel.
type kindError struct {
	err  error
	kind error
}

func (k kindError) Error() string {
	return strings.TrimPrefix(k.err.Error(), "Error response from daemon: ")
}
func (k kindError) Unwrap() error        { return k.err }
func (k kindError) Is(target error) bool { return k.kind != nil && target == k.kind }

// unreachableError reads "Docker not reachable at HOST: REASON".
type unreachableError struct {
	host, reason string
}

func (u *unreachableError) Error() string {
	return fmt.Sprintf("Docker not reachable at %s: %s", u.host, u.reason)
}
func (u *unreachableError) Unwrap() error { return cloud.ErrUnreachable }

func isNetErr(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}

// netReason extracts the short cause ("connection refused", "no such file or
// directory", "permission denied") from a dial error. The moby client drops
// the cause for refused connections, so then it dials once itself to learn
// it; it falls back to the client's message.
func (e *Engine) netReason(ctx context.Context, err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	if u, perr := client.ParseHostURL(e.ep.Host); perr == nil && (u.Scheme == "unix" || u.Scheme == "tcp") {
		addr := u.Host // for unix sockets ParseHostURL puts the path here
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		var d net.Dialer
		c, derr := d.DialContext(dctx, u.Scheme, addr)
		if derr == nil {
			_ = c.Close()
		} else {
			if errors.As(derr, &errno) {
				return errno.Error()
			}
			if errors.As(derr, &op) && op.Err != nil {
				return op.Err.Error()
			}
		}
	}
	msg := err.Error()
	for _, s := range []string{"connection refused", "no such file or directory", "permission denied", "i/o timeout"} {
		if strings.Contains(msg, s) {
			return s
		}
	}
	return msg
}
