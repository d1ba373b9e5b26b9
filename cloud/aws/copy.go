package aws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/fndeck/fndeck/cloud"
)

// Manifest media types a copy understands.
const (
	mtDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mtDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mtOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mtOCIIndex       = "application/vnd.oci.image.index.v1+json"
)

// imageRef is a parsed registry reference.
type imageRef struct {
	host, repo, tag, digest string
}

func (r imageRef) ref() string {
	if r.digest != "" {
		return r.repo + "@" + r.digest
	}
	return r.repo + ":" + r.tag
}

// parseImageRef reads HOST/REPO[:TAG][@DIGEST]; Docker Hub short names are
// expanded (alpine → registry-1.docker.io/library/alpine:latest).
func parseImageRef(s string) (imageRef, error) {
	var r imageRef
	rest := s
	if i := strings.Index(rest, "@"); i >= 0 {
		rest, r.digest = rest[:i], rest[i+1:]
	}
	if h := refHost(rest); h != "" {
		r.host, rest = h, strings.TrimPrefix(rest, h+"/")
	} else {
		r.host = "registry-1.docker.io"
		if !strings.Contains(rest, "/") {
			rest = "library/" + rest
		}
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		rest, r.tag = rest[:i], rest[i+1:]
	}
	if r.tag == "" && r.digest == "" {
		r.tag = "latest"
	}
	if rest == "" || r.host == "" {
		return r, fmt.Errorf("image reference %q: no repository: %w", s, cloud.ErrInvalid)
	}
	if r.host == "docker.io" || r.host == "index.docker.io" {
		r.host = "registry-1.docker.io"
	}
	r.repo = rest
	return r, nil
}

// registry talks the distribution HTTP API v2 to one host, answering Basic
// and Bearer challenges with credentials from an AuthProvider.
type registry struct {
	http    *http.Client
	host    string // as named (credentials are looked up for it)
	dial    string // after registries.rewrite
	auth    cloud.AuthProvider
	bearer  string
	scheme  string
	cred    *cloud.RegistryAuth
	credErr error
	asked   bool
}

func (b *Backend) registryFor(host string) *registry {
	dial := host
	if to, ok := b.opts.Rewrite[strings.ToLower(host)]; ok && to != "" {
		dial = to
	}
	scheme := "https"
	if h := strings.Split(dial, ":")[0]; h == "127.0.0.1" || h == "localhost" || h == "::1" {
		scheme = "http"
	}
	hc := b.opts.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	var auth cloud.AuthProvider = b
	if b.opts.Auth != nil {
		auth = cloud.AuthChain{b, b.opts.Auth}
	}
	return &registry{http: hc, host: host, dial: dial, auth: auth, scheme: scheme}
}

func (r *registry) credentials(ctx context.Context) (*cloud.RegistryAuth, error) {
	if !r.asked {
		r.asked = true
		a, ok, err := r.auth.AuthFor(ctx, r.host)
		if err != nil {
			r.credErr = err
		} else if ok {
			r.cred = &a
		}
	}
	return r.cred, r.credErr
}

// do sends a request, answering one auth challenge. body is re-read on retry.
func (r *registry) do(ctx context.Context, method, path string, header http.Header, body []byte, scope string) (*http.Response, error) {
	u := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		u = r.scheme + "://" + r.dial + path
	}
	send := func() (*http.Response, error) {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return nil, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		if body != nil {
			req.ContentLength = int64(len(body))
		}
		if r.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+r.bearer)
		} else if c, _ := r.credentials(ctx); c != nil && c.Username != "" {
			req.SetBasicAuth(c.Username, c.Password)
		}
		return r.http.Do(req)
	}
	resp, err := send()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, r.host, wrapUnreachable(err))
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return resp, nil
	}
	challenge := resp.Header.Get("WWW-Authenticate")
	resp.Body.Close()
	if !strings.HasPrefix(strings.ToLower(challenge), "bearer ") || r.bearer != "" {
		return nil, r.unauthorized(ctx)
	}
	if err := r.fetchToken(ctx, challenge, scope); err != nil {
		return nil, err
	}
	resp, err = send()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, r.host, wrapUnreachable(err))
	}
	if resp.StatusCode == http.StatusUnauthorized {
		resp.Body.Close()
		return nil, r.unauthorized(ctx)
	}
	return resp, nil
}

func (r *registry) unauthorized(ctx context.Context) error {
	c, err := r.credentials(ctx)
	what := "refused the credentials"
	if c == nil {
		what = "requires credentials and none are configured"
	}
	if err != nil {
		return fmt.Errorf("registry %s: credentials: %w", r.host, err)
	}
	return cloud.WithHint(fmt.Errorf("registry %s %s: %w", r.host, what, cloud.ErrUnauthenticated), "docker login "+r.host)
}

