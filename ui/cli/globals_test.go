package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// The global --stage flag reaches Open (which loads the project with it)
// before and after the command name alike.
func TestStageFlagReachesOpen(t *testing.T) {
	for _, args := range [][]string{
		{"--stage", "prod", "deploy", "img:1", "fn.prod"},
		{"deploy", "img:1", "fn.prod", "--stage=prod"},
	} {
		var got Globals
		opened := false
		var stderr bytes.Buffer
		code := Execute(context.Background(), Deps{
			Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &stderr,
			Open: func(_ context.Context, g Globals) (*Session, error) {
				got, opened = g, true
				return nil, UsageError(errors.New("stop here"))
			},
		}, args)
		if !opened || got.Stage != "prod" {
			t.Errorf("%v: Open called %v with Stage %q, want prod", args, opened, got.Stage)
		}
		if code != ExitUsage || !strings.Contains(stderr.String(), "stop here") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}
