package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"github.com/fndeck/fndeck/cloud"
)

// List lists local images, one entry per image ID. API 1.41 lists carry no
// os/arch, so those stay empty here: the UI inspects lazily.
func (e *Engine) List(ctx context.Context, all bool) ([]cloud.Image, error) {
	res, err := e.cli.ImageList(ctx, client.ImageListOptions{All: all})
	if err != nil {
		return nil, e.wrap(ctx, err, "listing images")
	}
	seen := make(map[string]bool, len(res.Items))
	out := make([]cloud.Image, 0, len(res.Items))
	for _, s := range res.Items {
		if seen[s.ID] {
			continue
		}
		seen[s.ID] = true
		tags := realRefs(s.RepoTags)
		out = append(out, cloud.Image{
			ID:          s.ID,
			RepoTags:    tags,
			RepoDigests: realRefs(s.RepoDigests),
			Size:        s.Size,
			Created:     time.Unix(s.Created, 0),
			Dangling:    len(tags) == 0,
		})
	}
	return out, nil
}

// realRefs drops the "<none>:<none>" / "<none>@<none>" placeholders older
// engines put in place of missing tags and digests.
func realRefs(refs []string) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		if strings.HasPrefix(r, "<none>") {
			continue
		}
		out = append(out, r)
	}
	return out
}

// Inspect returns one image's configuration and history. Env values may be
// secrets: only the names are kept.
func (e *Engine) Inspect(ctx context.Context, ref string) (cloud.ImageDetail, error) {
	ins, err := e.cli.ImageInspect(ctx, ref)
	if err != nil {
		return cloud.ImageDetail{}, e.wrap(ctx, err, fmt.Sprintf("inspecting image %s", ref))
	}
	d := cloud.ImageDetail{
		Image: cloud.Image{
			ID:           ins.ID,
			RepoTags:     realRefs(ins.RepoTags),
			RepoDigests:  realRefs(ins.RepoDigests),
			Size:         ins.Size,
			OS:           ins.Os,
			Architecture: ins.Architecture,
			Variant:      ins.Variant,
		},
		EnvNames:     []string{},
		ExposedPorts: []string{},
		Labels:       map[string]string{},
	}
	d.Dangling = len(d.RepoTags) == 0
	if t, err := time.Parse(time.RFC3339Nano, ins.Created); err == nil {
		d.Created = t
	}
	if ins.Descriptor != nil {
		d.MediaType = ins.Descriptor.MediaType
	}
	if c := ins.Config; c != nil {
		d.Entrypoint = c.Entrypoint
		d.Cmd = c.Cmd
		d.WorkingDir = c.WorkingDir
		d.User = c.User
		for _, kv := range c.Env {
			name, _, _ := strings.Cut(kv, "=")
			d.EnvNames = append(d.EnvNames, name)
		}
		for p := range c.ExposedPorts {
			d.ExposedPorts = append(d.ExposedPorts, p)
		}
		sort.Strings(d.ExposedPorts)
		for k, v := range c.Labels {
			d.Labels[k] = v
		}
	}
	hist, err := e.cli.ImageHistory(ctx, ins.ID)
	if err != nil {
		return cloud.ImageDetail{}, e.wrap(ctx, err, fmt.Sprintf("reading history of image %s", ref))
	}
	for _, h := range hist.Items {
		d.Layers = append(d.Layers, cloud.Layer{
			ID:        h.ID,
			Created:   time.Unix(h.Created, 0),
			CreatedBy: redactCreatedBy(h.CreatedBy),
			Size:      h.Size,
			Comment:   h.Comment,
		})
	}
	return d, nil
}

// Remove deletes an image; untagged parents are pruned. An image a container
// uses is refused with the engine's reason (cloud.ErrConflict) unless force.
func (e *Engine) Remove(ctx context.Context, ref string, force bool) ([]cloud.RemovedImage, error) {
	res, err := e.cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: force, PruneChildren: true})
	if err != nil {
		return nil, e.wrap(ctx, err, fmt.Sprintf("removing image %s", ref))
	}
	out := make([]cloud.RemovedImage, 0, len(res.Items))
	for _, it := range res.Items {
		out = append(out, cloud.RemovedImage{Untagged: it.Untagged, Deleted: it.Deleted})
	}
	return out, nil
}

// Events streams image events until ctx ends (nil on the error channel) or
// the connection is lost (an error wrapping cloud.ErrUnreachable), so the
// caller can reconnect. The error channel receives exactly one value, then
// both channels close.
func (e *Engine) Events(ctx context.Context) (<-chan cloud.ImageEvent, <-chan error) {
	out := make(chan cloud.ImageEvent)
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		defer close(errc)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		res := e.cli.Events(ctx, client.EventsListOptions{
			Filters: make(client.Filters).Add("type", string(events.ImageEventType)),
		})
		for {
			select {
			case <-ctx.Done():
				errc <- nil
				return
			case m := <-res.Messages:
				ev := cloud.ImageEvent{Action: string(m.Action), ID: m.Actor.ID}
				select {
				case out <- ev:
				case <-ctx.Done():
					errc <- nil
					return
				}
			case err := <-res.Err:
				switch {
				case ctx.Err() != nil:
					errc <- nil
				case err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
					errc <- fmt.Errorf("docker event stream ended: %w", &unreachableError{host: e.ep.Host, reason: "connection lost"})
				default:
					werr := e.wrap(ctx, err, "reading docker events")
					if !errors.Is(werr, cloud.ErrUnreachable) {
						// Whatever broke the stream, the caller's remedy is to reconnect.
						werr = fmt.Errorf("%w (%w)", werr, cloud.ErrUnreachable)
					}
					errc <- werr
				}
				return
			}
		}
	}()
	return out, errc
}

var (
	envNameRe    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?:^|\s)([A-Za-z_][A-Za-z0-9_.-]*)=`) })
	buildArgsRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\|(\d+) `) })
	envInstrRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(.*?(?:#\(nop\)\s+)?)ENV\s+(.*)$`) })
	shellStartRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s/bin/sh -c\s`) })
)

// redactCreatedBy keeps an image history line readable while dropping the
// values it may carry: ENV values and build-arg values (the classic
// builder records RUN steps as "|2 A=1 B=2 /bin/sh -c ..."). Either may be
// a secret; names stay so the user still sees what was set.
func redactCreatedBy(s string) string {
	if m := buildArgsRe().FindStringSubmatch(s); m != nil {
		rest := s[len(m[0]):]
		args, cmd := rest, ""
		if loc := shellStartRe().FindStringIndex(rest); loc != nil {
			args, cmd = rest[:loc[0]], rest[loc[0]:]
		} else if n, err := strconv.Atoi(m[1]); err == nil {
			// Exec form: the args are the first n space-separated words.
			parts := strings.SplitN(rest, " ", n+1)
			if len(parts) == n+1 {
				args, cmd = strings.Join(parts[:n], " "), " "+parts[n]
			}
		}
		s = m[0] + namesOnly(args) + cmd
	}
	if m := envInstrRe().FindStringSubmatch(s); m != nil && (strings.Contains(m[1], "#(nop)") || strings.TrimSpace(m[1]) == "") {
		s = m[1] + "ENV " + namesOnly(m[2])
	}
	return s
}

// namesOnly turns "A=1 B=two words" into "A=… B=…".
func namesOnly(kv string) string {
	var names []string
	for _, m := range envNameRe().FindAllStringSubmatch(kv, -1) {
		names = append(names, m[1]+"=…")
	}
	if len(names) == 0 {
		return "…"
	}
	return strings.Join(names, " ")
}
