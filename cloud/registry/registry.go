// Package registry is fndeck's one registry client, built on
// go-containerregistry: it resolves references to manifest descriptors,
// reads indexes and picks a platform's image from them, reads image
// configs, and copies images between registries. Credentials come from a
// cloud.AuthProvider and fall through (cloud.TryAuth): a provider that fails,
// or whose credentials the registry refuses, hands the host on to the next.
// registries.rewrite is honoured (a host named in a reference is dialled as
// another); loopback registries are spoken to over plain http.
//
// It links no cloud SDK: the docker engine (in the TUI binary) reads the
// manifest it pushed through it, and the cloud helper copies with it.
package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/reghost"
)

// Options configure a Client.
type Options struct {
	// Auth gives credentials per registry host; nil means anonymous only.
	Auth cloud.AuthProvider
	// Rewrite maps a registry host named in a reference to the host to
	// dial (registries.rewrite); credentials are asked for the host named
	// first, then for the host dialled.
	Rewrite map[string]string
	// Transport is the HTTP transport; nil means go-containerregistry's
	// default (proxy from the environment, sane timeouts).
	Transport http.RoundTripper
}

// Client talks to registries. It is safe for concurrent use.
type Client struct {
	opts Options
}

// New returns a Client.
func New(o Options) *Client {
	if len(o.Rewrite) > 0 {
		m := make(map[string]string, len(o.Rewrite))
		for k, v := range o.Rewrite {
			m[strings.ToLower(k)] = v
		}
		o.Rewrite = m
	}
	return &Client{opts: o}
}

// Platform is an image's OS/architecture[/variant].
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
}

// String is "os/arch[/variant]".
func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Unknown reports the unknown/unknown platform BuildKit gives attestation
// manifests (provenance, SBOM) in an index.
func (p Platform) Unknown() bool { return p.OS == "unknown" && p.Architecture == "unknown" }

// ParsePlatform reads "os/arch[/variant]".
func ParsePlatform(s string) (Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return Platform{}, fmt.Errorf("platform %q: want os/arch[/variant]: %w", s, cloud.ErrInvalid)
	}
	p := Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// Descriptor names one manifest in a registry.
