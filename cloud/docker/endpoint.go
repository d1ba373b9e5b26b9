// Package docker is fndeck's Docker engine backend: the local image store
// (cloud.Images), classic-builder builds (cloud.Builder), pushes with registry
// auth (cloud.Pusher) and the docker config file credential provider.
//
// SDK types (github.com/moby/moby/client and api) stop here: callers see
// cloud values, except the local backend which borrows Engine.Client().
package docker

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/moby/moby/client"
)

// Source says where an Endpoint's host came from.
type Source string

// The places an engine address can come from, in the order Resolve tries them.
const (
	SourceConfig  Source = "config"         // docker.host in fndeck's config
	SourceEnv     Source = "DOCKER_HOST"    // the DOCKER_HOST environment variable
	SourceContext Source = "docker context" // the current docker context
	SourceDefault Source = "default"        // the platform default socket
)

// Endpoint is a resolved Docker engine address.
type Endpoint struct {
	Host    string // "unix:///var/run/docker.sock", "tcp://127.0.0.1:2376", ...
	Source  Source
	Context string // docker context name when Source is SourceContext
	// TLSDir holds ca.pem/cert.pem/key.pem when the endpoint uses TLS
	// (a context's TLS material, or DOCKER_CERT_PATH with DOCKER_TLS_VERIFY).
	TLSDir        string
	SkipTLSVerify bool
}

// String describes the endpoint for the header and error messages.
func (e Endpoint) String() string {
	if e.Source == SourceContext {
		return fmt.Sprintf("%s (context %s)", e.Host, e.Context)
	}
	return e.Host
}

// ConfigDir returns the docker CLI config directory: $DOCKER_CONFIG, else ~/.docker.
func ConfigDir() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".docker"
	}
	return filepath.Join(home, ".docker")
}

// cliConfig is the part of config.json fndeck reads. Credentials are
// decoded separately by DockerConfigAuth so they never sit in this value.
type cliConfig struct {
	CurrentContext string `json:"currentContext"`
}

type contextMeta struct {
	Name      string `json:"Name"`
	Endpoints map[string]struct {
		Host          string `json:"Host"`
		SkipTLSVerify bool   `json:"SkipTLSVerify"`
	} `json:"Endpoints"`
}

// Resolve finds the engine address: configHost (fndeck's docker.host) when
// set, else DOCKER_HOST, else the current docker context (DOCKER_CONTEXT
// overrides config.json's currentContext), else the platform default.
// client.FromEnv alone ignores contexts, which is why this exists.
func Resolve(configHost string) (Endpoint, error) {
	if configHost != "" {
		if _, err := client.ParseHostURL(configHost); err != nil {
			return Endpoint{}, fmt.Errorf("docker.host %q: %w", configHost, err)
		}
		return Endpoint{Host: configHost, Source: SourceConfig}, nil
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		if _, err := client.ParseHostURL(h); err != nil {
			return Endpoint{}, fmt.Errorf("DOCKER_HOST %q: %w", h, err)
		}
		ep := Endpoint{Host: h, Source: SourceEnv}
		// As the docker CLI: DOCKER_CERT_PATH turns TLS on, and the server
		// certificate is verified only with DOCKER_TLS_VERIFY.
		certPath, verify := os.Getenv("DOCKER_CERT_PATH"), os.Getenv("DOCKER_TLS_VERIFY") != ""
		if certPath != "" || verify {
			ep.TLSDir = certPath
			if ep.TLSDir == "" {
				ep.TLSDir = ConfigDir()
			}
			ep.SkipTLSVerify = !verify
		}
		return ep, nil
	}
	dir := ConfigDir()
	name := os.Getenv("DOCKER_CONTEXT")
	if name == "" {
		b, err := os.ReadFile(filepath.Join(dir, "config.json"))
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return Endpoint{}, fmt.Errorf("reading docker config: %w", err)
		default:
			var cfg cliConfig
			if err := json.Unmarshal(b, &cfg); err != nil {
				return Endpoint{}, fmt.Errorf("parsing %s: %w", filepath.Join(dir, "config.json"), err)
			}
			name = cfg.CurrentContext
		}
	}
	if name != "" && name != "default" {
		return contextEndpoint(dir, name)
	}
	return Endpoint{Host: defaultHost(), Source: SourceDefault}, nil
}

// contextEndpoint reads a named context's metadata, stored by the docker CLI
// under contexts/meta/<sha256(name)>/meta.json.
func contextEndpoint(dir, name string) (Endpoint, error) {
	sum := sha256.Sum256([]byte(name))
	id := hex.EncodeToString(sum[:])
	metaPath := filepath.Join(dir, "contexts", "meta", id, "meta.json")
	b, err := os.ReadFile(metaPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Endpoint{}, fmt.Errorf("docker context %q not found (no %s)", name, metaPath)
		}
		return Endpoint{}, fmt.Errorf("reading docker context %q: %w", name, err)
	}
	var meta contextMeta
	if err := json.Unmarshal(b, &meta); err != nil {
		return Endpoint{}, fmt.Errorf("parsing %s: %w", metaPath, err)
	}
	d, ok := meta.Endpoints["docker"]
	if !ok || d.Host == "" {
		return Endpoint{}, fmt.Errorf("docker context %q has no docker endpoint (%s)", name, metaPath)
	}
	if _, err := client.ParseHostURL(d.Host); err != nil {
		return Endpoint{}, fmt.Errorf("docker context %q host %q: %w", name, d.Host, err)
	}
	ep := Endpoint{Host: d.Host, Source: SourceContext, Context: name, SkipTLSVerify: d.SkipTLSVerify}
	tls := filepath.Join(dir, "contexts", "tls", id, "docker")
	if st, err := os.Stat(tls); err == nil && st.IsDir() {
		ep.TLSDir = tls
	}
	return ep, nil
}

func defaultHost() string {
	if runtime.GOOS == "windows" {
		return "npipe:////./pipe/docker_engine"
	}
	return "unix:///var/run/docker.sock"
}