// fetchToken answers a Bearer challenge (realm, service, scope).
func (r *registry) fetchToken(ctx context.Context, challenge, scope string) error {
	params := map[string]string{}
	for _, part := range strings.Split(challenge[len("bearer "):], ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			params[strings.ToLower(k)] = strings.Trim(v, `"`)
		}
	}
	realm := params["realm"]
	if realm == "" {
		return fmt.Errorf("registry %s: bearer challenge without realm", r.host)
	}
	q := url.Values{}
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	if scope != "" {
		q.Set("scope", scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm+"?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("registry %s: token request: %w", r.host, err)
	}
	if c, _ := r.credentials(ctx); c != nil && c.Username != "" {
		req.SetBasicAuth(c.Username, c.Password)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return fmt.Errorf("registry %s: token: %w", r.host, wrapUnreachable(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return r.unauthorized(ctx)
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		return fmt.Errorf("registry %s: reading token: %w", r.host, err)
	}
	r.bearer = tok.Token
	if r.bearer == "" {
		r.bearer = tok.AccessToken
	}
	return nil
}

func wrapUnreachable(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", cloud.ErrUnreachable, err)
}

func statusErr(resp *http.Response, what string) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	err := fmt.Errorf("%s: registry answered %s: %s", what, resp.Status, strings.TrimSpace(string(b)))
	switch resp.StatusCode {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %w", err, cloud.ErrNotFound)
	case http.StatusForbidden:
		return fmt.Errorf("%w: %w", err, cloud.ErrPermission)
	case http.StatusTooManyRequests:
		return fmt.Errorf("%w: %w", err, cloud.ErrThrottled)
	}
	return err
}

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
	Platform  *struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
	} `json:"platform,omitempty"`
}

type manifestDoc struct {
	MediaType string       `json:"mediaType"`
	Config    descriptor   `json:"config"`
	Layers    []descriptor `json:"layers"`
	Manifests []descriptor `json:"manifests"`
}

// getManifest fetches a manifest by tag or digest.
func (r *registry) getManifest(ctx context.Context, repo, ref string) ([]byte, string, error) {
	h := http.Header{"Accept": {strings.Join([]string{mtDockerManifest, mtOCIManifest, mtDockerList, mtOCIIndex}, ", ")}}
	resp, err := r.do(ctx, http.MethodGet, "/v2/"+repo+"/manifests/"+ref, h, nil, "repository:"+repo+":pull")
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", statusErr(resp, "reading manifest "+r.host+"/"+repo+":"+ref)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, "", fmt.Errorf("reading manifest %s/%s: %w", r.host, repo, err)
	}
	mt := resp.Header.Get("Content-Type")
	var doc manifestDoc
	if json.Unmarshal(b, &doc) == nil && doc.MediaType != "" {
		mt = doc.MediaType
	}
	return b, mt, nil
}

