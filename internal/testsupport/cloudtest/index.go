package cloudtest

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Index is what PushIndex wrote: the index's digest and each child's by
// platform ("linux/amd64"; the attestation manifest under "unknown/unknown").
type Index struct {
	Ref      string // ADDR/REPO:TAG
	Digest   string
	Children map[string]string
}

// PushIndex pushes to the registry at addr (plain http, no auth), as
// BuildKit writes one, an OCI image index with a small random image per
// platform ("linux/amd64", "linux/arm64", …; each with ENTRYPOINT /app and
// EXPOSE 8080) and an attestation manifest (platform unknown/unknown,
// vnd.docker.reference.type attestation-manifest) for the first platform.
func PushIndex(t testing.TB, addr, repo, tag string, platforms ...string) Index {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	out := Index{Ref: addr + "/" + repo + ":" + tag, Children: map[string]string{}}
	var first string
	for _, p := range platforms {
		os, arch, _ := strings.Cut(p, "/")
		img := RandomImage(t, os, arch)
		d := digest(t, img)
		if first == "" {
			first = d
		}
		out.Children[p] = d
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: os, Architecture: arch}}})
	}
	att := RandomImage(t, "unknown", "unknown")
	out.Children["unknown/unknown"] = digest(t, att)
	idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
		Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
		Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": first},
	}})
	r, err := name.ParseReference(out.Ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatalf("pushing the test index %s: %v", out.Ref, err)
	}
	out.Digest = digest(t, idx)
	return out
}

// PushImage pushes one small random os/arch image to addr/repo:tag and
// returns its manifest digest.
func PushImage(t testing.TB, addr, repo, tag, os, arch string) string {
	t.Helper()
	img := RandomImage(t, os, arch)
	r, err := name.ParseReference(addr+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("pushing the test image %s: %v", r, err)
	}
	return digest(t, img)
}

// RandomImage is a small random OCI image whose config says os/arch, with
// ENTRYPOINT /app, CMD serve and EXPOSE 8080/tcp (none for unknown/unknown).
func RandomImage(t testing.TB, os, arch string) v1.Image {
	t.Helper()
	img, err := random.Image(16<<10, 2)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = os, arch
	if os != "unknown" {
		cf.Config.Entrypoint = []string{"/app"}
		cf.Config.Cmd = []string{"serve"}
		cf.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}}
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

func digest(t testing.TB, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}
