package lineage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/registry"
)

// ManifestGetter reads what a reference names (cloud/registry's Client).
type ManifestGetter interface {
	Get(ctx context.Context, ref string) (registry.Manifest, error)
}

// DefaultTTL is how long a tag's resolution is trusted.
const DefaultTTL = 60 * time.Second

// TagChecker resolves the tags functions were deployed from, lazily, with a
// cache per (registry, repository, tag) that expires after TTL. Concurrent
// checks of one tag share one registry call. Safe for concurrent use.
type TagChecker struct {
	Registry ManifestGetter
	TTL      time.Duration    // default DefaultTTL
	Now      func() time.Time // default time.Now
	// Timeout bounds one registry call (default 15 s).
	Timeout time.Duration

	mu    sync.Mutex
	cache map[tagKey]*tagEntry
}

type tagKey struct{ registry, repository, tag string }

type tagEntry struct {
	done    chan struct{}
	at      time.Time
	digests []string // the manifest digest, then an index's children
	err     error
}

func (c *TagChecker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *TagChecker) ttl() time.Duration {
	if c.TTL > 0 {
		return c.TTL
	}
	return DefaultTTL
}

// keyOf parses ref as a tag reference; ok=false for a digest reference or
// what does not parse.
func keyOf(ref string) (tagKey, bool) {
	if strings.Contains(ref, "@") {
		return tagKey{}, false
	}
	t, err := name.NewTag(ref, name.WeakValidation)
	if err != nil {
		return tagKey{}, false
	}
	return tagKey{t.RegistryStr(), t.RepositoryStr(), t.TagStr()}, true
}

// Resolve returns the digests ref's tag names now: its manifest's and, for
// an index, its children's. Answers (errors too) are cached for TTL.
func (c *TagChecker) Resolve(ctx context.Context, ref string) ([]string, error) {
	k, ok := keyOf(ref)
	if !ok {
		return nil, fmt.Errorf("%q is not a tag reference: %w", ref, cloud.ErrInvalid)
	}
	c.mu.Lock()
	if c.cache == nil {
		c.cache = map[tagKey]*tagEntry{}
	}
	e := c.cache[k]
	if e != nil {
		select {
		case <-e.done:
			if c.now().Sub(e.at) >= c.ttl() {
				e = nil // expired
			}
		default: // in flight: wait for it
		}
	}
	if e != nil {
		c.mu.Unlock()
		select {
		case <-e.done:
			return e.digests, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	e = &tagEntry{done: make(chan struct{})}
	c.cache[k] = e
	c.mu.Unlock()

	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if c.Registry == nil {
		e.err = fmt.Errorf("resolving %s: no registry client", ref)
	} else if m, err := c.Registry.Get(cctx, ref); err != nil {
		e.err = err
	} else {
		e.digests = append(e.digests, m.Digest)
		for _, ch := range m.Children {
			e.digests = append(e.digests, ch.Digest)
		}
	}
	e.at = c.now()
	close(e.done)
	return e.digests, e.err
}

// localTag reports whether ref names no registry (a name only a local
// engine resolves, "app:1") and is a tag of some local image.
func localTag(ref string, images []cloud.Image) (*cloud.Image, bool) {
	first, _, _ := strings.Cut(ref, "/")
	if strings.ContainsAny(first, ".:") && strings.Contains(ref, "/") || first == "localhost" && strings.Contains(ref, "/") {
		return nil, false // a registry host
	}
	want := ref
	if !strings.Contains(want[strings.LastIndexByte(want, '/')+1:], ":") {
		want += ":latest"
	}
	for i := range images {
		if slices.Contains(images[i].RepoTags, want) {
			return &images[i], true
		}
	}
	return nil, false
}

// Apply checks, for every function whose lineage is known and whose source
// is a tag, whether the tag still names the digest it runs, and sets
// Tag/TagMoved/TagDigest (or Tag unknown and Error) on res.Functions. A tag
// only the local engine knows ("app:1") is checked against the local
// images; any other is resolved in its registry through the cache. Tags
// are resolved in parallel, at most limit at once (default 8). It never
// fails: an error marks the rows it concerns.
func (c *TagChecker) Apply(ctx context.Context, images []cloud.Image, pushed map[string][]string, fns []cloud.Function, res Result, limit int) {
	if limit <= 0 {
		limit = 8
	}
	type job struct {
		fn *cloud.Function
		l  *cloud.Lineage
	}
	byID := make(map[string]*cloud.Image, len(images))
	for i := range images {
		byID[images[i].ID] = &images[i]
	}
	// running is every digest what fn runs is known by: a local function
	// runs an image ID whose manifest digests are the registry's names.
	running := func(fn *cloud.Function, l *cloud.Lineage) []string {
		if im := byID[l.LocalImageID]; im != nil {
			return append(imageDigests(*im, pushed), fn.ImageDigest)
		}
		return []string{fn.ImageDigest}
	}
	byRef := map[string][]job{}
	var refs []string
	for i := range fns {
		fn := &fns[i]
		l := res.Functions[fn.Address]
		if l == nil || fn.ImageDigest == "" || fn.SourceRef == "" || strings.Contains(fn.SourceRef, "@") {
			continue
		}
		if im, ok := localTag(fn.SourceRef, images); ok {
			l.Tag = sameOrMoved(running(fn, l), imageDigests(*im, pushed))
			l.TagMoved, l.TagDigest = l.Tag == cloud.TagMoved, im.ID
			continue
		}
		if _, ok := keyOf(fn.SourceRef); !ok {
			continue
		}
		if _, seen := byRef[fn.SourceRef]; !seen {
			refs = append(refs, fn.SourceRef)
		}
		byRef[fn.SourceRef] = append(byRef[fn.SourceRef], job{fn, l})
	}
	if len(refs) == 0 {
		return
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			digests, err := c.Resolve(ctx, ref)
			mu.Lock()
			defer mu.Unlock()
			for _, j := range byRef[ref] {
				if err != nil {
					j.l.Tag, j.l.Error = cloud.TagUnknown, fmt.Sprintf("resolving %s: %v", ref, err)
					continue
				}
				j.l.Tag = sameOrMoved(running(j.fn, j.l), digests)
				j.l.TagMoved = j.l.Tag == cloud.TagMoved
				if len(digests) > 0 {
					j.l.TagDigest = digests[0]
				}
			}
		}()
	}
	wg.Wait()
}

// sameOrMoved is TagSame when what runs is among what the tag names.
func sameOrMoved(running, named []string) string {
	for _, d := range running {
		if slices.Contains(named, d) {
			return cloud.TagSame
		}
	}
	return cloud.TagMoved
}

// imageDigests is every digest a local image is known by.
func imageDigests(im cloud.Image, pushed map[string][]string) []string {
	out := []string{im.ID}
	for _, rd := range im.RepoDigests {
		out = append(out, digestPart(rd))
	}
	for _, r := range pushed[im.ID] {
		out = append(out, digestPart(r))
	}
	return out
}
