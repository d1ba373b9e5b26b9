package actions

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// ImageStarts are the REPORT figures of the invocations one image served:
// cold starts (a REPORT with Init Duration) and warm invocations.
type ImageStarts struct {
	// Image is the deployed image (DeployResult.NewImage); "" for
	// invocations before fndeck's first recorded deploy of the target.
	Image string
	// Since is when fndeck deployed it (zero for Image "").
	Since time.Time
	Cold  int
	Warm  int
	// Init Duration of the cold starts, in ms.
	InitP50, InitP95, InitMax float64
	// Duration of the warm invocations, in ms.
	WarmP50 float64
}

// ColdStarts ties each invocation's REPORT to the image that served it: the
// last deploy recorded at or before the invocation's time. deploys and
// invokes are in any order; the result is newest image first, images
// without a REPORT left out.
func ColdStarts(deploys []HistoryEntry, invokes []InvokeRecord) []ImageStarts {
	ds := append([]HistoryEntry(nil), deploys...)
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Time.Before(ds[j].Time) })
	type key struct {
		image string
		since int64
	}
	type acc struct {
		image      string
		since      time.Time
		init, warm []float64
	}
	by := map[key]*acc{}
	var order []key
	for _, r := range invokes {
		if r.Report == nil {
			continue
		}
		image, since := "", time.Time{}
		for _, d := range ds {
			if d.Time.After(r.Time) {
				break
			}
			image, since = d.Result.NewImage, d.Time
		}
		k := key{image, since.UnixNano()}
		a := by[k]
		if a == nil {
			a = &acc{image: image, since: since}
			by[k] = a
			order = append(order, k)
		}
		if r.Report.InitMS > 0 {
			a.init = append(a.init, r.Report.InitMS)
		} else {
			a.warm = append(a.warm, r.Report.DurationMS)
		}
	}
	out := make([]ImageStarts, 0, len(by))
	for _, k := range order {
		a := by[k]
		s := ImageStarts{Image: a.image, Since: a.since, Cold: len(a.init), Warm: len(a.warm)}
		if len(a.init) > 0 {
			s.InitP50, s.InitP95, s.InitMax = percentile(a.init, 50), percentile(a.init, 95), percentile(a.init, 100)
		}
		if len(a.warm) > 0 {
			s.WarmP50 = percentile(a.warm, 50)
		}
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Since.After(out[j].Since) })
	return out
}

// percentile is the nearest-rank percentile p (0 < p <= 100) of v.
func percentile(v []float64, p float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(rank, 1)-1]
}

// ColdStartLines describe starts (newest image first, from ColdStarts) for
// the function detail: the serving image's figures, then how its cold
// start compares with the previous image's. sizeOf, when not nil, gives an
// image's size in bytes (false: unknown); with both sizes known the
// comparison says how much bigger or smaller the previous image was.
func ColdStartLines(starts []ImageStarts, sizeOf func(image string) (int64, bool)) []string {
	if len(starts) == 0 {
		return nil
	}
	line := func(s ImageStarts) string {
		img := s.Image
		if img == "" {
			img = "(before fndeck's first deploy)"
		}
		l := fmt.Sprintf("%s: %d cold, %d warm", img, s.Cold, s.Warm)
		if s.Cold > 0 {
			l += fmt.Sprintf("; Init Duration p50 %s, p95 %s, max %s", ms(s.InitP50), ms(s.InitP95), ms(s.InitMax))
		}
		if s.Warm > 0 {
			l += fmt.Sprintf("; warm Duration p50 %s", ms(s.WarmP50))
		}
		return l
	}
	out := []string{line(starts[0])}
	if len(starts) > 1 && starts[0].Cold > 0 {
		for _, prev := range starts[1:] {
			if prev.Cold > 0 {
				l := fmt.Sprintf("cold start p50 %s, was %s with %s", ms(starts[0].InitP50), ms(prev.InitP50), orBefore(prev.Image))
				if sizeOf != nil && prev.Image != "" && starts[0].Image != "" {
					cur, ok1 := sizeOf(starts[0].Image)
					old, ok2 := sizeOf(prev.Image)
					if ok1 && ok2 && cur != old {
						l += fmt.Sprintf(", the image %s %s", mb(abs(old-cur)), map[bool]string{true: "larger", false: "smaller"}[old > cur])
					}
				}
				out = append(out, l)
				break
			}
		}
	}
	for _, s := range starts[1:] {
		out = append(out, line(s))
	}
	return out
}

func orBefore(image string) string {
	if image == "" {
		return "what served before fndeck's first deploy"
	}
	return image
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func ms(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}
