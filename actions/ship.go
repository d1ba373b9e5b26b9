package actions

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fndeck/fndeck/cloud"
)

// A ship chain runs a function's stages in order (build, push, doctor,
// deploy, smoke); the first failing stage stops it with its reason.

// Stage is one step of a ship chain. Run returns a short result ("" for
// none) for the stage's end event.
type Stage struct {
	Name string
	Run  func(ctx context.Context, out cloud.Sink) (string, error)
}

// StageEvent reports a stage's start (Finished zero) or end.
type StageEvent struct {
	Chain    string
	Stage    string
	Started  time.Time
	Finished time.Time
	Duration time.Duration
	Result   string
	Err      error
}

// Done reports whether the event is a stage's end.
func (e StageEvent) Done() bool { return !e.Finished.IsZero() }

// StageError is the error of a chain stopped by a failed stage.
type StageError struct {
	Stage string
	Err   error
}

func (e *StageError) Error() string { return e.Stage + ": " + e.Err.Error() }
func (e *StageError) Unwrap() error { return e.Err }

// RunChain runs stages in order, reporting each start and end to on (from
// the calling goroutine). A failed or cancelled stage stops the chain; the
// error is a *StageError naming it.
func RunChain(ctx context.Context, chain string, stages []Stage, out cloud.Sink, on func(StageEvent)) error {
	for _, st := range stages {
		if err := ctx.Err(); err != nil {
			return &StageError{Stage: st.Name, Err: err}
		}
		start := time.Now()
		on(StageEvent{Chain: chain, Stage: st.Name, Started: start})
		res, err := st.Run(ctx, out)
		end := time.Now()
		on(StageEvent{Chain: chain, Stage: st.Name, Started: start, Finished: end, Duration: end.Sub(start), Result: res, Err: err})
		if err != nil {
			return &StageError{Stage: st.Name, Err: err}
		}
	}
	return nil
}

// Difference is one place where a smoke answer differs from what was
// expected: Path is a JSON path ("status", "json.items[0].id"); Expected
// and Got are JSON texts (Got "(missing)" when absent).
type Difference struct {
	Path     string `json:"path"`
	Expected string `json:"expected"`
	Got      string `json:"got"`
}

// SmokeExpect is what a smoke answer must be: Status (0: not checked) and
// JSON, a subset of the response (nil: not checked).
type SmokeExpect struct {
	Status int
	JSON   any
}

// SmokeError is a failed smoke expectation with its differences.
type SmokeError struct{ Differences []Difference }

func (e *SmokeError) Error() string {
	parts := make([]string, 0, len(e.Differences))
	for _, d := range e.Differences {
		parts = append(parts, fmt.Sprintf("%s: expected %s, got %s", d.Path, d.Expected, d.Got))
	}
	return "the smoke answer is not what fndeck.yaml expects: " + strings.Join(parts, "; ")
}

// CheckSmoke compares an invoke result with the expectation. A function
// error fails the check even without a status expectation.
func CheckSmoke(exp SmokeExpect, r cloud.InvokeResult) []Difference {
	var diffs []Difference
	if exp.Status != 0 && r.StatusCode != exp.Status {
		diffs = append(diffs, Difference{Path: "status", Expected: strconv.Itoa(exp.Status), Got: strconv.Itoa(r.StatusCode)})
	}
	if r.FunctionError != "" {
		diffs = append(diffs, Difference{Path: "function_error", Expected: "none", Got: strconv.Quote(r.FunctionError)})
	}
	if exp.JSON == nil {
		return diffs
	}
	body := []byte(r.Response)
	if len(body) == 0 {
		body = r.Body
	}
	var got any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&got); err != nil {
		return append(diffs, Difference{Path: "json", Expected: jsonText(exp.JSON), Got: "not JSON: " + strconv.Quote(clip(string(body), 200))})
	}
	// A Lambda behind an HTTP-shaped answer ({statusCode, body}) carries
	// its JSON as a string: compare with that when the subset is not about
	// the envelope.
	if m, ok := got.(map[string]any); ok {
		if b, ok := m["body"].(string); ok {
			if em, ok := exp.JSON.(map[string]any); ok && em["body"] == nil {
				var inner any
				dd := json.NewDecoder(strings.NewReader(b))
				dd.UseNumber()
				if dd.Decode(&inner) == nil {
					got = inner
				}
			}
		}
	}
	return append(diffs, subset("json", exp.JSON, got)...)
}

