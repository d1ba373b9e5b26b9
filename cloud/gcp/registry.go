package gcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/registry"
	"github.com/fndeck/fndeck/internal/reghost"
)

// fndeckRepository is the Artifact Registry repository fndeck pushes local
// images to, one per project and region.
const fndeckRepository = "fndeck"

func timeSeconds(n int) time.Duration { return time.Duration(n) * time.Second }

// AuthFor answers for Artifact Registry (*-docker.pkg.dev) and Container
// Registry (gcr.io, *.gcr.io) with an access token: username
// oauth2accesstoken, password the token. The token is a secret.
func (b *Backend) AuthFor(ctx context.Context, host string) (cloud.RegistryAuth, bool, error) {
	if !reghost.IsGoogle(host) {
		return cloud.RegistryAuth{}, false, nil
	}
	tok, err := b.accessToken(ctx)
	if err != nil {
		return cloud.RegistryAuth{}, true, fmt.Errorf("getting credentials for %s: %w", host, err)
	}
	return cloud.RegistryAuth{Username: "oauth2accesstoken", Password: tok.AccessToken, ServerAddress: host, Expires: tok.Expiry}, true, nil
}

// LoginHint tells the user what to run when a Google registry refuses the
// token (the docker engine's push asks auth providers for it).
func (b *Backend) LoginHint(host string) string {
	if !reghost.IsGoogle(host) {
		return ""
	}
	return hintLogin
}

// AuthName implements cloud.AuthNamer.
func (b *Backend) AuthName() string { return "google cloud credentials" }

// SetPusher sets the Pusher after New. It breaks the wiring cycle: the
// docker engine's auth chain holds this backend (AuthFor), and this backend
// pushes through that engine. Call it before the first Deploy.
func (b *Backend) SetPusher(p cloud.Pusher) {
	b.mu.Lock()
	b.opts.Pusher = p
	b.mu.Unlock()
}

func (b *Backend) pusher() cloud.Pusher {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opts.Pusher
}

// accessToken returns an OAuth2 access token from Options.TokenSource or ADC.
func (b *Backend) accessToken(ctx context.Context) (*oauth2.Token, error) {
	ts := b.opts.TokenSource
	if ts == nil {
		c, err := b.credentials(ctx)
		if err != nil {
			return nil, err
		}
		ts = c.TokenSource
	}
	tok, err := ts.Token()
	if err != nil {
		return nil, cloud.WithHint(fmt.Errorf("getting a google access token: %w: %v", cloud.ErrUnauthenticated, err), hintLogin)
	}
	return tok, nil
}

// cloudRunCanPull reports whether Cloud Run pulls from this registry host.
func cloudRunCanPull(host string) bool {
	switch strings.ToLower(host) {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return true
	}
	return reghost.IsGoogle(host)
}

// splitRef splits an image reference into its registry host ("" when the
// reference names none, i.e. a local image) and the rest.
func splitRef(ref string) (host, rest string) {
	if h := reghost.OfRef(ref); h != "" {
		return h, ref[len(h)+1:]
	}
	return "", ref
}

// artifactTarget names where a local image goes in the project's fndeck
// repository: REGION-docker.pkg.dev/PROJECT/fndeck/NAME:TAG.
func artifactTarget(t cloud.Address, ref string) string {
	_, rest := splitRef(ref)
	name, tag := rest, "latest"
	if i := strings.Index(name, "@"); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndex(name, ":"); i >= 0 && !strings.Contains(name[i:], "/") {
		name, tag = name[:i], name[i+1:]
	}
	name = lastSegment(name)
	return fmt.Sprintf("%s-docker.pkg.dev/%s/%s/%s:%s", t.Region, t.Project, fndeckRepository, name, tag)
}

// deployableImage returns a reference Cloud Run can pull. A reference on
// Artifact Registry, GCR or Docker Hub (spelled with its docker.io host) is
// used as it is. Anything else — a local image, or an image in a registry
// Cloud Run cannot reach — goes to the project's fndeck repository, which
// is created first only with req.Yes: a local image, or a remote one the
// engine holds, is pushed through the Pusher; a remote image the engine
// lacks is copied registry to registry (its linux/amd64 image out of an
// index), not pulled whole into the engine first.
func (b *Backend) deployableImage(ctx context.Context, req cloud.DeployRequest, out cloud.Sink) (string, error) {
	host, _ := splitRef(req.Image)
	if host != "" && cloudRunCanPull(host) {
		return req.Image, nil
	}
	to := artifactTarget(req.Target, req.Image)
	repo := to[:strings.LastIndex(to, ":")]
	if host != "" && !b.engineHolds(ctx, req.Image) {
		// A remote image the engine lacks goes registry to registry: only
		// Cloud Run's platform out of an index, no pull into the engine.
		if err := b.ensureRepository(ctx, req.Target.Project, req.Target.Region, req.Yes, out); err != nil {
			return "", err
		}
		out.Line(fmt.Sprintf("copying %s to %s: cloud run cannot pull from %s", req.Image, to, host))
		res, err := b.registry().Copy(ctx, req.Image, to, registry.CopyOptions{Platform: &cloudRunPlatform, Out: out})
		if err != nil {
			return "", fmt.Errorf("copying %s to %s: %w", req.Image, to, err)
		}
		return repo + "@" + res.Digest, nil
	}
	pusher := b.pusher()
	if pusher == nil {
		return "", fmt.Errorf("image %s is not in a registry cloud run can pull from (artifact registry, gcr.io, docker hub) and no pusher is configured: %w", req.Image, cloud.ErrInvalid)
	}
	if err := b.ensureRepository(ctx, req.Target.Project, req.Target.Region, req.Yes, out); err != nil {
		return "", err
	}
	if host == "" {
		out.Line(fmt.Sprintf("pushing local image %s to %s", req.Image, to))
	} else {
		out.Line(fmt.Sprintf("copying %s to %s: cloud run cannot pull from %s", req.Image, to, host))
	}
	res, err := pusher.Push(ctx, cloud.PushOptions{Ref: req.Image, To: to}, out)
	if err != nil {
		return "", fmt.Errorf("pushing %s to %s: %w", req.Image, to, err)
	}
	if res.Digest != "" {
		return repo + "@" + res.Digest, nil
	}
	return to, nil
}

