package main

import (
	"context"

	"github.com/fndeck/fndeck/actions"
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/docker"
	"github.com/fndeck/fndeck/cloud/remote"
	"github.com/fndeck/fndeck/config"
	"github.com/fndeck/fndeck/ui/cli"
)

// envDoctor builds `fndeck doctor`'s environment checks from the session's
// parts: the engine, the cloud helper and the configured providers' checks
// (which run in the helper), the config file and the state dir.
func envDoctor(cfg *config.Config, engine *docker.Engine, helper *remote.Client, providers []cli.ProviderInfo,
	unconfigured map[cloud.Provider]string, stateDir string) func(ctx context.Context) []actions.Check {
	return func(ctx context.Context) []actions.Check {
		d := actions.EnvDoctorDeps{
			Engine:       engine.Info,
			DockerHost:   engine.Host(),
			Unconfigured: unconfigured,
			ConfigFile:   cfg.Path,
			StateDir:     stateDir,
			Helper:       func(ctx context.Context) (string, error) { return helperCheck(ctx, helper) },
		}
		for _, p := range providers {
			if hc, ok := p.Backend.(cloud.HealthChecker); ok && p.Provider != cloud.Local {
				d.Clouds = append(d.Clouds, hc)
			}
		}
		return actions.EnvDoctor(ctx, d)
	}
}
