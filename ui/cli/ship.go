package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
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
	chain  string
	target string // FUNCTION.TARGET
	spec   actions.ShipSpec
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
		if strings.Contains(to, ",") {
			return shipPlan{}, UsageError(cloud.WithHint(fmt.Errorf("--to %q: shipping to several targets at once is not supported yet", to),
				"ship each target on its own: fndeck ship "+fnName+".TARGET"))
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
	ct := fn.Target(tName)
	if ct == nil {
		return shipPlan{}, UsageError(cloud.WithHint(fmt.Errorf("unknown target %q of function %s", tName, fn.Name),
			"targets of "+fn.Name+": "+orNone(tnames)))
	}
	full := fn.Name + "." + ct.Name
	if sess.ResolveTarget == nil {
		return shipPlan{}, UsageError(fmt.Errorf("target %s cannot be resolved", full))
	}
	t, ok := sess.ResolveTarget(full)
	if !ok {
		return shipPlan{}, UsageError(fmt.Errorf("target %s cannot be resolved", full))
	}
	if t.Err != nil {
		var ee *ExitError
		if errors.As(t.Err, &ee) {
			return shipPlan{}, t.Err
		}
		return shipPlan{}, UsageError(fmt.Errorf("target %s cannot be used yet: %w", full, t.Err))
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
	dep, err := capability[cloud.Deployer](sess, t.Address, "deploy")
	if err != nil {
		return shipPlan{}, UsageError(err)
	}
	var inv cloud.Invoker
	if smoke != nil {
		if inv, err = capability[cloud.Invoker](sess, t.Address, "invoke"); err != nil {
			return shipPlan{}, UsageError(err)
		}
	}
	image := fn.Build.Tag
	if image == "" {
		image = "fndeck-ship/" + strings.ToLower(fn.Name) + ":latest"
	}
	b := fn.Build
	opts := cloud.BuildOptions{ContextDir: b.Context, Dockerfile: b.Dockerfile, Tags: []string{image}, Platform: b.Platform, BuildArgs: b.Args, Target: b.Target}
	req := t.Defaults
	req.Yes = req.Yes || yes
	if req.As == "" && t.Address.Provider == cloud.Local {
		req.As = "lambda"
	}
	backend := sess.backend(t.Address.Provider)
	spec := actions.ShipSpec{
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
		Target: actions.ShipTarget{
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
		},
	}
	if inv != nil {
		spec.Target.Invoke = func(ctx context.Context, r cloud.InvokeRequest) (cloud.InvokeResult, error) {
			return inv.Invoke(ctx, r, nil)
		}
	}
	return shipPlan{chain: newChainID(), target: full, spec: spec}, nil
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
// prints its stage events.
func (a *app) runShip(ctx context.Context, sess *Session, plan shipPlan, asJSON bool) error {
	p := newProgressPrinter(a, asJSON)
	addr := plan.spec.Target.Target.String()
	var lastEv task.Event
	stages := actions.ShipStages(plan.spec)
	for i := range stages {
		st := stages[i]
		stages[i].Run = func(ctx context.Context, _ cloud.Sink) (string, error) {
			var res string
			ev, err := sess.Tasks.Run(ctx, TaskSpec{
				Kind: task.Kind(st.Name), Target: addr, Title: st.Name + " " + plan.target + " (" + plan.chain + ")",
				Run: func(ctx context.Context, out cloud.Sink) error {
					var err error
					res, err = st.Run(ctx, out)
					return err
				},
			}, p.line, p.progress)
			lastEv = ev
			return res, err
		}
	}
	start := time.Now()
	err := actions.RunChain(ctx, plan.chain, stages, cloud.DiscardSink{}, func(e actions.StageEvent) {
		if asJSON {
			ev := stageEventJSON{Type: "stage", Kind: task.Kind(e.Stage), Target: addr, State: task.Running, Chain: e.Chain, Stage: e.Stage}
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
				if e.Err == nil && ev.State == "" {
					ev.State = task.Succeeded
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
		p.h.linef("%s %s %s  %s", mark, e.Stage, fmtSeconds(e.Duration), tail)
	})
	if !asJSON {
		if err == nil {
			p.h.linef("shipped %s in %s", s(plan.target), fmtSeconds(time.Since(start)))
		}
	}
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("ship %s: %w", plan.target, err)}
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
