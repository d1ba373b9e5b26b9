// Over 600 lines, on purpose for now: wiring, adapters and the TUI's set-up;
// keeping only the wiring here is issue 19's part 4.

// Command fndeck is a keyboard-driven terminal workbench for container images
// shipped as serverless functions. main builds the command tree, loads the
// configuration, wires the backends and runs; it is the only place that exits.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/fndeck/fndeck/actions"
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/accounts"
	"github.com/fndeck/fndeck/cloud/docker"
	"github.com/fndeck/fndeck/cloud/lineage"
	"github.com/fndeck/fndeck/cloud/local"
	"github.com/fndeck/fndeck/cloud/local/shim"
	"github.com/fndeck/fndeck/cloud/pricing"
	"github.com/fndeck/fndeck/cloud/remote"
	"github.com/fndeck/fndeck/cloud/remote/wire"
	"github.com/fndeck/fndeck/config"
	"github.com/fndeck/fndeck/internal/task"
	"github.com/fndeck/fndeck/ui/app"
	"github.com/fndeck/fndeck/ui/cli"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/output"
	"github.com/fndeck/fndeck/ui/tasks"
	"github.com/fndeck/fndeck/ui/workflow"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	// Inside a local Lambda container fndeck itself is the runtime shim.
	if len(os.Args) > 1 && os.Args[1] == shim.SubcommandName {
		os.Exit(shim.Main(os.Args[1:]))
	}
	relaxGCAtStart()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, cli.Deps{
		Version: version,
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Open:    open,
	}, os.Args[1:])
	stop()
	os.Exit(code)
}

