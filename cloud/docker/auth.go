package docker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	credclient "github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/reghost"
)

// dockerHubKey is the key the docker CLI stores Docker Hub credentials under.
const dockerHubKey = "https://index.docker.io/v1/"

// DockerConfigAuth is the cloud.AuthProvider reading the docker CLI's
// config.json: credHelpers (per host), then credsStore, then auths. It is
// the last provider of the chain; cloud providers (ECR, Artifact Registry)
// go in front. The file is read on every call so a `docker login` done
// while fndeck runs is picked up.
type DockerConfigAuth struct {
	// Dir holds config.json; "" means $DOCKER_CONFIG, else ~/.docker.
	Dir string
}

var _ cloud.AuthProvider = (*DockerConfigAuth)(nil)

// AuthRef is a registry auth chain that is filled in after the engine that
// uses it exists: the cloud backends in the chain need that engine as their
// pusher. Set Chain before the first push.
type AuthRef struct{ Chain cloud.AuthChain }

// AuthFor implements cloud.AuthProvider.
func (a *AuthRef) AuthFor(ctx context.Context, host string) (cloud.RegistryAuth, bool, error) {
	return a.Chain.AuthFor(ctx, host)
}

// LoginHint passes through the first hint a provider in the chain gives.
func (a *AuthRef) LoginHint(host string) string {
	for _, p := range a.Chain {
		if h, ok := p.(LoginHinter); ok {
			if s := h.LoginHint(host); s != "" {
				return s
			}
		}
	}
	return ""
}

// LoginHinter is implemented by auth providers that know what the user
// should run when a registry refuses their credentials.
type LoginHinter interface {
	LoginHint(host string) string
}

// AuthName implements cloud.AuthNamer.
func (a *DockerConfigAuth) AuthName() string { return "docker config" }

// AuthProviders implements cloud.AuthLister, so cloud.TryAuth walks the
// chain provider by provider.
func (a *AuthRef) AuthProviders() []cloud.AuthProvider { return a.Chain }

// LoginHint tells the user how to store credentials for host.
func (a *DockerConfigAuth) LoginHint(host string) string {
	if reghost.IsDockerHub(host) {
		return "docker login"
	}
	return "docker login " + host
}

// configAuths is config.json's credential part. It holds secrets: never log it.
type configAuths struct {
	Auths map[string]struct {
		Auth          string `json:"auth"`
		Username      string `json:"username"`
		Password      string `json:"password"`
		IdentityToken string `json:"identitytoken"`
		RegistryToken string `json:"registrytoken"`
	} `json:"auths"`
	CredsStore  string            `json:"credsStore"`
	CredHelpers map[string]string `json:"credHelpers"`
}

// AuthFor returns the credentials config.json has for host; ok=false when
// it has none.
func (a *DockerConfigAuth) AuthFor(ctx context.Context, host string) (cloud.RegistryAuth, bool, error) {
	dir := a.Dir
	if dir == "" {
		dir = ConfigDir()
	}
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return cloud.RegistryAuth{}, false, nil
	}
	if err != nil {
		return cloud.RegistryAuth{}, false, fmt.Errorf("reading docker config: %w", err)
	}
	var cfg configAuths
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cloud.RegistryAuth{}, false, fmt.Errorf("parsing %s: %w", path, err)
	}
	host = reghost.Normalize(host)
	server := host
	if reghost.IsDockerHub(host) {
		server = dockerHubKey
	}
	helper, from := "", ""
	for k, h := range cfg.CredHelpers {
		if reghost.Normalize(k) == host {
			helper, from = h, "credHelpers"
		}
	}
	if helper == "" && cfg.CredsStore != "" {
		helper, from = cfg.CredsStore, "credsStore"
	}
	if helper != "" {
		ra, ok, err := fromHelper(ctx, helper, server)
		if err != nil {
			return cloud.RegistryAuth{}, false, fmt.Errorf("credentials for %s (%s in %s): %w", host, from, path, err)
		}
		if ok {
			return ra, true, nil
		}
	}
	for k, e := range cfg.Auths {
		if reghost.Normalize(k) != host {
			continue
		}
		ra := cloud.RegistryAuth{Username: e.Username, Password: e.Password, IdentityToken: e.IdentityToken, ServerAddress: server}
		if e.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(e.Auth)
			if err != nil {
				return cloud.RegistryAuth{}, false, fmt.Errorf("%s: auths[%q].auth is not valid base64", path, k)
			}
			u, p, ok := strings.Cut(string(raw), ":")
			if !ok {
				return cloud.RegistryAuth{}, false, fmt.Errorf("%s: auths[%q].auth is not user:password", path, k)
			}
			ra.Username, ra.Password = u, p
		}
		if ra.Username == "" && ra.Password == "" && ra.IdentityToken == "" {
			continue
		}
		return ra, true, nil
	}
	return cloud.RegistryAuth{}, false, nil
}

// fromHelper runs `docker-credential-NAME get`. A helper's "<token>"
// username means the secret is an identity token.
func fromHelper(ctx context.Context, name, server string) (cloud.RegistryAuth, bool, error) {
	bin := "docker-credential-" + name
	if _, err := exec.LookPath(bin); err != nil {
		return cloud.RegistryAuth{}, false, fmt.Errorf("credential helper %s not found on PATH", bin)
	}
	prog := func(args ...string) credclient.Program {
		return &helperProgram{cmd: exec.CommandContext(ctx, bin, args...)}
	}
	c, err := credclient.Get(prog, server)
	if err != nil {
		if credentials.IsErrCredentialsNotFound(err) {
			return cloud.RegistryAuth{}, false, nil
		}
		return cloud.RegistryAuth{}, false, fmt.Errorf("%s get: %w", bin, err)
	}
	ra := cloud.RegistryAuth{ServerAddress: server}
	if c.Username == "<token>" {
		ra.IdentityToken = c.Secret
	} else {
		ra.Username, ra.Password = c.Username, c.Secret
	}
	return ra, true, nil
}

// helperProgram runs a credential helper bound to the caller's ctx; its
// stderr is kept off the terminal (the TUI owns it).
type helperProgram struct{ cmd *exec.Cmd }

func (p *helperProgram) Input(r io.Reader) { p.cmd.Stdin = r }
func (p *helperProgram) Output() ([]byte, error) {
	out, err := p.cmd.Output()
	if err != nil && len(out) == 0 {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			return []byte(strings.TrimSpace(string(ee.Stderr))), err
		}
	}
	return out, err
}
