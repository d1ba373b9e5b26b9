package registry

import (
	"context"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fndeck/fndeck/cloud"
)

// Resolver implements cloud.DigestResolver over a Client: it reads the
// manifest a reference names (one GET; registries.rewrite honoured) and,
// for an index, picks the child of the platform asked for.
//
// The ResolvedImage's Repository is the repository as the reference names
// it (the host the platform pulls from), never the host registries.rewrite
// dials: a Lambda function must name its ECR host, even when fndeck reached
// that registry through a mirror.
type Resolver struct {
	C *Client
}

// NewResolver returns a Resolver over c.
func NewResolver(c *Client) Resolver { return Resolver{C: c} }

var _ cloud.DigestResolver = Resolver{}

// Resolve implements cloud.DigestResolver. platform is "os/arch[/variant]";
// "" returns what ref names as it is (an index stays the index): that is
// also how a digest's existence is checked (cloud.ErrNotFound when gone).
// An index without platform's image is refused (cloud.ErrInvalid) with the
// platforms it has. MediaType is the resolved manifest's; Index is the
// index's digest when a child was picked; Platform is the image's platform
// (from the index, or from a single image's config: one more small GET).
func (r Resolver) Resolve(ctx context.Context, ref, platform string) (cloud.ResolvedImage, error) {
	repo, err := Repository(ref)
	if err != nil {
		return cloud.ResolvedImage{}, err
	}
	if platform == "" {
		d, err := r.C.Resolve(ctx, ref)
		if err != nil {
			return cloud.ResolvedImage{}, err
		}
		return cloud.ResolvedImage{Digest: d.Digest, MediaType: d.MediaType, Repository: repo}, nil
	}
	p, err := ParsePlatform(platform)
	if err != nil {
		return cloud.ResolvedImage{}, err
	}
	t, err := r.C.parse(ref)
	if err != nil {
		return cloud.ResolvedImage{}, err
	}
	var out cloud.ResolvedImage
	err = r.C.withAuth(ctx, t, "resolving "+ref, func(opts []remote.Option) error {
		g, e := remote.Get(t.ref, opts...)
		if e != nil {
			return e
		}
		m := Manifest{Descriptor: descriptorOf(g.Descriptor)}
		if !g.MediaType.IsIndex() {
			out = cloud.ResolvedImage{Digest: m.Digest, MediaType: m.MediaType, Repository: repo}
			if !IsSchema1(m.MediaType) {
				// A single image says its platform in its config (one
				// small blob): the caller refuses a wrong one before
				// deploying it. An unreadable config leaves it unknown.
				if img, e := g.Image(); e == nil {
					if cf, e := img.ConfigFile(); e == nil && cf.Architecture != "" {
						out.Platform = Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}.String()
					}
				}
			}
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
		ch, e := m.Pick(p)
		if e != nil {
			return e
		}
		out = cloud.ResolvedImage{Digest: ch.Digest, MediaType: ch.MediaType, Repository: repo,
			Index: m.Digest, Platforms: platformStrings(m.Platforms()), Platform: ch.Platform.String()}
		return nil
	})
	if err != nil {
		return cloud.ResolvedImage{}, err
	}
	return out, nil
}

func platformStrings(ps []Platform) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

// Repository is ref's repository as named, without tag or digest, its
// registry host included: "ghcr.io/o/app:1" → "ghcr.io/o/app"; a Docker
// Hub short name stays short ("alpine:3" → "alpine").
func Repository(ref string) (string, error) {
	pinned, err := WithDigest(ref, "x")
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(pinned, "@x"), nil
}

// IsSchema1 reports whether a media type is the Docker v2 schema 1 manifest
// no platform runs any more.
func IsSchema1(mediaType string) bool {
	return mediaType == "application/vnd.docker.distribution.manifest.v1+json" ||
		mediaType == "application/vnd.docker.distribution.manifest.v1+prettyjws"
}
