package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fndeck/fndeck/cloud"
)

// rmCmd removes a local function's container: the headless twin of the
// Functions pane's x. Only local: addresses are accepted; a cloud function
// is deleted with the cloud's own tools.
func (a *app) rmCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rm local:NAME",
		Short: "Remove a local function (its container)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			addr, err := cloud.ParseAddress(pos[0])
			if err != nil {
				return UsageError(fmt.Errorf("rm: %w", err))
			}
			if addr.Provider != cloud.Local {
				return UsageError(fmt.Errorf("rm: %q is not a local: address; fndeck removes only local functions (like local:NAME)", pos[0]))
			}
			ctx := cmd.Context()
			sess, err := a.session(ctx)
			if err != nil {
				return err
			}
			rm, err := capability[cloud.Remover](sess, addr, "remove")
			if err != nil {
				return err
			}
			if err := rm.Remove(ctx, addr); err != nil {
				return err
			}
			fmt.Fprintf(a.deps.Stdout, "removed %s\n", addr)
			return nil
		},
	}
}
