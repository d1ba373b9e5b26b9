package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/lineage"
)

// listFunctions lists every configured provider (or those named) and
// returns the functions and the sources that failed.
func listFunctions(ctx context.Context, sess *Session, providers []string, f cloud.ListFilter) ([]cloud.Function, []jsonError) {
	var mu sync.Mutex
	var fns []cloud.Function
	var errs []jsonError
	var wg sync.WaitGroup
	for _, pi := range sess.Providers {
		if len(providers) > 0 && !contains(providers, string(pi.Provider)) {
			continue
		}
		l, ok := pi.Backend.(cloud.Lister)
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := l.List(ctx, f, func(g cloud.GroupResult) {
				mu.Lock()
				defer mu.Unlock()
				if g.Err != nil {
					hint := g.Hint
					if hint == "" {
						hint = cloud.Hint(g.Err)
					}
					scope := g.Group.Scope
					if g.Group.Region != "" {
						scope += "/" + g.Group.Region
					}
					errs = append(errs, jsonError{Provider: g.Group.Provider, Scope: scope, Error: g.Err.Error(), Hint: hint})
					return
				}
				fns = append(fns, g.Functions...)
			})
			if err != nil {
				mu.Lock()
				errs = append(errs, jsonError{Provider: pi.Provider, Error: err.Error(), Hint: cloud.Hint(err)})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Slice(fns, func(i, j int) bool { return fns[i].Address < fns[j].Address })
	sort.Slice(errs, func(i, j int) bool {
		return string(errs[i].Provider)+errs[i].Scope < string(errs[j].Provider)+errs[j].Scope
	})
	return fns, errs
}

// annotateFunctions sets every function's lineage against the local
// images. It never fails: what cannot be learnt is marked unknown with why.
func (a *app) annotateFunctions(ctx context.Context, sess *Session, fns []cloud.Function) lineage.Result {
	var imgs []cloud.Image
	var err error
	if sess.Images != nil {
		imgs, err = sess.Images.List(ctx, false)
	}
	return annotate(ctx, sess, imgs, err, fns)
}

func annotate(ctx context.Context, sess *Session, imgs []cloud.Image, imagesErr error, fns []cloud.Function) lineage.Result {
	pushed, _ := sess.Pushed.Load() // a damaged file only loses matches
	return lineage.Annotate(ctx, sess.Tags, imgs, imagesErr, pushed, fns, nil)
}

// driftOnly keeps the functions whose tag moved or that run no local image.
func driftOnly(fns []cloud.Function) []cloud.Function {
	out := fns[:0]
	for _, fn := range fns {
		if l := fn.Lineage; l != nil && (l.TagMoved || l.Status == cloud.LineageNotLocal) {
			out = append(out, fn)
		}
	}
	return out
}

// imageJSON is an image with the functions running it.
type imageJSON struct {
	cloud.Image
	Live []lineage.Live `json:"live"`
}

// imagesLive lists every provider's functions and joins them with imgs: the
// functions running each image ID. Sources that fail to list are told on
// stderr; they never fail the image listing.
func (a *app) imagesLive(ctx context.Context, sess *Session, imgs []cloud.Image) map[string][]lineage.Live {
	fns, errs := listFunctions(ctx, sess, nil, cloud.ListFilter{})
	for _, e := range errs {
		fmt.Fprintf(a.deps.Stderr, "live: %s %s: %s\n", e.Provider, s(e.Scope), s(e.Error))
	}
	return annotate(ctx, sess, imgs, nil, fns).Live
}

func liveAddresses(l []lineage.Live) string {
	if len(l) == 0 {
		return "—"
	}
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = x.Address
	}
	return strings.Join(out, ", ")
}

// lineageCell is the LINEAGE column of `functions`: "-" for a function
// that runs no image (Zip).
func lineageCell(fn cloud.Function) string {
	if fn.PackageType != "" && fn.PackageType != "Image" {
		return "-"
	}
	return lineage.Marker(fn.Lineage)
}
