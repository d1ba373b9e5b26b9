package cloud

import (
	"context"
	"time"
)

// Levels of a HealthCheck (as fndeck doctor prints them).
const (
	HealthOK      = "ok"
	HealthInfo    = "info"
	HealthWarning = "warning"
	HealthError   = "error"
)

// HealthCheck is one environment check of `fndeck doctor`: an ID such as
// "aws:dev", a level, what was found and, when something is wrong, what to
// run.
type HealthCheck struct {
	ID      string `json:"id"`
	Level   string `json:"level"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

// HealthChecker checks a backend's accounts (credentials, identity,
// session expiry, API reachability), each profile or project in parallel.
type HealthChecker interface {
	Health(ctx context.Context) []HealthCheck
}

// EngineInfo is what `fndeck doctor` reports about the Docker engine.
type EngineInfo struct {
	Host          string `json:"host"`
	Version       string `json:"version"`
	APIVersion    string `json:"api_version"`
	StorageDriver string `json:"storage_driver"`
	// ContainerdStore is true when the engine keeps images in containerd's
	// image store (driver-type io.containerd.snapshotter.v1): its builds
	// push indexes, not single manifests.
	ContainerdStore bool `json:"containerd_store"`
}

// LoginResult is what a login inside the backend (an MFA code) gave.
type LoginResult struct {
	Expires time.Time `json:"expires"`
}
