package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/netip"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/docker"
	"github.com/fndeck/fndeck/cloud/local/shim"
	"github.com/fndeck/fndeck/internal/text"
)

// invokePath is the RIE-compatible invoke route the shim serves.
const invokePath = "/2015-03-31/functions/function/invocations"

// Defaults follow the platforms: Lambda 128 MB / 3 s, Cloud Run 512 MiB / 300 s, port 8080.
const (
	defaultLambdaMemoryMB   = 128
	defaultLambdaTimeoutS   = 3
	defaultCloudRunMemoryMB = 512
	defaultCloudRunTimeoutS = 300
	defaultCloudRunPort     = 8080
	bridgeShimPort          = 8080 // the shim's invoke port inside a bridge-networked container
	bridgeRuntimeAddr       = "127.0.0.1:9001"
	bridgeLogPort           = 7781 // the shim's log tap inside a bridge-networked container
	bridgeHTTPPort          = 8081 // the shim's HTTP front door (--http) inside a bridge-networked container
)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// settings are a deploy's inputs after defaults; rollback reads them back
// from the running container's labels.
type settings struct {
	mode     string
	memoryMB int
	timeoutS int
	appPort  int
	env      map[string]string
	// imageConfig overrides the image's entrypoint, cmd and workdir.
	imageConfig *cloud.ImageConfig
	http        bool // lambda: serve a function URL too (shim.Config.HTTPAddr)
}

// Deploy creates or replaces the container serving req.Target and waits
// until it answers HTTP.
func (b *Backend) Deploy(ctx context.Context, req cloud.DeployRequest, out cloud.Sink) (cloud.DeployResult, error) {
	if out == nil {
		out = cloud.DiscardSink{}
	}
	if req.Target.Provider != cloud.Local {
		return cloud.DeployResult{}, fmt.Errorf("%s is not a local target: %w", req.Target, cloud.ErrInvalid)
	}
	st := settings{mode: req.As, memoryMB: req.MemoryMB, timeoutS: req.TimeoutS, appPort: req.Port, env: req.Env, imageConfig: req.ImageConfig, http: req.HTTP}
	switch st.mode {
	case "":
		st.mode = ModeLambda
	case ModeLambda, ModeCloudRun:
	default:
		return cloud.DeployResult{}, fmt.Errorf("deploying %s: --as %q: use lambda or cloudrun: %w", req.Target, req.As, cloud.ErrInvalid)
	}
	if st.http && st.mode != ModeLambda {
		return cloud.DeployResult{}, fmt.Errorf("deploying %s: --http serves a Lambda function URL; a function run --as cloudrun already answers HTTP: %w", req.Target, cloud.ErrInvalid)
	}
	if st.memoryMB < 0 || st.timeoutS < 0 || st.appPort < 0 || st.appPort > 65535 {
		return cloud.DeployResult{}, fmt.Errorf("deploying %s: memory, timeout and port must be positive: %w", req.Target, cloud.ErrInvalid)
	}
	if st.memoryMB > 0 && st.memoryMB < 6 {
		return cloud.DeployResult{}, fmt.Errorf("deploying %s: --memory %d MB is below Docker's 6 MB minimum: %w", req.Target, st.memoryMB, cloud.ErrInvalid)
	}
	for k := range st.env {
		if !envName.MatchString(k) {
			return cloud.DeployResult{}, fmt.Errorf("deploying %s: --env name %q is not a valid variable name: %w", req.Target, k, cloud.ErrInvalid)
		}
	}
	return b.deploy(ctx, req.Target, req.Image, req.Image, st, out)
}

