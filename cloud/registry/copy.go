package registry

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fndeck/fndeck/cloud"
)

// CopyOptions shape a Copy.
type CopyOptions struct {
	// Platform, when set, copies only that platform's image out of an
	// index (a single image is copied as it is; Check sees its platform).
	// Nil copies what the source names as it is, an index whole.
	Platform *Platform
	// Check, when set, sees the source image's config before anything is
	// written; an error stops the copy.
	Check func(ImageConfig) error
	// Out receives per-layer progress and status lines; nil discards them.
	Out cloud.Sink
}

// CopyResult is what a Copy wrote.
type CopyResult struct {
	// Descriptor is the manifest written to the destination.
	Descriptor
	// Config is the copied image's config (zero for an index copied whole).
	Config ImageConfig `json:"config"`
	// FromIndex says the source was an index and Platform's child was copied.
	FromIndex bool `json:"from_index,omitempty"`
}

// Copy copies the image src names to dst (a tag or a digest) registry to
// registry, without a local engine: blobs the destination already has are
// skipped, the others streamed through, one layer after another with
// per-layer progress to Out.
//
// Every blob goes up in a single request (POST, one PATCH with the whole
// blob and its Content-Length, PUT ?digest=), never in several PATCH
// chunks, and a PATCH answered 201 instead of 202 is accepted: that is what
// ECR needs. ECR keeps only the first PATCH of a chunked upload (later
// chunks are answered 201 and dropped, aws/containers-roadmap#2831) and
// answers PATCH with 201; it does not mount blobs across repositories by
// default (the upload then proceeds normally). TestCopyUploadsEachBlobInOneRequest
// holds go-containerregistry to this against the distribution registry.
func (c *Client) Copy(ctx context.Context, src, dst string, o CopyOptions) (CopyResult, error) {
	out := o.Out
	if out == nil {
		out = cloud.DiscardSink{}
	}
	st, err := c.parse(src)
	if err != nil {
		return CopyResult{}, err
	}
	dt, err := c.parse(dst)
	if err != nil {
		return CopyResult{}, err
	}
	var (
		img       v1.Image
		idx       v1.ImageIndex
		res       CopyResult
		fromIndex bool
	)
	err = c.withAuth(ctx, st, "copying "+src, func(opts []remote.Option) error {
		if o.Platform == nil {
			g, e := remote.Get(st.ref, opts...)
			if e != nil {
				return e
			}
			if g.MediaType.IsIndex() {
				idx, e = g.ImageIndex()
				return e
			}
			img, e = g.Image()
			return e
		}
		var e error
		img, fromIndex, e = image(st.ref, o.Platform, opts)
		if e == nil {
			// Read the config with these credentials: a refusal of the
			// blob reads falls through like one of the manifest's.
			res.Config, e = configOf(img)
		}
		return e
	})
	if err != nil {
		return CopyResult{}, err
	}
	res.FromIndex = fromIndex
	if img != nil && res.Config.Digest == "" {
		if res.Config, err = configOf(img); err != nil {
			return CopyResult{}, classify(err, "copying "+src, st.named, nil, nil)
		}
	}
	if fromIndex {
		out.Line(fmt.Sprintf("%s is a multi-platform image: copying its %s image", src, o.Platform))
	}
	if o.Check != nil && img != nil {
		if err := o.Check(res.Config); err != nil {
			return CopyResult{}, err
		}
	}
	err = c.withAuth(ctx, dt, "copying "+src+" to "+dst, func(opts []remote.Option) error {
		if idx != nil {
			out.Line(fmt.Sprintf("%s is an image index: copying it whole", src))
			return remote.WriteIndex(dt.ref, idx, opts...)
		}
		layers, e := img.Layers()
		if e != nil {
			return e
		}
		for _, l := range layers {
			if e := writeLayer(dt.ref.Context(), l, out, opts); e != nil {
				return e
			}
		}
		// The layers are there: this uploads the config and the manifest.
		return remote.Write(dt.ref, img, opts...)
	})
	if err != nil {
		return CopyResult{}, err
	}
	var t manifested = img
	if idx != nil {
		t = idx
	}
	d, err := t.Digest()
	if err != nil {
		return CopyResult{}, fmt.Errorf("copying %s: %w", src, err)
	}
	raw, err := t.RawManifest()
	if err != nil {
		return CopyResult{}, fmt.Errorf("copying %s: %w", src, err)
	}
	mt, err := t.MediaType()
	if err != nil {
		return CopyResult{}, fmt.Errorf("copying %s: %w", src, err)
	}
	res.Descriptor = Descriptor{Digest: d.String(), MediaType: string(mt), Size: int64(len(raw))}
	return res, nil
}

// manifested is what an image and an index share.
type manifested interface {
	Digest() (v1.Hash, error)
	RawManifest() ([]byte, error)
	MediaType() (types.MediaType, error)
}

// writeLayer uploads one layer unless the destination has it, reporting
// progress by the bytes read from the source.
func writeLayer(repo name.Repository, l v1.Layer, out cloud.Sink, opts []remote.Option) error {
	d, err := l.Digest()
	if err != nil {
		return err
	}
	size, err := l.Size()
	if err != nil {
		return err
	}
	id := d.String()
	pl := &progressLayer{Layer: l, out: out, id: id, total: size}
	if err := remote.WriteLayer(repo, pl, opts...); err != nil {
		return err
	}
	if pl.opened() {
		out.Progress(cloud.Progress{ID: id, Status: "Copied", Current: size, Total: size})
	} else {
		out.Progress(cloud.Progress{ID: id, Status: "Layer already exists", Current: size, Total: size})
	}
	return nil
}

// progressLayer reports the bytes read from a layer while it is uploaded.
// go-containerregistry opens a layer only when the destination lacks it.
type progressLayer struct {
	v1.Layer
	out   cloud.Sink
	id    string
	total int64

	mu   sync.Mutex
	open bool
}

func (p *progressLayer) opened() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open
}

func (p *progressLayer) Compressed() (io.ReadCloser, error) {
	rc, err := p.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.open = true
	p.mu.Unlock()
	p.out.Progress(cloud.Progress{ID: p.id, Status: "Copying", Total: p.total})
	return &progressReader{rc: rc, p: p}, nil
}

type progressReader struct {
	rc       io.ReadCloser
	p        *progressLayer
	n, shown int64
}

// progressStep is how many bytes pass between two progress updates.
const progressStep = 512 << 10

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.rc.Read(b)
	r.n += int64(n)
	if r.n-r.shown >= progressStep {
		r.shown = r.n
		r.p.out.Progress(cloud.Progress{ID: r.p.id, Status: "Copying", Current: r.n, Total: r.p.total})
	}
	return n, err
}

func (r *progressReader) Close() error { return r.rc.Close() }
