// Package workflow turns the TUI's requests (build, push, deploy, invoke,
// logs, rollback) into background tasks and pane updates. It reaches the
// backends and the task runner only through interfaces; main.go wires them.
package workflow

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/pricing"
	"github.com/fndeck/fndeck/internal/task"
	"github.com/fndeck/fndeck/internal/text"
	"github.com/fndeck/fndeck/ui/common"
	"github.com/fndeck/fndeck/ui/functions"
	"github.com/fndeck/fndeck/ui/invoke"
	"github.com/fndeck/fndeck/ui/output"
	"github.com/fndeck/fndeck/ui/tasks"
)

// TaskRunner is what the workflows need of the task runner.
type TaskRunner interface {
	// Submit queues a task and returns its ID.
	Submit(kind task.Kind, target, title string, run func(ctx context.Context, out cloud.Sink) error) task.ID
	// Output is the task's output stream (nil for an unknown ID).
	Output(id task.ID) output.Source
	// LogFile is the task's full output file ("" when none yet).
	LogFile(id task.ID) string
	// Cancel cancels a task.
	Cancel(id task.ID)
}

// BuildTarget is a fndeck.yaml function that can be built.
type BuildTarget struct {
	Function string
	Options  cloud.BuildOptions // Tags empty: the workflow tags it
}

// DeployTarget is a fndeck.yaml target, with its settings.
type DeployTarget struct {
	Name     string // FUNCTION.TARGET
	Function string
	Defaults cloud.DeployRequest // Target set
}

// InvokeStore keeps invoke history.
type InvokeStore interface {
	RecentPayloads(ctx context.Context, target cloud.Address) []string
	Append(ctx context.Context, target cloud.Address, payload []byte, r cloud.InvokeResult, err error)
}

// Deps wires a Flow.
type Deps struct {
	Ctx      context.Context
	Theme    common.Theme
	Runner   TaskRunner
	Builder  cloud.Builder
	Pusher   cloud.Pusher
	Backends func(p cloud.Provider) any
	Deploy   func(ctx context.Context, d cloud.Deployer, req cloud.DeployRequest, out cloud.Sink) (cloud.DeployResult, error)
	Rollback func(ctx context.Context, rb cloud.RollBacker, target cloud.Address, out cloud.Sink) (cloud.DeployResult, error)
	// Doctor, when set, returns doctor's checks of req's image against its
	// target as lines, for the deploy confirmation (none: nothing to show).
	Doctor func(ctx context.Context, req cloud.DeployRequest) []string
	// PreviewRollback says what a rollback would restore.
	PreviewRollback func(ctx context.Context, target cloud.Address) (cloud.DeployResult, bool, error)
	Builds          []BuildTarget
	Targets         []DeployTarget
	// Payloads are fndeck.yaml saved payloads by address (name → content).
	Payloads func(target cloud.Address) map[string]string
	Invokes  InvokeStore
	// SavedPayloads keeps payloads the invoke pane saves by name (S), per
	// target; nil: saving is refused.
	SavedPayloads PayloadStore
	// Pricing estimates each invocation's cost; nil: none.
	Pricing *pricing.Table
	// Output is the output pane (task output and log tails show in it).
	Output *output.Model
	// SelectedTask is the tasks pane's cursor. Commands run concurrently, so
	// selection messages can arrive out of order; only the current one counts.
	SelectedTask func() task.ID
	// LogBufferLines is unused: a log tail is a task, bounded by the
	// runner's buffer (logs.buffer_lines) like any other.
	LogBufferLines int
	// LogTail is how many of the newest events `l` shows before following,
	// whatever their age (logs.tail); 0 means 200.
	LogTail int
	Now     func() time.Time
}

// Flow handles the TUI's work requests. Handle is called by the root for
// every message; it returns nil for messages it does not care about.
type Flow struct {
	d       Deps
	mu      sync.Mutex
	invokes map[string]*invokeRun // by address
	// tails are the live log follows by address, so `l` on a function
	// already followed shows that tail's task again.
	tails map[string]*logTail
	// titles name the output of tasks whose pane title says more than
	// "task N" (a log tail's "logs ADDRESS (task N)").
	titles  map[task.ID]string
	panes   map[string]*invoke.Model
	costFns archCache // descriptions for cost estimates (cost.go)
	seq     int
}

