package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fndeck/fndeck/actions"
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/task"
)

// stageEventJSON is a ship chain's stage event: PRODUCT.md's task event
// plus {chain, stage, duration_ms, result}. A start event has no task id
// yet (the runner assigns it when the stage's task starts).
type stageEventJSON struct {
	Type       string     `json:"type"` // "stage"
	ID         task.ID    `json:"id,omitempty"`
	Kind       task.Kind  `json:"kind"`
	Target     string     `json:"target"`
	State      task.State `json:"state"`
	Started    *time.Time `json:"started,omitempty"`
	Finished   *time.Time `json:"finished,omitempty"`
	Error      string     `json:"error,omitempty"`
	Chain      string     `json:"chain"`
	Stage      string     `json:"stage"`
	DurationMS int64      `json:"duration_ms"`
	Result     string     `json:"result,omitempty"`
	// Differences is a failed smoke expectation's differences.
	Differences []actions.Difference `json:"differences,omitempty"`
}

func (a *app) shipCmd() *cobra.Command {
	var to string
	var asJSON, yes bool
	cmd := &cobra.Command{
		Use:   "ship FUNCTION[.TARGET]",
		Short: "Build, check, deploy and smoke-test a fndeck.yaml function as one chain",
		Long: "ship runs a fndeck.yaml function's chain: build (the function's build:, build.pre first), push when the target\n" +
			"needs a registry (done by the deploy), doctor's pre-deploy checks, deploy, and the smoke invoke\n" +
			"named by smoke: with its expectation. The first failing stage stops the chain (exit 1).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			sess, err := a.session(ctx)
			if err != nil {
				return err
			}
			plan, err := a.shipPlan(ctx, sess, pos[0], to, yes)
			if err != nil {
				return err
			}
			return a.runShip(ctx, sess, plan, asJSON)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&to, "to", "", "the target to ship to (instead of FUNCTION.TARGET)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object per stage start and end")
	fl.BoolVar(&yes, "yes", false, "let the deploy create a registry repository")
	return cmd
}

type shipPlan struct {
	chain   string
	spec    actions.ShipSpec // Target unused: see targets
	targets []plannedTarget
}

type plannedTarget struct {
	name string // FUNCTION.TARGET
	t    actions.ShipTarget
}

