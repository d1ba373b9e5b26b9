package app

import (
	"context"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/lineage"
	"github.com/fndeck/fndeck/internal/testsupport/fake"
)

// TestLineageJoinsInTheBackgroundAndJumps: local:echo runs api:dev's image
// ID; the Images pane shows 1 in its LIVE cell and — for the others once
// every function is known; the Functions pane names api:dev; enter in the
// image's detail jumps to echo and o jumps back to api:dev.
func TestLineageJoinsInTheBackgroundAndJumps(t *testing.T) {
	local := &fake.Lister{Prov: cloud.Local, Results: []cloud.GroupResult{{
		Group: cloud.Group{Provider: cloud.Local, Scope: "docker"},
		Functions: []cloud.Function{{Address: "local:echo", Provider: cloud.Local, Name: "echo", PackageType: "Image", Mode: "lambda",
			ImageURI: "api:dev", ImageDigest: "sha256:bbbbbbbbbbbb2222", SourceRef: "api:dev"}},
	}}}
	var joins, tagged atomic.Int32
	opts := Options{Listers: []cloud.Lister{local}, Lineage: func(ctx context.Context, imgs []cloud.Image, fns []cloud.Function, withTags bool) lineage.Result {
		joins.Add(1)
		if withTags {
			tagged.Add(1)
		}
		return lineage.Annotate(ctx, nil, imgs, nil, nil, fns, nil)
	}}
	h := start(t, opts, 160, 34)
	h.wait("api:dev LIVE 1", func(s string) bool { return regexp.MustCompile(`api:dev .* 1\s*[│┃]`).MatchString(s) })
	h.wait("resizer LIVE —", func(s string) bool { return regexp.MustCompile(`resizer:1.0 .* —\s*[│┃]`).MatchString(s) })
	h.wait("echo's marker", func(s string) bool { return regexp.MustCompile(`echo\s+lambda\s+api:dev\s+api:dev`).MatchString(s) })
	if tagged.Load() == 0 {
		t.Error("no join with the tag checks ran")
	}

	// Images is focused; api:dev is the first row by name.
	h.press("enter")
	h.waitText("Live (1)")
	h.waitText("› local  local:echo")
	h.press("enter")
	h.waitText("┏━2 Functions")
	h.press("o")
	h.waitText("┏━1 Images")
	n := joins.Load()
	h.press("j", "k")
	h.waitText("api:dev")
	if d := joins.Load() - n; d > 0 {
		t.Errorf("moving the cursor ran %d joins; nothing changed", d)
	}
}