// open loads the configuration and builds the session. Nothing here touches
// the network: every client is created lazily by its backend.
func open(ctx context.Context, g cli.Globals) (*cli.Session, error) {
	path, explicit := config.ConfigPath(g.ConfigPath)
	cfg, err := config.Load(config.LoadOptions{Path: path, Explicit: explicit, Env: os.Environ(), KeyActions: app.KeyActions()})
	if err != nil {
		return nil, cli.UsageError(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("finding the working directory: %w", err)
	}
	project, err := config.LoadProjectWith(wd, config.ProjectOptions{
		Stage: g.Stage, Env: os.Environ(), GCPProjects: cfg.GCP.Projects, GCPRegions: cfg.GCP.Regions,
	})
	if err != nil {
		return nil, cli.UsageError(err)
	}
	stateDir, err := config.StateDir()
	if err != nil {
		return nil, fmt.Errorf("preparing the state directory: %w", err)
	}
	closers := []func(){}
	logger, closeLog := debugLogger(g.Debug)
	closers = append(closers, closeLog)
	slog.SetDefault(logger)
	slog.Debug("fndeck starting", "version", version, "config", cfg.Path, "state_dir", stateDir)

	ep, err := docker.Resolve(cfg.Docker.Host)
	if err != nil {
		return nil, cli.UsageError(fmt.Errorf("docker engine: %w", err))
	}
	auth := &docker.AuthRef{}
	engine, err := docker.New(ep, docker.WithAuth(auth), docker.WithRewrite(cfg.Registries.Rewrite))
	if err != nil {
		return nil, cli.UsageError(fmt.Errorf("docker engine at %s: %w", ep.Host, err))
	}
	closers = append(closers, func() { _ = engine.Close() })

	// The AWS and GCP backends run in the fndeck-cloud helper process, which
	// starts on the first cloud call: the TUI binary links none of their
	// SDKs, whose package inits alone cost ~40 ms and ~17 MB at start-up.
	// In the TUI the helper waits until the first image list has had time
	// to reach the screen (150 ms after the engine answered, one second at
	// most): the helper's start, ~70 ms of CPU, would compete with fndeck's
	// own on the same cores. Headless commands need the cloud at once.
	var cloudGate chan struct{}
	imagesLoaded := func() {}
	if g.TUI {
		cloudGate = make(chan struct{})
		var once sync.Once
		open := func() { once.Do(func() { close(cloudGate) }) }
		time.AfterFunc(time.Second, open)
		imagesLoaded = func() { time.AfterFunc(150*time.Millisecond, open) }
	}
	helper := remote.NewClient(remote.ClientOptions{
		Version:    version,
		Build:      version,
		StartAfter: cloudGate,
		Init: wire.Init{
			DockerHost: cfg.Docker.Host,
			Rewrite:    cfg.Registries.Rewrite,
			AWS: wire.AWSOptions{
				Profiles: cfg.AWS.Profiles,
				Regions:  cfg.AWS.Regions,
				LiveTail: cfg.Logs.LiveTail,
				// Headless listings carry every field; the TUI shows rows from
				// ListFunctions at once and describes the visible ones.
				DescribeAll: !g.TUI,
			},
			GCP: wire.GCPOptions{
				Projects:        cfg.GCP.Projects,
				Regions:         cfg.GCP.Regions,
				RunEndpoint:     cfg.GCP.RunEndpoint,
				LoggingEndpoint: cfg.GCP.LoggingEndpoint,
			},
		},
		Debug: g.Debug,
	})
	closers = append(closers, func() { _ = helper.Close() })
	awsB := remote.New(cloud.AWS, helper)
	gcpB := remote.New(cloud.GCP, helper)
	auth.Chain = cloud.AuthChain{awsB, gcpB, &docker.DockerConfigAuth{}}

	localB, err := local.New(local.Options{Client: engine.Client(), Network: cfg.Local.Network, StateDir: stateDir, Pull: engine.Pull})
	if err != nil {
		return nil, cli.UsageError(fmt.Errorf("local target: %w", err))
	}

	runner, err := actions.NewRunner(actions.RunnerOptions{
		Context:     ctx,
		StateDir:    stateDir,
		BufferLines: cfg.Logs.BufferLines,
		BufferBytes: int(cfg.Logs.BufferBytes),
		// A followed stream is written whole to its task's output file,
		// up to this many bytes.
		CaptureBytes: cfg.Logs.CaptureBytes,
	})
	if err != nil {
		return nil, fmt.Errorf("starting the task runner: %w", err)
	}
	closers = append(closers, runner.Close)

	providers := []cli.ProviderInfo{{Provider: cloud.Local, Backend: localB}}
	unconfigured := map[cloud.Provider]string{}
	if why := awsUnconfigured(cfg); why == "" {
		providers = append(providers, cli.ProviderInfo{Provider: cloud.AWS, Backend: awsB})
	} else {
		unconfigured[cloud.AWS] = why
	}
	if why := gcpUnconfigured(cfg); why == "" {
		providers = append(providers, cli.ProviderInfo{Provider: cloud.GCP, Backend: gcpB})
	} else {
		unconfigured[cloud.GCP] = why
	}

	history := actions.NewHistory(stateDir, nil)
	flows := actions.Flows{StateDir: stateDir, History: history, Inspect: engine.Inspect}
	invokes := actions.NewInvokeStore(stateDir, nil)
	prices := pricing.Builtin().With(cfg.Pricing)
	// Lineage: the digests fndeck pushes are remembered per image ID; tags
	// are resolved through the engine's registry client (auth, rewrite).
	pushed := lineage.NewPushed(stateDir)
	pusher := lineage.RecordingPusher{Pusher: engine, Inspect: engine.Inspect, Store: pushed}
	tags := &lineage.TagChecker{Registry: engine.Registry(), Timeout: 10 * time.Second}
	sess := &cli.Session{
		Pricing:   prices,
		Images:    engine,
		Builder:   engine,
		Pusher:    pusher,
		Tags:      tags,
		Pushed:    pushed,
		Providers: providers,
		Tasks:     taskRunner{r: runner},
		Deploy:    flows.Deploy,
		Rollback:  flows.Rollback,
		LogTail:   cfg.Logs.Tail,
		RecordInvoke: func(ctx context.Context, target cloud.Address, payload []byte, r cloud.InvokeResult) {
			if err := invokes.Append(ctx, target, payload, r, nil); err != nil {
				slog.Debug("recording invoke history failed", "target", target.String(), "err", err)
			}
		},
		Close: func() {
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
		},
	}
	if project != nil {
		sess.ResolveTarget = projectTargets(project, awsB)
		sess.Project = project
	}
	sess.EnvDoctor = envDoctor(cfg, engine, helper, providers, unconfigured, stateDir)
	sess.RunTUI = func(ctx context.Context) error {
		return runTUI(ctx, tuiDeps{
			cfg: cfg, project: project, engine: engine, providers: providers, unconfigured: unconfigured,
			runner: runner, history: history, flows: flows, invokes: invokes, stateDir: stateDir, noColor: g.NoColor, prices: prices,
			imagesLoaded: imagesLoaded, pusher: pusher, tags: tags, pushed: pushed,
		})
	}
	return sess, nil
}

// debugLogger writes to the state dir's debug.log with --debug; otherwise
// it discards. Never log a secret: keys are constant, values are names.
func debugLogger(on bool) (*slog.Logger, func()) {
	if !on {
		return slog.New(slog.NewTextHandler(io.Discard, nil)), func() {}
	}
	f, err := config.OpenStateFile("debug.log", os.O_CREATE|os.O_APPEND|os.O_WRONLY)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fndeck: cannot open the debug log:", err)
		return slog.New(slog.NewTextHandler(io.Discard, nil)), func() {}
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})), func() { _ = f.Close() }
}