// deploy runs image (a reference or an image ID) as target's container;
// ref is the reference to show and record (the user's, or on a rollback the
// one the restored ID was deployed as).
func (b *Backend) deploy(ctx context.Context, target cloud.Address, image, ref string, st settings, out cloud.Sink) (cloud.DeployResult, error) {
	name := target.Function
	if err := b.checkBridge(ctx); err != nil {
		return cloud.DeployResult{}, fmt.Errorf("deploying %s: %w", target, err)
	}
	if st.memoryMB == 0 {
		st.memoryMB = map[string]int{ModeLambda: defaultLambdaMemoryMB, ModeCloudRun: defaultCloudRunMemoryMB}[st.mode]
	}
	if st.timeoutS == 0 {
		st.timeoutS = map[string]int{ModeLambda: defaultLambdaTimeoutS, ModeCloudRun: defaultCloudRunTimeoutS}[st.mode]
	}
	img, err := b.c.ImageInspect(ctx, image)
	if errdefs.IsNotFound(err) && docker.NamesRegistry(image) {
		// A registry reference that is not here yet: pull it, as the platform would.
		if perr := b.pull(ctx, image, out); perr != nil {
			return cloud.DeployResult{}, fmt.Errorf("deploying %s: %w", target, perr)
		}
		img, err = b.c.ImageInspect(ctx, image)
	}
	if err != nil {
		err = dockerErr("deploying "+target.String()+": image "+image, err)
		if cloud.Hint(err) == "" {
			err = cloud.WithHint(err, "build or pull the image first (docker pull "+image+")")
		}
		return cloud.DeployResult{}, err
	}
	old, err := b.find(ctx, name)
	if err != nil {
		return cloud.DeployResult{}, err
	}
	res := cloud.DeployResult{Target: target.String(), NewImage: ref, ImageRef: ref, ImageDigest: img.ID, Created: old == nil}
	if old != nil {
		res.OldImage, res.OldRevision, res.OldImageDigest = old.Labels[LabelImage], old.ID, old.ImageID
		if ost, err := b.settingsOf(ctx, old); err == nil {
			res.OldSettings = ost.public()
		}
	}

	// Keep the function's port across redeploys (scripts and
	// `aws lambda invoke --endpoint-url` keep working) when the network is the same.
	port, runtimePort, logPort, httpPort := 0, 0, 0, 0
	if old != nil && old.Labels[LabelNetwork] == b.network && old.Labels[LabelMode] == st.mode {
		port, _ = strconv.Atoi(old.Labels[LabelPort])
		runtimePort, _ = strconv.Atoi(old.Labels[LabelRuntimePort])
		logPort, _ = strconv.Atoi(old.Labels[LabelLogPort])
		httpPort, _ = strconv.Atoi(old.Labels[LabelHTTPPort]) // --http: the function URL stays put too
	}
	if port == 0 {
		if port, err = freePort(); err != nil {
			return res, err
		}
	}
	if st.mode == ModeLambda && b.network == NetworkHost && runtimePort == 0 {
		if runtimePort, err = freePort(); err != nil {
			return res, err
		}
	}
	if logPort == 0 {
		if logPort, err = freePort(); err != nil {
			return res, err
		}
	}
	if !st.http {
		httpPort = 0
	} else if httpPort == 0 {
		if httpPort, err = freePort(); err != nil {
			return res, err
		}
	}

	labels := map[string]string{
		LabelFunction: name,
		LabelMode:     st.mode,
		LabelImage:    ref,
		LabelMemory:   strconv.Itoa(st.memoryMB),
		LabelTimeout:  strconv.Itoa(st.timeoutS),
		LabelPort:     strconv.Itoa(port),
		LabelNetwork:  b.network,
		LabelDeployed: b.now().UTC().Format(time.RFC3339Nano),
		LabelSource:   ref,
		LabelDigest:   img.ID,
	}
	if res.OldImage != "" {
		labels[LabelPreviousImage] = res.OldImage
	}
	var names []string
	for k := range st.env {
		names = append(names, k)
	}
	sort.Strings(names)
	labels[LabelEnvNames] = strings.Join(names, ",")

	// Both modes run under the shim: lambda for the Runtime API, cloudrun
	// as a supervisor; in both it serves the log tap.
	shimHostPath, err := b.shimPath(ctx, img.Architecture)
	if err != nil && st.mode == ModeLambda {
		return res, fmt.Errorf("deploying %s: finding the runtime shim for linux/%s: %w", target, img.Architecture, err)
	}
	if err != nil {
		// A cloudrun app runs without the shim, as before it existed;
		// only its log tap is missing (logs follow through the engine).
		out.Line(fmt.Sprintf("no fndeck shim for linux/%s (%v): running the image's entrypoint directly; logs follow through the engine", img.Architecture, err))
		shimHostPath, logPort = "", 0
	}
	sp := containerSpec{name: name, st: st, network: b.network, region: b.region, port: port, runtimePort: runtimePort, logPort: logPort, httpPort: httpPort, logToken: randomToken(),
		shimHostPath: shimHostPath, labels: labels, envNames: names, revision: fmt.Sprintf("%s-%s", name, randomSuffix())}
	if img.Config != nil {
		sp.entrypoint, sp.cmd = img.Config.Entrypoint, img.Config.Cmd
	}
	applyImageConfig(&sp, st.imageConfig)
	cfg, host := buildContainer(sp)

	tmpName := fmt.Sprintf("%s-new-%s", ContainerName(name), randomSuffix())
	out.Line(fmt.Sprintf("creating %s from %s (%s, %d MB, %d s timeout, %s network)", ContainerName(name), ref, st.mode, st.memoryMB, st.timeoutS, b.network))
	created, err := b.c.ContainerCreate(ctx, client.ContainerCreateOptions{Config: cfg, HostConfig: host, Name: tmpName, Image: image})
	if err != nil {
		return res, dockerErr("deploying "+target.String()+": creating the container", err)
	}
	for _, w := range created.Warnings {
		out.Line("docker: " + w)
	}
	res.Revision = created.ID
	if old != nil {
		// Not ctx: once the old one is going, the swap must finish or the
		// function is left with no container under its name.
		if _, err := b.c.ContainerRemove(context.WithoutCancel(ctx), old.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			_, _ = b.c.ContainerRemove(context.WithoutCancel(ctx), created.ID, client.ContainerRemoveOptions{Force: true})
			return res, dockerErr("deploying "+target.String()+": removing the previous container", err)
		}
		out.Line("removed the previous container " + text.ShortID(old.ID) + " (" + res.OldImage + ")")
	}
	if _, err := b.c.ContainerRename(context.WithoutCancel(ctx), created.ID, client.ContainerRenameOptions{NewName: ContainerName(name)}); err != nil {
		_, _ = b.c.ContainerRemove(context.WithoutCancel(ctx), created.ID, client.ContainerRemoveOptions{Force: true})
		return res, dockerErr("deploying "+target.String()+": naming the container", err)
	}
	if _, err := b.c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return res, dockerErr(fmt.Sprintf("deploying %s: starting %s (left in place; see fndeck logs %s)", target, ContainerName(name), target), err)
	}
	out.Line(fmt.Sprintf("started %s; waiting for http://127.0.0.1:%d to answer", text.ShortID(created.ID), port))
	if err := b.waitReady(ctx, created.ID, st.mode, port); err != nil {
		return res, fmt.Errorf("deploying %s: %w", target, err)
	}
	out.Line(fmt.Sprintf("%s is ready at http://127.0.0.1:%d", target, port))
	if st.mode == ModeCloudRun {
		st.appPort, _ = strconv.Atoi(labels[LabelAppPort])
	}
	res.Settings = st.public()
	if httpPort > 0 {
		res.FunctionURL = fmt.Sprintf("http://127.0.0.1:%d/", httpPort)
		out.Line("function URL (each request becomes an HTTP API v2 event): " + res.FunctionURL)
	}
	return res, nil
}

