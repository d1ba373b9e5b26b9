package functions

import (
	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/lineage"
)

// marker is the LINEAGE cell of f: the latest join's answer, else what the
// backend said (a describe error), else "…".
func (p *Pane) marker(f cloud.Function) string {
	if f.PackageType != "" && f.PackageType != "Image" {
		return "" // a Zip function runs no image
	}
	if l, ok := p.lineage[f.Address]; ok {
		return lineage.Marker(l)
	}
	if f.Lineage != nil {
		return lineage.Marker(f.Lineage)
	}
	return "…"
}

// Snapshot returns every listed function, a version that changes whenever
// they do, and whether the list is complete (no source loading, no
// function waiting for a describe): the app joins them with the images.
func (p *Pane) Snapshot() (fns []cloud.Function, version int, complete bool) {
	complete = !p.anyLoading()
	for _, g := range p.groups {
		for _, f := range g.res.Functions {
			fns = append(fns, f)
			if f.Partial && f.PackageType == "Image" {
				if _, ok := capability[cloud.Describer](p.opts.Listers[g.lister]); ok {
					complete = false
				}
			}
		}
	}
	return fns, p.version, complete
}

// Version changes whenever the listed functions do.
func (p *Pane) Version() int { return p.version }

// function finds a listed function by address.
func (p *Pane) function(addr string) (cloud.Function, bool) {
	for _, g := range p.groups {
		for _, f := range g.res.Functions {
			if f.Address == addr {
				return f, true
			}
		}
	}
	return cloud.Function{}, false
}

// jumpTo selects the function at addr, opening the groups above it and
// clearing a filter that hides it.
func (p *Pane) jumpTo(addr string) {
	p.detail = nil
	if p.tbl.Select(addr) {
		return
	}
	if _, ok := p.function(addr); !ok {
		return
	}
	if p.tbl.Filter() != "" {
		p.tbl.ClearFilter()
	}
	p.collapsed = map[string]bool{}
	p.rebuild()
	p.tbl.Select(addr)
}
