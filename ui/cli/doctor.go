package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fndeck/fndeck/actions"
	"github.com/fndeck/fndeck/cloud"
)

// doctorCmd checks a local image against a target before it is deployed:
// platform, size, entrypoint, port. Exit 0 with only warnings, 1 on an
// error, 2 on bad usage. (The registry-backed variant and the environment
// form, without arguments, come later.)
func (a *app) doctorCmd() *cobra.Command {
	var asJSON bool
	var arch, as string
	var port int
	cmd := &cobra.Command{
		Use:   "doctor [IMAGE TARGET]",
		Short: "Check the environment, or an image against a target (platform, size, entrypoint, port) before deploying it",
		Args: func(_ *cobra.Command, pos []string) error {
			if len(pos) != 0 && len(pos) != 2 {
				return UsageError(fmt.Errorf("doctor takes no arguments (the environment) or IMAGE TARGET, got %d", len(pos)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			if len(pos) == 0 {
				return a.envDoctor(cmd, asJSON)
			}
			if arch != "" && arch != "x86_64" && arch != "arm64" {
				return UsageError(fmt.Errorf("--arch %q: use x86_64 or arm64", arch))
			}
			if as != "" && as != "lambda" && as != "cloudrun" {
				return UsageError(fmt.Errorf("--as %q: use lambda or cloudrun", as))
			}
			sess, err := a.session(ctx)
			if err != nil {
				return err
			}
			t, err := a.resolveTarget(sess, pos[1])
			if err != nil {
				return err
			}
			req := mergeDeploy(t.Defaults, cloud.DeployRequest{Arch: arch, As: as, Port: port}, cmd)
			req.Target, req.Image = t.Address, pos[0]
			img, err := sess.Images.Inspect(ctx, pos[0])
			if err != nil {
				if errors.Is(err, cloud.ErrNotFound) {
					return cloud.WithHint(fmt.Errorf("doctor: %s is not a local image: %w", pos[0], err),
						"build or pull it first; checking registry images comes with the registry checks")
				}
				return fmt.Errorf("doctor: inspecting %s: %w", pos[0], err)
			}
			checks := actions.Doctor(img, actions.DoctorTargetFor(ctx, sess.backend(t.Address.Provider), req))
			if asJSON {
				if err := (&jsonWriter{w: a.deps.Stdout}).write(map[string]any{"image": pos[0], "target": t.Address.String(), "checks": checks}); err != nil {
					return err
				}
			} else {
				a.printChecks(checks)
			}
			if actions.DoctorFailed(checks) {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s is not fit for %s (see the errors above)", pos[0], t.Address)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&asJSON, "json", false, "print the checks as JSON")
	fl.StringVar(&arch, "arch", "", "the Lambda function's architecture when it does not exist yet: x86_64 or arm64")
	fl.StringVar(&as, "as", "", "local target flavour: lambda or cloudrun")
	fl.IntVar(&port, "port", 0, "the port the service listens on (Cloud Run, local --as cloudrun)")
	return cmd
}

// printChecks prints doctor's checks, one a line, hints below.
func (a *app) printChecks(checks []actions.Check) {
	for _, c := range checks {
		fmt.Fprintf(a.deps.Stdout, "%-7s %-10s %s\n", c.Level, c.ID, s(c.Message))
		if c.Hint != "" {
			fmt.Fprintf(a.deps.Stdout, "%-7s %-10s hint: %s\n", "", "", s(c.Hint))
		}
	}
}

// envDoctor is `fndeck doctor` without arguments: the environment's checks,
// all at once. Exit 1 when one is an error.
func (a *app) envDoctor(cmd *cobra.Command, asJSON bool) error {
	ctx := cmd.Context()
	sess, err := a.session(ctx)
	if err != nil {
		return err
	}
	if sess.EnvDoctor == nil {
		return errors.New("doctor: this build has no environment checks")
	}
	checks := sess.EnvDoctor(ctx)
	if asJSON {
		if err := (&jsonWriter{w: a.deps.Stdout}).write(map[string]any{"checks": checks}); err != nil {
			return err
		}
	} else {
		a.printChecks(checks)
	}
	if actions.DoctorFailed(checks) {
		return &ExitError{Code: ExitFailure, Err: errors.New("doctor found errors (see above)")}
	}
	return nil
}
