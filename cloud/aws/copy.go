package aws

import (
	"context"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/registry"
)

// registry is the one registry client (cloud/registry) with this backend's
// ECR credentials first, then Options.Auth (the docker config): each
// provider that fails hands the host on to the next.
func (b *Backend) registry() *registry.Client {
	return registry.ForBackend(b, b.opts.Auth, b.opts.Rewrite, b.opts.HTTPClient)
}

// copyImage copies a remote image to dst (an ECR HOST/REPO:TAG) registry to
// registry, picking the linux/arch image from an index and refusing an
// image of another architecture before anything is written, and returns
// the digest of the manifest written. Blobs the destination has are
// skipped; see registry.Client.Copy for what ECR needs of the uploads.
func (b *Backend) copyImage(ctx context.Context, srcRef, dstRef, arch string, out cloud.Sink) (string, error) {
	want := registry.Platform{OS: "linux", Architecture: dockerArch(arch)}
	res, err := b.registry().Copy(ctx, srcRef, dstRef, registry.CopyOptions{
		Platform: &want,
		Out:      out,
		Check: func(ic registry.ImageConfig) error {
			return checkArch(cloud.ImageDetail{Image: cloud.Image{Architecture: ic.Platform.Architecture}}, arch, srcRef, cloud.Address{})
		},
	})
	if err != nil {
		return "", err
	}
	return res.Digest, nil
}
