package lineage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/fndeck/fndeck/cloud"
)

// PushedFile is the state-dir file remembering what fndeck pushed.
const PushedFile = "pushed.json"

// Bounds of the pushed-digest file: it stays small however much is pushed.
const (
	maxRefsPerImage = 32
	maxImages       = 2000
)

// Pushed remembers, per local image ID, the repo@digest references fndeck
// pushed it as, so a function running that digest is matched to the image
// even when the engine's RepoDigests no longer carry it. The file is JSON,
// 0600, in the state dir; it is rewritten whole (write then rename).
type Pushed struct {
	path string
	mu   sync.Mutex
}

// NewPushed returns the store kept in dir.
func NewPushed(dir string) *Pushed { return &Pushed{path: filepath.Join(dir, PushedFile)} }

type pushedDoc struct {
	// Images maps image ID → repo@digest references, oldest first.
	Images map[string][]string `json:"images"`
	// Order lists image IDs, least recently pushed first (for trimming).
	Order []string `json:"order,omitempty"`
}

func (p *Pushed) read() (pushedDoc, error) {
	doc := pushedDoc{Images: map[string][]string{}}
	b, err := os.ReadFile(p.path)
	if errors.Is(err, os.ErrNotExist) {
		return doc, nil
	}
	if err != nil {
		return doc, fmt.Errorf("reading %s: %w", p.path, err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return pushedDoc{Images: map[string][]string{}}, fmt.Errorf("reading %s: %w", p.path, err)
	}
	if doc.Images == nil {
		doc.Images = map[string][]string{}
	}
	return doc, nil
}

// Load returns image ID → repo@digest references. A missing file is empty.
func (p *Pushed) Load() (map[string][]string, error) {
	if p == nil {
		return nil, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	doc, err := p.read()
	return doc.Images, err
}

// Record remembers that imageID was pushed as ref (repo:tag or repo) with
// digest.
func (p *Pushed) Record(imageID, ref, digest string) error {
	if p == nil || imageID == "" || digest == "" {
		return nil
	}
	pinned := Repository(ref) + "@" + digest
	p.mu.Lock()
	defer p.mu.Unlock()
	doc, err := p.read()
	if err != nil {
		doc = pushedDoc{Images: map[string][]string{}} // a damaged file starts over
	}
	refs := slices.DeleteFunc(doc.Images[imageID], func(r string) bool { return r == pinned })
	refs = append(refs, pinned)
	if len(refs) > maxRefsPerImage {
		refs = refs[len(refs)-maxRefsPerImage:]
	}
	doc.Images[imageID] = refs
	doc.Order = append(slices.DeleteFunc(doc.Order, func(id string) bool { return id == imageID }), imageID)
	for len(doc.Order) > maxImages {
		delete(doc.Images, doc.Order[0])
		doc.Order = doc.Order[1:]
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encoding pushed digests: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p.path), 0o700); err != nil {
		return fmt.Errorf("recording a pushed digest: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p.path), PushedFile+".*")
	if err != nil {
		return fmt.Errorf("recording a pushed digest: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("recording a pushed digest: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("recording a pushed digest: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("recording a pushed digest: %w", err)
	}
	if err := os.Rename(tmp.Name(), p.path); err != nil {
		return fmt.Errorf("recording a pushed digest: %w", err)
	}
	return nil
}

// Repository is ref without its tag or digest ("host:5000/app:1" →
// "host:5000/app").
func Repository(ref string) string {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, ':'); i >= 0 && !strings.Contains(ref[i:], "/") {
		ref = ref[:i]
	}
	return ref
}

// RecordingPusher pushes through Pusher and, when a push completes,
// records the pushed digest against the local image's ID.
type RecordingPusher struct {
	cloud.Pusher
	Inspect func(ctx context.Context, ref string) (cloud.ImageDetail, error)
	Store   *Pushed
}

// Push implements cloud.Pusher.
func (r RecordingPusher) Push(ctx context.Context, opts cloud.PushOptions, out cloud.Sink) (cloud.PushResult, error) {
	res, err := r.Pusher.Push(ctx, opts, out)
	if err != nil || r.Store == nil || r.Inspect == nil {
		return res, err
	}
	img, ierr := r.Inspect(ctx, opts.Ref)
	if ierr != nil {
		return res, nil // the push stands; only the record is missing
	}
	ref := res.Ref
	if ref == "" {
		ref = opts.To
	}
	if ref == "" {
		ref = opts.Ref
	}
	if rerr := r.Store.Record(img.ID, ref, res.Digest); rerr != nil {
		out.Line("warning: the push succeeded but remembering its digest failed: " + rerr.Error())
	}
	return res, nil
}
