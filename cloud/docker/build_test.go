package docker

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// A busybox image built from a context with .dockerignore: the ignored
// files are absent inside it, RUN output reaches the sink, build args apply,
// and Inspect/List/Remove report it as the engine has it.
func TestBuildContextImagesLifecycle(t *testing.T) {
	e := newEngine(t)
	ctx := testCtx(t)
	dir := busyboxContext(t, map[string]string{
		"Dockerfile": busyboxHead + `ARG GREETING
ENV SECRET_TOKEN=do-not-show APP_MODE=prod
LABEL greeting=$GREETING
COPY . /ctx
RUN echo built-with-$GREETING
EXPOSE 8080/tcp
WORKDIR /ctx
CMD ["ls","-a","/ctx"]
`,
		".dockerignore":       "*.secret\nnode_modules\n",
		"app.txt":             "app",
		"db.secret":           "s3cr3t",
		"node_modules/x.js":   "x",
		"sub/kept.txt":        "kept",
		"sub/nested.secret":   "nested but not matched by *.secret at the root",
		"sub/deeper/file.txt": "deep",
	})
	tag := cloudtest.UniqueName("fndeck-docker-ctx") + ":test"
	removeImageAtEnd(t, tag)
	sink := &recSink{}
	res, err := e.Build(ctx, cloud.BuildOptions{ContextDir: dir, Tags: []string{tag}, BuildArgs: map[string]string{"GREETING": "hi"}, NoCache: true}, sink)
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, sink.text())
	}
	if !strings.HasPrefix(res.ImageID, "sha256:") || res.OS != "linux" || res.Architecture == "" {
		t.Fatalf("BuildResult = %+v", res)
	}
	if !strings.Contains(sink.text(), "built-with-hi") {
		t.Fatalf("RUN output with the build arg missing from the sink:\n%s", sink.text())
	}

	listing := cloudtest.Docker(t, "run", "--rm", "--network", "host", tag, "ls", "-a", "/ctx", "/ctx/sub")
	for _, want := range []string{"app.txt", "kept.txt", "nested.secret", "deeper"} {
		if !strings.Contains(listing, want) {
			t.Errorf("%s missing from the image:\n%s", want, listing)
		}
	}
	for _, ignored := range []string{"db.secret", "node_modules"} {
		if strings.Contains(listing, ignored) {
			t.Errorf(".dockerignore'd %s is in the image:\n%s", ignored, listing)
		}
	}

	d, err := e.Inspect(ctx, tag)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if d.ID != res.ImageID || d.OS != "linux" || d.Architecture == "" || d.WorkingDir != "/ctx" ||
		!slices.Equal(d.Cmd, []string{"ls", "-a", "/ctx"}) || d.Labels["greeting"] != "hi" ||
		!slices.Equal(d.ExposedPorts, []string{"8080/tcp"}) || !slices.Contains(d.RepoTags, tag) {
		t.Fatalf("Inspect = %+v", d)
	}
	if !slices.Contains(d.EnvNames, "SECRET_TOKEN") || !slices.Contains(d.EnvNames, "APP_MODE") {
		t.Fatalf("EnvNames = %v", d.EnvNames)
	}
	js, _ := json.Marshal(d)
	if strings.Contains(string(js), "do-not-show") {
		t.Fatal("an env value leaked into ImageDetail")
	}
	var sawRun bool
	for _, l := range d.Layers {
		sawRun = sawRun || strings.Contains(l.CreatedBy, "echo built-with-")
	}
	if len(d.Layers) < 5 || !sawRun {
		t.Fatalf("Layers = %+v", d.Layers)
	}

	imgs, err := e.List(ctx, false)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	n := 0
	for _, im := range imgs {
		if im.ID == res.ImageID {
			n++
			if !slices.Contains(im.RepoTags, tag) || im.Dangling || im.Size <= 0 || im.Created.IsZero() {
				t.Fatalf("listed image = %+v", im)
			}
		}
	}
	if n != 1 {
		t.Fatalf("image %s listed %d times, want once", res.ImageID, n)
	}

	// In use by a container: refused with the engine's reason.
	cname := cloudtest.UniqueName("fndeck-docker-user")
	cloudtest.Docker(t, "create", "--name", cname, "--network", "host", tag)
	t.Cleanup(func() { dockerQuiet("rm", "-f", cname) })
	_, err = e.Remove(ctx, tag, false)
	if !errors.Is(err, cloud.ErrConflict) || !strings.Contains(err.Error(), "container") {
		t.Fatalf("Remove of an image in use = %v, want ErrConflict naming the container", err)
	}
	cloudtest.Docker(t, "rm", cname)
	removed, err := e.Remove(ctx, tag, false)
	if err != nil {
		t.Fatalf("Remove: %v", err)
	}
	var untagged, deleted bool
	for _, r := range removed {
		untagged = untagged || r.Untagged == tag
		deleted = deleted || r.Deleted == res.ImageID
	}
	// PruneChildren: the intermediate step images go too, so more than one deletion.
	if !untagged || !deleted || len(removed) < 3 {
		t.Fatalf("Remove = %+v", removed)
	}
	if _, err := e.Remove(ctx, tag, false); !errors.Is(err, cloud.ErrNotFound) {
		t.Fatalf("second Remove = %v, want ErrNotFound", err)
	}
	if _, err := e.Inspect(ctx, tag); !errors.Is(err, cloud.ErrNotFound) {
		t.Fatalf("Inspect of a removed image = %v, want ErrNotFound", err)
	}
}