// New returns a Flow.
func New(d Deps) *Flow {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.LogTail <= 0 {
		d.LogTail = 200
	}
	if d.LogBufferLines <= 0 {
		d.LogBufferLines = 50_000
	}
	return &Flow{d: d, invokes: map[string]*invokeRun{}, tails: map[string]*logTail{}, titles: map[task.ID]string{}, panes: map[string]*invoke.Model{}}
}

func status(format string, args ...any) tea.Cmd {
	text := fmt.Sprintf(format, args...)
	return func() tea.Msg { return common.StatusMsg{Text: text} }
}

func fail(err error) tea.Cmd {
	return func() tea.Msg { return common.ErrorMsg{Err: err, Hint: cloud.Hint(err)} }
}

// laterMsg carries work that must happen only when the user confirms (a
// dialog's Yes), on the UI goroutine through Handle: building the task
// while the dialog is being prepared would start it before anyone said yes.
type laterMsg struct{ run func() tea.Cmd }

// later returns a command that runs fn when it is executed (a confirmed
// dialog), not when it is built.
func (f *Flow) later(fn func() tea.Cmd) tea.Cmd { return common.MsgCmd(laterMsg{run: fn}) }

// Handle routes one message.
func (f *Flow) Handle(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case laterMsg:
		return msg.run()
	case common.BuildRequestMsg:
		return f.build(msg.Image)
	case common.PushRequestMsg:
		return f.push(msg.Image)
	case common.DeployRequestMsg:
		return f.deployImage(msg.Image, msg.Target)
	case common.FunctionDeployRequestMsg:
		return f.deployToFunction(msg.Address)
	case common.RollbackRequestMsg:
		return f.rollback(msg.Address)
	case common.InvokeRequestMsg:
		return f.openInvoke(msg.Address)
	case common.InvokeSendMsg:
		return f.sendInvoke(msg)
	case common.SavePayloadMsg:
		return f.savePayload(msg)
	case invokeNextMsg:
		return f.nextInvoke(msg)
	case common.LogsRequestMsg:
		return f.startLogs(msg.Address)
	case common.ShowTaskOutputMsg:
		return f.showTask(msg.ID, true)
	case common.SelectedTaskMsg:
		if f.d.SelectedTask != nil && f.d.SelectedTask() != msg.ID {
			return nil // a stale selection overtaken by a later one
		}
		return f.showTask(msg.ID, false)
	}
	return nil
}

// ---------- tasks in the output pane ----------

func (f *Flow) showTask(id task.ID, focus bool) tea.Cmd {
	if f.d.Output == nil || id == 0 {
		return nil
	}
	src := f.d.Runner.Output(id)
	if src == nil {
		return nil
	}
	f.mu.Lock()
	title, ok := f.titles[id]
	f.mu.Unlock()
	if !ok {
		title = "task " + id.String()
	}
	cmd := f.d.Output.SetSource("task:"+id.String(), src, title)
	if lf := f.d.Runner.LogFile(id); lf != "" {
		f.d.Output.SetLogFile(lf)
	}
	if focus {
		return tea.Batch(cmd, common.MsgCmd(common.ShowOutputMsg{Pane: f.d.Output}))
	}
	return cmd
}

func (f *Flow) submit(kind task.Kind, target, title string, run func(ctx context.Context, out cloud.Sink) error) tea.Cmd {
	return f.submitThen(kind, target, title, nil, run)
}