// awsUnconfigured says what to configure when nothing points fndeck at AWS;
// "" means AWS is configured (a profile, credentials, or an endpoint).
func awsUnconfigured(cfg *config.Config) string {
	if len(cfg.AWS.Profiles) > 0 || len(cfg.AWS.Regions) > 0 {
		return ""
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		if os.Getenv(k) != "" {
			return ""
		}
	}
	home, _ := os.UserHomeDir()
	for _, f := range []string{envOr("AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config")), envOr("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials"))} {
		if st, err := os.Stat(f); err == nil && st.Size() > 0 {
			return ""
		}
	}
	return "no AWS credentials found: run `aws configure` (or `aws sso login`), or set aws.profiles in the config"
}

// gcpUnconfigured is awsUnconfigured for Google Cloud.
func gcpUnconfigured(cfg *config.Config) string {
	if len(cfg.GCP.Projects) > 0 || cfg.GCP.RunEndpoint != "" {
		return ""
	}
	for _, k := range []string{"GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"} {
		if v := os.Getenv(k); v != "" {
			if k == "GOOGLE_APPLICATION_CREDENTIALS" {
				if _, err := os.Stat(v); err != nil {
					continue
				}
			}
			return ""
		}
	}
	// gcloud's configuration or ADC on disk (a project, ADC, or a gcloud
	// account whose token fndeck can borrow).
	if accounts.GCPConfigured() {
		return ""
	}
	return "no Google Cloud credentials found: run `gcloud auth application-default login`, or set gcp.projects in the config"
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// projectTargets resolves fndeck.yaml targets: FUNCTION.TARGET, FUNCTION/TARGET,
// a TARGET name unique across functions, or the address a target deploys to.
// A target whose Lambda name only its deployed stack knows (SAM) is looked
// up through stacks, once; with stacks nil such a target is left out.
func projectTargets(p *config.Project, stacks cloud.StackResolver) func(string) (cli.Target, bool) {
	var mu sync.Mutex
	names := map[*config.Target]string{}
	stackName := func(t *config.Target) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if n, ok := names[t]; ok {
			return n, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		n, err := stacks.StackResource(ctx, *t.Stack)
		if err != nil {
			return "", fmt.Errorf("%s.%s: the function's name comes from the stack %s: %w", t.Function, t.Name, t.Stack.Stack, err)
		}
		names[t] = n
		return n, nil
	}
	return func(name string) (cli.Target, bool) {
		var found []*config.Target
		var fns []*config.Function
		for _, fn := range p.Functions {
			for _, t := range fn.Targets {
				switch {
				case name == fn.Name+"."+t.Name, name == fn.Name+"/"+t.Name, name == t.Name, name == t.Address().String():
					found = append(found, t)
					fns = append(fns, fn)
				}
			}
		}
		if len(found) != 1 {
			return cli.Target{}, false
		}
		t, fn := found[0], fns[0]
		out := cli.Target{Address: t.Address(), Payloads: map[string]string{}, Err: t.Err()}
		if t.Stack != nil && t.Lambda != nil && t.Lambda.Function == "" && out.Err == nil {
			if stacks == nil {
				return cli.Target{}, false
			}
			n, err := stackName(t)
			if err != nil {
				out.Err = &cli.ExitError{Code: cli.ExitFailure, Err: err}
			}
			out.Address.Function = n
		}
		for _, pl := range fn.Payloads {
			out.Payloads[pl.Name] = pl.File
		}
		d := &out.Defaults
		d.ImageConfig = t.ImageConfig
		switch {
		case t.Lambda != nil:
			d.Role, d.MemoryMB, d.TimeoutS, d.Arch, d.Env = t.Lambda.Role, t.Lambda.MemoryMB, t.Lambda.TimeoutS, t.Lambda.Arch, t.Lambda.Env
		case t.CloudRun != nil:
			d.Port, d.MemoryMB, d.TimeoutS, d.Env = t.CloudRun.Port, t.CloudRun.MemoryMB, t.CloudRun.TimeoutS, t.CloudRun.Env
		case t.Local != nil:
			d.As, d.MemoryMB, d.TimeoutS, d.Port, d.Env = t.Local.As, t.Local.MemoryMB, t.Local.TimeoutS, t.Local.Port, t.Local.Env
			d.HTTP = t.Local.HTTP
		}
		return out, true
	}
}

// taskRunner runs headless tasks through the same runner the TUI uses and
// streams their (redacted) output lines back.
type taskRunner struct{ r *actions.Runner }

func (t taskRunner) Run(ctx context.Context, spec cli.TaskSpec, onLine func(string), onProgress func(cloud.Progress)) (task.Event, error) {
	var runErr error // the task's own error, kept for errors.Is and hints
	id := t.r.Submit(actions.Spec{
		Kind:   spec.Kind,
		Target: spec.Target,
		Title:  spec.Title,
		Run: func(ctx context.Context, out actions.Output) error {
			runErr = spec.Run(ctx, progressTee{Output: out, onProgress: onProgress})
			return runErr
		},
	})
	buf := t.r.Output(id)
	var seq uint64
	for {
		lines, next, dropped, done := buf.Since(seq)
		if dropped > 0 {
			onLine(fmt.Sprintf("[fndeck: %d lines dropped from the screen; the task's log file has them all]", dropped))
		}
		for _, l := range lines {
			onLine(l.Text)
		}
		seq = next
		if done {
			break
		}
		select {
		case <-buf.Notify():
		case <-ctx.Done():
			t.r.Cancel(id)
			// keep draining until the task reports its end
			<-buf.Notify()
		}
	}
	info, err := t.r.Wait(ctx, id)
	if err != nil {
		info, _ = t.r.Get(id)
	}
	ev := info.Event()
	switch info.State {
	case task.Succeeded:
		return ev, nil
	case task.Cancelled:
		return ev, fmt.Errorf("%s cancelled: %s", spec.Kind, strings.TrimSpace(info.Err))
	}
	return ev, &redactedError{msg: info.Err, err: runErr}
}

// redactedError shows the runner's redacted text of a task's error while
// keeping the original in the chain for errors.Is and cloud.Hint.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// progressTee sends progress both to the task (tasks pane, TaskInfo) and to
// the headless printer. Progress carries no secrets.
type progressTee struct {
	actions.Output
	onProgress func(cloud.Progress)
}

func (p progressTee) Progress(pr cloud.Progress) {
	p.Output.Progress(pr)
	if p.onProgress != nil {
		p.onProgress(pr)
	}
}

// ---------- the TUI ----------

type tuiDeps struct {
	cfg          *config.Config
	project      *config.Project
	engine       *docker.Engine
	providers    []cli.ProviderInfo
	unconfigured map[cloud.Provider]string
	runner       *actions.Runner
	history      *actions.History
	flows        actions.Flows
	invokes      *actions.InvokeStore
	stateDir     string
	noColor      bool
	imagesLoaded func()
	prices       *pricing.Table
	pusher       cloud.Pusher
	tags         *lineage.TagChecker
	pushed       *lineage.Pushed
}

func runTUI(ctx context.Context, d tuiDeps) error {
	noColor := d.noColor || os.Getenv("NO_COLOR") != ""
	dark := d.cfg.UI.Theme != "light"
	theme := common.NewTheme(dark, noColor)
	outPane := output.New(output.Options{Theme: theme, BufferLines: d.cfg.Logs.BufferLines, BufferBytes: int(d.cfg.Logs.BufferBytes)})
	taskPane := tasks.New(tasks.Options{Theme: theme, Source: d.runner})

	backends := func(p cloud.Provider) any {
		for _, pi := range d.providers {
			if pi.Provider == p {
				return pi.Backend
			}
		}
		return nil
	}
	var listers []cloud.Lister
	for _, pi := range d.providers {
		if l, ok := pi.Backend.(cloud.Lister); ok {
			listers = append(listers, l)
		}
	}
	var model *app.Model
	// The deploy confirmation shows doctor's checks of a local image.
	doctorLines := func(ctx context.Context, req cloud.DeployRequest) []string {
		return d.flows.CheckLines(ctx, backends(req.Target.Provider), req)
	}
	flow := workflow.New(workflow.Deps{
		Ctx:             ctx,
		Theme:           theme,
		Runner:          flowRunner{r: d.runner},
		Builder:         d.engine,
		Pusher:          d.pusher,
		Backends:        backends,
		Deploy:          d.flows.Deploy,
		Rollback:        d.flows.Rollback,
		PreviewRollback: d.flows.PreviewRollback,
		Doctor:          doctorLines,
		Builds:          projectBuilds(d.project),
		Targets:         projectDeployTargets(d.project),
		Payloads:        projectPayloads(d.project),
		Invokes:         invokeStore{s: d.invokes},
		Pricing:         d.prices,
		SavedPayloads:   d.invokes,
		Output:          outPane,
		// The output pane follows the tasks pane's cursor only while the user
		// is in the tasks pane: a new task (a log tail's own task, say) must
		// not take the output pane from the tail or invocation it shows.
		SelectedTask: func() task.ID {
			if model == nil || model.Focused() != app.PaneTasks {
				return 0
			}
			return taskPane.Selected()
		},
		LogBufferLines: d.cfg.Logs.BufferLines,
		LogTail:        d.cfg.Logs.Tail,
	})
	model = app.New(ctx, app.Options{
		Images:       d.engine,
		DockerHost:   d.engine.Host(),
		Listers:      listers,
		Unconfigured: d.unconfigured,
		HeaderAWS:    headerList("AWS", d.cfg.AWS.Profiles, d.unconfigured[cloud.AWS] != "", "default profile"),
		HeaderGCP:    headerList("GCP", d.cfg.GCP.Projects, d.unconfigured[cloud.GCP] != "", gcpDefaultHeader()),
		Sessions:     sessionWarnings(d.cfg, d.unconfigured[cloud.AWS] != ""),
		Tasks:        taskPane,
		Output:       outPane,
		RunningTasks: d.runner.Running,
		Handle:       flow.Handle,
		Keys:         d.cfg.UI.Keys, // the app keeps its defaults for the rest
		NoColor:      noColor,
		Theme:        d.cfg.UI.Theme,
		ImagesLoaded: d.imagesLoaded,
		FunctionDetail: func(f cloud.Function) []string {
			return coldStartDetail(ctx, d.history, d.invokes, d.engine, f)
		},
		Lineage: func(ctx context.Context, imgs []cloud.Image, fns []cloud.Function, withTags bool) lineage.Result {
			pushed, _ := d.pushed.Load() // a damaged file only loses matches
			var tags *lineage.TagChecker
			if withTags {
				tags = d.tags
			}
			return lineage.Annotate(ctx, tags, imgs, nil, pushed, fns, nil)
		},
	})
	// The colour profile comes from the environment: detecting it the
	// library's way runs `tmux info` inside tmux, 50 ms before the first frame.
	model.Start() // the engine's image list is on its way while we paint
	profile := colorProfile(noColor)
	// The first frame goes out now, not on the renderer's first tick.
	// It puts the terminal in raw mode at once; this undoes it at the end.
	defer app.PaintFirstFrame(model, os.Stdin, os.Stdout, profile)()
	// And the image names as soon as the engine lists them: the program's
	// renderer would show them only on its next tick, after a cold first
	// render. A key typed meanwhile ends the wait (200 ms at most).
	app.PaintLoaded(model, os.Stdin, os.Stdout, profile, 200*time.Millisecond)
	// 30 frames a second, not Bubble Tea's 60: the renderer ticks even when
	// idle, and at 60 fps an idle fndeck used 1.2-1.6 % of a core (schedstat,
	// quiet machine) against issue 2's 1.25 % budget; at 30 it uses ~0.8 %.
	// A key's answer still reaches the screen within one 33 ms frame.
	p := tea.NewProgram(model, tea.WithContext(ctx), tea.WithFPS(30), tea.WithColorProfile(profile))
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // interrupted: leave quietly
	}
	return err
}