type Descriptor struct {
	Digest    string `json:"digest"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
	// Platform is set for an index's children.
	Platform *Platform `json:"platform,omitempty"`
	// Attestation marks an index child that is a BuildKit attestation
	// manifest (provenance, SBOM), not a runnable image.
	Attestation bool `json:"attestation,omitempty"`
}

// IsIndex reports whether the manifest is an index (OCI image index or
// Docker manifest list).
func (d Descriptor) IsIndex() bool { return types.MediaType(d.MediaType).IsIndex() }

// WithDigest returns ref's repository (as named, registry host included)
// pinned to digest: "ghcr.io/o/app:1" → "ghcr.io/o/app@sha256:…".
func WithDigest(ref, digest string) (string, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w: %w", ref, err, cloud.ErrInvalid)
	}
	repo := r.Context().Name()
	if reghost.OfRef(ref) == "" {
		// Keep Docker Hub short names short: "alpine@sha256:…".
		repo = strings.TrimPrefix(strings.TrimPrefix(repo, name.DefaultRegistry+"/"), "library/")
	}
	return repo + "@" + digest, nil
}

// target is a parsed reference and how to reach it.
type target struct {
	given string
	named string // registry host as named (credentials are asked for it first)
	ref   name.Reference
}

func (t target) hosts() []string {
	h := []string{t.named}
	if d := t.ref.Context().RegistryStr(); d != t.named {
		h = append(h, d)
	}
	return h
}

// parse reads ref and applies registries.rewrite to its host.
func (c *Client) parse(ref string) (target, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return target{}, fmt.Errorf("image reference %q: %w: %w", ref, err, cloud.ErrInvalid)
	}
	host := r.Context().RegistryStr()
	t := target{given: ref, named: host, ref: r}
	dial := host
	if to, ok := c.opts.Rewrite[strings.ToLower(host)]; ok && to != "" {
		dial = to
	} else if reghost.IsDockerHub(host) {
		if to, ok := c.opts.Rewrite["docker.io"]; ok && to != "" {
			dial = to
		}
	}
	var opts []name.Option
	if reghost.IsLoopback(dial) {
		opts = append(opts, name.Insecure)
	}
	if dial != host || len(opts) > 0 {
		s := dial + "/" + r.Context().RepositoryStr() + sep(r) + r.Identifier()
		if t.ref, err = name.ParseReference(s, append(opts, name.WeakValidation)...); err != nil {
			return target{}, fmt.Errorf("registries.rewrite %s → %s gives an invalid reference %q: %w: %w", host, dial, s, err, cloud.ErrInvalid)
		}
	}
	return t, nil
}

func sep(r name.Reference) string {
	if _, ok := r.(name.Digest); ok {
		return "@"
	}
	return ":"
}

// options are the remote options for one attempt with auth a.
func (c *Client) options(ctx context.Context, a *cloud.RegistryAuth) []remote.Option {
	var au authn.Authenticator = authn.Anonymous
	if a != nil && (a.Username != "" || a.Password != "" || a.IdentityToken != "") {
		au = authn.FromConfig(authn.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken})
	}
	o := []remote.Option{remote.WithContext(ctx), remote.WithAuth(au), remote.WithUserAgent("fndeck")}
	if c.opts.Transport != nil {
		o = append(o, remote.WithTransport(c.opts.Transport))
	}
	return o
}

// withAuth runs fn with each provider's credentials for t's registry until
// one is not refused (cloud.TryAuth); fn's errors are classified first.
func (c *Client) withAuth(ctx context.Context, t target, what string, fn func(opts []remote.Option) error) error {
	return cloud.TryAuth(ctx, c.opts.Auth, t.hosts(), func(a *cloud.RegistryAuth, by cloud.AuthProvider) error {
		err := fn(c.options(ctx, a))
		if err == nil {
			return nil
		}
		return classify(err, what, t.named, a, by)
	})
}

// loginHinter is implemented by providers that know what to run when a
// registry refuses their credentials (docker.LoginHinter has the same shape).
type loginHinter interface{ LoginHint(host string) string }

// classify turns a go-containerregistry error into one of cloud's classes.
// A refusal (401/403) says whose credentials were refused and what to run.
func classify(err error, what, host string, a *cloud.RegistryAuth, by cloud.AuthProvider) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var te *transport.Error
	if errors.As(err, &te) {
		msg := transportMessage(te)
		switch te.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			class := cloud.ErrUnauthenticated
			if te.StatusCode == http.StatusForbidden {
				class = cloud.ErrPermission
			}
			hint := "docker login " + host
			if reghost.IsDockerHub(host) {
				hint = "docker login"
			}
			if lh, ok := by.(loginHinter); ok {
				if h := lh.LoginHint(host); h != "" {
					hint = h
				}
			}
			if a == nil {
				return cloud.WithHint(fmt.Errorf("%s: registry %s requires credentials and none worked (%s): %w", what, host, msg, class), hint)
			}
			return cloud.WithHint(fmt.Errorf("%s: registry %s refused the credentials from %s (%s): %w", what, host, cloud.AuthProviderName(by), msg, class), hint)
		case http.StatusNotFound:
			return fmt.Errorf("%s: %s: %w", what, msg, cloud.ErrNotFound)
		case http.StatusTooManyRequests:
			return fmt.Errorf("%s: %s: %w", what, msg, cloud.ErrThrottled)
		}
		return fmt.Errorf("%s: registry %s answered %d: %s", what, host, te.StatusCode, msg)
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return fmt.Errorf("%s: registry %s: %w: %w", what, host, cloud.ErrUnreachable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// transportMessage is the registry's error text, without the request URL
// (it may carry an upload session's state).
func transportMessage(te *transport.Error) string {
	var parts []string
	for _, d := range te.Errors {
		parts = append(parts, strings.TrimSpace(string(d.Code)+": "+d.Message))
	}
	if len(parts) == 0 {
		return http.StatusText(te.StatusCode)
	}
	return strings.Join(parts, "; ")
}

// Resolve returns the descriptor of the manifest ref names (HEAD; a GET
// when the registry's HEAD answer lacks the digest or media type).
func (c *Client) Resolve(ctx context.Context, ref string) (Descriptor, error) {
	t, err := c.parse(ref)
	if err != nil {
		return Descriptor{}, err
	}
	var d *v1.Descriptor
	err = c.withAuth(ctx, t, "resolving "+ref, func(opts []remote.Option) error {
		var e error
		d, e = remote.Head(t.ref, opts...)
		if e == nil || !headFallback(ctx, e) {
			return e
		}
		// HEAD refused as a method, or answered without the digest or
		// media type (some registries do for tags): GET the manifest.
		g, e := remote.Get(t.ref, opts...)
		if e != nil {
			return e
		}
		d = &g.Descriptor
		return nil
	})
	if err != nil {
		return Descriptor{}, err
	}
	return descriptorOf(*d), nil
}

// headFallback says whether a failed HEAD is worth a GET: not when the
// registry refused, lacks the manifest, throttles, or ctx ended.
func headFallback(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusTooManyRequests:
			return false
		}
		return true
	}
	var ne net.Error
	return !errors.As(err, &ne)
}

func descriptorOf(d v1.Descriptor) Descriptor {
	out := Descriptor{Digest: d.Digest.String(), MediaType: string(d.MediaType), Size: d.Size}
	if d.Platform != nil {
		out.Platform = &Platform{OS: d.Platform.OS, Architecture: d.Platform.Architecture, Variant: d.Platform.Variant}
		out.Attestation = out.Platform.Unknown()
	}
	if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
		out.Attestation = true
	}
	return out
}

// Manifest is what a reference names: its descriptor and, for an index,
// its children.
type Manifest struct {
	Descriptor
	Children []Descriptor `json:"children,omitempty"`
}

// Platforms lists the runnable platforms of an index's children
// (attestation manifests left out).
func (m Manifest) Platforms() []Platform {
	var ps []Platform
	for _, ch := range m.Children {
		if ch.Platform != nil && !ch.Attestation {
			ps = append(ps, *ch.Platform)
		}
	}
	return ps
}

// Pick returns the child of an index for p, skipping attestation manifests;
// variants must match only when p names one. Without such a child the
// error (cloud.ErrInvalid) lists the platforms the index has.
func (m Manifest) Pick(p Platform) (Descriptor, error) {
	for _, ch := range m.Children {
		if ch.Attestation || ch.Platform == nil {
			continue
		}
		if ch.Platform.OS == p.OS && ch.Platform.Architecture == p.Architecture && (p.Variant == "" || ch.Platform.Variant == p.Variant) {
			return ch, nil
		}
	}
	var have []string
	for _, q := range m.Platforms() {
		have = append(have, q.String())
	}
	list := "none"
	if len(have) > 0 {
		list = strings.Join(have, ", ")
	}
	return Descriptor{}, fmt.Errorf("the image index has no %s image (it has %s): %w", p, list, cloud.ErrInvalid)
}

// Get reads the manifest ref names; for an index, with its children.
func (c *Client) Get(ctx context.Context, ref string) (Manifest, error) {
	t, err := c.parse(ref)
	if err != nil {
		return Manifest{}, err
	}
	var m Manifest
	err = c.withAuth(ctx, t, "reading the manifest of "+ref, func(opts []remote.Option) error {
		g, e := remote.Get(t.ref, opts...)
		if e != nil {
			return e
		}
		m = Manifest{Descriptor: descriptorOf(g.Descriptor)}
		if !g.MediaType.IsIndex() {
			return nil
		}
		idx, e := g.ImageIndex()
		if e != nil {
			return e
		}
		im, e := idx.IndexManifest()
		if e != nil {
			return e
		}
		for _, ch := range im.Manifests {
			m.Children = append(m.Children, descriptorOf(ch))
		}
		return nil
	})
	return m, err
}

// ResolvePlatform returns the image manifest that runs on p: the child for
// p when ref names an index, else ref's own manifest (whose platform the
// caller checks in its config). fromIndex says whether a child was picked.
func (c *Client) ResolvePlatform(ctx context.Context, ref string, p Platform) (d Descriptor, fromIndex bool, err error) {
	m, err := c.Get(ctx, ref)
	if err != nil {
		return Descriptor{}, false, err
	}
	if !m.IsIndex() {
		return m.Descriptor, false, nil
	}
	ch, err := m.Pick(p)
	if err != nil {
		return Descriptor{}, true, fmt.Errorf("%s: %w", ref, err)
	}
	return ch, true, nil
}

// Layer is one layer of an image manifest.
type Layer struct {
	Digest    string `json:"digest"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"` // compressed, as stored in the registry
}