// submitThen is submit, and after (when not nil) is sent once the task's
// run has returned, so a pane can show what the task changed.
func (f *Flow) submitThen(kind task.Kind, target, title string, after tea.Msg, run func(ctx context.Context, out cloud.Sink) error) tea.Cmd {
	done := make(chan struct{})
	var once sync.Once // Retry (R in Tasks) runs this closure again
	id := f.d.Runner.Submit(kind, target, title, func(ctx context.Context, out cloud.Sink) error {
		defer once.Do(func() { close(done) })
		err := run(ctx, out)
		// The error ends the task's output too: the Tasks pane has room
		// for its start only, the output pane (wrap on) shows all of it.
		switch {
		case err != nil && ctx.Err() != nil:
			out.Line("cancelled")
		case err != nil:
			out.Line("error: " + err.Error())
			if h := cloud.Hint(err); h != "" {
				out.Line("hint: " + h) // what to do, as the CLI prints it
			}
		}
		return err
	})
	cmds := []tea.Cmd{status("%s: started (task %s)", title, id), f.showTask(id, false),
		common.MsgCmd(tasks.SelectMsg{ID: id}), common.MsgCmd(common.FocusMsg{Pane: "tasks"})}
	if after != nil {
		ctx := f.d.Ctx
		cmds = append(cmds, func() tea.Msg {
			select {
			case <-done:
				return after
			case <-ctx.Done(): // fndeck is quitting (or the task never ran)
				return nil
			}
		})
	}
	return tea.Batch(cmds...)
}

// ---------- build and push ----------

func (f *Flow) build(image string) tea.Cmd {
	if f.d.Builder == nil {
		return fail(errors.New("build: no Docker engine configured"))
	}
	repo := repoOf(image)
	var pick *BuildTarget
	for i := range f.d.Builds {
		if f.d.Builds[i].Function == repo {
			pick = &f.d.Builds[i]
		}
	}
	if pick == nil && len(f.d.Builds) == 1 {
		pick = &f.d.Builds[0]
	}
	if pick != nil {
		return f.confirmBuildTag(pick.Function, "", pick.Options)
	}
	if len(f.d.Builds) > 1 {
		names := make([]string, 0, len(f.d.Builds))
		for _, b := range f.d.Builds {
			names = append(names, b.Function)
		}
		return common.MsgCmd(common.PromptRequestMsg{
			Title: "Build", Label: "Which function of fndeck.yaml?", Value: names[0],
			Help: []string{"functions: " + strings.Join(names, ", ")},
			OnSubmit: func(v string) tea.Cmd {
				for _, b := range f.d.Builds {
					if b.Function == v {
						return f.confirmBuildTag(b.Function, "", b.Options)
					}
				}
				return fail(fmt.Errorf("build: %q is not a function in fndeck.yaml", v))
			},
		})
	}
	// No project file: ask for a context directory, then the tag.
	return common.MsgCmd(common.PromptRequestMsg{
		Title: "Build", Label: "Build context (a directory with a Dockerfile)", Value: ".",
		OnSubmit: func(dir string) tea.Cmd {
			st, err := os.Stat(dir)
			if err != nil || !st.IsDir() {
				return fail(fmt.Errorf("build: context %q is not a directory", dir))
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return fail(fmt.Errorf("build: context %q: %w", dir, err))
			}
			// Rebuilding a selected tagged image keeps its repository name.
			repo := ""
			if image != "" && !strings.HasPrefix(image, "sha256:") && !strings.Contains(image, "<none>") {
				repo = repoOf(image)
			}
			return f.confirmBuildTag(filepath.Base(abs), repo, cloud.BuildOptions{ContextDir: abs})
		},
	})
}

// confirmBuildTag asks for the tag, offering REPO:TIMESTAMP (repo defaults
// to the function or directory name).
func (f *Flow) confirmBuildTag(name, repo string, opts cloud.BuildOptions) tea.Cmd {
	if repo == "" {
		repo = sanitizeRepo(name)
	}
	def := repo + ":" + f.d.Now().UTC().Format("20060102-150405")
	return common.MsgCmd(common.PromptRequestMsg{
		Title: "Build " + name, Label: "Tag the image as", Value: def,
		Help: []string{"context: " + opts.ContextDir, "the image is also tagged :latest"},
		OnSubmit: func(tag string) tea.Cmd {
			if tag == "" {
				return fail(errors.New("build: a tag is needed"))
			}
			o := opts
			o.Tags = []string{tag}
			if latest := repoOf(tag) + ":latest"; latest != tag {
				o.Tags = append(o.Tags, latest)
			}
			return f.submit(task.KindBuild, tag, "build "+tag, func(ctx context.Context, out cloud.Sink) error {
				res, err := f.d.Builder.Build(ctx, o, out)
				if err == nil {
					out.Line(fmt.Sprintf("built %s (%s, %s/%s)", strings.Join(res.Tags, ", "), text.ShortID(res.ImageID), res.OS, res.Architecture))
				}
				return err
			})
		},
	})
}