// public is the settings in the provider-neutral shape kept in the history.
func (st settings) public() *cloud.DeploySettings {
	ds := &cloud.DeploySettings{Mode: st.mode, MemoryMB: st.memoryMB, TimeoutS: st.timeoutS, Port: st.appPort, ImageConfig: st.imageConfig}
	if len(st.env) > 0 {
		ds.Env = maps.Clone(st.env)
	}
	return ds
}

// settingsFrom is the inverse of public.
func settingsFrom(ds *cloud.DeploySettings) settings {
	st := settings{mode: ds.Mode, memoryMB: ds.MemoryMB, timeoutS: ds.TimeoutS, appPort: ds.Port, env: maps.Clone(ds.Env), imageConfig: ds.ImageConfig}
	if st.mode != ModeCloudRun {
		st.mode = ModeLambda
	}
	return st
}

// settingsOf reads a function container's settings back from its labels
// and environment (values of the variables the deploy set, by name).
func (b *Backend) settingsOf(ctx context.Context, s *container.Summary) (settings, error) {
	ins, err := b.c.ContainerInspect(ctx, s.ID, client.ContainerInspectOptions{})
	if err != nil {
		return settings{}, err
	}
	st := settings{mode: s.Labels[LabelMode], env: map[string]string{}, imageConfig: imageConfigLabel(s.Labels[LabelImageConfig])}
	st.http = s.Labels[LabelHTTPPort] != ""
	st.memoryMB, _ = strconv.Atoi(s.Labels[LabelMemory])
	st.timeoutS, _ = strconv.Atoi(s.Labels[LabelTimeout])
	st.appPort, _ = strconv.Atoi(s.Labels[LabelAppPort])
	if st.mode != ModeCloudRun {
		st.mode = ModeLambda
	}
	if names := s.Labels[LabelEnvNames]; names != "" && ins.Container.Config != nil {
		want := map[string]bool{}
		for _, n := range strings.Split(names, ",") {
			want[n] = true
		}
		for _, kv := range ins.Container.Config.Env {
			if k, v, ok := strings.Cut(kv, "="); ok && want[k] {
				st.env[k] = v
			}
		}
	}
	return st, nil
}

