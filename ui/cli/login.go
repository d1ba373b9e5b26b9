package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/fndeck/fndeck/actions"
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/accounts"
)

// loginCmd runs the provider's own login (aws sso login, gcloud auth
// application-default login) with its output on the terminal (sanitized)
// and stdin passed through (gcloud without a browser reads a code), then
// says what the session looks like now.
func (a *app) loginCmd() *cobra.Command {
	var profile, mfaCode string
	cmd := &cobra.Command{
		Use:   "login aws|gcp",
		Short: "Log in again: aws sso login for a profile, gcloud auth application-default login",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			var p cloud.Provider
			switch pos[0] {
			case "aws":
				p = cloud.AWS
			case "gcp":
				p = cloud.GCP
				if profile != "" || mfaCode != "" {
					return UsageError(errors.New("login gcp takes no --profile or --mfa-code"))
				}
			default:
				return UsageError(fmt.Errorf("login %q: use aws or gcp", pos[0]))
			}
			if p == cloud.AWS {
				prof, ok, _ := accounts.LookupAWSProfile(profile)
				if ok && prof.MFASerial != "" {
					return a.loginMFA(cmd, prof, mfaCode)
				}
				if ok && prof.Kind != accounts.KindSSO && prof.Kind != accounts.KindAssumeRole {
					return &ExitError{Code: ExitFailure, Err: cloud.WithHint(fmt.Errorf("login: profile %s uses %s, not SSO: nothing to log in to", prof.Name, prof.Kind),
						"aws configure --profile "+prof.Name)}
				}
			}
			plan, err := actions.PlanLogin(p, profile)
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			fmt.Fprintln(a.deps.Stderr, "running: "+plan.Display)
			c := exec.CommandContext(cmd.Context(), plan.Argv[0], plan.Argv[1:]...)
			c.Stdin = a.deps.Stdin
			outR, outW := io.Pipe()
			c.Stdout, c.Stderr = outW, outW
			var wg sync.WaitGroup
			wg.Go(func() {
				sc := bufio.NewScanner(outR)
				for sc.Scan() {
					fmt.Fprintln(a.deps.Stdout, s(sc.Text()))
				}
				_, _ = io.Copy(io.Discard, outR)
			})
			runErr := c.Run()
			_ = outW.Close()
			wg.Wait()
			if runErr != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("login: %s: %w", plan.Display, runErr)}
			}
			if p == cloud.AWS {
				if prof, ok, _ := accounts.LookupAWSProfile(profile); ok {
					st := accounts.AWSSession(prof, time.Now())
					msg := "aws " + prof.Name + ": session " + st.State
					if !st.Expires.IsZero() {
						msg += " until " + st.Expires.Local().Format("2006-01-02 15:04")
					}
					fmt.Fprintln(a.deps.Stdout, msg)
				}
			} else {
				fmt.Fprintln(a.deps.Stdout, "gcp: application default credentials written")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&profile, "profile", "", "the AWS profile to log in (default: AWS_PROFILE, else default)")
	fl.StringVar(&mfaCode, "mfa-code", "", "the MFA code for a profile with mfa_serial")
	return cmd
}

// loginMFA is `fndeck login aws --profile P --mfa-code CODE` for a role
// profile with mfa_serial.
func (a *app) loginMFA(cmd *cobra.Command, prof accounts.AWSProfile, code string) error {
	if code == "" {
		return UsageError(cloud.WithHint(fmt.Errorf("login: profile %s assumes %s with MFA (%s): give the code with --mfa-code", prof.Name, prof.RoleARN, prof.MFASerial),
			"fndeck login aws --profile "+prof.Name+" --mfa-code CODE"))
	}
	sess, err := a.session(cmd.Context())
	if err != nil {
		return err
	}
	l, ok := sess.backend(cloud.AWS).(interface {
		LoginMFA(ctx context.Context, profile, code string) (cloud.LoginResult, error)
	})
	if !ok {
		return &ExitError{Code: ExitFailure, Err: errors.New("login: AWS is not configured in this session")}
	}
	r, err := l.LoginMFA(cmd.Context(), prof.Name, code)
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("login: %w", err)}
	}
	fmt.Fprintf(a.deps.Stdout, "aws %s: assumed %s, credentials cached until %s\n", s(prof.Name), s(prof.RoleARN), r.Expires.Local().Format("2006-01-02 15:04"))
	return nil
}