func (f *Flow) push(image string) tea.Cmd {
	if f.d.Pusher == nil {
		return fail(errors.New("push: no Docker engine configured"))
	}
	if image == "" || strings.HasPrefix(image, "sha256:") || strings.Contains(image, "<none>") {
		return fail(errors.New("push: tag the image first (an untagged image cannot be pushed)"))
	}
	return common.MsgCmd(common.PromptRequestMsg{
		Title: "Push " + image, Label: "Push as (a registry reference)", Value: image,
		Help: []string{"e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v1 or europe-docker.pkg.dev/p/repo/app:v1"},
		OnSubmit: func(to string) tea.Cmd {
			opts := cloud.PushOptions{Ref: image}
			if to != "" && to != image {
				opts.To = to
			}
			target := image
			if opts.To != "" {
				target = opts.To
			}
			return f.submit(task.KindPush, target, "push "+target, func(ctx context.Context, out cloud.Sink) error {
				res, err := f.d.Pusher.Push(ctx, opts, out)
				if err == nil {
					out.Line(fmt.Sprintf("pushed %s@%s (%s)", res.Ref, res.Digest, res.MediaType))
				}
				return err
			})
		},
	})
}

// ---------- deploy and rollback ----------

func (f *Flow) targetNames() []string {
	out := make([]string, 0, len(f.d.Targets))
	for _, t := range f.d.Targets {
		out = append(out, t.Name+" ("+t.Defaults.Target.String()+")")
	}
	return out
}

func (f *Flow) resolveTarget(v string) (cloud.DeployRequest, error) {
	for _, t := range f.d.Targets {
		if v == t.Name || v == t.Defaults.Target.String() || strings.HasSuffix(t.Name, "."+v) {
			return t.Defaults, nil
		}
	}
	a, err := cloud.ParseAddress(v)
	if err != nil {
		return cloud.DeployRequest{}, err
	}
	req := cloud.DeployRequest{Target: a}
	if a.Provider == cloud.Local {
		req.As = "lambda"
	}
	return req, nil
}

func (f *Flow) deployImage(image, target string) tea.Cmd {
	if target != "" {
		req, err := f.resolveTarget(target)
		if err != nil {
			return fail(err)
		}
		req.Image = image
		return f.confirmDeploy(req)
	}
	def := ""
	if len(f.d.Targets) > 0 {
		def = f.d.Targets[0].Name
	}
	help := []string{"an address (lambda:REGION/FN, cloudrun:PROJECT/REGION/SVC, local:NAME) or a fndeck.yaml target"}
	if n := f.targetNames(); len(n) > 0 {
		help = append(help, "targets: "+strings.Join(n, ", "))
	}
	return common.MsgCmd(common.PromptRequestMsg{
		Title: "Deploy " + image, Label: "Deploy to", Value: def, Help: help,
		OnSubmit: func(v string) tea.Cmd {
			req, err := f.resolveTarget(v)
			if err != nil {
				return fail(err)
			}
			req.Image = image
			return f.confirmDeploy(req)
		},
	})
}

func (f *Flow) deployToFunction(address string) tea.Cmd {
	req, err := f.resolveTarget(address)
	if err != nil {
		return fail(err)
	}
	return common.MsgCmd(common.PromptRequestMsg{
		Title: "Deploy to " + address, Label: "Image (a local image or a registry reference)",
		OnSubmit: func(image string) tea.Cmd {
			if image == "" {
				return fail(errors.New("deploy: an image is needed"))
			}
			r := req
			r.Image = image
			return f.confirmDeploy(r)
		},
	})
}