// shipPlan checks the input and resolves everything the chain needs; every
// mistake is a usage error (exit 2) and nothing has started.
func (a *app) shipPlan(ctx context.Context, sess *Session, arg, to string, yes bool) (shipPlan, error) {
	p := sess.Project
	if p == nil {
		return shipPlan{}, UsageError(cloud.WithHint(errors.New("ship needs a project: no fndeck.yaml in the working directory"),
			"run fndeck in the directory that holds fndeck.yaml"))
	}
	fnName, tName, _ := strings.Cut(arg, ".")
	if to != "" {
		if tName != "" {
			return shipPlan{}, UsageError(fmt.Errorf("%q names a target and --to names another: use one", arg))
		}
		tName = to
	}
	fn := p.Function(fnName)
	if fn == nil {
		names := make([]string, 0, len(p.Functions))
		for _, f := range p.Functions {
			names = append(names, f.Name)
		}
		return shipPlan{}, UsageError(cloud.WithHint(fmt.Errorf("unknown function %q: %s has no such function", fnName, p.File),
			"functions: "+strings.Join(names, ", ")))
	}
	if len(fn.Unresolved) > 0 {
		return shipPlan{}, UsageError(fmt.Errorf("function %s cannot be built yet: %w", fn.Name, fn.Unresolved))
	}
	if fn.Build == nil {
		return shipPlan{}, UsageError(cloud.WithHint(fmt.Errorf("function %s has no build: section, so ship has nothing to build", fn.Name),
			"add build: {context: ., dockerfile: Dockerfile} under functions."+fn.Name+" in "+p.File))
	}
	tnames := make([]string, 0, len(fn.Targets))
	for _, t := range fn.Targets {
		tnames = append(tnames, t.Name)
	}
	if tName == "" {
		if len(fn.Targets) != 1 {
			return shipPlan{}, UsageError(cloud.WithHint(fmt.Errorf("%s has %d targets: name one", fn.Name, len(fn.Targets)),
				"fndeck ship "+fn.Name+".TARGET, with TARGET one of: "+orNone(tnames)))
		}
		tName = fn.Targets[0].Name
	}
	var names []string
	for _, n := range strings.Split(tName, ",") {
		n = strings.TrimSpace(n)
		if n == "" || slices.Contains(names, n) {
			return shipPlan{}, UsageError(fmt.Errorf("targets %q: an empty or repeated name", tName))
		}
		if fn.Target(n) == nil {
			return shipPlan{}, UsageError(cloud.WithHint(fmt.Errorf("unknown target %q of function %s", n, fn.Name),
				"targets of "+fn.Name+": "+orNone(tnames)))
		}
		names = append(names, n)
	}
	var smoke *actions.ShipSmoke
	if fn.Smoke != nil {
		body, err := os.ReadFile(fn.Smoke.File)
		if err != nil {
			return shipPlan{}, UsageError(cloud.WithHint(fmt.Errorf("smoke payload of %s: %w", fn.Name, err),
				"functions."+fn.Name+".smoke.payload in "+p.File))
		}
		if err := checkJSON(body); err != nil {
			return shipPlan{}, UsageError(fmt.Errorf("smoke payload %s: %w", fn.Smoke.File, err))
		}
		smoke = &actions.ShipSmoke{Payload: body, Expect: actions.SmokeExpect{Status: fn.Smoke.Status, JSON: fn.Smoke.JSON}}
	}
	image := fn.Build.Tag
	if image == "" {
		image = "fndeck-ship/" + strings.ToLower(fn.Name) + ":latest"
	}
	b := fn.Build
	opts := cloud.BuildOptions{ContextDir: b.Context, Dockerfile: b.Dockerfile, Tags: []string{image}, Platform: b.Platform, BuildArgs: b.Args, Target: b.Target}
	plan := shipPlan{chain: newChainID(), spec: actions.ShipSpec{
		Function: fn.Name,
		Image:    image,
		Build: func(ctx context.Context, out cloud.Sink) (cloud.BuildResult, error) {
			if b.Pre != "" {
				if err := actions.RunPre(ctx, b.Context, b.Pre, out); err != nil {
					return cloud.BuildResult{}, err
				}
			}
			return sess.Builder.Build(ctx, opts, out)
		},
		Smoke: smoke,
	}}
	for _, n := range names {
		full := fn.Name + "." + n
		st, err := a.shipTarget(ctx, sess, full, smoke != nil, yes)
		if err != nil {
			return shipPlan{}, err
		}
		plan.targets = append(plan.targets, plannedTarget{name: full, t: st})
	}
	return plan, nil
}

// shipTarget resolves one FUNCTION.TARGET into what the chain calls.
func (a *app) shipTarget(ctx context.Context, sess *Session, full string, invoke, yes bool) (actions.ShipTarget, error) {
	if sess.ResolveTarget == nil {
		return actions.ShipTarget{}, UsageError(fmt.Errorf("target %s cannot be resolved", full))
	}
	t, ok := sess.ResolveTarget(full)
	if !ok {
		return actions.ShipTarget{}, UsageError(fmt.Errorf("target %s cannot be resolved", full))
	}
	if t.Err != nil {
		var ee *ExitError
		if errors.As(t.Err, &ee) {
			return actions.ShipTarget{}, t.Err
		}
		return actions.ShipTarget{}, UsageError(fmt.Errorf("target %s cannot be used yet: %w", full, t.Err))
	}
	dep, err := capability[cloud.Deployer](sess, t.Address, "deploy")
	if err != nil {
		return actions.ShipTarget{}, UsageError(err)
	}
	var inv cloud.Invoker
	if invoke {
		if inv, err = capability[cloud.Invoker](sess, t.Address, "invoke"); err != nil {
			return actions.ShipTarget{}, UsageError(err)
		}
	}
	req := t.Defaults
	req.Yes = req.Yes || yes
	if req.As == "" && t.Address.Provider == cloud.Local {
		req.As = "lambda"
	}
	backend := sess.backend(t.Address.Provider)
	st := actions.ShipTarget{
		Target: t.Address,
		// Lambda and Cloud Run pull from a registry: their deploy pushes
		// the local image (to the repository it picks) itself.
		NeedsPush: t.Address.Provider != cloud.Local,
		Check: func(ctx context.Context, req cloud.DeployRequest) []actions.Check {
			img, err := sess.Images.Inspect(ctx, req.Image)
			if err != nil {
				return []actions.Check{{ID: "image", Level: actions.LevelError, Message: "the built image cannot be inspected: " + err.Error()}}
			}
			return actions.Doctor(img, actions.DoctorTargetFor(ctx, backend, req))
		},
		Deploy: func(ctx context.Context, req cloud.DeployRequest, out cloud.Sink) (cloud.DeployResult, error) {
			return sess.Deploy(ctx, dep, req, out)
		},
		Request: req,
	}
	if inv != nil {
		st.Invoke = func(ctx context.Context, r cloud.InvokeRequest) (cloud.InvokeResult, error) {
			return inv.Invoke(ctx, r, nil)
		}
	}
	return st, nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

func newChainID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "ship-" + hex.EncodeToString(b[:])
}

