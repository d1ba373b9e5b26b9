package docker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"

	"github.com/fndeck/fndeck/cloud"
	fnregistry "github.com/fndeck/fndeck/cloud/registry"
	"github.com/fndeck/fndeck/internal/reghost"
)

// pushAttempts bounds retries of transient push failures (429, 5xx, resets).
const pushAttempts = 4

// pushBackoff is the wait before retry n (1-based): 1 s, 2 s, 4 s.
func pushBackoff(n int) time.Duration { return time.Duration(1<<(n-1)) * time.Second }

// Push tags opts.Ref as opts.To (when set), applies registries.rewrite to
// the destination, and pushes it with credentials from the auth provider.
// A copy (opts.To set) of an image the engine does not hold, named with its
// registry host, goes registry to registry through cloud/registry (an index
// copied whole), without pulling it into the engine.
// Per-layer progress goes to out.Progress, status lines to out.Line.
// The result carries the pushed digest and the manifest media type the
// registry holds.
func (e *Engine) Push(ctx context.Context, opts cloud.PushOptions, out cloud.Sink) (cloud.PushResult, error) {
	if out == nil {
		out = cloud.DiscardSink{}
	}
	if opts.Ref == "" {
		return cloud.PushResult{}, fmt.Errorf("pushing: %w", invalid(errors.New("no image reference given")))
	}
	dest := opts.To
	if dest == "" {
		dest = opts.Ref
	}
	named, err := reference.ParseNormalizedNamed(dest)
	if err != nil {
		return cloud.PushResult{}, fmt.Errorf("pushing: %w", invalid(fmt.Errorf("destination %q: %w", dest, err)))
	}
	if _, ok := named.(reference.Digested); ok {
		return cloud.PushResult{}, fmt.Errorf("pushing: %w", invalid(fmt.Errorf("destination %q: cannot push to a digest, give a tag", dest)))
	}
	named = reference.TagNameOnly(named)
	origHost := reference.Domain(named)
	target, rewritten, err := e.applyRewrite(named)
	if err != nil {
		return cloud.PushResult{}, fmt.Errorf("pushing: %w", err)
	}
	targetRef := reference.FamiliarString(target)
	if rewritten {
		out.Line(fmt.Sprintf("registries.rewrite: pushing %s to %s instead", reference.FamiliarString(named), targetRef))
	}
	if src, err := reference.ParseNormalizedNamed(opts.Ref); err != nil || reference.TagNameOnly(src).String() != target.String() {
		// A copy of an image the engine lacks goes registry to registry
		// (cloud/registry), as it is: nothing is pulled into the engine.
		if e.lacks(ctx, opts.Ref) {
			out.Line(fmt.Sprintf("the engine does not have %s: copying it registry to registry", opts.Ref))
			cr, err := e.Registry().Copy(ctx, opts.Ref, named.String(), fnregistry.CopyOptions{Out: out})
			if err != nil {
				return cloud.PushResult{}, err
			}
			return cloud.PushResult{Ref: targetRef, Digest: cr.Digest, MediaType: cr.MediaType, Size: cr.Size}, nil
		}
		if _, err := e.cli.ImageTag(ctx, client.ImageTagOptions{Source: opts.Ref, Target: target.String()}); err != nil {
			return cloud.PushResult{}, e.wrap(ctx, err, fmt.Sprintf("tagging %s as %s", opts.Ref, targetRef))
		}
		out.Line(fmt.Sprintf("tagged %s as %s", opts.Ref, targetRef))
	}

	pushHost := reference.Domain(target)
	// Each provider's credentials in turn (cloud.TryAuth): the engine's
	// refusal of one provider's hands the push on to the next.
	var res cloud.PushResult
	err = cloud.TryAuth(ctx, e.auth, []string{pushHost, origHost}, func(auth *cloud.RegistryAuth, by cloud.AuthProvider) error {
		var perr error
		res, perr = e.pushWith(ctx, target, targetRef, pushHost, auth, by, out)
		return perr
	})
	if err != nil {
		return cloud.PushResult{}, err
	}
	res.Ref = targetRef
	// The registry says which manifest it holds (the engine reports the
	// digest, not the media type), through the same fall-through chain.
	info, err := e.Registry().Resolve(ctx, named.String())
	if err != nil {
		return res, fmt.Errorf("pushed %s (digest %s) but reading its manifest from the registry failed: %w", targetRef, res.Digest, err)
	}
	if res.Digest != "" && info.Digest != "" && info.Digest != res.Digest {
		out.Line(fmt.Sprintf("warning: the engine reported digest %s but the registry holds %s", res.Digest, info.Digest))
	}
	if res.Digest == "" {
		res.Digest = info.Digest
	}
	res.MediaType = info.MediaType
	return res, nil
}