// colorProfile picks the colours the TUI may use from the environment alone.
// fndeck draws with the 256-colour palette, which every terminal tmux or a
// 256color TERM runs in supports.
func colorProfile(noColor bool) colorprofile.Profile {
	if noColor {
		return colorprofile.Ascii // bold and reverse, no colour
	}
	p := colorprofile.Env(os.Environ())
	if p < colorprofile.ANSI256 && (os.Getenv("TMUX") != "" || strings.Contains(os.Getenv("TERM"), "256")) {
		p = colorprofile.ANSI256
	}
	return p
}

func headerList(_ string, items []string, unconfigured bool, def string) string {
	switch {
	case unconfigured:
		return "not configured"
	case len(items) == 0:
		return def
	}
	return strings.Join(items, ", ")
}

func projectBuilds(p *config.Project) []workflow.BuildTarget {
	if p == nil {
		return nil
	}
	var out []workflow.BuildTarget
	for _, fn := range p.Functions {
		if fn.Build == nil || len(fn.Unresolved) > 0 {
			continue // a framework file's build fndeck could not work out
		}
		out = append(out, workflow.BuildTarget{Function: fn.Name, Options: cloud.BuildOptions{
			ContextDir: fn.Build.Context, Dockerfile: fn.Build.Dockerfile, Platform: fn.Build.Platform, BuildArgs: fn.Build.Args,
			Target: fn.Build.Target,
		}})
	}
	return out
}

