package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/reghost"
)

// prepareImage returns the reference Lambda is to pull, pinned by digest
// (Options.Resolver): an image already in the target account's ECR in the
// target region is resolved where it is; a local image is pushed there
// (after an architecture check); any other registry's image is copied
// there. From an image index the child for the function's architecture is
// deployed, and said so; an index without one is refused before the
// function is touched, naming the platforms it has (for a remote index,
// before anything is written to ECR).
func (b *Backend) prepareImage(ctx context.Context, rc *regionClients, profile, acct, region string, req cloud.DeployRequest, arch string, out cloud.Sink) (string, error) {
	ref := req.Image
	if ref == "" {
		return "", fmt.Errorf("deploying to %s: no image given: %w", req.Target, cloud.ErrInvalid)
	}
	host := reghost.OfRef(ref)
	if a, r, ok := reghost.ECR(host); ok && a == acct && r == region {
		if b.opts.ImageInspector != nil {
			if d, err := b.opts.ImageInspector(ctx, ref); err == nil {
				if err := checkArch(d, arch, ref, req.Target); err != nil {
					return "", err
				}
			}
		}
		return b.pin(ctx, ref, ref, arch, req.Target, out)
	}
	var detail cloud.ImageDetail
	err := cloud.ErrNotFound
	if b.opts.ImageInspector != nil {
		detail, err = b.opts.ImageInspector(ctx, ref)
	}
	if err != nil {
		if !errors.Is(err, cloud.ErrNotFound) {
			return "", fmt.Errorf("inspecting local image %s: %w", ref, err)
		}
		if host == "" && !strings.Contains(ref, "/") && !strings.Contains(ref, ":") {
			return "", notInECR(ref, acct, region)
		}
		return b.copyToECR(ctx, rc, profile, acct, region, req, arch, out)
	}
	if err := checkArch(detail, arch, ref, req.Target); err != nil {
		return "", err
	}
	if b.opts.Pusher == nil {
		return "", fmt.Errorf("deploying %s: it is a local image and no pusher is configured: %w", ref, cloud.ErrInvalid)
	}
	repo, tag := repoAndTag(ref)
	immutable, err := b.ensureRepository(ctx, rc, profile, region, repo, req.Yes, out)
	if err != nil {
		return "", err
	}
	reg := registryHost(acct, region)
	if immutable {
		tag = uniqueTag(tag, detail.ID)
		out.Line(fmt.Sprintf("ECR repository %s has immutable tags: pushing as %s:%s", repo, repo, tag))
	}
	remote := reg + "/" + repo + ":" + tag
	out.Line(fmt.Sprintf("%s is a local image: pushing it to %s first", ref, remote))
	pr, err := b.opts.Pusher.Push(ctx, cloud.PushOptions{Ref: ref, To: remote}, out)
	if err != nil && !immutable && immutableRefusal(err) {
		// DescribeRepositories said mutable (or the setting changed since):
		// the registry's refusal is the word that counts.
		tag = uniqueTag(tag, detail.ID) + "-" + time.Now().UTC().Format("20060102150405")
		remote = reg + "/" + repo + ":" + tag
		out.Line(fmt.Sprintf("ECR refused to overwrite an immutable tag: pushing as %s:%s instead", repo, tag))
		pr, err = b.opts.Pusher.Push(ctx, cloud.PushOptions{Ref: ref, To: remote}, out)
	}
	if err != nil {
		return "", fmt.Errorf("pushing %s to %s: %w", ref, remote, err)
	}
	if pr.Digest == "" {
		return b.pin(ctx, ref, remote, arch, req.Target, out)
	}
	// A digest pins exactly what was pushed, whatever happens to the tag;
	// an index pushed whole (a multi-platform image, or attestations) is
	// resolved to the function's platform.
	pinned := reg + "/" + repo + "@" + pr.Digest
	if isIndexMediaType(pr.MediaType) {
		if b.opts.Resolver == nil {
			return "", fmt.Errorf("deploying %s: it was pushed as an image index (%s) and Lambda runs a single-platform image only: %w", ref, pr.MediaType, cloud.ErrInvalid)
		}
		return b.pin(ctx, ref, pinned, arch, req.Target, out)
	}
	out.Line(fmt.Sprintf("deploying %s as %s", ref, pr.Digest))
	return pinned, nil
}