// Registry is the registry client (cloud/registry) with this engine's
// auth chain and registries.rewrite: manifests, digests, platforms and
// image configs straight from the registry, without the engine.
func (e *Engine) Registry() *fnregistry.Client {
	return fnregistry.New(fnregistry.Options{Auth: e.auth, Rewrite: e.rewrite, Transport: e.transport})
}

// pushWith pushes target with one provider's credentials (auth nil: none),
// retrying transient failures; a refusal is cloud.ErrUnauthenticated.
func (e *Engine) pushWith(ctx context.Context, target reference.Named, targetRef, pushHost string, auth *cloud.RegistryAuth, by cloud.AuthProvider, out cloud.Sink) (cloud.PushResult, error) {
	encoded, err := encodeAuth(auth, pushHost)
	if err != nil {
		return cloud.PushResult{}, fmt.Errorf("pushing %s: %w", targetRef, err)
	}
	for attempt := 1; ; attempt++ {
		res, err := e.pushOnce(ctx, target, encoded, out)
		if err == nil {
			return res, nil
		}
		var pe *pushError
		if errors.As(err, &pe) && pe.unauthorized {
			return cloud.PushResult{}, refused("pushing "+targetRef, pushHost, auth, hintOf(by, pushHost), providerName(by), pe.msg)
		}
		if ctx.Err() != nil || !(errors.As(err, &pe) && pe.transient) {
			return cloud.PushResult{}, fmt.Errorf("pushing %s: %w", targetRef, err)
		}
		if attempt == pushAttempts {
			if pe.throttled {
				return cloud.PushResult{}, fmt.Errorf("pushing %s: gave up after %d attempts: %s: %w", targetRef, attempt, pe.msg, cloud.ErrThrottled)
			}
			return cloud.PushResult{}, fmt.Errorf("pushing %s: gave up after %d attempts: %w", targetRef, attempt, err)
		}
		wait := e.backoff(attempt)
		out.Line(fmt.Sprintf("push failed (%s); retrying in %s (attempt %d of %d)", pe.msg, wait, attempt+1, pushAttempts))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return cloud.PushResult{}, fmt.Errorf("pushing %s: %w", targetRef, ctx.Err())
		case <-t.C:
		}
	}
}

// hintOf is by's LoginHint for host ("" without one).
func hintOf(by cloud.AuthProvider, host string) string {
	if lh, ok := by.(LoginHinter); ok {
		return lh.LoginHint(host)
	}
	return ""
}

func providerName(by cloud.AuthProvider) string {
	if by == nil {
		return ""
	}
	return cloud.AuthProviderName(by)
}