func projectDeployTargets(p *config.Project) []workflow.DeployTarget {
	if p == nil {
		return nil
	}
	resolve := projectTargets(p, nil) // no stack lookups while the TUI starts
	var out []workflow.DeployTarget
	for _, fn := range p.Functions {
		for _, t := range fn.Targets {
			if ct, ok := resolve(fn.Name + "." + t.Name); ok && ct.Err == nil {
				ct.Defaults.Target = ct.Address
				out = append(out, workflow.DeployTarget{Name: fn.Name + "." + t.Name, Function: fn.Name, Defaults: ct.Defaults})
			}
		}
	}
	return out
}

func projectPayloads(p *config.Project) func(cloud.Address) map[string]string {
	return func(addr cloud.Address) map[string]string {
		if p == nil {
			return nil
		}
		out := map[string]string{}
		for _, fn := range p.Functions {
			for _, t := range fn.Targets {
				if t.Address() != addr {
					continue
				}
				for _, pl := range fn.Payloads {
					if b, err := os.ReadFile(pl.File); err == nil {
						out[pl.Name] = string(b)
					}
				}
			}
		}
		return out
	}
}

// flowRunner wires the runner to the TUI workflows, which give a task a
// cloud.Sink and never see actions.Output.
type flowRunner struct{ r *actions.Runner }

