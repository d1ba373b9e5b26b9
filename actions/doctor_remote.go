package actions

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/fndeck/fndeck/cloud"
)

// Manifest media types doctor tells apart.
const (
	mediaDockerV2     = "application/vnd.docker.distribution.manifest.v2+json"
	mediaDockerV1     = "application/vnd.docker.distribution.manifest.v1+json"
	mediaDockerV1Sig  = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	mediaDockerList   = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaOCIManifest  = "application/vnd.oci.image.manifest.v1+json"
	mediaOCIIndex     = "application/vnd.oci.image.index.v1+json"
	maxLayersInDoctor = 3
)

// RemoteImage is what a registry says about an image, read without the
// engine (cloud/registry): the manifest the reference names and, for an
// index, the child the target would run and that child's config.
type RemoteImage struct {
	Ref       string
	MediaType string // of the manifest Ref names
	Digest    string
	// Platforms are an index's runnable platforms (attestations left out).
	Platforms []string
	// Picked is the digest of the index's child for the target's platform;
	// "" when Ref names a single image or the index has no such child.
	Picked string
	// Config is the (picked) image's config, its Size the compressed size
	// of its layers (what the registry stores); nil when none was read.
	Config *cloud.ImageDetail
}

// IsIndex reports whether the manifest is an image index.
func (r RemoteImage) IsIndex() bool {
	return r.MediaType == mediaOCIIndex || r.MediaType == mediaDockerList
}

// TargetPlatform is the platform t runs: the Lambda function's
// architecture, linux/amd64 for Cloud Run, the engine's own for the local
// target (this machine's architecture).
func TargetPlatform(t DoctorTarget) string {
	switch t.Provider {
	case cloud.AWS:
		return "linux/" + dockerArchOf(t.Arch)
	case cloud.GCP:
		return "linux/amd64"
	}
	return "linux/" + runtime.GOARCH
}

// DoctorRemote checks a registry image against a target: the manifest type
// first (an index: which child runs, or none; a schema 1 manifest: error),
// then platform, size (compressed: the registry does not know the
// uncompressed size), entrypoint and port over the remote config.
func DoctorRemote(r RemoteImage, t DoctorTarget) []Check {
	cs := []Check{manifestCheck(r, t)}
	if r.Config == nil {
		return cs
	}
	img := *r.Config
	cs = append(cs, platformCheck(img, t), remoteSizeCheck(img, t), entrypointCheck(img, t))
	if c, ok := portCheck(img, t); ok {
		cs = append(cs, c)
	}
	return cs
}

func manifestCheck(r RemoteImage, t DoctorTarget) Check {
	c := Check{ID: "manifest"}
	want := TargetPlatform(t)
	switch {
	case r.MediaType == mediaDockerV1 || r.MediaType == mediaDockerV1Sig:
		c.Level = LevelError
		c.Message = "a Docker v2 schema 1 manifest: no platform runs it any more"
		c.Hint = "pull and push it again with a current docker (it writes schema 2), or rebuild it"
	case r.IsIndex():
		have := strings.Join(r.Platforms, ", ")
		if have == "" {
			have = "no runnable platform"
		}
		switch {
		case r.Picked == "":
			c.Level = LevelError
			c.Message = fmt.Sprintf("an image index (%s) without a %s image", have, want)
			c.Hint = "build it for " + want + " (docker buildx build --platform " + want + ")"
			if t.Provider == cloud.AWS {
				c.Hint += ", or deploy to a function of another architecture"
			}
		case t.Provider == cloud.AWS:
			c.Level = LevelOK
			c.Message = fmt.Sprintf("an image index (%s): Lambda takes a single image, so fndeck deploys its %s image %s", have, want, r.Picked)
		default:
			c.Level = LevelOK
			c.Message = fmt.Sprintf("an image index (%s): its %s image %s runs", have, want, r.Picked)
		}
	case r.MediaType == mediaDockerV2:
		c.Level, c.Message = LevelOK, "a Docker v2 schema 2 image manifest"
	case r.MediaType == mediaOCIManifest:
		c.Level, c.Message = LevelOK, "an OCI image manifest"
	default:
		c.Level, c.Message = LevelWarning, fmt.Sprintf("an unusual manifest type %q", r.MediaType)
		c.Hint = "Lambda takes Docker v2 schema 2 or OCI image manifests"
	}
	return c
}

// remoteSizeCheck is sizeCheck over the compressed size a registry knows:
// an image whose compressed layers already pass Lambda's limit is refused,
// one under it may still pass it uncompressed.
func remoteSizeCheck(img cloud.ImageDetail, t DoctorTarget) Check {
	c := Check{ID: "size", Level: LevelInfo}
	msg := "image is " + humanBytes(img.Size) + " compressed in the registry (larger uncompressed)"
	if big := biggestLayers(img.Layers, maxLayersInDoctor); big != "" {
		msg += "; biggest layers: " + big
	}
	if t.Provider == cloud.AWS {
		limit := t.SizeLimit
		if limit <= 0 {
			limit = LambdaImageLimit
		}
		if img.Size > limit {
			c.Level = LevelError
			c.Message = msg + "; Lambda's limit is " + humanBytes(limit) + " uncompressed"
			c.Hint = "shrink the image: a smaller base, a multi-stage build, fewer files in the big layers"
			return c
		}
		msg += " (Lambda's limit is " + humanBytes(limit) + " uncompressed; every byte adds to the cold start)"
	}
	c.Message = msg
	return c
}