func notInECR(ref, acct, region string) error {
	return cloud.WithHint(fmt.Errorf("image %s is neither a local image nor in the ECR of account %s in %s: %w", ref, acct, region, cloud.ErrNotFound),
		"build or pull the image, or give a registry reference (HOST/REPO:TAG)")
}

// copyToECR copies a remote image into the target account's ECR (creating
// the repository only with --yes) and returns it pinned by digest. The
// source is resolved to the function's platform first, so an index without
// it is refused before a repository is created or a blob written.
func (b *Backend) copyToECR(ctx context.Context, rc *regionClients, profile, acct, region string, req cloud.DeployRequest, arch string, out cloud.Sink) (string, error) {
	src, srcDigest := req.Image, ""
	if b.opts.Resolver != nil {
		r, err := b.resolve(ctx, req.Image, arch, req.Target, out)
		if err != nil {
			return "", err
		}
		src, srcDigest = r.Pinned(), r.Digest
	}
	repo, tag := repoAndTag(req.Image)
	immutable, err := b.ensureRepository(ctx, rc, profile, region, repo, req.Yes, out)
	if err != nil {
		return "", err
	}
	reg := registryHost(acct, region)
	if immutable {
		tag = uniqueTag(tag, srcDigest)
		out.Line(fmt.Sprintf("ECR repository %s has immutable tags: copying as %s:%s", repo, repo, tag))
		if srcDigest != "" && b.opts.Resolver != nil {
			// The unique tag of this digest may be there from an earlier
			// deploy: an immutable tag cannot be written twice.
			if have, err := b.opts.Resolver.Resolve(ctx, reg+"/"+repo+":"+tag, ""); err == nil && have.Digest == srcDigest {
				out.Line(fmt.Sprintf("%s:%s already holds %s", repo, tag, srcDigest))
				out.Line(fmt.Sprintf("deploying %s as %s", req.Image, srcDigest))
				return reg + "/" + repo + "@" + srcDigest, nil
			}
		}
	}
	dst := reg + "/" + repo + ":" + tag
	out.Line(fmt.Sprintf("%s is not in this account's ECR: copying it to %s first", req.Image, dst))
	digest, err := b.copyImage(ctx, src, dst, arch, out)
	if err != nil && !immutable && immutableRefusal(err) {
		tag = uniqueTag(tag, srcDigest) + "-" + time.Now().UTC().Format("20060102150405")
		dst = reg + "/" + repo + ":" + tag
		out.Line(fmt.Sprintf("ECR refused to overwrite an immutable tag: copying as %s:%s instead", repo, tag))
		digest, err = b.copyImage(ctx, src, dst, arch, out)
	}
	if err != nil {
		return "", err
	}
	out.Line(fmt.Sprintf("deploying %s as %s", req.Image, digest))
	return reg + "/" + repo + "@" + digest, nil
}

// pin resolves image (a tag, or a digest that may name an index) to the
// manifest for the function's architecture (Options.Resolver) and returns
// it as repo@digest, saying "deploying GIVEN as DIGEST". Without a resolver
// the image is returned as it is.
func (b *Backend) pin(ctx context.Context, given, image, arch string, t cloud.Address, out cloud.Sink) (string, error) {
	if b.opts.Resolver == nil {
		return image, nil
	}
	r, err := b.resolve(ctx, image, arch, t, out)
	if err != nil {
		if ctx.Err() == nil && (cloud.AuthRefused(err) || errors.Is(err, cloud.ErrUnreachable)) {
			// Lambda pulls with its own rights: the registry fndeck could
			// not ask is no reason to refuse; the digest Lambda resolves
			// is read back after the update.
			out.Line(fmt.Sprintf("warning: could not resolve %s to a digest (%v): deploying it as given; an image index would be refused by Lambda", image, err))
			return image, nil
		}
		return "", err
	}
	out.Line(fmt.Sprintf("deploying %s as %s", given, r.Digest))
	return r.Pinned(), nil
}