func (f flowRunner) Submit(kind task.Kind, target, title string, run func(ctx context.Context, out cloud.Sink) error) task.ID {
	return f.r.Submit(actions.Spec{Kind: kind, Target: target, Title: title,
		Run: func(ctx context.Context, out actions.Output) error { return run(ctx, out) }})
}
func (f flowRunner) Output(id task.ID) output.Source {
	if b := f.r.Output(id); b != nil {
		return b
	}
	return nil // not a nil *Buffer inside a non-nil interface
}
func (f flowRunner) LogFile(id task.ID) string {
	info, _ := f.r.Get(id)
	return info.LogFile
}
func (f flowRunner) Cancel(id task.ID) { f.r.Cancel(id) }

// invokeStore adapts the invoke history to the invoke pane.
type invokeStore struct{ s *actions.InvokeStore }

func (i invokeStore) RecentPayloads(ctx context.Context, target cloud.Address) []string {
	recs, _ := i.s.Recent(ctx, target)
	seen := map[string]bool{}
	var out []string
	for _, r := range recs {
		if r.PayloadCut || seen[r.Payload] {
			continue
		}
		seen[r.Payload] = true
		out = append(out, r.Payload)
	}
	return out
}
func (i invokeStore) Append(ctx context.Context, target cloud.Address, payload []byte, r cloud.InvokeResult, err error) {
	if e := i.s.Append(ctx, target, payload, r, err); e != nil {
		slog.Debug("recording invoke history failed", "target", target.String(), "err", e)
	}
}