// encodeAuth is the X-Registry-Auth value for host. The engine (20.10)
// refuses a push without one, so without credentials an empty config
// ("{}") is sent, as the docker CLI does.
func encodeAuth(auth *cloud.RegistryAuth, host string) (string, error) {
	ac := registry.AuthConfig{}
	if auth != nil {
		ac = registry.AuthConfig{
			Username: auth.Username, Password: auth.Password,
			IdentityToken: auth.IdentityToken, ServerAddress: host,
		}
	}
	b, err := json.Marshal(ac)
	if err != nil {
		return "", fmt.Errorf("encoding credentials: %w", err)
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

// lacks reports whether ref spells out its registry host
// ("ghcr.io/org/app:1", "docker.io/library/nginx:1.27") and the engine does
// not hold it: such a copy source is read from its registry. A bare "app:1"
// is taken to be a local image, as a typo of one must not turn into a
// fetch from Docker Hub.
func (e *Engine) lacks(ctx context.Context, ref string) bool {
	if !NamesRegistry(ref) {
		return false
	}
	_, err := e.cli.ImageInspect(ctx, ref)
	return err != nil && cerrdefs.IsNotFound(err)
}

// NamesRegistry reports whether ref spells out a registry host (a first
// path part with a dot, a colon or "localhost"): only such a reference is
// pulled when the engine lacks it. A bare "myapp:dev" that is missing is a
// typo or an unbuilt image, not something to fetch from Docker Hub.
func NamesRegistry(ref string) bool { return reghost.NamesRegistry(ref) }

// Pull fetches ref into the engine with the credentials the auth provider
// has for its registry, relaying per-layer progress to out.Progress and a
// line per status change. A refusal is cloud.ErrUnauthenticated with what
// to log in to; an image the registry does not have, cloud.ErrNotFound.
func (e *Engine) Pull(ctx context.Context, ref string, out cloud.Sink) error {
	if out == nil {
		out = cloud.DiscardSink{}
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return fmt.Errorf("pulling: %w", invalid(fmt.Errorf("image %q: %w", ref, err)))
	}
	host := reference.Domain(named)
	return cloud.TryAuth(ctx, e.auth, []string{host}, func(auth *cloud.RegistryAuth, by cloud.AuthProvider) error {
		return e.pullWith(ctx, ref, named, host, auth, by, out)
	})
}

// pullWith pulls with one provider's credentials (auth nil: none).
func (e *Engine) pullWith(ctx context.Context, ref string, named reference.Named, host string, auth *cloud.RegistryAuth, by cloud.AuthProvider, out cloud.Sink) error {
	encoded, err := encodeAuth(auth, host)
	if err != nil {
		return fmt.Errorf("pulling %s: %w", ref, err)
	}
	// The registry's refusals come either as the request's error or in the
	// stream, depending on the step that met them.
	pullErr := func(msg string) error {
		msg = strings.TrimPrefix(msg, "Error response from daemon: ")
		if classifyPushError(msg).unauthorized {
			return refused("pulling "+ref, host, auth, hintOf(by, host), providerName(by), msg)
		}
		if strings.Contains(msg, "not found") || strings.Contains(msg, "manifest unknown") {
			return fmt.Errorf("pulling %s: %s: %w", ref, msg, cloud.ErrNotFound)
		}
		return nil
	}
	rc, err := e.cli.ImagePull(ctx, reference.FamiliarString(reference.TagNameOnly(named)), client.ImagePullOptions{RegistryAuth: encoded})
	if err != nil {
		if perr := pullErr(err.Error()); perr != nil && ctx.Err() == nil {
			return perr
		}
		return e.wrap(ctx, err, "pulling "+ref)
	}
	defer rc.Close()
	lastStatus := map[string]string{}
	dec := json.NewDecoder(rc)
	for {
		var m streamMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			if ctx.Err() != nil {
				return fmt.Errorf("pulling %s: %w", ref, ctx.Err())
			}
			return e.wrap(ctx, err, "reading pull output")
		}
		if msg := m.errorText(); msg != "" {
			if perr := pullErr(msg); perr != nil {
				return perr
			}
			return fmt.Errorf("pulling %s: %s", ref, msg)
		}
		relayStatus(&m, lastStatus, out)
	}
}

// refused explains a registry's refusal of what (a push or a pull) as
// cloud.ErrUnauthenticated: whether credentials were sent, the registry's
// words, and what to run (hint, else docker login HOST).
func refused(what, host string, auth *cloud.RegistryAuth, hint, from, msg string) error {
	if hint == "" {
		hint = "docker login " + host
	}
	why := "refused the credentials"
	if from != "" {
		why += " from " + from
	}
	if auth == nil {
		why = "requires credentials and none are configured"
	}
	return cloud.WithHint(fmt.Errorf("%s: registry %s %s (%s): %w", what, host, why, msg, cloud.ErrUnauthenticated), hint)
}

// relayStatus passes a push or pull status message on: per-layer progress
// to out.Progress and a line per status change, other statuses as lines.
func relayStatus(m *streamMessage, lastStatus map[string]string, out cloud.Sink) {
	if m.Status == "" {
		return
	}
	if m.ID == "" {
		out.Line(m.Status)
		return
	}
	p := cloud.Progress{ID: m.ID, Status: m.Status}
	if m.Progress != nil {
		p.Current, p.Total = m.Progress.Current, m.Progress.Total
	}
	out.Progress(p)
	// Progress ticks repeat the status; a line per change is enough.
	if lastStatus[m.ID] != m.Status {
		lastStatus[m.ID] = m.Status
		out.Line(m.ID + ": " + m.Status)
	}
}

// applyRewrite maps the reference's registry host through registries.rewrite.
func (e *Engine) applyRewrite(named reference.Named) (reference.Named, bool, error) {
	host := reference.Domain(named)
	to, ok := e.rewrite[strings.ToLower(host)]
	if !ok || to == "" {
		return named, false, nil
	}
	s := to + "/" + reference.Path(named)
	if t, ok := named.(reference.Tagged); ok {
		s += ":" + t.Tag()
	}
	r, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return nil, false, invalid(fmt.Errorf("registries.rewrite %s → %s gives an invalid reference %q: %w", host, to, s, err))
	}
	return r, true, nil
}