// checkBridge fails at once, with what to do, when the function would be
// published through the engine's bridge network and the engine has none
// (dockerd --bridge=none): the container would start but its port could
// never answer, and the deploy would only fail after the ready timeout.
func (b *Backend) checkBridge(ctx context.Context) error {
	if b.network != NetworkBridge {
		return nil
	}
	_, err := b.c.NetworkInspect(ctx, "bridge", client.NetworkInspectOptions{})
	if errdefs.IsNotFound(err) {
		return cloud.WithHint(fmt.Errorf("the Docker engine has no bridge network (dockerd --bridge=none), so a function's published port cannot reach it: %w", cloud.ErrInvalid),
			"use the host network: local.network: host in the config, or FNDECK_LOCAL_NETWORK=host")
	}
	return nil // anything else is the create's to report
}

// pull fetches ref through Options.Pull, saying so on out.
func (b *Backend) pull(ctx context.Context, ref string, out cloud.Sink) error {
	if b.pullFn == nil {
		return fmt.Errorf("%s is not in the engine, and this fndeck cannot pull: %w", ref, cloud.ErrNotFound)
	}
	out.Line("pulling " + ref)
	return b.pullFn(ctx, ref, out)
}

// containerSpec is everything a function's container is made from.
type containerSpec struct {
	name, network, region string
	st                    settings
	port, runtimePort     int    // host ports on 127.0.0.1
	logPort               int    // host port on 127.0.0.1 of the log tap
	httpPort              int    // lambda --http: host port on 127.0.0.1 of the function URL; 0: none
	logToken              string // the tap's token (shim.TokenEnv)
	shimHostPath          string
	entrypoint, cmd       []string // the image's, or the deploy's image config
	workdir               string   // "" keeps the image's WORKDIR
	labels                map[string]string
	envNames              []string // sorted keys of st.env
	revision              string   // K_REVISION
}