// A static Go binary in a FROM scratch image, from a Dockerfile outside the
// context, built for linux/arm64: the result reports the architecture the
// engine really recorded and warns when it differs from the request.
func TestBuildStaticBinaryPlatform(t *testing.T) {
	e := newEngine(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	cloudtest.BuildStatic(t, "./testdata/hello", dir, "hello")
	dfDir := t.TempDir()
	df := filepath.Join(dfDir, "hello.Dockerfile")
	if err := os.WriteFile(df, []byte("FROM scratch\nCOPY hello /hello\nENTRYPOINT [\"/hello\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := cloudtest.UniqueName("fndeck-docker-hello") + ":arm"
	removeImageAtEnd(t, tag)
	sink := &recSink{}
	res, err := e.Build(ctx, cloud.BuildOptions{ContextDir: dir, Dockerfile: df, Tags: []string{tag}, Platform: "linux/arm64", NoCache: true}, sink)
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, sink.text())
	}
	engineArch := cloudtest.Docker(t, "image", "inspect", "-f", "{{.Architecture}}", tag)
	if res.Architecture != engineArch {
		t.Fatalf("BuildResult.Architecture = %q, engine says %q", res.Architecture, engineArch)
	}
	warned := strings.Contains(sink.text(), "warning: requested platform linux/arm64")
	if (engineArch != "arm64") != warned {
		t.Fatalf("engine recorded %s; warning on the sink = %v:\n%s", engineArch, warned, sink.text())
	}
	t.Logf("requested linux/arm64, engine recorded %s/%s", res.OS, res.Architecture)
	out := cloudtest.Docker(t, "run", "--rm", "--network", "host", tag, "/hello", "/"+filepath.Base(df))
	if !strings.Contains(out, "hello from fndeck") || !strings.Contains(out, "absent /hello.Dockerfile") {
		t.Fatalf("running the image printed %q", out)
	}
}

func TestBuildFailures(t *testing.T) {
	e := newEngine(t)
	ctx := testCtx(t)

	t.Run("missing Dockerfile", func(t *testing.T) {
		dir := t.TempDir()
		_, err := e.Build(ctx, cloud.BuildOptions{ContextDir: dir, Dockerfile: "nope/Dockerfile"}, &recSink{})
		want := filepath.Join(dir, "nope", "Dockerfile") + " not found"
		t.Logf("missing Dockerfile: %v", err)
		if !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Fatalf("Build = %v, want ErrInvalid containing %q", err, want)
		}
	})

	t.Run("syntax error", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"Dockerfile": "FROM scratch\nFOOBAR baz\n"})
		sink := &recSink{}
		_, err := e.Build(ctx, cloud.BuildOptions{ContextDir: dir, Tags: []string{cloudtest.UniqueName("fndeck-docker-syntax")}}, sink)
		t.Logf("syntax error: %v", err)
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "unknown instruction") || !strings.Contains(err.Error(), "line 2") {
			t.Fatalf("Build = %v, want the parse error naming line 2", err)
		}
	})

	t.Run("failing RUN", func(t *testing.T) {
		dir := busyboxContext(t, map[string]string{"Dockerfile": busyboxHead + "RUN echo before-fail && false\nRUN echo never\n"})
		tag := cloudtest.UniqueName("fndeck-docker-fail") + ":x"
		removeImageAtEnd(t, tag)
		sink := &recSink{}
		t.Cleanup(func() { removeStepImages(sink.text()) })
		_, err := e.Build(ctx, cloud.BuildOptions{ContextDir: dir, Tags: []string{tag}, NoCache: true}, sink)
		t.Logf("failing RUN: %v", err)
		if err == nil || !strings.Contains(err.Error(), "Step 4/5 : RUN echo before-fail && false") || !strings.Contains(err.Error(), "non-zero code: 1") {
			t.Fatalf("Build = %v, want the step and the exit code", err)
		}
		if !strings.Contains(sink.text(), "before-fail") {
			t.Fatalf("the failing step's output is not on the sink:\n%s", sink.text())
		}
		for _, id := range runningIDs(sink.text()) {
			if out := dockerQuiet("ps", "-a", "-q", "--filter", "id="+id); out != "" {
				t.Fatalf("build container %s left behind", id)
			}
		}
		if out := dockerQuiet("image", "ls", "-q", tag); out != "" {
			t.Fatalf("failed build left tag %s", tag)
		}
	})
}

