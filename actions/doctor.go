package actions

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/fndeck/fndeck/cloud"
)

// Check levels, worst last.
const (
	LevelOK      = "ok"
	LevelInfo    = "info"
	LevelWarning = "warning"
	LevelError   = "error"
)

// LambdaImageLimit is Lambda's limit on a container image's uncompressed
// size (10 GB, layers included).
const LambdaImageLimit int64 = 10 << 30

// Check is one finding of doctor (JSON shape of PRODUCT.md).
type Check struct {
	ID      string `json:"id"`
	Level   string `json:"level"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

// DoctorTarget is what doctor needs to know about where an image would run.
// It is plain data: the CLI fills it from the target's address, fndeck.yaml
// and (for Lambda) the function's description.
type DoctorTarget struct {
	Address  string
	Provider cloud.Provider
	// Arch is the Lambda function's architecture (x86_64 | arm64); "" = x86_64.
	Arch string
	// Mode is the local target's flavour (lambda | cloudrun).
	Mode string
	// Port is the port the service must listen on (Cloud Run; 0 = 8080).
	Port int
	// CommandSet is true when the target's image config sets an entrypoint
	// or command, so the image needs neither.
	CommandSet bool
	// SizeLimit overrides LambdaImageLimit (tests).
	SizeLimit int64
}

// Doctor checks an image (its config as the engine or a registry reports
// it) against a target, before anything is pushed or deployed. The checks
// are provider-neutral and do no I/O.
func Doctor(img cloud.ImageDetail, t DoctorTarget) []Check {
	var cs []Check
	if img.MediaType == mediaOCIIndex || img.MediaType == mediaDockerList {
		// An engine with the containerd image store holds (and pushes) a
		// multi-platform or attested build as an index.
		c := Check{ID: "manifest", Level: LevelInfo, Message: "the local image is an image index: it is pushed whole, and " + TargetPlatform(t) + "'s image out of it runs"}
		if t.Provider == cloud.AWS {
			c.Message = "the local image is an image index: it is pushed whole, and fndeck deploys its " + TargetPlatform(t) + " image (an index without one is refused before the function is touched)"
		}
		cs = append(cs, c)
	}
	cs = append(cs, platformCheck(img, t))
	cs = append(cs, sizeCheck(img, t))
	cs = append(cs, entrypointCheck(img, t))
	if c, ok := portCheck(img, t); ok {
		cs = append(cs, c)
	}
	return cs
}

// DoctorFailed reports whether any check is an error: a deploy must stop.
func DoctorFailed(cs []Check) bool {
	return slices.ContainsFunc(cs, func(c Check) bool { return c.Level == LevelError })
}

// DoctorError joins the error checks into one error, nil when there is none.
func DoctorError(image string, t string, cs []Check) error {
	var msgs, hints []string
	for _, c := range cs {
		if c.Level == LevelError {
			msgs = append(msgs, c.Message)
			if c.Hint != "" {
				hints = append(hints, c.Hint)
			}
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	err := fmt.Errorf("%s cannot run on %s: %s: %w", image, t, strings.Join(msgs, "; "), cloud.ErrInvalid)
	return cloud.WithHint(err, strings.Join(hints, "; "))
}

func lambdaLike(t DoctorTarget) bool {
	return t.Provider == cloud.AWS || (t.Provider == cloud.Local && t.Mode != "cloudrun")
}

func cloudRunLike(t DoctorTarget) bool {
	return t.Provider == cloud.GCP || (t.Provider == cloud.Local && t.Mode == "cloudrun")
}

// dockerArchOf maps Lambda's architecture names to Docker's.
func dockerArchOf(lambdaArch string) string {
	switch strings.ToLower(lambdaArch) {
	case "arm64", "aarch64":
		return "arm64"
	}
	return "amd64"
}

func platformCheck(img cloud.ImageDetail, t DoctorTarget) Check {
	c := Check{ID: "platform"}
	have := orUnknown(img.OS) + "/" + orUnknown(img.Architecture)
	if img.Variant != "" {
		have += "/" + img.Variant
	}
	var want, why string
	switch t.Provider {
	case cloud.AWS:
		arch := t.Arch
		if arch == "" {
			arch = "x86_64"
		}
		want, why = "linux/"+dockerArchOf(arch), "the function runs on "+arch
	case cloud.GCP:
		want, why = "linux/amd64", "Cloud Run runs linux/amd64 only"
	default:
		c.Level, c.Message = LevelOK, "image platform "+have+" (the local engine runs it as it is)"
		return c
	}
	if img.Architecture == "" {
		c.Level, c.Message = LevelWarning, "the image does not say its platform; "+why
		return c
	}
	if img.OS == "linux" && "linux/"+img.Architecture == want {
		c.Level, c.Message = LevelOK, "image platform "+have+" matches ("+why+")"
		return c
	}
	c.Level = LevelError
	c.Message = fmt.Sprintf("image platform is %s but %s", have, why)
	if t.Provider == cloud.GCP {
		c.Message += `: it would fail later as "failed to start and listen on PORT"`
		c.Hint = "rebuild with --platform linux/amd64"
	} else {
		c.Hint = "rebuild with --platform " + want
		switch img.Architecture {
		case "arm64":
			c.Hint += ", or deploy with --arch arm64"
		case "amd64":
			c.Hint += ", or deploy with --arch x86_64"
		}
	}
	return c
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func sizeCheck(img cloud.ImageDetail, t DoctorTarget) Check {
	c := Check{ID: "size", Level: LevelInfo}
	msg := "image is " + humanBytes(img.Size) + " uncompressed"
	if big := biggestLayers(img.Layers, 3); big != "" {
		msg += "; biggest layers: " + big
	}
	if t.Provider == cloud.AWS {
		limit := t.SizeLimit
		if limit <= 0 {
			limit = LambdaImageLimit
		}
		if img.Size > limit {
			c.Level = LevelError
			c.Message = msg + "; Lambda's limit is " + humanBytes(limit)
			c.Hint = "shrink the image: a smaller base, a multi-stage build, fewer files in the big layers"
			return c
		}
		c.Level = LevelOK
		msg += " (Lambda's limit is " + humanBytes(limit) + "; every byte adds to the cold start)"
	}
	c.Message = msg
	return c
}

// biggestLayers names the n biggest layers with their size and the step
// that made them.
func biggestLayers(ls []cloud.Layer, n int) string {
	ls = slices.Clone(ls)
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].Size > ls[j].Size })
	var parts []string
	for _, l := range ls {
		if len(parts) == n || l.Size == 0 {
			break
		}
		step := strings.TrimSpace(strings.TrimPrefix(l.CreatedBy, "/bin/sh -c #(nop) "))
		if len(step) > 60 {
			step = step[:57] + "…"
		}
		if step == "" {
			step = "(unknown step)"
		}
		parts = append(parts, humanBytes(l.Size)+" "+step)
	}
	return strings.Join(parts, ", ")
}

func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

func entrypointCheck(img cloud.ImageDetail, t DoctorTarget) Check {
	c := Check{ID: "entrypoint"}
	switch {
	case len(img.Entrypoint) > 0 || len(img.Cmd) > 0:
		c.Level = LevelOK
		c.Message = "runs " + strings.Join(append(slices.Clone(img.Entrypoint), img.Cmd...), " ")
	case t.CommandSet:
		c.Level, c.Message = LevelOK, "the image has no ENTRYPOINT or CMD; the target's image config sets the command"
	default:
		c.Level, c.Message = LevelError, "the image has no ENTRYPOINT and no CMD: the platform would have nothing to run"
		if lambdaLike(t) {
			c.Hint = `add CMD [ "app.handler" ] (on a Lambda base image) or an ENTRYPOINT running your runtime`
		} else {
			c.Hint = "add an ENTRYPOINT or CMD that starts your server on $PORT"
		}
	}
	return c
}

func portCheck(img cloud.ImageDetail, t DoctorTarget) (Check, bool) {
	if !cloudRunLike(t) {
		return Check{}, false
	}
	port := t.Port
	if port == 0 {
		port = 8080
	}
	c := Check{ID: "port"}
	if len(img.ExposedPorts) == 0 {
		c.Level, c.Message = LevelInfo, fmt.Sprintf("the image exposes no port; it must listen on $PORT (%d)", port)
		return c, true
	}
	for _, p := range img.ExposedPorts {
		if num, _, _ := strings.Cut(p, "/"); num == strconv.Itoa(port) {
			c.Level, c.Message = LevelOK, fmt.Sprintf("the image exposes %s, the port the service uses", p)
			return c, true
		}
	}
	c.Level = LevelWarning
	c.Message = fmt.Sprintf("the service uses port %d but the image exposes %s", port, strings.Join(img.ExposedPorts, ", "))
	c.Hint = fmt.Sprintf("deploy with --port %s, or make the app listen on $PORT", strings.Split(img.ExposedPorts[0], "/")[0])
	return c, true
}

// DoctorTargetFor gathers the target facts doctor needs for a deploy: the
// request's settings, and for Lambda without --arch the function's own
// architecture when backend can describe it (an error there leaves the
// default: a function being created runs x86_64 unless --arch says otherwise).
func DoctorTargetFor(ctx context.Context, backend any, req cloud.DeployRequest) DoctorTarget {
	t := DoctorTarget{Address: req.Target.String(), Provider: req.Target.Provider, Arch: req.Arch, Mode: req.As, Port: req.Port}
	if t.Provider == cloud.Local && t.Mode == "" {
		t.Mode = "lambda"
	}
	if t.Provider == cloud.AWS && t.Arch == "" && !req.Create {
		if d, ok := backend.(cloud.Describer); ok {
			if fn, err := d.Describe(ctx, req.Target); err == nil {
				t.Arch = fn.Architecture
			}
		}
	}
	return t
}