// buildContainer turns a spec into the engine's create request. It is pure
// so the bridge-network shape, which this machine cannot run, is tested too.
func buildContainer(sp containerSpec) (*container.Config, *container.HostConfig) {
	cfg := &container.Config{Labels: sp.labels, WorkingDir: sp.workdir}
	host := &container.HostConfig{
		NetworkMode: container.NetworkMode(sp.network),
		Resources:   container.Resources{Memory: int64(sp.st.memoryMB) << 20, MemorySwap: int64(sp.st.memoryMB) << 20},
	}
	for _, k := range sp.envNames {
		cfg.Env = append(cfg.Env, k+"="+sp.st.env[k])
	}
	loopback := netip.MustParseAddr("127.0.0.1")
	publish := func(containerPort, hostPort int) {
		p := network.MustParsePort(fmt.Sprintf("%d/tcp", containerPort))
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts, host.PortBindings = network.PortSet{}, network.PortMap{}
		}
		cfg.ExposedPorts[p] = struct{}{}
		host.PortBindings[p] = []network.PortBinding{{HostIP: loopback, HostPort: strconv.Itoa(hostPort)}}
	}
	// The log tap: on 127.0.0.1 of the host network, or published there.
	logAddr := fmt.Sprintf("127.0.0.1:%d", sp.logPort)
	if sp.logPort > 0 && sp.shimHostPath != "" {
		sp.labels[LabelLogPort] = strconv.Itoa(sp.logPort)
		// The token reaches the shim in its environment (argv is visible
		// to every local user in ps) and fndeck through the label; both are
		// as private as the engine itself. The shim hides it from the app.
		sp.labels[LabelLogToken] = sp.logToken
		cfg.Env = append(cfg.Env, shim.TokenEnv+"="+sp.logToken)
	}
	command := append(append([]string{}, sp.entrypoint...), sp.cmd...)

	switch sp.st.mode {
	case ModeLambda:
		sc := shim.Config{
			Function: sp.name, Region: sp.region, MemoryMB: sp.st.memoryMB,
			Timeout: time.Duration(sp.st.timeoutS) * time.Second,
			Command: command,
		}
		if len(sp.cmd) > 0 {
			sc.Handler = sp.cmd[0]
		}
		if sp.network == NetworkHost {
			sc.InvokeAddr = fmt.Sprintf("127.0.0.1:%d", sp.port)
			sc.RuntimeAddr = fmt.Sprintf("127.0.0.1:%d", sp.runtimePort)
			sp.labels[LabelRuntimePort] = strconv.Itoa(sp.runtimePort)
		} else {
			// Inside its own network namespace; published on 127.0.0.1 only.
			sc.InvokeAddr = fmt.Sprintf("0.0.0.0:%d", bridgeShimPort)
			sc.RuntimeAddr = bridgeRuntimeAddr
			publish(bridgeShimPort, sp.port)
			logAddr = fmt.Sprintf("0.0.0.0:%d", bridgeLogPort)
			publish(bridgeLogPort, sp.logPort)
		}
		if sp.logPort > 0 {
			sc.LogAddr = logAddr
		}
		if sp.httpPort > 0 {
			sp.labels[LabelHTTPPort] = strconv.Itoa(sp.httpPort)
			sc.HTTPAddr = fmt.Sprintf("127.0.0.1:%d", sp.httpPort)
			if sp.network != NetworkHost {
				sc.HTTPAddr = fmt.Sprintf("0.0.0.0:%d", bridgeHTTPPort)
				publish(bridgeHTTPPort, sp.httpPort)
			}
		}
		cfg.Entrypoint = append([]string{shimMountPath}, sc.Args()...)
		cfg.Cmd = nil
		cfg.Env = append(cfg.Env,
			"AWS_LAMBDA_FUNCTION_NAME="+sp.name,
			"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(sp.st.memoryMB),
			"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
			"AWS_REGION="+sp.region,
			"AWS_DEFAULT_REGION="+sp.region,
			"LAMBDA_TASK_ROOT=/var/task",
			"LAMBDA_RUNTIME_DIR=/var/runtime",
			"AWS_LAMBDA_RUNTIME_API="+sc.RuntimeAddr,
			"TZ=:UTC",
		)
		host.Binds = []string{sp.shimHostPath + ":" + shimMountPath + ":ro"}
		host.ReadonlyRootfs = true
		host.Tmpfs = map[string]string{"/tmp": "rw,exec,size=512m"}
	case ModeCloudRun:
		appPort := sp.st.appPort
		if sp.network == NetworkHost {
			appPort = sp.port // the host's port is the container's: they share a network
		} else if appPort == 0 {
			appPort = defaultCloudRunPort
		}
		sp.labels[LabelAppPort] = strconv.Itoa(appPort)
		cfg.Env = append(cfg.Env,
			"PORT="+strconv.Itoa(appPort), "K_SERVICE="+sp.name, "K_REVISION="+sp.revision, "K_CONFIGURATION="+sp.name)
		if sp.shimHostPath == "" {
			// No shim for this architecture: the image's own entrypoint,
			// no log tap.
			if sp.network == NetworkBridge {
				publish(appPort, sp.port)
			}
			break
		}
		if sp.network == NetworkBridge {
			publish(appPort, sp.port)
			tapPort := bridgeLogPort
			if tapPort == appPort {
				tapPort++
			}
			logAddr = fmt.Sprintf("0.0.0.0:%d", tapPort)
			publish(tapPort, sp.logPort)
		}
		// The shim supervises the image's own entrypoint + cmd: the app
		// keeps its port, WORKDIR, USER and environment; the shim only
		// reads its output (for the log tap) and passes signals on.
		sc := shim.Config{
			Mode: shim.ModeCloudRun, Function: sp.name, Region: sp.region, MemoryMB: sp.st.memoryMB,
			Timeout: time.Duration(sp.st.timeoutS) * time.Second, Command: command,
		}
		if sp.logPort > 0 {
			sc.LogAddr = logAddr
		}
		cfg.Entrypoint = append([]string{shimMountPath}, sc.Args()...)
		cfg.Cmd = nil
		host.Binds = []string{sp.shimHostPath + ":" + shimMountPath + ":ro"}
	}

	return cfg, host
}

