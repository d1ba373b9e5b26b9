package docker

import (
	"context"

	"github.com/moby/moby/client"

	"github.com/fndeck/fndeck/cloud"
)

// Info reports the engine's version, API version, storage driver and
// whether it uses the containerd image store (fndeck doctor).
func (e *Engine) Info(ctx context.Context) (cloud.EngineInfo, error) {
	out := cloud.EngineInfo{Host: e.ep.Host}
	v, err := e.cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return out, e.wrap(ctx, err, "asking the engine its version")
	}
	out.Version, out.APIVersion = v.Version, v.APIVersion
	info, err := e.cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return out, e.wrap(ctx, err, "asking the engine its configuration")
	}
	out.StorageDriver = info.Info.Driver
	out.ContainerdStore = usesContainerdStore(info.Info.DriverStatus)
	return out, nil
}

// usesContainerdStore reads `docker info`'s DriverStatus: the containerd
// image store says driver-type io.containerd.snapshotter.v1.
func usesContainerdStore(status [][2]string) bool {
	for _, kv := range status {
		if kv[0] == "driver-type" && kv[1] == "io.containerd.snapshotter.v1" {
			return true
		}
	}
	return false
}
