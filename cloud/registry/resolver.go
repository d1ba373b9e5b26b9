package registry

import (
	"context"
	"fmt"
	"strings"

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
// platforms it has. MediaType is the resolved manifest's; FromIndex says
// a child was picked, with the index's digest in Index.
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
	m, err := r.C.Get(ctx, ref)
	if err != nil {
		return cloud.ResolvedImage{}, err
	}
	if !m.IsIndex() {
		return cloud.ResolvedImage{Digest: m.Digest, MediaType: m.MediaType, Repository: repo}, nil
	}
	ch, err := m.Pick(p)
	if err != nil {
		return cloud.ResolvedImage{}, fmt.Errorf("%s: %w", ref, err)
	}
	return cloud.ResolvedImage{Digest: ch.Digest, MediaType: ch.MediaType, Repository: repo,
		Index: m.Digest, Platforms: platformStrings(m.Platforms())}, nil
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