// pushError is a failure the push stream reported, classified.
type pushError struct {
	msg          string
	transient    bool
	throttled    bool // 429: retried, and reported as cloud.ErrThrottled when it persists
	unauthorized bool
}

func (p *pushError) Error() string { return p.msg }

// pushOnce runs one push and reads its stream.
func (e *Engine) pushOnce(ctx context.Context, target reference.Named, encodedAuth string, out cloud.Sink) (cloud.PushResult, error) {
	resp, err := e.cli.ImagePush(ctx, target.String(), client.ImagePushOptions{RegistryAuth: encodedAuth})
	if err != nil {
		if ctx.Err() == nil && !client.IsErrConnectionFailed(err) && !isNetErr(err) {
			if pe := classifyPushError(err.Error()); pe.transient || pe.unauthorized {
				return cloud.PushResult{}, pe
			}
		}
		return cloud.PushResult{}, e.wrap(ctx, err, "starting push")
	}
	defer resp.Close()
	var res cloud.PushResult
	lastStatus := map[string]string{}
	dec := json.NewDecoder(resp)
	for {
		var m streamMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			if ctx.Err() != nil {
				return cloud.PushResult{}, ctx.Err()
			}
			return cloud.PushResult{}, &pushError{msg: "reading push output: " + err.Error(), transient: true}
		}
		if msg := m.errorText(); msg != "" {
			return cloud.PushResult{}, classifyPushError(msg)
		}
		if len(m.Aux) > 0 {
			var aux struct {
				Tag    string `json:"Tag"`
				Digest string `json:"Digest"`
				Size   int64  `json:"Size"`
			}
			if json.Unmarshal(m.Aux, &aux) == nil && aux.Digest != "" {
				res.Digest, res.Size = aux.Digest, aux.Size
			}
		}
		relayStatus(&m, lastStatus, out)
	}
	return res, nil
}

// classifyPushError sorts a registry/engine message into auth failures
// (explained, not retried), transient ones (retried) and the rest.
func classifyPushError(msg string) *pushError {
	l := strings.ToLower(msg)
	pe := &pushError{msg: msg}
	switch {
	case strings.Contains(l, "unauthorized"), strings.Contains(l, "authentication required"),
		strings.Contains(l, "no basic auth credentials"), strings.Contains(l, "denied"),
		strings.Contains(l, "401 unauthorized"), strings.Contains(l, "403 forbidden"):
		pe.unauthorized = true
	case strings.Contains(l, "toomanyrequests"), strings.Contains(l, "too many requests"), strings.Contains(l, "429"):
		pe.transient, pe.throttled = true, true
	case strings.Contains(l, "500 internal server error"), strings.Contains(l, "502 bad gateway"),
		strings.Contains(l, "503 service unavailable"), strings.Contains(l, "504 gateway timeout"),
		strings.Contains(l, "status: 50"), strings.Contains(l, "status 50"),
		strings.Contains(l, "connection reset"), strings.Contains(l, "broken pipe"),
		strings.Contains(l, "i/o timeout"), strings.Contains(l, "tls handshake timeout"),
		strings.Contains(l, "unexpected eof"), strings.Contains(l, "connection refused"):
		pe.transient = true
	}
	return pe
}