// subset reports where got does not contain want: maps need want's keys,
// lists want's items at the same positions, scalars equality.
func subset(path string, want, got any) []Difference {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []Difference{{Path: path, Expected: jsonText(want), Got: jsonText(got)}}
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var out []Difference
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				out = append(out, Difference{Path: path + "." + k, Expected: jsonText(w[k]), Got: "(missing)"})
				continue
			}
			out = append(out, subset(path+"."+k, w[k], gv)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) < len(w) {
			return []Difference{{Path: path, Expected: jsonText(want), Got: jsonText(got)}}
		}
		var out []Difference
		for i := range w {
			out = append(out, subset(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	case float64:
		if n, ok := got.(json.Number); ok {
			if f, err := n.Float64(); err == nil && f == w {
				return nil
			}
		}
	default:
		if want == got {
			return nil
		}
	}
	return []Difference{{Path: path, Expected: jsonText(want), Got: jsonText(got)}}
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return clip(string(b), 200)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ShipTarget is one target a ship chain deploys to.
type ShipTarget struct {
	Target cloud.Address
	// NeedsPush: the target pulls from a registry (Lambda, Cloud Run); the
	// chain has a push stage. Push pushes ref and returns the remote reference
	// to deploy; nil when the deploy pushes itself (the backends do).
	NeedsPush bool
	Push      func(ctx context.Context, ref string, out cloud.Sink) (string, error)
	// Check runs doctor over the built image for this target.
	Check func(ctx context.Context, req cloud.DeployRequest) []Check
	// Deploy is Flows.Deploy bound to the target's backend.
	Deploy func(ctx context.Context, req cloud.DeployRequest, out cloud.Sink) (cloud.DeployResult, error)
	// Invoke runs the smoke invoke; nil with Smoke nil.
	Invoke func(ctx context.Context, req cloud.InvokeRequest) (cloud.InvokeResult, error)
	// Request is the deploy request with the target's settings; Image is
	// filled in by the chain.
	Request cloud.DeployRequest
}

// ShipSpec is one ship of a function to a target.
type ShipSpec struct {
	Function string
	Build    func(ctx context.Context, out cloud.Sink) (cloud.BuildResult, error)
	Image    string // the reference the build tags
	Target   ShipTarget
	// Smoke, when set, is the smoke payload and what its answer must be.
	Smoke *ShipSmoke
}

// ShipSmoke is the smoke stage's input.
type ShipSmoke struct {
	Payload []byte
	Expect  SmokeExpect
}

// ShipStages builds the stages of spec: build, push (when the target needs
// a registry and Push is set), doctor, deploy, smoke (when set).
func ShipStages(spec ShipSpec) []Stage {
	return append([]Stage{BuildStage(spec)}, TargetStages(spec, spec.Target)...)
}

// BuildStage is the chain's build stage (one for every target).
func BuildStage(spec ShipSpec) Stage {
	return Stage{Name: "build", Run: func(ctx context.Context, out cloud.Sink) (string, error) {
		res, err := spec.Build(ctx, out)
		if err != nil {
			return "", err
		}
		id := res.ImageID
		if len(id) > 19 && strings.HasPrefix(id, "sha256:") {
			id = id[7:19]
		}
		return spec.Image + " (" + id + ")", nil
	}}
}

// TargetStages are the stages after the build for one target: push (when
// the target needs a registry and Push is set), doctor, deploy, smoke.
func TargetStages(spec ShipSpec, t ShipTarget) []Stage {
	image := spec.Image
	var stages []Stage
	if t.NeedsPush && t.Push != nil {
		stages = append(stages, Stage{Name: "push", Run: func(ctx context.Context, out cloud.Sink) (string, error) {
			remote, err := t.Push(ctx, spec.Image, out)
			if err != nil {
				return "", err
			}
			image = remote
			return remote, nil
		}})
	}
	req := func() cloud.DeployRequest {
		r := t.Request
		r.Target, r.Image = t.Target, image
		return r
	}
	stages = append(stages, Stage{Name: "doctor", Run: func(ctx context.Context, out cloud.Sink) (string, error) {
		checks := t.Check(ctx, req())
		warnings := 0
		for _, c := range checks {
			if c.Level == LevelWarning {
				warnings++
				out.Line("doctor: warning: " + c.Message)
			}
		}
		if err := DoctorError(spec.Image, t.Target.String(), checks); err != nil {
			return "", err
		}
		if warnings > 0 {
			return fmt.Sprintf("%d warning(s)", warnings), nil
		}
		return "ok", nil
	}})
	stages = append(stages, Stage{Name: "deploy", Run: func(ctx context.Context, out cloud.Sink) (string, error) {
		res, err := t.Deploy(ctx, req(), out)
		if err != nil {
			return "", err
		}
		if res.NoOp {
			return "already serving " + res.NewImage, nil
		}
		return "serving " + res.NewImage, nil
	}})
	if spec.Smoke != nil {
		sm := spec.Smoke
		stages = append(stages, Stage{Name: "smoke", Run: func(ctx context.Context, out cloud.Sink) (string, error) {
			if t.Invoke == nil {
				return "", errors.New("the target cannot be invoked")
			}
			r, err := t.Invoke(ctx, cloud.InvokeRequest{Target: t.Target, Payload: sm.Payload})
			if err != nil {
				return "", err
			}
			if diffs := CheckSmoke(sm.Expect, r); len(diffs) > 0 {
				for _, d := range diffs {
					out.Line(fmt.Sprintf("smoke: %s: expected %s, got %s", d.Path, d.Expected, d.Got))
				}
				return "", &SmokeError{Differences: diffs}
			}
			return "status " + strconv.Itoa(r.StatusCode), nil
		}})
	}
	return stages
}

// RunShipMany runs build once, then each target's stages in parallel: a
// failed target stops only its own stages. on is called from several
// goroutines with the target's index (-1 for the build). The error joins
// every failed target's *StageError.
func RunShipMany(ctx context.Context, chain string, build Stage, targets [][]Stage, out cloud.Sink, on func(target int, e StageEvent)) error {
	if err := RunChain(ctx, chain, []Stage{build}, out, func(e StageEvent) { on(-1, e) }); err != nil {
		return err
	}
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, stages := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = RunChain(ctx, chain, stages, out, func(e StageEvent) { on(i, e) })
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// RunPre runs build.pre, a shell command, in dir before the image build,
// streaming its output lines to out. A failure names the command and its
// exit status; the output already went to out.
func RunPre(ctx context.Context, dir, command string, out cloud.Sink) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir = dir
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			out.Line("pre: " + sc.Text())
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	err := cmd.Run()
	_ = pw.Close()
	<-done
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("build.pre %q in %s: %w", clip(command, 80), dir, err)
	}
	return nil
}
