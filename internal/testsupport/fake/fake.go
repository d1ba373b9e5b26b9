// Package fake holds in-memory stand-ins for cloud.Images and cloud.Lister
// (with every optional capability) for UI unit tests ONLY. Integration tests
// use the real engine, registry, moto and RIE.
package fake

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/fndeck/fndeck/cloud"
)

// Images is an in-memory image store. Down makes every call fail as an
// unreachable engine does; SetDown(false) brings it back. Changes made through
// its methods are published to Events subscribers like the engine's stream.
type Images struct {
	mu       sync.Mutex
	HostAddr string
	images   []cloud.Image
	details  map[string]cloud.ImageDetail
	inUse    map[string]bool
	down     error
	subs     map[chan cloud.ImageEvent]chan error
	Inspects int // number of Inspect calls, for laziness checks
	Lists    int // number of List calls
}

var _ cloud.Images = (*Images)(nil)

// NewImages returns a store holding imgs.
func NewImages(imgs ...cloud.Image) *Images {
	return &Images{
		HostAddr: "unix:///var/run/docker.sock",
		images:   slices.Clone(imgs),
		details:  map[string]cloud.ImageDetail{},
		inUse:    map[string]bool{},
		subs:     map[chan cloud.ImageEvent]chan error{},
	}
}

// Host implements cloud.Images.
func (f *Images) Host() string { return f.HostAddr }

func (f *Images) err() error {
	if f.down != nil {
		return fmt.Errorf("docker not reachable at %s: %w", f.HostAddr, f.down)
	}
	return nil
}

// SetDown takes the engine down (true) or brings it back (false). Going down
// ends every event stream with an error, as a lost connection does.
func (f *Images) SetDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !down {
		f.down = nil
		return
	}
	f.down = fmt.Errorf("connection refused: %w", cloud.ErrUnreachable)
	for ch, errCh := range f.subs {
		errCh <- f.err()
		close(errCh)
		close(ch)
		delete(f.subs, ch)
	}
}

// SetDetail sets what Inspect returns for an image ID.
func (f *Images) SetDetail(d cloud.ImageDetail) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.details[d.ID] = d
}

// SetInUse makes Remove refuse the image as a running container would.
func (f *Images) SetInUse(id string, inUse bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inUse[id] = inUse
}

// Add adds an image and publishes a "tag" event.
func (f *Images) Add(img cloud.Image) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.images = append(f.images, img)
	f.publish(cloud.ImageEvent{Action: "tag", ID: img.ID})
}

func (f *Images) publish(ev cloud.ImageEvent) {
	for ch := range f.subs {
		select {
		case ch <- ev:
		default: // a slow reader loses events, as with a real stream; it re-lists anyway
		}
	}
}

// Ping implements cloud.Images.
func (f *Images) Ping(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err()
}

// List implements cloud.Images.
func (f *Images) List(ctx context.Context, all bool) ([]cloud.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Lists++
	if err := f.err(); err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	out := make([]cloud.Image, 0, len(f.images))
	for _, img := range f.images {
		img.RepoTags = slices.Clone(img.RepoTags)
		// The engine's list has no os/arch on API 1.41; only Inspect tells.
		img.OS, img.Architecture = "", ""
		out = append(out, img)
	}
	return out, nil
}

// Inspect implements cloud.Images.
func (f *Images) Inspect(ctx context.Context, ref string) (cloud.ImageDetail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Inspects++
	if err := f.err(); err != nil {
		return cloud.ImageDetail{}, fmt.Errorf("inspecting %s: %w", ref, err)
	}
	img, ok := f.find(ref)
	if !ok {
		return cloud.ImageDetail{}, fmt.Errorf("inspecting %s: %w", ref, cloud.ErrNotFound)
	}
	d, ok := f.details[img.ID]
	if !ok {
		d = cloud.ImageDetail{Image: img}
	}
	d.Image = img
	return d, nil
}

func (f *Images) find(ref string) (cloud.Image, bool) {
	for _, img := range f.images {
		if img.ID == ref || strings.TrimPrefix(img.ID, "sha256:") == ref || slices.Contains(img.RepoTags, ref) {
			return img, true
		}
	}
	return cloud.Image{}, false
}

// Remove implements cloud.Images: a tag reference untags (and deletes the
// image with its last tag); an ID deletes the image.
func (f *Images) Remove(ctx context.Context, ref string, force bool) ([]cloud.RemovedImage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.err(); err != nil {
		return nil, fmt.Errorf("removing %s: %w", ref, err)
	}
	img, ok := f.find(ref)
	if !ok {
		return nil, fmt.Errorf("removing %s: %w", ref, cloud.ErrNotFound)
	}
	if f.inUse[img.ID] && !force {
		return nil, fmt.Errorf("removing %s: image is being used by running container 4f2a: %w", ref, cloud.ErrConflict)
	}
	var out []cloud.RemovedImage
	for i := range f.images {
		if f.images[i].ID != img.ID {
			continue
		}
		if slices.Contains(img.RepoTags, ref) && len(img.RepoTags) > 1 {
			f.images[i].RepoTags = slices.DeleteFunc(f.images[i].RepoTags, func(t string) bool { return t == ref })
			out = append(out, cloud.RemovedImage{Untagged: ref})
			f.publish(cloud.ImageEvent{Action: "untag", ID: img.ID})
			return out, nil
		}
		f.images = slices.Delete(f.images, i, i+1)
		out = append(out, cloud.RemovedImage{Deleted: img.ID})
		f.publish(cloud.ImageEvent{Action: "delete", ID: img.ID})
		return out, nil
	}
	return out, nil
}

// Events implements cloud.Images.
func (f *Images) Events(ctx context.Context) (<-chan cloud.ImageEvent, <-chan error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan cloud.ImageEvent, 64)
	errCh := make(chan error, 1)
	if err := f.err(); err != nil {
		errCh <- err
		close(errCh)
		close(ch)
		return ch, errCh
	}
	f.subs[ch] = errCh
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.subs[ch]; ok {
			delete(f.subs, ch)
			errCh <- nil
			close(errCh)
			close(ch)
		}
	}()
	return ch, errCh
}
