// Over 600 lines, on purpose for now: it holds several headless commands; one
// file per command is issue 19's part 4.

package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/lineage"
	"github.com/fndeck/fndeck/cloud/pricing"
	"github.com/fndeck/fndeck/internal/text"
)

// ---------- images ----------

func (a *app) imagesCmd() *cobra.Command {
	var asJSON, all, onlyLive bool
	cmd := &cobra.Command{
		Use:   "images",
		Short: "List local Docker images",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			sess, err := a.session(ctx)
			if err != nil {
				return err
			}
			imgs, err := sess.Images.List(ctx, all)
			if err != nil {
				return cloud.WithHint(fmt.Errorf("listing images: %w", err), "is dockerd running? fndeck uses "+sess.Images.Host())
			}
			// The engine's list (API 1.41) has no os/arch: inspect each image, a few at a time.
			fillPlatforms(ctx, sess.Images, imgs)
			var live map[string][]lineage.Live
			if asJSON || onlyLive {
				live = a.imagesLive(ctx, sess, imgs)
			}
			if onlyLive {
				imgs = slices.DeleteFunc(imgs, func(im cloud.Image) bool { return len(live[im.ID]) == 0 })
			}
			if asJSON {
				jw := &jsonWriter{w: a.deps.Stdout}
				for _, im := range imgs {
					if im.RepoTags == nil {
						im.RepoTags = []string{}
					}
					if im.RepoDigests == nil {
						im.RepoDigests = []string{}
					}
					l := live[im.ID]
					if l == nil {
						l = []lineage.Live{}
					}
					if err := jw.write(imageJSON{Image: im, Live: l}); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(a.deps.Stdout, 0, 0, 3, ' ', 0)
			header := "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tPLATFORM"
			if onlyLive {
				header += "\tLIVE"
			}
			fmt.Fprintln(tw, header)
			now := time.Now()
			for _, im := range imgs {
				tags := im.RepoTags
				if len(tags) == 0 {
					tags = []string{"<none>:<none>"}
				}
				for _, rt := range tags {
					repo, tag := splitRepoTag(rt)
					platform := "-"
					if im.OS != "" {
						platform = im.OS + "/" + im.Architecture
						if im.Variant != "" {
							platform += "/" + im.Variant
						}
					}
					row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", s(repo), s(tag), text.ShortID(im.ID), text.OrDash(text.Ago(im.Created, now)), text.HumanSize(im.Size), s(platform))
					if onlyLive {
						row += "\t" + s(liveAddresses(live[im.ID]))
					}
					fmt.Fprintln(tw, row)
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per image ID, one per line")
	cmd.Flags().BoolVarP(&all, "all", "a", false, "include intermediate images")
	cmd.Flags().BoolVar(&onlyLive, "live", false, "only images some function runs (local, Lambda, Cloud Run)")
	return cmd
}

func fillPlatforms(ctx context.Context, images cloud.Images, imgs []cloud.Image) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range imgs {
		if imgs[i].OS != "" {
			continue
		}
		g.Go(func() error {
			d, err := images.Inspect(gctx, imgs[i].ID)
			if err == nil {
				imgs[i].OS, imgs[i].Architecture, imgs[i].Variant = d.OS, d.Architecture, d.Variant
			}
			return nil // a vanished image keeps its row without a platform
		})
	}
	_ = g.Wait()
}

func splitRepoTag(rt string) (string, string) {
	i := strings.LastIndex(rt, ":")
	if i < 0 || strings.Contains(rt[i:], "/") {
		return rt, "<none>"
	}
	return rt[:i], rt[i+1:]
}

// ---------- functions ----------

type jsonError struct {
	Provider cloud.Provider `json:"provider"`
	Scope    string         `json:"scope"`
	Error    string         `json:"error"`
	Hint     string         `json:"hint,omitempty"`
}

func (a *app) functionsCmd() *cobra.Command {
	var asJSON, drift bool
	var providers []string
	var f cloud.ListFilter
	cmd := &cobra.Command{
		Use:   "functions",
		Short: "List deployed functions across providers, accounts, projects and regions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			for _, p := range providers {
				switch cloud.Provider(p) {
				case cloud.AWS, cloud.GCP, cloud.Local:
				default:
					return UsageError(fmt.Errorf("--provider %q: use aws, gcp or local", p))
				}
			}
			sess, err := a.session(ctx)
			if err != nil {
				return err
			}
			fns, errs := listFunctions(ctx, sess, providers, f)
			a.annotateFunctions(ctx, sess, fns)
			if drift {
				fns = driftOnly(fns)
			}
			if asJSON {
				if fns == nil {
					fns = []cloud.Function{}
				}
				if errs == nil {
					errs = []jsonError{}
				}
				if err := (&jsonWriter{w: a.deps.Stdout}).write(map[string]any{"functions": fns, "errors": errs}); err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(a.deps.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "ADDRESS\tTYPE\tARCH\tMEMORY\tSTATE\tIMAGE\tLINEAGE")
				for _, fn := range fns {
					typ := fn.PackageType
					if fn.Mode != "" {
						typ = fn.Mode
					}
					if typ == "" && fn.Provider == cloud.GCP {
						typ = "service"
					}
					state := fn.State
					if fn.LastUpdateStatus != "" && fn.LastUpdateStatus != "Successful" {
						state += "/" + fn.LastUpdateStatus
					}
					if fn.Ready != nil {
						state = map[bool]string{true: "Ready", false: "NotReady"}[*fn.Ready]
					}
					mem := "-"
					if fn.MemoryMB > 0 {
						mem = strconv.Itoa(fn.MemoryMB) + "MB"
					}
					img := fn.ImageURI
					if img == "" {
						img = "-"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s(fn.Address), s(text.OrDash(typ)), s(text.OrDash(fn.Architecture)), mem, s(text.OrDash(state)), s(img), s(lineageCell(fn)))
				}
				_ = tw.Flush()
				for _, e := range errs {
					fmt.Fprintf(a.deps.Stderr, "%s %s: %s\n", e.Provider, s(e.Scope), s(e.Error))
					if e.Hint != "" {
						fmt.Fprintf(a.deps.Stderr, "  hint: %s\n", s(e.Hint))
					}
				}
			}
			if len(errs) > 0 {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d source(s) failed to load", len(errs))}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&asJSON, "json", false, "print {functions, errors} as one JSON object")
	fl.StringSliceVar(&providers, "provider", nil, "aws, gcp or local (repeatable)")
	fl.StringArrayVar(&f.Regions, "region", nil, "only this region (repeatable)")
	fl.StringArrayVar(&f.Projects, "project", nil, "only this GCP project (repeatable)")
	fl.StringArrayVar(&f.Profiles, "profile", nil, "only this AWS profile (repeatable)")
	fl.BoolVar(&drift, "drift", false, "only functions whose source tag moved or that run no local image")
	return cmd
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// ---------- build and push ----------

// progressPrinter prints task output for people or as JSON lines.
type progressPrinter struct {
	h     *human
	jw    *jsonWriter
	mu    sync.Mutex
	state map[string]string // last status per bar, to print only changes
}

func newProgressPrinter(a *app, asJSON bool) *progressPrinter {
	p := &progressPrinter{state: map[string]string{}}
	if asJSON {
		p.jw = &jsonWriter{w: a.deps.Stdout}
	} else {
		p.h = &human{w: a.deps.Stdout}
	}
	return p
}

func (p *progressPrinter) line(text string) {
	if p.jw != nil {
		_ = p.jw.write(map[string]any{"type": "line", "text": text})
		return
	}
	p.h.linef("%s", s(text))
}

func (p *progressPrinter) progress(pr cloud.Progress) {
	if p.jw != nil {
		_ = p.jw.write(map[string]any{"type": "progress", "id": pr.ID, "status": pr.Status, "current": pr.Current, "total": pr.Total})
		return
	}
	p.mu.Lock()
	changed := p.state[pr.ID] != pr.Status
	p.state[pr.ID] = pr.Status
	p.mu.Unlock()
	if changed {
		p.h.linef("%s: %s", s(text.ShortID(pr.ID)), s(pr.Status))
	}
}

func (p *progressPrinter) result(event any, result any) {
	if p.jw != nil {
		_ = p.jw.write(map[string]any{"type": "task", "task": event})
		if result != nil {
			_ = p.jw.write(map[string]any{"type": "result", "result": result})
		}
	}
}

func (a *app) buildCmd() *cobra.Command {
	var opts cloud.BuildOptions
	var args []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "build [CONTEXT] -t REF",
		Short: "Build an image from a Dockerfile",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			opts.ContextDir = "."
			if len(pos) == 1 {
				opts.ContextDir = pos[0]
			}
			if len(opts.Tags) == 0 {
				return UsageError(errors.New("build needs -t REF (the image reference to tag the result with)"))
			}
			if opts.Platform != "" && opts.Platform != "linux/amd64" && opts.Platform != "linux/arm64" {
				return UsageError(fmt.Errorf("--platform %q: use linux/amd64 or linux/arm64", opts.Platform))
			}
			opts.BuildArgs = map[string]string{}
			for _, kv := range args {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return UsageError(fmt.Errorf("--build-arg %q: expected KEY=VALUE", kv))
				}
				opts.BuildArgs[k] = v
			}
			if st, err := os.Stat(opts.ContextDir); err != nil || !st.IsDir() {
				return UsageError(fmt.Errorf("build context %q is not a directory", opts.ContextDir))
			}
			sess, err := a.session(ctx)
			if err != nil {
				return err
			}
			p := newProgressPrinter(a, asJSON)
			var res cloud.BuildResult
			ev, err := sess.Tasks.Run(ctx, TaskSpec{
				Kind: "build", Target: opts.Tags[0], Title: "build " + opts.Tags[0],
				Run: func(ctx context.Context, out cloud.Sink) error {
					var err error
					res, err = sess.Builder.Build(ctx, opts, out)
					return err
				},
			}, p.line, p.progress)
			if err != nil {
				p.result(ev, nil)
				return err
			}
			p.result(ev, res)
			if !asJSON {
				p.h.linef("built %s (%s, %s/%s)", s(strings.Join(res.Tags, ", ")), text.ShortID(res.ImageID), s(res.OS), s(res.Architecture))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&opts.Tags, "tag", "t", nil, "image reference to tag the result with (repeatable)")
	fl.StringVarP(&opts.Dockerfile, "file", "f", "", "Dockerfile (default CONTEXT/Dockerfile)")
	fl.StringVar(&opts.Platform, "platform", "", "target platform: linux/amd64 or linux/arm64")
	fl.StringArrayVar(&args, "build-arg", nil, "build argument KEY=VALUE (repeatable)")
	fl.BoolVar(&opts.NoCache, "no-cache", false, "do not use the build cache")
	fl.BoolVar(&asJSON, "json", false, "stream progress as JSON lines")
	return cmd
}

func (a *app) pushCmd() *cobra.Command {
	var to string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "push REF",
		Short: "Push an image to a registry (tagging it as --to first)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			sess, err := a.session(ctx)
			if err != nil {
				return err
			}
			opts := cloud.PushOptions{Ref: pos[0], To: to}
			target := opts.Ref
			if to != "" {
				target = to
			}
			p := newProgressPrinter(a, asJSON)
			var res cloud.PushResult
			ev, err := sess.Tasks.Run(ctx, TaskSpec{
				Kind: "push", Target: target, Title: "push " + target,
				Run: func(ctx context.Context, out cloud.Sink) error {
					var err error
					res, err = sess.Pusher.Push(ctx, opts, out)
					return err
				},
			}, p.line, p.progress)
			if err != nil {
				p.result(ev, nil)
				return err
			}
			p.result(ev, res)
			if !asJSON {
				p.h.linef("pushed %s@%s (%s)", s(res.Ref), s(res.Digest), s(res.MediaType))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "remote reference to push as (tag first)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "stream progress as JSON lines")
	return cmd
}

// ---------- targets ----------

func (a *app) resolveTarget(sess *Session, arg string) (Target, error) {
	addr, err := cloud.ParseAddress(arg)
	if err == nil {
		if sess.ResolveTarget != nil {
			// An address named in fndeck.yaml picks up its settings.
			if t, ok := sess.ResolveTarget(addr.String()); ok {
				return t, nil
			}
		}
		return Target{Address: addr}, nil
	}
	if !strings.Contains(arg, ":") && sess.ResolveTarget != nil {
		if t, ok := sess.ResolveTarget(arg); ok {
			if t.Err != nil {
				var ee *ExitError
				if errors.As(t.Err, &ee) { // a failure looking the target up
					return Target{}, t.Err
				}
				return Target{}, UsageError(fmt.Errorf("target %s cannot be used yet: %w", arg, t.Err))
			}
			return t, nil
		}
		return Target{}, UsageError(fmt.Errorf("unknown target %q: not an address and not a target in fndeck.yaml", arg))
	}
	return Target{}, UsageError(err)
}

func capability[T any](sess *Session, addr cloud.Address, what string) (T, error) {
	var zero T
	b := sess.backend(addr.Provider)
	if b == nil {
		return zero, fmt.Errorf("%s: the %s provider is not configured", addr, addr.Provider)
	}
	c, ok := b.(T)
	if !ok {
		return zero, fmt.Errorf("%s: the %s provider cannot %s", addr, addr.Provider, what)
	}
	return c, nil
}

// ---------- deploy and rollback ----------

func (a *app) deployCmd() *cobra.Command {
	var req cloud.DeployRequest
	var env []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "deploy IMAGE TARGET",
		Short: "Deploy an image to a function (create or update) and wait until it is ready",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			if req.Arch != "" && req.Arch != "x86_64" && req.Arch != "arm64" {
				return UsageError(fmt.Errorf("--arch %q: use x86_64 or arm64", req.Arch))
			}
			if req.As != "" && req.As != "lambda" && req.As != "cloudrun" {
				return UsageError(fmt.Errorf("--as %q: use lambda or cloudrun", req.As))
			}
			if req.Port < 0 || req.Port > 65535 {
				return UsageError(fmt.Errorf("--port %d: use 1-65535", req.Port))
			}
			envMap := map[string]string{}
			for _, kv := range env {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return UsageError(fmt.Errorf("--env %q: expected KEY=VALUE", kv))
				}
				envMap[k] = v
			}
			sess, err := a.session(ctx)
			if err != nil {
				return err
			}
			t, err := a.resolveTarget(sess, pos[1])
			if err != nil {
				return err
			}
			full := mergeDeploy(t.Defaults, req, cmd)
			full.Target = t.Address
			full.Image = pos[0]
			if len(envMap) > 0 {
				if full.Env == nil {
					full.Env = map[string]string{}
				}
				for k, v := range envMap {
					full.Env[k] = v
				}
			}
			if full.As == "" && t.Address.Provider == cloud.Local {
				full.As = "lambda"
			}
			if full.HTTP && (t.Address.Provider != cloud.Local || full.As != "lambda") {
				return UsageError(fmt.Errorf("--http: only a local target run --as lambda gets an HTTP front door (a function URL)"))
			}
			res, ev, err := a.runDeploy(ctx, sess, full, asJSON)
			if err != nil {
				return err
			}
			if asJSON {
				return (&jsonWriter{w: a.deps.Stdout}).write(map[string]any{"type": "result", "task": ev, "result": res.Redacted()})
			}
			if res.NoOp {
				fmt.Fprintf(a.deps.Stdout, "%s already serves %s: nothing deployed\n", t.Address, s(res.NewImage))
			} else if res.OldImage != "" && res.OldImage != res.NewImage {
				fmt.Fprintf(a.deps.Stdout, "deployed %s: %s → %s\n", t.Address, s(res.OldImage), s(res.NewImage))
			} else {
				fmt.Fprintf(a.deps.Stdout, "deployed %s: %s\n", t.Address, s(res.NewImage))
			}
			if res.FunctionURL != "" {
				fmt.Fprintf(a.deps.Stdout, "function URL: %s\n", s(res.FunctionURL))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&req.Create, "create", false, "create the function or service when it does not exist")
	fl.BoolVar(&req.Yes, "yes", false, "allow creating a registry repository (ECR / Artifact Registry)")
	fl.StringVar(&req.Role, "role", "", "Lambda execution role ARN (with --create)")
	fl.IntVar(&req.MemoryMB, "memory", 0, "memory in MB")
	fl.IntVar(&req.TimeoutS, "timeout", 0, "timeout in seconds")
	fl.StringVar(&req.Arch, "arch", "", "architecture: x86_64 or arm64")
	fl.IntVar(&req.Port, "port", 0, "container port (Cloud Run, local --as cloudrun)")
	fl.StringArrayVar(&env, "env", nil, "environment variable KEY=VALUE (repeatable)")
	fl.StringVar(&req.As, "as", "", "local target flavour: lambda or cloudrun")
	fl.BoolVar(&req.HTTP, "http", false, "local --as lambda: also serve the function over HTTP like a function URL")
	fl.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// mergeDeploy lays the flags the user set over the target's configured defaults.
func mergeDeploy(def, flags cloud.DeployRequest, cmd *cobra.Command) cloud.DeployRequest {
	out := def
	set := func(name string) bool { return cmd.Flags().Changed(name) }
	if set("create") {
		out.Create = flags.Create
	}
	if set("yes") {
		out.Yes = flags.Yes
	}
	if set("role") {
		out.Role = flags.Role
	}
	if set("memory") {
		out.MemoryMB = flags.MemoryMB
	}
	if set("timeout") {
		out.TimeoutS = flags.TimeoutS
	}
	if set("arch") {
		out.Arch = flags.Arch
	}
	if set("port") {
		out.Port = flags.Port
	}
	if set("as") {
		out.As = flags.As
	}
	if set("http") {
		out.HTTP = flags.HTTP
	}
	return out
}

func (a *app) runDeploy(ctx context.Context, sess *Session, req cloud.DeployRequest, asJSON bool) (cloud.DeployResult, any, error) {
	dep, err := capability[cloud.Deployer](sess, req.Target, "deploy")
	if err != nil {
		return cloud.DeployResult{}, nil, err
	}
	p := newProgressPrinter(a, asJSON)
	if asJSON {
		p.jw = &jsonWriter{w: a.deps.Stdout}
	}
	var res cloud.DeployResult
	ev, err := sess.Tasks.Run(ctx, TaskSpec{
		Kind: "deploy", Target: req.Target.String(), Title: "deploy " + req.Image + " → " + req.Target.String(),
		Run: func(ctx context.Context, out cloud.Sink) error {
			var err error
			res, err = sess.Deploy(ctx, dep, req, out)
			return err
		},
	}, p.line, p.progress)
	if err != nil && errors.Is(err, cloud.ErrNeedsConfirmation) {
		return res, ev, cloud.WithHint(err, "pass --yes to let fndeck create the repository")
	}
	return res, ev, err
}

func (a *app) rollbackCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rollback TARGET",
		Short: "Return a target to what served before fndeck's most recent deploy to it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			sess, err := a.session(ctx)
			if err != nil {
				return err
			}
			t, err := a.resolveTarget(sess, pos[0])
			if err != nil {
				return err
			}
			rb, err := capability[cloud.RollBacker](sess, t.Address, "roll back")
			if err != nil {
				return err
			}
			p := newProgressPrinter(a, asJSON)
			var res cloud.DeployResult
			ev, err := sess.Tasks.Run(ctx, TaskSpec{
				Kind: "rollback", Target: t.Address.String(), Title: "rollback " + t.Address.String(),
				Run: func(ctx context.Context, out cloud.Sink) error {
					var err error
					res, err = sess.Rollback(ctx, rb, t.Address, out)
					return err
				},
			}, p.line, p.progress)
			if err != nil {
				return err
			}
			if asJSON {
				return (&jsonWriter{w: a.deps.Stdout}).write(map[string]any{"type": "result", "task": ev, "result": res.Redacted()})
			}
			fmt.Fprintf(a.deps.Stdout, "rolled back %s: %s → %s\n", t.Address, s(text.OrDash(res.OldImage)), s(res.NewImage))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// ---------- invoke ----------

func (a *app) invokeCmd() *cobra.Command {
	var payload, method, path string
	var headers []string
	var cold, asJSON bool
	cmd := &cobra.Command{
		Use:   "invoke TARGET [TARGET…]",
		Short: "Invoke a function and show its response, logs and REPORT figures; several targets: compare their responses",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			body, err := a.payloadArg(payload)
			if err != nil {
				return err
			}
			hdr := http.Header{}
			for _, h := range headers {
				k, v, ok := strings.Cut(h, ":")
				if !ok || strings.TrimSpace(k) == "" {
					return UsageError(fmt.Errorf("--header %q: expected 'Name: value'", h))
				}
				hdr.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
			if len(pos) > 1 { // compare.go
				return a.invokeCompare(ctx, pos, cloud.InvokeRequest{Payload: body, Method: method, Path: path, Headers: hdr, Cold: cold}, asJSON)
			}
			sess, err := a.session(ctx)
			if err != nil {
				return err
			}
			t, err := a.resolveTarget(sess, pos[0])
			if err != nil {
				return err
			}
			inv, err := capability[cloud.Invoker](sess, t.Address, "invoke")
			if err != nil {
				return err
			}
			req := cloud.InvokeRequest{Target: t.Address, Payload: body, Method: method, Path: path, Headers: hdr, Cold: cold}
			streamed := false
			var chunk func([]byte)
			if !asJSON {
				chunk = func(b []byte) {
					streamed = true
					_, _ = a.deps.Stdout.Write([]byte(sanitizeText(string(b))))
				}
			}
			res, err := inv.Invoke(ctx, req, chunk)
			if err != nil {
				return fmt.Errorf("invoking %s: %w", t.Address, err)
			}
			if res.Address == "" {
				res.Address = t.Address.String()
			}
			if sess.Pricing != nil {
				d, _ := capability[cloud.Describer](sess, t.Address, "describe")
				sess.Pricing.Annotate(ctx, t.Address, &res, d)
			}
			if sess.RecordInvoke != nil {
				sess.RecordInvoke(ctx, t.Address, body, res)
			}
			if asJSON {
				if err := (&jsonWriter{w: a.deps.Stdout}).write(res); err != nil {
					return err
				}
			} else {
				a.printInvoke(res, streamed)
			}
			if res.FunctionError != "" || res.TimedOut {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s: function error: %s", t.Address, text.OrDash(res.FunctionError))}
			}
			if res.StatusCode >= 400 {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s: HTTP status %d", t.Address, res.StatusCode)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&payload, "payload", "", "JSON payload, @FILE, or - for stdin")
	fl.StringVar(&method, "method", "", "HTTP method (HTTP targets)")
	fl.StringVar(&path, "path", "", "HTTP path (HTTP targets)")
	fl.StringArrayVar(&headers, "header", nil, "HTTP header 'Name: value' (repeatable)")
	fl.BoolVar(&cold, "cold", false, "force a cold start (fresh runtime)")
	fl.BoolVar(&asJSON, "json", false, "print the invoke result as JSON")
	return cmd
}

func (a *app) payloadArg(arg string) ([]byte, error) {
	b, err := ReadPayload(arg, a.deps.Stdin)
	if err != nil {
		return nil, UsageError(err)
	}
	return b, nil
}

func (a *app) printInvoke(res cloud.InvokeResult, streamed bool) {
	w := a.deps.Stderr // figures are diagnostics; the response goes to stdout
	if !streamed {
		body := res.Body
		if len(body) == 0 && len(res.Response) > 0 {
			body = res.Response
		}
		out := sanitizeText(string(body))
		if out != "" && !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		_, _ = a.deps.Stdout.Write([]byte(out))
	} else {
		fmt.Fprintln(a.deps.Stdout)
	}
	fmt.Fprintf(w, "status: %d", res.StatusCode)
	if res.FunctionError != "" {
		fmt.Fprintf(w, "  function error: %s", s(res.FunctionError))
	}
	if res.TimedOut {
		fmt.Fprint(w, "  (timed out)")
	}
	if res.RequestID != "" {
		fmt.Fprintf(w, "  request id: %s", s(res.RequestID))
	}
	fmt.Fprintln(w)
	if r := res.Report; r != nil {
		fmt.Fprintf(w, "duration: %.2f ms  billed: %.0f ms  memory: %d/%d MB", r.DurationMS, r.BilledMS, r.MaxMemoryMB, r.MemoryMB)
		if r.InitMS > 0 {
			fmt.Fprintf(w, "  init (cold start): %.2f ms", r.InitMS)
		}
		fmt.Fprintln(w)
	}
	if res.CostUSD != nil && res.CostPerMillionUSD != nil {
		fmt.Fprintf(w, "cost: ≈ %s (estimate), %s per million  (%s)\n", pricing.FormatUSD(*res.CostUSD), pricing.FormatUSD(*res.CostPerMillionUSD), s(res.CostNote))
	} else if res.CostNote != "" {
		fmt.Fprintf(w, "cost: %s\n", s(res.CostNote))
	}
	if res.LogTail != "" {
		fmt.Fprintln(w, "log tail:")
		for _, l := range strings.Split(strings.TrimRight(res.LogTail, "\n"), "\n") {
			fmt.Fprintln(w, "  "+s(l))
		}
	}
}

// ---------- logs ----------

func (a *app) logsCmd() *cobra.Command {
	var follow, asJSON bool
	var since, filter, query string
	var tail int
	cmd := &cobra.Command{
		Use:   "logs TARGET",
		Short: "Print a function's logs (and follow them)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			req, err := logsRequest(since, tail, cmd.Flags().Changed("tail"), time.Now())
			if err != nil {
				return UsageError(err)
			}
			sess, err := a.session(ctx)
			if err != nil {
				return err
			}
			if req.Since.IsZero() && req.Tail == 0 {
				req.Tail = sess.LogTail
				if req.Tail <= 0 {
					req.Tail = cloud.DefaultLogTail
				}
			}
			t, err := a.resolveTarget(sess, pos[0])
			if err != nil {
				return err
			}
			lt, err := capability[cloud.LogTailer](sess, t.Address, "show logs")
			if err != nil {
				return err
			}
			req.Target, req.Follow, req.Filter, req.Query = t.Address, follow, filter, query
			jw := &jsonWriter{w: a.deps.Stdout}
			h := &human{w: a.deps.Stdout}
			events := 0
			err = lt.Logs(ctx, req, func(l cloud.LogLine) {
				if l.Address == "" {
					l.Address = t.Address.String()
				}
				if !l.Notice {
					events++
				}
				if asJSON {
					_ = jw.write(l)
					return
				}
				sev := ""
				if l.Severity != "" {
					sev = " " + s(l.Severity)
				}
				prefix := ""
				if l.Notice {
					prefix = "[fndeck] "
				}
				h.linef("%s%s %s%s", l.Time.Local().Format("2006-01-02T15:04:05.000"), sev, prefix, s(l.Message))
			})
			if err != nil && !(follow && errors.Is(err, context.Canceled)) {
				return fmt.Errorf("logs of %s: %w", t.Address, err)
			}
			if events == 0 && !follow {
				fmt.Fprintln(a.deps.Stderr, noLogEvents(t.Address, req))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&follow, "follow", "f", false, "keep printing new lines")
	fl.IntVar(&tail, "tail", 0, "the last N events, whatever their age (default logs.tail, 200)")
	fl.StringVar(&since, "since", "", "only events since: a duration (15m, 2h, 3d) or a time (RFC 3339); default the last --tail events")
	fl.StringVar(&filter, "filter", "", "only lines containing this text (literal)")
	fl.StringVar(&query, "query", "", "provider filter syntax (CloudWatch pattern, Cloud Logging filter)")
	fl.BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}

// logsRequest turns --since and --tail into a request's history bounds:
// without --since, the last N events whatever their age (N from --tail, or
// zero for the configured logs.tail); with --since, everything since then,
// or its last N when --tail is given too.
func logsRequest(since string, tail int, tailSet bool, now time.Time) (cloud.LogRequest, error) {
	var req cloud.LogRequest
	if tailSet && tail < 1 {
		return req, fmt.Errorf("--tail %d: give a number of events of at least 1", tail)
	}
	if tailSet {
		req.Tail = tail
	}
	if since != "" {
		from, err := parseSince(since, now)
		if err != nil {
			return req, err
		}
		req.Since = from
	}
	return req, nil
}

// noLogEvents is what stderr says when a non-following read found nothing.
func noLogEvents(target cloud.Address, req cloud.LogRequest) string {
	msg := "no log events for " + s(target.String())
	filtered := req.Filter != "" || req.Query != ""
	if filtered {
		msg += " matching the filter"
	}
	if !req.Since.IsZero() {
		msg += " since " + req.Since.Local().Format(time.RFC3339)
	} else if !filtered {
		msg += " (it may never have been invoked)"
	}
	return msg
}

func parseSince(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("--since %q: a duration back in time must be positive", v)
		}
		return now.Add(-d), nil
	}
	if strings.HasSuffix(v, "d") {
		if n, err := strconv.Atoi(strings.TrimSuffix(v, "d")); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: use a duration like 15m, 2h, 3d or an RFC 3339 time", v)
}