// cloudRunPlatform is the one platform Cloud Run runs.
var cloudRunPlatform = registry.Platform{OS: "linux", Architecture: "amd64"}

// engineHolds reports whether the local engine has ref (ImageInspector).
func (b *Backend) engineHolds(ctx context.Context, ref string) bool {
	if b.opts.ImageInspector == nil {
		return false
	}
	_, err := b.opts.ImageInspector(ctx, ref)
	return err == nil
}

// registry is the one registry client with this backend's token first,
// then Options.Auth (the docker config), falling through on failure.
func (b *Backend) registry() *registry.Client {
	return registry.ForBackend(b, b.opts.Auth, b.opts.Rewrite, b.opts.HTTPClient)
}

// arOperation is the part of a google.longrunning.Operation (REST form) we read.
type arOperation struct {
	Name  string `json:"name"`
	Done  bool   `json:"done"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// ensureRepository makes sure the Docker repository "fndeck" exists in
// Artifact Registry for project/region, creating it only when yes is true.
func (b *Backend) ensureRepository(ctx context.Context, project, region string, yes bool, out cloud.Sink) error {
	base := strings.TrimRight(b.opts.ArtifactRegistryEndpoint, "/")
	if base == "" {
		base = "https://artifactregistry.googleapis.com"
	}
	parent := fmt.Sprintf("projects/%s/locations/%s", url.PathEscape(project), url.PathEscape(region))
	repoPath := parent + "/repositories/" + fndeckRepository
	what := fmt.Sprintf("artifact registry repository %s", repoPath)
	status, body, err := b.arCall(ctx, http.MethodGet, base+"/v1/"+repoPath, nil)
	if err != nil {
		return fmt.Errorf("checking %s: %w", what, err)
	}
	switch {
	case status == http.StatusOK:
		return nil
	case status == http.StatusNotFound:
	default:
		return arError("checking "+what, status, body, project)
	}
	if !yes {
		return cloud.WithHint(fmt.Errorf("%s does not exist; creating it %w: pass --yes", what, cloud.ErrNeedsConfirmation), "re-run with --yes to create it")
	}
	out.Line("creating " + what)
	reqBody, _ := json.Marshal(map[string]string{"format": "DOCKER", "description": "images pushed by fndeck"})
	status, body, err = b.arCall(ctx, http.MethodPost, base+"/v1/"+parent+"/repositories?repositoryId="+fndeckRepository, reqBody)
	if err != nil {
		return fmt.Errorf("creating %s: %w", what, err)
	}
	if status == http.StatusConflict {
		return nil // created meanwhile by someone else: fine
	}
	if status != http.StatusOK {
		return arError("creating "+what, status, body, project)
	}
	var op arOperation
	if err := json.Unmarshal(body, &op); err != nil {
		return fmt.Errorf("creating %s: reading the operation: %w", what, err)
	}
	for !op.Done {
		select {
		case <-ctx.Done():
			return fmt.Errorf("creating %s: %w", what, ctx.Err())
		case <-time.After(time.Second):
		}
		status, body, err = b.arCall(ctx, http.MethodGet, base+"/v1/"+op.Name, nil)
		if err != nil {
			return fmt.Errorf("creating %s: %w", what, err)
		}
		if status != http.StatusOK {
			return arError("creating "+what, status, body, project)
		}
		if err := json.Unmarshal(body, &op); err != nil {
			return fmt.Errorf("creating %s: reading the operation: %w", what, err)
		}
	}
	if op.Error != nil {
		return fmt.Errorf("creating %s: %s", what, op.Error.Message)
	}
	return nil
}

// arCall sends one Artifact Registry REST request; loopback endpoints get
// no credentials.
func (b *Backend) arCall(ctx context.Context, method, u string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !reghost.IsLoopback(req.URL.Hostname()) {
		tok, err := b.accessToken(ctx)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	resp, err := b.httpClient().Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %v", cloud.ErrUnreachable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, data, err
}

func arError(what string, status int, body []byte, project string) error {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	msg := e.Error.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	switch status {
	case http.StatusUnauthorized:
		return cloud.WithHint(fmt.Errorf("%s: %w: %s", what, cloud.ErrUnauthenticated, msg), hintLogin)
	case http.StatusForbidden:
		if strings.Contains(msg, "SERVICE_DISABLED") || strings.Contains(msg, "has not been used") {
			return cloud.WithHint(fmt.Errorf("%s: %w: %s", what, cloud.ErrPermission, msg), "gcloud services enable artifactregistry.googleapis.com --project "+project)
		}
		return cloud.WithHint(fmt.Errorf("%s: %w: %s", what, cloud.ErrPermission, msg), "ask for roles/artifactregistry.admin on project "+project)
	}
	return fmt.Errorf("%s: http %d: %s", what, status, msg)
}