// relaxGCAtStart lets the heap grow eight-fold before collecting for the
// first two seconds, then returns to Go's default. Start-up allocates a few
// MB (image list, first frames) and with the default two collections ran
// in the first 120 ms, their pauses landing on the first frame and the
// image list (measured with GODEBUG=gctrace=1). Two seconds of a relaxed
// goal bound the extra heap to a few MB; one collection then hands the
// start-up garbage back to the OS, since an idle program allocates too
// little to trigger one for a long time (idle RSS is budgeted too). A GOGC
// the user set is kept.
func relaxGCAtStart() {
	if os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(800)
	time.AfterFunc(2*time.Second, func() {
		debug.SetGCPercent(100)
		debug.FreeOSMemory()
	})
}

// coldStartDetail is the function detail's "Cold starts" section: the REPORT
// lines of fndeck's invoke history tied to the deploy history's images.
func coldStartDetail(ctx context.Context, history *actions.History, invokes *actions.InvokeStore, images cloud.Images, f cloud.Function) []string {
	addr, err := cloud.ParseAddress(f.Address)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	deploys, _, _ := history.Entries(ctx, addr)
	recs, _ := invokes.Recent(ctx, addr)
	sizeOf := func(ref string) (int64, bool) { // images the local engine has
		d, err := images.Inspect(ctx, ref)
		return d.Size, err == nil
	}
	lines := actions.ColdStartLines(actions.ColdStarts(deploys, recs), sizeOf)
	if len(lines) == 0 {
		return nil
	}
	out := []string{"", "Cold starts (fndeck's invoke history, by deployed image)"}
	for _, l := range lines {
		out = append(out, "  "+l)
	}
	return out
}