// ImageConfig is what an image manifest and its config say about the image.
type ImageConfig struct {
	Digest       string   `json:"digest"` // of the image manifest
	MediaType    string   `json:"media_type"`
	Platform     Platform `json:"platform"`
	Entrypoint   []string `json:"entrypoint,omitempty"`
	Cmd          []string `json:"cmd,omitempty"`
	WorkingDir   string   `json:"working_dir,omitempty"`
	ExposedPorts []string `json:"exposed_ports,omitempty"` // "8080/tcp"
	Layers       []Layer  `json:"layers"`
	// Size is the compressed size of the layers and the config: what a
	// pull downloads. The uncompressed size is not in the registry.
	Size int64 `json:"size"`
}

// Config reads the config of the image ref names. When ref names an index,
// want picks the child (nil: the error lists the platforms it has).
func (c *Client) Config(ctx context.Context, ref string, want *Platform) (ImageConfig, error) {
	t, err := c.parse(ref)
	if err != nil {
		return ImageConfig{}, err
	}
	var ic ImageConfig
	err = c.withAuth(ctx, t, "reading the image config of "+ref, func(opts []remote.Option) error {
		img, _, e := image(t.ref, want, opts)
		if e != nil {
			return e
		}
		ic, e = configOf(img)
		return e
	})
	return ic, err
}

