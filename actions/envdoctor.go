package actions

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/fndeck/fndeck/cloud"
)

// EnvDoctorDeps is what `fndeck doctor` without arguments checks. Nil or
// empty fields are skipped.
type EnvDoctorDeps struct {
	// Engine reports the Docker engine; DockerHost names it in a failure.
	Engine     func(ctx context.Context) (cloud.EngineInfo, error)
	DockerHost string
	// Helper checks the cloud helper (found, version); message on success.
	Helper func(ctx context.Context) (string, error)
	// Clouds are the configured providers' checks (AWS profiles, GCP
	// projects), run in the helper.
	Clouds []cloud.HealthChecker
	// Unconfigured says, per provider left out, what to configure.
	Unconfigured map[cloud.Provider]string
	// ConfigFile is the config file read ("" = none: defaults);
	// ConfigProblems are its warnings.
	ConfigFile     string
	ConfigProblems []string
	// StateDir is fndeck's state directory (task output, history).
	StateDir string
}

// EnvDoctor runs every environment check at once and returns them in a
// stable order: docker, cloud helper, config, state dir, unconfigured
// providers, then each provider's checks.
func EnvDoctor(ctx context.Context, d EnvDoctorDeps) []Check {
	var (
		wg      sync.WaitGroup
		engine  []Check
		helper  []Check
		clouds  = make([][]Check, len(d.Clouds))
		local   []Check
		infoFor []Check
	)
	if d.Engine != nil {
		wg.Go(func() { engine = []Check{engineCheck(ctx, d)} })
	}
	if d.Helper != nil {
		wg.Go(func() {
			c := Check{ID: "cloud-helper", Level: LevelOK}
			msg, err := d.Helper(ctx)
			if err != nil {
				c.Level, c.Message, c.Hint = LevelError, err.Error(), cloud.Hint(err)
			} else {
				c.Message = msg
			}
			helper = []Check{c}
		})
	}
	for i, hc := range d.Clouds {
		wg.Go(func() {
			for _, h := range hc.Health(ctx) {
				clouds[i] = append(clouds[i], Check(h))
			}
		})
	}
	local = append(local, configChecks(d)...)
	if d.StateDir != "" {
		local = append(local, stateDirCheck(d.StateDir))
	}
	for _, p := range []cloud.Provider{cloud.AWS, cloud.GCP} {
		if why := d.Unconfigured[p]; why != "" {
			infoFor = append(infoFor, Check{ID: string(p), Level: LevelInfo, Message: why})
		}
	}
	wg.Wait()
	out := append(append(append(engine, helper...), local...), infoFor...)
	for _, c := range clouds {
		out = append(out, c...)
	}
	return out
}

func engineCheck(ctx context.Context, d EnvDoctorDeps) Check {
	c := Check{ID: "docker", Level: LevelOK}
	info, err := d.Engine(ctx)
	if err != nil {
		c.Level, c.Message, c.Hint = LevelError, err.Error(), cloud.Hint(err)
		if c.Hint == "" {
			c.Hint = "start Docker, or point DOCKER_HOST (docker.host) at a running engine"
		}
		return c
	}
	store := "classic image store"
	if info.ContainerdStore {
		store = "containerd image store (builds push image indexes)"
	}
	c.Message = fmt.Sprintf("engine %s (API %s) at %s, storage driver %s, %s", info.Version, info.APIVersion, info.Host, info.StorageDriver, store)
	return c
}

func configChecks(d EnvDoctorDeps) []Check {
	var out []Check
	if d.ConfigFile == "" {
		out = append(out, Check{ID: "config", Level: LevelInfo, Message: "no config file: defaults and the environment apply"})
	} else {
		out = append(out, Check{ID: "config", Level: LevelOK, Message: "config " + d.ConfigFile + " reads without errors"})
	}
	for _, p := range d.ConfigProblems {
		out = append(out, Check{ID: "config", Level: LevelWarning, Message: p})
	}
	return out
}

// stateDirCheck: the state dir holds task output and history (which may
// name accounts and hold invoke payloads): it must be writable and private.
func stateDirCheck(dir string) Check {
	c := Check{ID: "state-dir", Level: LevelOK}
	st, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		c.Level, c.Message = LevelInfo, "state dir "+dir+" does not exist yet (created on first use)"
		return c
	case err != nil:
		c.Level, c.Message = LevelError, "state dir: "+err.Error()
		return c
	case !st.IsDir():
		c.Level, c.Message, c.Hint = LevelError, "state dir "+dir+" is not a directory", "remove it or set XDG_STATE_HOME"
		return c
	}
	f, err := os.CreateTemp(dir, ".doctor-*")
	if err != nil {
		c.Level, c.Message, c.Hint = LevelError, "state dir "+dir+" is not writable: "+err.Error(), "chmod u+w "+dir
		return c
	}
	name := f.Name()
	_ = f.Close()
	_ = os.Remove(name)
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		c.Level, c.Message, c.Hint = LevelWarning, fmt.Sprintf("state dir %s is open to other users (%04o); task output and payloads are kept there", dir, perm), "chmod 700 "+dir
		return c
	}
	c.Message = "state dir " + dir + " is private and writable"
	return c
}