// confirmDeploy looks up what serves now and asks, showing old → new.
func (f *Flow) confirmDeploy(req cloud.DeployRequest) tea.Cmd {
	dep, ok := f.d.Backends(req.Target.Provider).(cloud.Deployer)
	if !ok {
		return fail(fmt.Errorf("deploy: the %s provider is not configured or cannot deploy", req.Target.Provider))
	}
	ctx := f.d.Ctx
	return func() tea.Msg {
		old := "(unknown)"
		body := []string{}
		if d, ok := f.d.Backends(req.Target.Provider).(cloud.Describer); ok {
			cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			fn, err := d.Describe(cctx, req.Target)
			cancel()
			switch {
			case err == nil:
				old = fn.ImageURI
				if fn.PackageType == "Zip" {
					return common.ErrorMsg{Err: fmt.Errorf("deploy: %s is a Zip function; an image cannot be deployed to it", req.Target)}
				}
			case errors.Is(err, cloud.ErrNotFound):
				old = "(none: it will be created)"
				req.Create = true
			default:
				body = append(body, "could not read the current state: "+err.Error())
			}
		}
		req.Yes = true // the confirmation covers creating a registry repository
		head := []string{
			"target: " + req.Target.String(),
			"old image: " + old,
			"new image: " + req.Image,
		}
		if req.Target.Provider != cloud.Local {
			// Only a cloud deploy may push or copy into a registry.
			head = append(head, "", "A registry repository is created if the target's registry has none.")
		}
		body = append(head, body...)
		if f.d.Doctor != nil {
			if lines := f.d.Doctor(ctx, req); len(lines) > 0 {
				body = append(append(body, "", "checks:"), lines...)
			}
		}
		return common.ConfirmRequestMsg{
			Title: "Deploy to " + req.Target.String() + "?",
			Body:  body,
			Yes: f.later(func() tea.Cmd {
				return f.submitThen(task.KindDeploy, req.Target.String(), "deploy "+req.Image+" → "+req.Target.String(), functions.ReloadMsg{}, func(ctx context.Context, out cloud.Sink) error {
					res, err := f.d.Deploy(ctx, dep, req, out)
					switch {
					case err == nil && res.NoOp:
						out.Line(fmt.Sprintf("%s already serves %s: nothing deployed", req.Target, res.NewImage))
					case err == nil:
						out.Line(fmt.Sprintf("deployed %s: %s → %s", req.Target, text.OrDash(res.OldImage), res.NewImage))
					}
					return err
				})
			}),
		}
	}
}

func (f *Flow) rollback(address string) tea.Cmd {
	addr, err := cloud.ParseAddress(address)
	if err != nil {
		return fail(err)
	}
	rb, ok := f.d.Backends(addr.Provider).(cloud.RollBacker)
	if !ok {
		return fail(fmt.Errorf("rollback: the %s provider cannot roll back", addr.Provider))
	}
	ctx := f.d.Ctx
	return func() tea.Msg {
		prev, ok, err := f.d.PreviewRollback(ctx, addr)
		if err != nil {
			return common.ErrorMsg{Err: fmt.Errorf("rollback: %w", err)}
		}
		if !ok {
			return common.ErrorMsg{Err: fmt.Errorf("rollback: no earlier deploy of %s recorded by fndeck", addr)}
		}
		to := prev.NewImage
		if prev.Revision != "" {
			to += " (" + prev.Revision + ")"
		}
		return common.ConfirmRequestMsg{
			Title: "Roll back?",
			Body:  []string{"target: " + addr.String(), "back to: " + to},
			Yes: f.later(func() tea.Cmd {
				return f.submitThen(task.KindRollback, addr.String(), "rollback "+addr.String(), functions.ReloadMsg{}, func(ctx context.Context, out cloud.Sink) error {
					res, err := f.d.Rollback(ctx, rb, addr, out)
					if err == nil {
						out.Line(fmt.Sprintf("rolled back %s: now %s", addr, res.NewImage))
					}
					return err
				})
			}),
		}
	}
}

// ---------- helpers ----------

func repoOf(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i >= 0 && !strings.Contains(ref[i:], "/") {
		ref = ref[:i]
	}
	return ref
}

func sanitizeRepo(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.', r == '/':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	if b.Len() == 0 {
		return "image"
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
