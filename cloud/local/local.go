// Package local is fndeck's "local" target: it runs an image on the local
// Docker engine the way Lambda (through the runtime shim in ./shim) or Cloud
// Run (an HTTP server on $PORT) would. All state lives in the container and
// its labels, so a function deployed by a headless fndeck keeps serving after
// that process exits, and any later fndeck finds it again.
package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/fndeck/fndeck/cloud"
)

// Labels fndeck puts on the containers it runs. They are the only record of
// a local function: deploy settings, ports and the previous image.
const (
	LabelFunction      = "fndeck.function"
	LabelMode          = "fndeck.mode"
	LabelImage         = "fndeck.image"
	LabelPreviousImage = "fndeck.previous-image"
	LabelMemory        = "fndeck.memory-mb"
	LabelTimeout       = "fndeck.timeout-s"
	LabelPort          = "fndeck.port"         // host port on 127.0.0.1 that fndeck invokes
	LabelRuntimePort   = "fndeck.runtime-port" // lambda, host network: the Runtime API port
	LabelAppPort       = "fndeck.app-port"     // cloudrun: $PORT inside the container
	LabelLogPort       = "fndeck.log-port"     // host port on 127.0.0.1 of the shim's log tap
	LabelLogToken      = "fndeck.log-token"    // what the tap wants in shim.TokenHeader
	LabelHTTPPort      = "fndeck.http-port"    // lambda --http: host port on 127.0.0.1 of the function URL
	LabelNetwork       = "fndeck.network"
	LabelEnvNames      = "fndeck.env-names"    // names only: values may be secrets
	LabelImageConfig   = "fndeck.image-config" // JSON cloud.ImageConfig the container runs with
	LabelDeployed      = "fndeck.deployed"
	// LabelSource and LabelDigest say where a function's image came from,
	// for anyone looking at the container: the reference given and the
	// image ID it resolved to (what a rollback restores).
	LabelSource = "fndeck.dev/source"
	LabelDigest = "fndeck.dev/digest"
)

// Modes of a local function.
const (
	ModeLambda   = "lambda"
	ModeCloudRun = "cloudrun"
)

// Networks a local function can use.
const (
	NetworkBridge = "bridge"
	NetworkHost   = "host"
)

// shimMountPath is where the shim binary is bind-mounted (read-only) in a
// function's container; a path no image uses, so it never hides image content.
const shimMountPath = "/.fndeck/fndeck-shim"

// Options configures the local backend.
type Options struct {
	// Client talks to the Docker engine (API version negotiation on).
	Client *client.Client
	// Network is "bridge" (default: ports published on 127.0.0.1 only) or
	// "host" (for engines without a bridge; every listener binds 127.0.0.1).
	Network string
	// ShimPath returns a host path of a static Linux shim binary for the
	// image architecture ("amd64", "arm64"); nil means DefaultShimPath(StateDir).
	ShimPath func(ctx context.Context, arch string) (string, error)
	// StateDir holds the shim copies (default: $XDG_STATE_HOME/fndeck or ~/.local/state/fndeck).
	StateDir string
	// Region is the AWS_REGION a lambda function sees (default us-east-1).
	Region string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Pull fetches a registry reference the engine does not have (main
	// passes docker.Engine.Pull, which brings the registry's credentials);
	// nil: such a reference is not deployed.
	Pull func(ctx context.Context, ref string, out cloud.Sink) error
	// ReadyTimeout bounds the wait for a started container to answer (default 60 s).
	ReadyTimeout time.Duration
}

// Backend runs functions on the local Docker engine.
type Backend struct {
	c            *client.Client
	network      string
	shimPath     func(ctx context.Context, arch string) (string, error)
	region       string
	now          func() time.Time
	readyTimeout time.Duration
	pullFn       func(ctx context.Context, ref string, out cloud.Sink) error
	http         *http.Client
}

var (
	_ cloud.Lister     = (*Backend)(nil)
	_ cloud.Describer  = (*Backend)(nil)
	_ cloud.Deployer   = (*Backend)(nil)
	_ cloud.RollBacker = (*Backend)(nil)
	_ cloud.Remover    = (*Backend)(nil)
	_ cloud.Invoker    = (*Backend)(nil)
	_ cloud.LogTailer  = (*Backend)(nil)
)

// New checks opts and returns a backend.
func New(opts Options) (*Backend, error) {
	if opts.Client == nil {
		return nil, errors.New("local backend: no Docker client")
	}
	switch opts.Network {
	case "":
		opts.Network = NetworkBridge
	case NetworkBridge, NetworkHost:
	default:
		return nil, fmt.Errorf("local.network %q: use %q or %q", opts.Network, NetworkBridge, NetworkHost)
	}
	if opts.StateDir == "" {
		dir, err := defaultStateDir()
		if err != nil {
			return nil, err
		}
		opts.StateDir = dir
	}
	if opts.ShimPath == nil {
		opts.ShimPath = DefaultShimPath(opts.StateDir)
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 60 * time.Second
	}
	return &Backend{
		c: opts.Client, network: opts.Network, shimPath: opts.ShimPath, region: opts.Region,
		now: opts.Now, readyTimeout: opts.ReadyTimeout, pullFn: opts.Pull,
		// No overall timeout: a streamed Cloud Run response may be long; ctx bounds it.
		http: &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 4}},
	}, nil
}

func defaultStateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "fndeck"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "fndeck"), nil
}

// Provider reports cloud.Local.
func (b *Backend) Provider() cloud.Provider { return cloud.Local }

// ContainerName is the name of the container serving local:NAME.
func ContainerName(name string) string { return "fndeck-" + name }

// dockerErr wraps an engine error with a sentinel the UI understands.
func dockerErr(what string, err error) error {
	switch {
	case errdefs.IsNotFound(err):
		return fmt.Errorf("%s: %w: %w", what, cloud.ErrNotFound, err)
	case errdefs.IsConflict(err):
		return fmt.Errorf("%s: %w: %w", what, cloud.ErrConflict, err)
	case client.IsErrConnectionFailed(err):
		return cloud.WithHint(fmt.Errorf("%s: %w: %w", what, cloud.ErrUnreachable, err), "start Docker, or set DOCKER_HOST / docker.host")
	}
	return fmt.Errorf("%s: %w", what, err)
}

// find returns the container serving name, or nil when there is none.
func (b *Backend) find(ctx context.Context, name string) (*container.Summary, error) {
	res, err := b.c.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", LabelFunction+"="+name),
	})
	if err != nil {
		return nil, dockerErr("listing local functions", err)
	}
	for i := range res.Items {
		if hasName(res.Items[i], ContainerName(name)) {
			return &res.Items[i], nil
		}
	}
	return nil, nil
}

func hasName(s container.Summary, name string) bool {
	for _, n := range s.Names {
		if strings.TrimPrefix(n, "/") == name {
			return true
		}
	}
	return false
}

func (b *Backend) mustFind(ctx context.Context, target cloud.Address) (*container.Summary, error) {
	if target.Provider != cloud.Local {
		return nil, fmt.Errorf("%s is not a local target: %w", target, cloud.ErrInvalid)
	}
	s, err := b.find(ctx, target.Function)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, cloud.WithHint(fmt.Errorf("%s: no container %s: %w", target, ContainerName(target.Function), cloud.ErrNotFound),
			"deploy it first: fndeck deploy IMAGE "+target.String()+" --as lambda")
	}
	return s, nil
}

// List emits one group, the local engine, with every fndeck container.
func (b *Backend) List(ctx context.Context, _ cloud.ListFilter, emit func(cloud.GroupResult)) error {
	g := cloud.Group{Provider: cloud.Local, Scope: "docker"}
	res, err := b.c.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", LabelFunction),
	})
	if err != nil {
		err = dockerErr("listing local functions", err)
		emit(cloud.GroupResult{Group: g, Err: err, Hint: cloud.Hint(err)})
		return nil
	}
	var fns []cloud.Function
	for _, s := range res.Items {
		name := s.Labels[LabelFunction]
		if !hasName(s, ContainerName(name)) {
			continue // a replacement still being created by a deploy
		}
		fns = append(fns, functionFrom(name, s.Labels, string(s.State), s.ImageID, time.Unix(s.Created, 0)))
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].Name < fns[j].Name })
	emit(cloud.GroupResult{Group: g, Functions: fns})
	return nil
}

