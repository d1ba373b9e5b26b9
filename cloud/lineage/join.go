// Package lineage relates deployed functions to local images: which image
// is live where, and which function runs something not held locally or
// whose source tag has moved. It is provider-neutral: it reads cloud.Image
// and cloud.Function values (the digest each function runs, the source it
// was deployed from), the digests fndeck pushed (Pushed), and resolves tags
// through a registry (TagChecker). No SDK, no Bubble Tea.
package lineage

import (
	"context"
	"strings"
	"time"

	"github.com/fndeck/fndeck/cloud"
)

// Live is one function running an image.
type Live struct {
	Address  string         `json:"address"`
	Provider cloud.Provider `json:"provider"`
	Digest   string         `json:"digest"`
	// Since is when the function last changed (its deploy), when known.
	Since     *time.Time `json:"since,omitempty"`
	SourceRef string     `json:"source_ref,omitempty"`
}

// Result is a join's answer.
type Result struct {
	// Live maps a local image ID to the functions running it, in the order
	// the functions were given.
	Live map[string][]Live
	// Functions maps a function's address to its lineage (the tag check
	// not yet applied: see TagChecker.Apply).
	Functions map[string]*cloud.Lineage
}

// index finds the local image behind a digest.
type index struct {
	byDigest map[string]int // manifest digest or image ID → images index
}

func digestPart(ref string) string {
	if i := strings.LastIndexByte(ref, '@'); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

func buildIndex(images []cloud.Image, pushed map[string][]string) index {
	ix := index{byDigest: make(map[string]int, len(images)*3)}
	pos := make(map[string]int, len(images))
	for i := range images {
		id := images[i].ID
		pos[id] = i
		ix.byDigest[id] = i
		for _, rd := range images[i].RepoDigests {
			if d := digestPart(rd); d != "" {
				if _, taken := ix.byDigest[d]; !taken {
					ix.byDigest[d] = i
				}
			}
		}
	}
	for id, refs := range pushed {
		i, ok := pos[id]
		if !ok {
			continue // pushed, then deleted locally
		}
		for _, r := range refs {
			if d := digestPart(r); d != "" {
				if _, taken := ix.byDigest[d]; !taken {
					ix.byDigest[d] = i
				}
			}
		}
	}
	return ix
}

// Name is how an image is named to a user: its first repo:tag, else the
// short form of its ID.
func Name(im cloud.Image) string {
	for _, t := range im.RepoTags {
		if t != "" && t != "<none>:<none>" {
			return t
		}
	}
	return ShortID(im.ID)
}

// ShortID is the 12-hex form of an image ID.
func ShortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Join matches functions to local images by digest: the engine's
// RepoDigests of each image, the digests fndeck pushed (image ID →
// repo@digest), and image IDs for local functions. A function whose digest
// is unknown gets LineageUnknown with why (describeErr, keyed by address,
// may give a reason; nil is fine).
func Join(images []cloud.Image, pushed map[string][]string, fns []cloud.Function, describeErr map[string]string) Result {
	ix := buildIndex(images, pushed)
	res := Result{Live: make(map[string][]Live), Functions: make(map[string]*cloud.Lineage, len(fns))}
	for i := range fns {
		fn := &fns[i]
		l := &cloud.Lineage{}
		res.Functions[fn.Address] = l
		if fn.ImageDigest == "" {
			l.Status = cloud.LineageUnknown
			switch {
			case describeErr[fn.Address] != "":
				l.Error = describeErr[fn.Address]
			case fn.Lineage != nil && fn.Lineage.Error != "":
				l.Error = fn.Lineage.Error // the backend could not describe it
			case fn.PackageType != "" && fn.PackageType != "Image":
				l.Error = "a " + fn.PackageType + " function runs no image"
			case fn.Partial:
				l.Error = "not described yet"
			default:
				l.Error = "the digest it runs is not known"
			}
			continue
		}
		k, ok := ix.byDigest[fn.ImageDigest]
		if !ok {
			l.Status = cloud.LineageNotLocal
			continue
		}
		im := &images[k]
		l.Status = cloud.LineageLocal
		l.LocalImage, l.LocalImageID = Name(*im), im.ID
		res.Live[im.ID] = append(res.Live[im.ID], Live{
			Address: fn.Address, Provider: fn.Provider, Digest: fn.ImageDigest,
			Since: fn.LastModified, SourceRef: fn.SourceRef,
		})
	}
	return res
}

// Annotate joins fns with images, checks their source tags with tags (nil:
// no tag check) and sets each function's Lineage. imagesErr, when set, is
// why the local images are unknown: every function is then unknown with it.
func Annotate(ctx context.Context, tags *TagChecker, images []cloud.Image, imagesErr error, pushed map[string][]string, fns []cloud.Function, describeErr map[string]string) Result {
	if imagesErr != nil {
		res := Result{Live: map[string][]Live{}, Functions: make(map[string]*cloud.Lineage, len(fns))}
		for i := range fns {
			l := &cloud.Lineage{Status: cloud.LineageUnknown, Error: "local images unknown: " + imagesErr.Error()}
			res.Functions[fns[i].Address] = l
			fns[i].Lineage = l
		}
		return res
	}
	res := Join(images, pushed, fns, describeErr)
	if tags != nil {
		tags.Apply(ctx, images, pushed, fns, res, 0)
	}
	for i := range fns {
		fns[i].Lineage = res.Functions[fns[i].Address]
	}
	return res
}

// Marker is a function's lineage in a word or two: the local image it runs,
// "tag moved", "not local", "unknown", or "…" before the first join.
func Marker(l *cloud.Lineage) string {
	switch {
	case l == nil:
		return "…"
	case l.Status == cloud.LineageUnknown:
		return "unknown"
	case l.Status == cloud.LineageNotLocal && l.TagMoved:
		return "not local, tag moved"
	case l.Status == cloud.LineageNotLocal:
		return "not local"
	case l.TagMoved:
		return "tag moved"
	case l.Tag == cloud.TagUnknown:
		return l.LocalImage + " (tag unknown)"
	}
	return l.LocalImage
}
