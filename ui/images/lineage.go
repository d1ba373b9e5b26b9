package images

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/lineage"
	"github.com/fndeck/fndeck/internal/sanitize"
)

// liveCell is an image's LIVE cell: how many functions run it, "—" when
// none does, "…" while that is not known yet.
func (p *Pane) liveCell(id string) string {
	if n := len(p.live[id]); n > 0 {
		return strconv.Itoa(n)
	}
	if p.liveKnown && p.liveComplete {
		return "—"
	}
	return "…"
}

// sameImages reports whether two lists hold the same images (IDs, tags and
// digests), so a re-list that changed nothing does not re-join.
func sameImages(a, b []cloud.Image) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || !slices.Equal(a[i].RepoTags, b[i].RepoTags) || !slices.Equal(a[i].RepoDigests, b[i].RepoDigests) {
			return false
		}
	}
	return true
}

// Snapshot returns the engine's images and a version that changes when
// they do: the app joins them with the functions.
func (p *Pane) Snapshot() ([]cloud.Image, int, bool) {
	return p.images, p.version, p.state == connUp
}

// jumpTo selects a row of the image with id (closing a detail, clearing a
// filter that hides it, showing dangling images when it is one).
func (p *Pane) jumpTo(id string) {
	p.detail = nil
	find := func() bool {
		for _, r := range p.tbl.Items() {
			if r.Image.ID == id {
				return p.tbl.Select(r.id())
			}
		}
		return false
	}
	if find() {
		return
	}
	if p.tbl.Filter() != "" {
		p.tbl.ClearFilter()
		if find() {
			return
		}
	}
	if !p.showAll && slices.ContainsFunc(p.images, func(im cloud.Image) bool { return im.ID == id }) {
		p.showAll = true
		p.setImages(p.images)
		find()
	}
}

func (d *detailView) setLive(live []lineage.Live, complete bool) {
	d.live, d.known, d.complete = live, true, complete
	if d.sel >= len(live) {
		d.sel = max(len(live)-1, 0)
	}
	d.refill()
}

// selectedLive is the address of the live function enter jumps to.
func (d *detailView) selectedLive() string {
	if d.sel < len(d.live) {
		return d.live[d.sel].Address
	}
	return ""
}

// liveLines list the functions running the image: provider, address, since
// when, and the source it was deployed from when recorded.
func (d *detailView) liveLines() []string {
	switch {
	case !d.known:
		return []string{fmt.Sprintf("%-12s %s", "Live", "…")}
	case len(d.live) == 0 && !d.complete:
		return []string{fmt.Sprintf("%-12s %s", "Live", "none found yet (still learning what functions run)")}
	case len(d.live) == 0:
		return []string{fmt.Sprintf("%-12s %s", "Live", "nowhere")}
	}
	l := []string{fmt.Sprintf("Live (%d)   ↑/↓ pick, enter jumps to the function", len(d.live))}
	for i, x := range d.live {
		cur := "  "
		if i == d.sel {
			cur = "› "
		}
		since := ""
		if x.Since != nil {
			since = x.Since.UTC().Format(time.RFC3339)
		}
		line := fmt.Sprintf("%s%-6s %-44s %s", cur, x.Provider, sanitize.Line(x.Address), since)
		if x.SourceRef != "" {
			line += "  from " + sanitize.Line(x.SourceRef)
		}
		l = append(l, line)
	}
	return l
}
