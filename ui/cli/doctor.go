package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fndeck/fndeck/actions"
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/registry"
	"github.com/fndeck/fndeck/internal/reghost"
)

// doctorCmd checks an image against a target before it is deployed:
// platform, size, entrypoint, port; for an image the engine lacks, named
// with its registry, the manifest type too, over the manifest and config
// read from the registry. Exit 0 with only warnings, 1 on an error, 2 on
// bad usage. (The environment form, without arguments, comes later.)
//
// The registry is read here, in fndeck, not in the cloud helper: the
// engine's registry client (cloud/registry, linked already) asks its auth
// chain for credentials, and that chain's AWS and GCP providers fetch ECR
// and Google tokens from the helper over the pipe (remote AuthFor), as a
// push does. Only a token crosses the pipe; manifests and configs do not.
func (a *app) doctorCmd() *cobra.Command {
	var asJSON bool
	var arch, as string
	var port int
	cmd := &cobra.Command{
		Use:   "doctor [IMAGE TARGET]",
		Short: "Check the environment, or an image against a target (manifest, platform, size, entrypoint, port); a local image or a registry reference before deploying it",
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
			dt := actions.DoctorTargetFor(ctx, sess.backend(t.Address.Provider), req)
			var checks []actions.Check
			img, err := sess.Images.Inspect(ctx, pos[0])
			switch {
			case err == nil:
				checks = actions.Doctor(img, dt)
			case errors.Is(err, cloud.ErrNotFound) && reghost.NamesRegistry(pos[0]):
				// Not in the engine, named with its registry: read it there.
				rc, ok := sess.Images.(registryReader)
				if !ok {
					return fmt.Errorf("doctor: %s is not a local image and no registry client is configured: %w", pos[0], cloud.ErrInvalid)
				}
				if checks, err = remoteDoctor(ctx, rc.Registry(), pos[0], dt); err != nil {
					return fmt.Errorf("doctor: %w", err)
				}
			case errors.Is(err, cloud.ErrNotFound):
				return cloud.WithHint(fmt.Errorf("doctor: %s is not a local image: %w", pos[0], err),
					"build or pull it first, or name it with its registry (HOST/REPO:TAG) to check it there")
			default:
				return fmt.Errorf("doctor: inspecting %s: %w", pos[0], err)
			}
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

// registryReader is the engine's registry client (docker.Engine.Registry).
type registryReader interface{ Registry() *registry.Client }

// remoteDoctor reads ref's manifest (and, for an index, picks the child for
// dt's platform) and that image's config from the registry, and checks them.
func remoteDoctor(ctx context.Context, rc *registry.Client, ref string, dt actions.DoctorTarget) ([]actions.Check, error) {
	m, err := rc.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	r := actions.RemoteImage{Ref: ref, MediaType: m.MediaType, Digest: m.Digest}
	image := ref
	if m.IsIndex() {
		for _, p := range m.Platforms() {
			r.Platforms = append(r.Platforms, p.String())
		}
		want, err := registry.ParsePlatform(actions.TargetPlatform(dt))
		if err != nil {
			return nil, err
		}
		ch, err := m.Pick(want)
		if err != nil {
			return actions.DoctorRemote(r, dt), nil // the manifest check says why
		}
		r.Picked = ch.Digest
		if image, err = registry.WithDigest(ref, ch.Digest); err != nil {
			return nil, err
		}
	}
	if registry.IsSchema1(m.MediaType) {
		return actions.DoctorRemote(r, dt), nil
	}
	ic, err := rc.Config(ctx, image, nil)
	if err != nil {
		return nil, err
	}
	d := cloud.ImageDetail{
		Image:      cloud.Image{OS: ic.Platform.OS, Architecture: ic.Platform.Architecture, Variant: ic.Platform.Variant, Size: ic.Size},
		Entrypoint: ic.Entrypoint, Cmd: ic.Cmd, WorkingDir: ic.WorkingDir, ExposedPorts: ic.ExposedPorts, MediaType: ic.MediaType,
	}
	for _, l := range ic.Layers {
		short := strings.TrimPrefix(l.Digest, "sha256:")
		if len(short) > 12 {
			short = short[:12]
		}
		d.Layers = append(d.Layers, cloud.Layer{ID: l.Digest, Size: l.Size, CreatedBy: "layer " + short})
	}
	r.Config = &d
	return actions.DoctorRemote(r, dt), nil
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

// printChecks prints doctor's checks, one a line, hints below.
func (a *app) printChecks(checks []actions.Check) {
	for _, c := range checks {
		fmt.Fprintf(a.deps.Stdout, "%-7s %-10s %s\n", c.Level, c.ID, s(c.Message))
		if c.Hint != "" {
			fmt.Fprintf(a.deps.Stdout, "%-7s %-10s hint: %s\n", "", "", s(c.Hint))
		}
	}
}