var stepImageRe = regexp.MustCompile(`(?m)^ ---> ([0-9a-f]{12})$`)

// removeStepImages removes the step images a failed or cancelled build
// committed (built with NoCache, so they are this test's alone), newest
// first; never forced, so an image something else uses stays.
func removeStepImages(text string) {
	ids := stepImageRe.FindAllStringSubmatch(text, -1)
	for i := len(ids) - 1; i >= 0; i-- {
		dockerQuiet("rmi", ids[i][1])
	}
}

// sleepStepStarted returns a line callback that sends the container ID of
// the "RUN sleep 300" step once it runs (not an earlier RUN step's).
func sleepStepStarted(started chan<- string) func(string) {
	inSleep := false
	return func(l string) {
		if strings.HasPrefix(l, "Step ") {
			inSleep = strings.HasSuffix(l, "RUN sleep 300")
		}
		if m := runningInRe.FindStringSubmatch(l); m != nil && inSleep {
			select {
			case started <- m[1]:
			default:
			}
		}
	}
}

var runningInRe = regexp.MustCompile(`Running in ([0-9a-f]{12})`)

func runningIDs(text string) []string {
	var ids []string
	for _, m := range runningInRe.FindAllStringSubmatch(text, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// Cancelling a build stuck in `RUN sleep 300` returns promptly and leaves
// neither the step's container nor the tag behind.
func TestBuildCancel(t *testing.T) {
	e := newEngine(t)
	dir := busyboxContext(t, map[string]string{"Dockerfile": busyboxHead + "RUN sleep 300\n"})
	tag := cloudtest.UniqueName("fndeck-docker-cancel") + ":x"
	removeImageAtEnd(t, tag)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan string, 1)
	sink := &recSink{onLine: sleepStepStarted(started)}
	done := make(chan error, 1)
	go func() {
		_, err := e.Build(ctx, cloud.BuildOptions{ContextDir: dir, Tags: []string{tag}, NoCache: true}, sink)
		done <- err
	}()
	t.Cleanup(func() { removeStepImages(sink.text()) })
	var cid string
	select {
	case cid = <-started:
	case err := <-done:
		t.Fatalf("build ended before the sleep step ran: %v\n%s", err, sink.text())
	case <-time.After(2 * time.Minute):
		t.Fatalf("the sleep step never started:\n%s", sink.text())
	}
	// Let the step's process actually run before pulling the plug.
	time.Sleep(500 * time.Millisecond)
	t0 := time.Now()
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Build did not return within 30s of cancel")
	}
	latency := time.Since(t0)
	t.Logf("cancel latency (cancel → Build returned, cleanup included): %v", latency)
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "build cancelled") {
		t.Fatalf("Build = %v, want a cancelled build", err)
	}
	if strings.Contains(err.Error(), "cleanup failed") {
		t.Fatalf("cleanup failed: %v", err)
	}
	if out := dockerQuiet("ps", "-a", "-q", "--filter", "id="+cid); out != "" {
		t.Fatalf("build container %s left behind after cancel", cid)
	}
	if err := exec.Command("docker", "image", "inspect", tag).Run(); err == nil {
		t.Fatalf("cancelled build left tag %s", tag)
	}
}

// Benchmark of the cancel latency: from cancel to Build returning with
// its container gone. Each iteration runs a real build, so run it with
// -benchtime=3x.
func BenchmarkBuildCancel(b *testing.B) {
	host := cloudtest.RequireDocker(b)
	ep, err := Resolve(host)
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(ep)
	if err != nil {
		b.Fatal(err)
	}
	bb := cloudtest.BusyboxPath(b)
	dir := b.TempDir()
	raw, err := os.ReadFile(bb)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "busybox"), raw, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(busyboxHead+"RUN sleep 300\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		started := make(chan string, 1)
		sink := &recSink{onLine: sleepStepStarted(started)}
		done := make(chan error, 1)
		go func() {
			_, err := e.Build(ctx, cloud.BuildOptions{ContextDir: dir, NoCache: true}, sink)
			done <- err
		}()
		select {
		case <-started:
		case err := <-done:
			b.Fatalf("build ended early: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
		t0 := time.Now()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "cleanup failed") {
			b.Fatalf("Build = %v", err)
		}
		total += time.Since(t0)
		removeStepImages(sink.text())
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/cancel")
}
