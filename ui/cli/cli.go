// Package cli is fndeck's headless face: the cobra command tree, flag
// parsing and the text/JSON printers. It reaches backends only through the
// cloud interfaces the Session carries; main.go builds the Session.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fndeck/fndeck/actions"
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/lineage"
	"github.com/fndeck/fndeck/cloud/pricing"
	"github.com/fndeck/fndeck/config"
	"github.com/fndeck/fndeck/internal/task"
)

// Exit codes of the CLI contract.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// ExitError carries the exit code an error should end the program with.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// UsageError marks err as a usage or configuration error (exit 2).
func UsageError(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitUsage, Err: err}
}

// Globals are the flags every command takes.
type Globals struct {
	// TUI is set when the interactive program runs (no subcommand), so
	// backends can favour first rows over complete ones.
	TUI        bool
	ConfigPath string
	Debug      bool
	NoColor    bool
	// Stage is --stage: the stage of a Serverless Framework project
	// (${opt:stage}, ${sls:stage}); "" for the file's own default.
	Stage string
}

// TaskSpec describes a background task run headlessly through the same
// runner the TUI uses.
type TaskSpec struct {
	Kind   task.Kind
	Target string
	Title  string
	Run    func(ctx context.Context, out cloud.Sink) error
}

// TaskRunner runs one task to its end, streaming its output lines and
// progress to the callbacks, and returns the final task event (JSON shape of
// PRODUCT.md) and the task's error.
type TaskRunner interface {
	Run(ctx context.Context, spec TaskSpec, onLine func(string), onProgress func(cloud.Progress)) (task.Event, error)
}

// ProviderInfo is one configured provider and its backend (which implements
// some of cloud.Lister, Describer, Deployer, RollBacker, Invoker, LogTailer).
type ProviderInfo struct {
	Provider cloud.Provider
	Backend  any
}

// Target is a deploy target resolved from an address or a fndeck.yaml
// target name, with its configured settings as defaults.
type Target struct {
	Address  cloud.Address
	Defaults cloud.DeployRequest
	Payloads map[string]string // name → file path, from fndeck.yaml
	// Err, when set, says why the target cannot be used: values its
	// framework file leaves unresolved (config.Problems; commands fail with
	// it as a usage error, exit 2), or an *ExitError from looking the target
	// up (a SAM function's name in its stack), returned as it is.
	Err error
}

// Session is what a command works with; main.go builds it after the config
// is loaded. Clients inside are created lazily: building a Session touches
// no network.
type Session struct {
	Images    cloud.Images
	Builder   cloud.Builder
	Pusher    cloud.Pusher
	Providers []ProviderInfo
	Tasks     TaskRunner
	// Deploy and Rollback are the shared provider-neutral flows (target lock
	// across processes, deploy history).
	Deploy   func(ctx context.Context, d cloud.Deployer, req cloud.DeployRequest, out cloud.Sink) (cloud.DeployResult, error)
	Rollback func(ctx context.Context, rb cloud.RollBacker, target cloud.Address, out cloud.Sink) (cloud.DeployResult, error)
	// ResolveTarget resolves a fndeck.yaml target name (FUNCTION.TARGET or a
	// unique TARGET) when the argument is not an address; nil when no project file.
	ResolveTarget func(name string) (Target, bool)
	// Pricing estimates invoke costs; may be nil.
	Pricing *pricing.Table
	// RecordInvoke keeps invoke history; may be nil.
	RecordInvoke func(ctx context.Context, target cloud.Address, payload []byte, r cloud.InvokeResult)
	// LogTail is how many of the newest events `logs` prints without
	// --since (config logs.tail); 0 means cloud.DefaultLogTail.
	LogTail int
	// EnvDoctor runs `fndeck doctor`'s environment checks (no arguments).
	EnvDoctor func(ctx context.Context) []actions.Check
	// Tags resolves the tags functions were deployed from (lineage); nil:
	// no tag check. Pushed is what fndeck remembers pushing; may be nil.
	Tags   *lineage.TagChecker
	Pushed *lineage.Pushed
	// Project is the working directory's fndeck.yaml; nil when none (ship).
	Project *config.Project
	// RunTUI runs the interactive program.
	RunTUI func(ctx context.Context) error
	Close  func()
}

func (s *Session) backend(p cloud.Provider) any {
	for _, pi := range s.Providers {
		if pi.Provider == p {
			return pi.Backend
		}
	}
	return nil
}

// Deps is what main.go hands the command tree.
type Deps struct {
	Version string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// Open loads the configuration and builds the session. A configuration
	// error must be returned as UsageError so the program exits 2.
	Open func(ctx context.Context, g Globals) (*Session, error)
}

// app carries the per-run state shared by commands.
type app struct {
	deps    Deps
	globals Globals
	sess    *Session
}

func (a *app) session(ctx context.Context) (*Session, error) {
	if a.sess != nil {
		return a.sess, nil
	}
	s, err := a.deps.Open(ctx, a.globals)
	if err != nil {
		return nil, err
	}
	a.sess = s
	return s, nil
}

// Execute runs the command line and returns the exit code.
func Execute(ctx context.Context, deps Deps, args []string) int {
	a := &app{deps: deps}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(deps.Stdin)
	root.SetOut(deps.Stdout)
	root.SetErr(deps.Stderr)
	err := root.ExecuteContext(ctx)
	if a.sess != nil && a.sess.Close != nil {
		a.sess.Close()
	}
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(deps.Stderr, "fndeck: "+s(err.Error()))
	if h := cloud.Hint(err); h != "" {
		fmt.Fprintln(deps.Stderr, "hint: "+s(h))
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if isUsage(err) {
		return ExitUsage
	}
	return ExitFailure
}

// isUsage recognises cobra's own flag and argument errors.
func isUsage(err error) bool {
	m := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "required flag", "bad flag syntax"} {
		if strings.Contains(m, p) {
			return true
		}
	}
	return false
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "fndeck",
		Short:         "A keyboard-driven workbench for container images shipped as serverless functions",
		Long:          "fndeck lists local Docker images and the functions deployed on AWS Lambda, Google Cloud Run and a local target;\nit builds, pushes, deploys, invokes and tails them. Without a subcommand it opens the terminal UI.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.globals.TUI = true
			sess, err := a.session(cmd.Context())
			if err != nil {
				return err
			}
			return sess.RunTUI(cmd.Context())
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return UsageError(err) })
	pf := root.PersistentFlags()
	pf.StringVar(&a.globals.ConfigPath, "config", "", "config file (default $XDG_CONFIG_HOME/fndeck/config.yaml, or $FNDECK_CONFIG)")
	pf.BoolVar(&a.globals.Debug, "debug", false, "write a debug log to the XDG state dir")
	pf.BoolVar(&a.globals.NoColor, "no-color", false, "no colours (NO_COLOR is honoured too)")
	pf.StringVar(&a.globals.Stage, "stage", "", "the stage of Serverless Framework projects (${opt:stage}, ${sls:stage})")
	root.AddCommand(
		a.versionCmd(), a.imagesCmd(), a.functionsCmd(), a.buildCmd(), a.pushCmd(),
		a.deployCmd(), a.invokeCmd(), a.logsCmd(), a.rollbackCmd(), a.rmCmd(),
	)
	root.AddCommand(a.doctorCmd())
	root.AddCommand(a.loginCmd())
	root.AddCommand(a.shipCmd())
	return root
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print fndeck's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(a.deps.Stdout, "fndeck "+a.deps.Version)
			return nil
		},
	}
}