// resolve resolves ref for the function's platform, saying so when a child
// is picked out of an index; an index without it is refused with the
// platforms it has and what to do.
func (b *Backend) resolve(ctx context.Context, ref, arch string, t cloud.Address, out cloud.Sink) (cloud.ResolvedImage, error) {
	platform := "linux/" + dockerArch(arch)
	r, err := b.opts.Resolver.Resolve(ctx, ref, platform)
	if err != nil {
		err = fmt.Errorf("deploying %s to %s (%s): %w", ref, t, arch, err)
		if errors.Is(err, cloud.ErrInvalid) && cloud.Hint(err) == "" {
			other := "arm64"
			if arch == "arm64" {
				other = "x86_64"
			}
			err = cloud.WithHint(err, "build it for "+platform+" (docker buildx build --platform "+platform+"), or deploy to a function on --arch "+other+" if the index has that")
		}
		return cloud.ResolvedImage{}, err
	}
	if r.Index != "" {
		out.Line(fmt.Sprintf("%s is an image index (%s): deploying its %s image %s", ref, strings.Join(r.Platforms, ", "), platform, r.Digest))
	}
	if !samePlatform(r.Platform, platform) {
		return cloud.ResolvedImage{}, cloud.WithHint(fmt.Errorf("image %s is %s but %s runs on %s: %w", ref, r.Platform, t, arch, cloud.ErrInvalid),
			"rebuild with --platform "+platform+", or deploy to a function on the image's architecture")
	}
	return r, nil
}

// samePlatform reports whether an image's "os/arch[/variant]" runs on
// want ("os/arch"); an unknown platform ("") is not refused.
func samePlatform(have, want string) bool {
	if have == "" {
		return true
	}
	parts := strings.SplitN(have, "/", 3)
	return len(parts) >= 2 && parts[0]+"/"+parts[1] == want
}

// uniqueTag is tag made unique for one image: TAG-<12 hex of id> (a
// manifest digest or an image ID), or TAG-fndeck-<UTC time> without one.
// ECR tags are at most 128 characters.
func uniqueTag(tag, id string) string {
	if _, hex, ok := strings.Cut(id, ":"); ok {
		id = hex
	}
	suffix := "fndeck-" + time.Now().UTC().Format("20060102150405")
	if len(id) >= 12 {
		suffix = id[:12]
	}
	if len(tag)+1+len(suffix) > 128 {
		tag = tag[:128-1-len(suffix)]
	}
	return tag + "-" + suffix
}

// immutableRefusal reports whether a push or copy failed because the tag
// exists in a repository with immutable tags (ECR: "tag invalid: The image
// tag '…' already exists in the '…' repository and cannot be overwritten
// because the repository is immutable").
func immutableRefusal(err error) bool {
	l := strings.ToLower(err.Error())
	return strings.Contains(l, "immutable") && (strings.Contains(l, "tag invalid") || strings.Contains(l, "tag_invalid") || strings.Contains(l, "already exists"))
}

func isIndexMediaType(mt string) bool {
	return mt == "application/vnd.oci.image.index.v1+json" || mt == "application/vnd.docker.distribution.manifest.list.v2+json"
}

// stillThere checks, before a rollback, that the digest it restores is
// still in its registry: a lifecycle policy may have expired it, and Lambda
// would refuse the update only after the function was touched. A registry
// that cannot be asked is told, not fatal.
func (b *Backend) stillThere(ctx context.Context, t cloud.Address, image string, out cloud.Sink) error {
	if b.opts.Resolver == nil || digestOf(image) == "" {
		return nil
	}
	_, err := b.opts.Resolver.Resolve(ctx, image, "")
	switch {
	case err == nil:
		return nil
	case errors.Is(err, cloud.ErrNotFound):
		return cloud.WithHint(fmt.Errorf("rolling back %s: %s is no longer in its registry (a lifecycle policy may have expired it): %w", t, image, cloud.ErrNotFound),
			"deploy an image that exists instead (fndeck deploy IMAGE "+t.String()+")")
	case ctx.Err() != nil:
		return fmt.Errorf("rolling back %s: %w", t, ctx.Err())
	}
	out.Line(fmt.Sprintf("warning: could not check that %s is still in its registry: %v", image, err))
	return nil
}