// copyImage copies a remote image to dst (an ECR HOST/REPO:TAG) over the
// registry API, picking the linux/arch manifest from an index, and returns
// the digest of the manifest written. Blobs the destination has are skipped.
func (b *Backend) copyImage(ctx context.Context, srcRef, dstRef, arch string, out cloud.Sink) (string, error) {
	src, err := parseImageRef(srcRef)
	if err != nil {
		return "", err
	}
	dst, err := parseImageRef(dstRef)
	if err != nil {
		return "", err
	}
	sr, dr := b.registryFor(src.host), b.registryFor(dst.host)
	ref := src.tag
	if src.digest != "" {
		ref = src.digest
	}
	body, mt, err := sr.getManifest(ctx, src.repo, ref)
	if err != nil {
		return "", fmt.Errorf("copying %s: %w", srcRef, err)
	}
	if mt == mtDockerList || mt == mtOCIIndex {
		var idx manifestDoc
		if err := json.Unmarshal(body, &idx); err != nil {
			return "", fmt.Errorf("copying %s: reading its index: %w", srcRef, err)
		}
		want := dockerArch(arch)
		var pick *descriptor
		for i, m := range idx.Manifests {
			if m.Platform != nil && m.Platform.OS == "linux" && m.Platform.Architecture == want {
				pick = &idx.Manifests[i]
				break
			}
		}
		if pick == nil {
			return "", fmt.Errorf("copying %s: it has no linux/%s image: %w", srcRef, want, cloud.ErrInvalid)
		}
		out.Line(fmt.Sprintf("%s is a multi-platform image: copying its linux/%s image", srcRef, want))
		if body, mt, err = sr.getManifest(ctx, src.repo, pick.Digest); err != nil {
			return "", fmt.Errorf("copying %s: %w", srcRef, err)
		}
	}
	var m manifestDoc
	if err := json.Unmarshal(body, &m); err != nil || m.Config.Digest == "" {
		return "", fmt.Errorf("copying %s: unsupported manifest (%s): %w", srcRef, mt, cloud.ErrInvalid)
	}
	cfg, err := sr.getBlob(ctx, src.repo, m.Config.Digest)
	if err != nil {
		return "", fmt.Errorf("copying %s: %w", srcRef, err)
	}
	var ic struct {
		Architecture string `json:"architecture"`
	}
	if json.Unmarshal(cfg, &ic) == nil && ic.Architecture != "" {
		if err := checkArch(cloud.ImageDetail{Image: cloud.Image{Architecture: ic.Architecture}}, arch, srcRef, cloud.Address{}); err != nil {
			return "", err
		}
	}
	if err := dr.putBlob(ctx, dst.repo, m.Config.Digest, cfg); err != nil {
		return "", fmt.Errorf("copying %s: %w", srcRef, err)
	}
	for _, l := range m.Layers {
		if ok, err := dr.hasBlob(ctx, dst.repo, l.Digest); err != nil {
			return "", fmt.Errorf("copying %s: %w", srcRef, err)
		} else if ok {
			out.Progress(cloud.Progress{ID: l.Digest, Status: "Layer already exists", Current: l.Size, Total: l.Size})
			continue
		}
		out.Progress(cloud.Progress{ID: l.Digest, Status: "Copying", Total: l.Size})
		if err := copyBlob(ctx, sr, dr, src.repo, dst.repo, l); err != nil {
			return "", fmt.Errorf("copying %s: %w", srcRef, err)
		}
		out.Progress(cloud.Progress{ID: l.Digest, Status: "Copied", Current: l.Size, Total: l.Size})
	}
	resp, err := dr.do(ctx, http.MethodPut, "/v2/"+dst.repo+"/manifests/"+dst.tag, http.Header{"Content-Type": {mt}}, body, "repository:"+dst.repo+":push,pull")
	if err != nil {
		return "", fmt.Errorf("copying %s: writing manifest: %w", srcRef, err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", statusErr(resp, "writing manifest "+dstRef)
	}
	resp.Body.Close()
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// getBlob reads a small blob (the image config) into memory, checking its digest.
func (r *registry) getBlob(ctx context.Context, repo, digest string) ([]byte, error) {
	resp, err := r.do(ctx, http.MethodGet, "/v2/"+repo+"/blobs/"+digest, nil, nil, "repository:"+repo+":pull")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusErr(resp, "reading blob "+digest)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", digest, err)
	}
	sum := sha256.Sum256(b)
	if "sha256:"+hex.EncodeToString(sum[:]) != digest {
		return nil, fmt.Errorf("blob %s from %s does not match its digest", digest, r.host)
	}
	return b, nil
}

func (r *registry) hasBlob(ctx context.Context, repo, digest string) (bool, error) {
	resp, err := r.do(ctx, http.MethodHead, "/v2/"+repo+"/blobs/"+digest, nil, nil, "repository:"+repo+":push,pull")
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

// startUpload opens an upload session and returns its URL.
func (r *registry) startUpload(ctx context.Context, repo, digest string) (*url.URL, error) {
	resp, err := r.do(ctx, http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil, []byte{}, "repository:"+repo+":push,pull")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusAccepted {
		return nil, statusErr(resp, "starting upload of "+digest)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return nil, fmt.Errorf("starting upload of %s: no upload location", digest)
	}
	if !loc.IsAbs() {
		loc = &url.URL{Scheme: r.scheme, Host: r.dial, Path: loc.Path, RawQuery: loc.RawQuery}
	}
	q := loc.Query()
	q.Set("digest", digest)
	loc.RawQuery = q.Encode()
	return loc, nil
}

// putBlob uploads a small blob (the image config) monolithically.
func (r *registry) putBlob(ctx context.Context, repo, digest string, data []byte) error {
	loc, err := r.startUpload(ctx, repo, digest)
	if err != nil {
		return err
	}
	resp, err := r.do(ctx, http.MethodPut, loc.String(), http.Header{"Content-Type": {"application/octet-stream"}}, data, "repository:"+repo+":push,pull")
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return statusErr(resp, "uploading "+digest)
	}
	resp.Body.Close()
	return nil
}

// copyBlob streams one layer from the source to the destination without
// holding it in memory; the destination registry verifies the digest. The
// upload session (POST) has already answered any auth challenge, so the
// streamed PUT needs no retry.
func copyBlob(ctx context.Context, sr, dr *registry, srcRepo, dstRepo string, d descriptor) error {
	resp, err := sr.do(ctx, http.MethodGet, "/v2/"+srcRepo+"/blobs/"+d.Digest, nil, nil, "repository:"+srcRepo+":pull")
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return statusErr(resp, "reading blob "+d.Digest)
	}
	defer resp.Body.Close()
	size := resp.ContentLength
	if size < 0 {
		size = d.Size
	}
	loc, err := dr.startUpload(ctx, dstRepo, d.Digest)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, loc.String(), resp.Body)
	if err != nil {
		return fmt.Errorf("uploading %s: %w", d.Digest, err)
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	if dr.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+dr.bearer)
	} else if c, _ := dr.credentials(ctx); c != nil && c.Username != "" {
		req.SetBasicAuth(c.Username, c.Password)
	}
	put, err := dr.http.Do(req)
	if err != nil {
		return fmt.Errorf("uploading %s to %s: %w", d.Digest, dr.host, wrapUnreachable(err))
	}
	if put.StatusCode != http.StatusCreated {
		return statusErr(put, "uploading "+d.Digest)
	}
	put.Body.Close()
	return nil
}