// runShip runs the plan's chain, each stage as a task of the runner, and
// prints its stage events: the build once, then each target's stages (in
// parallel when there are several).
func (a *app) runShip(ctx context.Context, sess *Session, plan shipPlan, asJSON bool) error {
	p := newProgressPrinter(a, asJSON)
	asTask := func(st actions.Stage, addr, title string, last *task.Event) actions.Stage {
		return actions.Stage{Name: st.Name, Run: func(ctx context.Context, _ cloud.Sink) (string, error) {
			var res string
			ev, err := sess.Tasks.Run(ctx, TaskSpec{
				Kind: task.Kind(st.Name), Target: addr, Title: st.Name + " " + title + " (" + plan.chain + ")",
				Run: func(ctx context.Context, out cloud.Sink) error {
					var err error
					res, err = st.Run(ctx, out)
					return err
				},
			}, p.line, p.progress)
			*last = ev
			return res, err
		}}
	}
	// The build's target is the image it makes; a target's, its address.
	lastBuild := new(task.Event)
	build := asTask(actions.BuildStage(plan.spec), plan.spec.Image, plan.spec.Function, lastBuild)
	last := make([]*task.Event, len(plan.targets))
	stages := make([][]actions.Stage, len(plan.targets))
	var names []string
	for i, pt := range plan.targets {
		last[i] = new(task.Event)
		addr := pt.t.Target.String()
		for _, st := range actions.TargetStages(plan.spec, pt.t) {
			stages[i] = append(stages[i], asTask(st, addr, pt.name, last[i]))
		}
		names = append(names, pt.name)
	}
	start := time.Now()
	err := actions.RunShipMany(ctx, plan.chain, build, stages, cloud.DiscardSink{}, func(i int, e actions.StageEvent) {
		target, lastEv, label := plan.spec.Image, lastBuild, ""
		if i >= 0 {
			target, lastEv = plan.targets[i].t.Target.String(), last[i]
			if len(plan.targets) > 1 {
				label = " " + plan.targets[i].name
			}
		}
		if asJSON {
			ev := stageEventJSON{Type: "stage", Kind: task.Kind(e.Stage), Target: target, State: task.Running, Chain: e.Chain, Stage: e.Stage}
			started := e.Started
			ev.Started = &started
			if e.Done() {
				ev.ID, ev.State, ev.Error = lastEv.ID, lastEv.State, lastEv.Error
				if lastEv.Started != nil {
					ev.Started = lastEv.Started
				}
				fin := e.Finished
				ev.Finished = &fin
				if lastEv.Finished != nil {
					ev.Finished = lastEv.Finished
				}
				ev.DurationMS = e.Duration.Milliseconds()
				ev.Result = e.Result
				if e.Err != nil && ev.Error == "" {
					ev.Error = e.Err.Error()
				}
				if ev.State == "" {
					ev.State = task.Succeeded
					if e.Err != nil {
						ev.State = task.Failed
					}
				}
				var se *actions.SmokeError
				if errors.As(e.Err, &se) {
					ev.Differences = se.Differences
				}
			}
			_ = p.jw.write(ev)
			return
		}
		if !e.Done() {
			return
		}
		mark, tail := "✓", s(e.Result)
		if e.Err != nil {
			mark, tail = "✗", s(e.Err.Error())
		}
		p.h.linef("%s %s%s %s  %s", mark, e.Stage, s(label), fmtSeconds(e.Duration), tail)
	})
	what := strings.Join(names, ", ")
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("ship %s: %w", what, err)}
	}
	if !asJSON {
		p.h.linef("shipped %s in %s", s(what), fmtSeconds(time.Since(start)))
	}
	return nil
}

func fmtSeconds(d time.Duration) string {
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// checkJSON refuses a payload that is not JSON.
func checkJSON(b []byte) error {
	if !json.Valid(b) {
		return errors.New("not valid JSON")
	}
	return nil
}