// waitReady polls until the container answers HTTP. A TCP accept is not
// enough: with a published port docker-proxy accepts before the app listens.
func (b *Backend) waitReady(ctx context.Context, id, mode string, port int) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	if mode == ModeLambda {
		url = fmt.Sprintf("http://127.0.0.1:%d%s", port, shim.HealthPath)
	}
	ctx, cancel := context.WithTimeout(ctx, b.readyTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := b.http.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			return nil
		}
		// Every few polls, see whether the container died: then waiting longer is pointless.
		if n%10 == 0 {
			ins, err := b.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
			if err == nil && ins.Container.State != nil && !ins.Container.State.Running {
				return fmt.Errorf("the container exited with code %d before answering HTTP; its last output:\n%s",
					ins.Container.State.ExitCode, b.lastOutput(ctx, id, 20))
			}
		}
		select {
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("the container did not answer HTTP on %s within %s; its last output:\n%s",
					url, b.readyTimeout, b.lastOutput(context.WithoutCancel(ctx), id, 20))
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Rollback redeploys what served before the deploy being undone: to's
// image by ID (to.ImageDigest; the reference only when no ID is recorded)
// with to's settings (env, memory, timeout, port). It refuses, with
// cloud.ErrNothingToDo, when the container already runs exactly that.
func (b *Backend) Rollback(ctx context.Context, target cloud.Address, to cloud.DeployResult, out cloud.Sink) (cloud.DeployResult, error) {
	if out == nil {
		out = cloud.DiscardSink{}
	}
	s, err := b.mustFind(ctx, target)
	if err != nil {
		return cloud.DeployResult{}, err
	}
	image := to.ImageDigest
	if image == "" {
		image = to.NewImage
	}
	if image == "" {
		image = s.Labels[LabelPreviousImage]
	}
	if image == "" {
		return cloud.DeployResult{}, fmt.Errorf("rolling back %s: no previous image is recorded: %w", target, cloud.ErrNotFound)
	}
	cur, err := b.settingsOf(ctx, s)
	if err != nil {
		return cloud.DeployResult{}, dockerErr("rolling back "+target.String(), err)
	}
	st := cur
	if to.Settings != nil {
		st = settingsFrom(to.Settings)
		st.http = cur.http // the function URL stays as it is
	}
	img, err := b.c.ImageInspect(ctx, image)
	if errdefs.IsNotFound(err) {
		return cloud.DeployResult{}, cloud.WithHint(fmt.Errorf("rolling back %s: the image that served before (%s, %s) is no longer in the engine: %w", target, to.NewImage, text.ShortID(image), cloud.ErrNotFound),
			"deploy an image instead")
	}
	if err != nil {
		return cloud.DeployResult{}, dockerErr(fmt.Sprintf("rolling back %s: the image that served before (%s)", target, image), err)
	}
	if img.ID == s.ImageID && sameSettings(cur, st) {
		return cloud.DeployResult{Target: target.String(), NewImage: s.Labels[LabelImage], ImageDigest: img.ID, Revision: s.ID},
			fmt.Errorf("rolling back %s: it already serves %s (%s) with those settings: %w", target, s.Labels[LabelImage], text.ShortID(img.ID), cloud.ErrNothingToDo)
	}
	ref := to.NewImage
	if ref == "" {
		ref = image
	}
	out.Line(fmt.Sprintf("rolling %s back: %s (%s) → %s (%s)", target, s.Labels[LabelImage], text.ShortID(s.ImageID), ref, text.ShortID(img.ID)))
	run := img.ID
	if r, err := b.c.ImageInspect(ctx, ref); err == nil && r.ID == img.ID {
		run = ref // the tag still names that image: the container shows it
	}
	return b.deploy(ctx, target, run, ref, st, out)
}

// sameSettings compares what a deploy sets (mode, memory, timeout, port, env).
func sameSettings(a, b settings) bool {
	return a.mode == b.mode && a.memoryMB == b.memoryMB && a.timeoutS == b.timeoutS &&
		a.appPort == b.appPort && maps.Equal(a.env, b.env) && reflect.DeepEqual(a.imageConfig, b.imageConfig)
}
