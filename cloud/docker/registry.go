package docker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/distribution/reference"

	"github.com/fndeck/fndeck/cloud"
)

// manifestAccept lists every manifest media type, so the registry answers
// with what it really holds instead of converting.
var manifestAccept = []string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.v1+prettyjws",
}

type manifestInfo struct {
	digest    string
	mediaType string
}

// manifestInfo asks the registry which manifest it holds for ref (HEAD, then
// GET when the registry sends no digest header), authenticating with the
// same credentials as the push: Basic, or the Bearer token flow.
func (e *Engine) manifestInfo(ctx context.Context, ref reference.Named, auth *cloud.RegistryAuth) (manifestInfo, error) {
	host := reference.Domain(ref)
	apiHost := host
	if isDockerHub(host) {
		apiHost = "registry-1.docker.io"
	}
	tag := "latest"
	if t, ok := ref.(reference.Tagged); ok {
		tag = t.Tag()
	}
	u := registryScheme(apiHost) + "://" + apiHost + "/v2/" + reference.Path(ref) + "/manifests/" + tag
	rc := &registryClient{http: e.httpClient, auth: auth, repo: reference.Path(ref)}
	resp, err := rc.do(ctx, http.MethodHead, u)
	if err != nil {
		return manifestInfo{}, err
	}
	resp.Body.Close()
	info := manifestInfo{digest: resp.Header.Get("Docker-Content-Digest"), mediaType: mediaTypeOf(resp.Header)}
	if info.digest != "" && info.mediaType != "" {
		return info, nil
	}
	resp, err = rc.do(ctx, http.MethodGet, u)
	if err != nil {
		return manifestInfo{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return manifestInfo{}, fmt.Errorf("reading manifest %s: %w", u, err)
	}
	if info.digest == "" {
		sum := sha256.Sum256(body)
		info.digest = "sha256:" + hex.EncodeToString(sum[:])
	}
	if info.mediaType == "" {
		info.mediaType = mediaTypeOf(resp.Header)
	}
	if info.mediaType == "" {
		var m struct {
			MediaType string `json:"mediaType"`
		}
		_ = json.Unmarshal(body, &m)
		info.mediaType = m.MediaType
	}
	return info, nil
}

func mediaTypeOf(h http.Header) string {
	ct := h.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}

// registryScheme is http for loopback registries (which the engine treats
// as insecure by default, and which is all tests use) and https otherwise.
func registryScheme(host string) string {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if h == "localhost" {
		return "http"
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return "http"
	}
	return "https"
}

// registryClient makes registry API calls, answering auth challenges.
// The bearer token is kept for the next call.
type registryClient struct {
	http  *http.Client
	auth  *cloud.RegistryAuth
	repo  string
	token string
}

func (rc *registryClient) do(ctx context.Context, method, u string) (*http.Response, error) {
	resp, err := rc.send(ctx, method, u, "")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		challenge := resp.Header.Get("WWW-Authenticate")
		resp.Body.Close()
		authz, err := rc.answer(ctx, challenge)
		if err != nil {
			return nil, err
		}
		if resp, err = rc.send(ctx, method, u, authz); err != nil {
			return nil, err
		}
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err := fmt.Errorf("%s %s: registry answered %s", method, u, resp.Status)
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			return nil, fmt.Errorf("%w: %w", err, cloud.ErrUnauthenticated)
		case http.StatusForbidden:
			return nil, fmt.Errorf("%w: %w", err, cloud.ErrPermission)
		case http.StatusNotFound:
			return nil, fmt.Errorf("%w: %w", err, cloud.ErrNotFound)
		}
		return nil, err
	}
	return resp, nil
}

func (rc *registryClient) send(ctx context.Context, method, u, authz string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, fmt.Errorf("registry request %s: %w", u, err)
	}
	req.Header.Set("Accept", strings.Join(manifestAccept, ", "))
	if authz == "" && rc.token != "" {
		authz = "Bearer " + rc.token
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := rc.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", req.URL.Host, err)
	}
	return resp, nil
}

// answer returns the Authorization header value for a challenge.
func (rc *registryClient) answer(ctx context.Context, challenge string) (string, error) {
	scheme, params := parseChallenge(challenge)
	switch strings.ToLower(scheme) {
	case "basic":
		if rc.auth == nil || rc.auth.Username == "" {
			return "", fmt.Errorf("registry wants a username and password and none is configured: %w", cloud.ErrUnauthenticated)
		}
		req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
		req.SetBasicAuth(rc.auth.Username, rc.auth.Password)
		return req.Header.Get("Authorization"), nil
	case "bearer":
		tok, err := rc.fetchToken(ctx, params)
		if err != nil {
			return "", err
		}
		rc.token = tok
		return "Bearer " + tok, nil
	}
	return "", fmt.Errorf("registry asked for unsupported authentication %q: %w", scheme, cloud.ErrUnauthenticated)
}

// fetchToken runs the distribution token flow: GET realm with Basic
// credentials, or POST a refresh_token grant for an identity token.
func (rc *registryClient) fetchToken(ctx context.Context, p map[string]string) (string, error) {
	realm := p["realm"]
	if realm == "" {
		return "", fmt.Errorf("registry bearer challenge has no realm: %w", cloud.ErrUnauthenticated)
	}
	scope := p["scope"]
	if scope == "" {
		scope = "repository:" + rc.repo + ":pull"
	}
	var req *http.Request
	var err error
	if rc.auth != nil && rc.auth.IdentityToken != "" {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rc.auth.IdentityToken},
			"service": {p["service"]}, "scope": {scope}, "client_id": {"fndeck"}}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, realm, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		q := url.Values{"scope": {scope}}
		if s := p["service"]; s != "" {
			q.Set("service", s)
		}
		sep := "?"
		if strings.Contains(realm, "?") {
			sep = "&"
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, realm+sep+q.Encode(), nil)
		if err == nil && rc.auth != nil && rc.auth.Username != "" {
			req.SetBasicAuth(rc.auth.Username, rc.auth.Password)
		}
	}
	if err != nil {
		return "", fmt.Errorf("token request to %s: %w", realm, err)
	}
	resp, err := rc.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("token request to %s: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token server %s answered %s: %w", req.URL.Host, resp.Status, cloud.ErrUnauthenticated)
	}
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return "", fmt.Errorf("token server %s: %w", req.URL.Host, err)
	}
	if body.Token != "" {
		return body.Token, nil
	}
	if body.AccessToken != "" {
		return body.AccessToken, nil
	}
	return "", fmt.Errorf("token server %s returned no token: %w", req.URL.Host, cloud.ErrUnauthenticated)
}

// parseChallenge splits `Bearer realm="…",service="…",scope="…"`.
func parseChallenge(h string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params := map[string]string{}
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		k, r, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		var v string
		if strings.HasPrefix(r, `"`) {
			r = r[1:]
			var b strings.Builder
			i := 0
			for ; i < len(r); i++ {
				if r[i] == '\\' && i+1 < len(r) {
					i++
					b.WriteByte(r[i])
					continue
				}
				if r[i] == '"' {
					break
				}
				b.WriteByte(r[i])
			}
			v = b.String()
			if i < len(r) {
				r = r[i+1:]
			} else {
				r = ""
			}
		} else {
			v, r, _ = strings.Cut(r, ",")
		}
		params[strings.ToLower(strings.TrimSpace(k))] = v
		rest = r
	}
	return scheme, params
}
