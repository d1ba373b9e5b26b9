package actions

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"

	"github.com/fndeck/fndeck/cloud"
)

// LoginPlan is the command that logs a provider in again.
type LoginPlan struct {
	Argv []string // argv[0] is the CLI, resolved on PATH
	// Display is the command as the user would type it.
	Display string
}

// NoLocalBrowser reports whether a browser on this host cannot be opened
// for the user: an SSH session, or Linux without a display.
func NoLocalBrowser() bool {
	if os.Getenv("SSH_CONNECTION") != "" || os.Getenv("SSH_TTY") != "" {
		return true
	}
	return runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == ""
}

// ErrNoCLI says the provider's CLI is not installed.
var ErrNoCLI = errors.New("cli not found")

// PlanLogin builds the login command: `aws sso login --profile P` (with
// --use-device-code without a local browser: the aws CLI v2.22+ otherwise
// waits for a browser on this host) or `gcloud auth application-default
// login` (--no-launch-browser: gcloud prints a URL and reads the code).
func PlanLogin(p cloud.Provider, profile string) (LoginPlan, error) {
	var args []string
	var cli, install string
	switch p {
	case cloud.AWS:
		cli, install = "aws", "install the AWS CLI v2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)"
		args = []string{"sso", "login"}
		if profile != "" {
			args = append(args, "--profile", profile)
		}
		if NoLocalBrowser() {
			args = append(args, "--use-device-code")
		}
	case cloud.GCP:
		cli, install = "gcloud", "install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install)"
		args = []string{"auth", "application-default", "login"}
		if NoLocalBrowser() {
			args = append(args, "--no-launch-browser")
		}
	default:
		return LoginPlan{}, fmt.Errorf("login: %q has no login: %w", p, cloud.ErrInvalid)
	}
	display := cli
	for _, a := range args {
		display += " " + a
	}
	path, err := exec.LookPath(cli)
	if err != nil {
		return LoginPlan{}, cloud.WithHint(fmt.Errorf("login: %s: %w on PATH", cli, ErrNoCLI), install+", then run: "+display)
	}
	return LoginPlan{Argv: append([]string{path}, args...), Display: display}, nil
}