// image returns the image ref names, picking want's child from an index.
func image(ref name.Reference, want *Platform, opts []remote.Option) (v1.Image, bool, error) {
	g, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, false, err
	}
	if !g.MediaType.IsIndex() {
		img, err := g.Image()
		return img, false, err
	}
	idx, err := g.ImageIndex()
	if err != nil {
		return nil, false, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, false, err
	}
	m := Manifest{Descriptor: descriptorOf(g.Descriptor)}
	for _, ch := range im.Manifests {
		m.Children = append(m.Children, descriptorOf(ch))
	}
	if want == nil {
		have := "none"
		if ps := m.Platforms(); len(ps) > 0 {
			var s []string
			for _, p := range ps {
				s = append(s, p.String())
			}
			have = strings.Join(s, ", ")
		}
		return nil, true, fmt.Errorf("it is an image index (%s): name a platform: %w", have, cloud.ErrInvalid)
	}
	ch, err := m.Pick(*want)
	if err != nil {
		return nil, true, err
	}
	h, err := v1.NewHash(ch.Digest)
	if err != nil {
		return nil, true, err
	}
	img, err := idx.Image(h)
	return img, true, err
}

func configOf(img v1.Image) (ImageConfig, error) {
	var ic ImageConfig
	d, err := img.Digest()
	if err != nil {
		return ic, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return ic, err
	}
	m, err := img.Manifest()
	if err != nil {
		return ic, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return ic, err
	}
	ic = ImageConfig{Digest: d.String(), MediaType: string(mt),
		Platform:   Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant},
		Entrypoint: cf.Config.Entrypoint, Cmd: cf.Config.Cmd, WorkingDir: cf.Config.WorkingDir,
		Size: m.Config.Size}
	for p := range cf.Config.ExposedPorts {
		ic.ExposedPorts = append(ic.ExposedPorts, p)
	}
	slices.Sort(ic.ExposedPorts)
	for _, l := range m.Layers {
		ic.Layers = append(ic.Layers, Layer{Digest: l.Digest.String(), MediaType: string(l.MediaType), Size: l.Size})
		ic.Size += l.Size
	}
	return ic, nil
}

// ForBackend is the client a cloud backend uses: its own provider (ECR,
// Artifact Registry) first, then fallback (the docker config; nil: none),
// each handing the host on when it fails; hc's transport when set.
func ForBackend(own, fallback cloud.AuthProvider, rewrite map[string]string, hc *http.Client) *Client {
	auth := own
	if fallback != nil {
		auth = cloud.AuthChain{own, fallback}
	}
	var tr http.RoundTripper
	if hc != nil {
		tr = hc.Transport
	}
	return New(Options{Auth: auth, Rewrite: rewrite, Transport: tr})
}