func functionFrom(name string, labels map[string]string, state, imageID string, created time.Time) cloud.Function {
	f := cloud.Function{
		Address:          cloud.Address{Provider: cloud.Local, Function: name}.String(),
		Provider:         cloud.Local,
		Name:             name,
		PackageType:      "Image",
		ImageURI:         labels[LabelImage],
		ResolvedImageURI: imageID,
		State:            state,
		Mode:             labels[LabelMode],
		// A local function runs an image ID: that is its digest.
		ImageDigest: imageID,
		SourceRef:   labels[LabelSource],
	}
	f.MemoryMB, _ = strconv.Atoi(labels[LabelMemory])
	f.TimeoutS, _ = strconv.Atoi(labels[LabelTimeout])
	if p := labels[LabelPort]; p != "" {
		f.URL = "http://127.0.0.1:" + p
		if f.Mode == ModeLambda {
			f.URL += invokePath
		}
	}
	if p := labels[LabelHTTPPort]; p != "" && f.Mode == ModeLambda {
		f.FunctionURL = "http://127.0.0.1:" + p + "/"
	}
	if t, err := time.Parse(time.RFC3339Nano, labels[LabelDeployed]); err == nil {
		f.LastModified = &t
	} else if !created.IsZero() {
		f.LastModified = &created
	}
	ready := state == string(container.StateRunning)
	f.Ready = &ready
	return f
}

// Describe inspects one local function.
func (b *Backend) Describe(ctx context.Context, target cloud.Address) (cloud.Function, error) {
	s, err := b.mustFind(ctx, target)
	if err != nil {
		return cloud.Function{}, err
	}
	ins, err := b.c.ContainerInspect(ctx, s.ID, client.ContainerInspectOptions{})
	if err != nil {
		return cloud.Function{}, dockerErr("inspecting "+target.String(), err)
	}
	c := ins.Container
	state := ""
	if c.State != nil {
		state = string(c.State.Status)
	}
	labels := map[string]string{}
	if c.Config != nil {
		labels = c.Config.Labels
	}
	f := functionFrom(target.Function, labels, state, c.Image, time.Time{})
	if c.State != nil && c.State.Status == container.StateExited {
		f.StatusReason = fmt.Sprintf("exited with code %d", c.State.ExitCode)
		if c.State.OOMKilled {
			f.StatusReason += " (out of memory)"
		}
	}
	if img, err := b.c.ImageInspect(ctx, c.Image); err == nil {
		f.Architecture = img.Architecture
	}
	return f, nil
}

// Remove stops and deletes the function's container.
func (b *Backend) Remove(ctx context.Context, target cloud.Address) error {
	s, err := b.mustFind(ctx, target)
	if err != nil {
		return err
	}
	if _, err := b.c.ContainerRemove(ctx, s.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
		return dockerErr("removing "+target.String(), err)
	}
	return nil
}

// freePort asks the kernel for a free port on 127.0.0.1. Another process
// could take it before the container binds it; the deploy then fails with
// the container's own bind error, which is shown.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Stop stops the function's container and keeps it (and its settings) for Start.
func (b *Backend) Stop(ctx context.Context, target cloud.Address) error {
	s, err := b.mustFind(ctx, target)
	if err != nil {
		return err
	}
	timeout := 5
	if _, err := b.c.ContainerStop(ctx, s.ID, client.ContainerStopOptions{Timeout: &timeout}); err != nil {
		return dockerErr("stopping "+target.String(), err)
	}
	return nil
}

// Start starts a stopped function again and waits until it answers HTTP.
func (b *Backend) Start(ctx context.Context, target cloud.Address) error {
	s, err := b.mustFind(ctx, target)
	if err != nil {
		return err
	}
	if _, err := b.c.ContainerStart(ctx, s.ID, client.ContainerStartOptions{}); err != nil {
		return dockerErr("starting "+target.String(), err)
	}
	port, _ := strconv.Atoi(s.Labels[LabelPort])
	if err := b.waitReady(ctx, s.ID, s.Labels[LabelMode], port); err != nil {
		return fmt.Errorf("starting %s: %w", target, err)
	}
	return nil
}
