package docker

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fndeck/fndeck/cloud"
)

// lostImageEngine answers like dockerd 20.10 when an image it was checking
// as a cache candidate is removed during the build: the first build fails
// with `unable to find image "sha256:…"`, the next succeeds. The race needs
// another client deleting images at the right instant, which a test against
// the real engine cannot arrange on demand, so this speaks the engine's HTTP
// API on 127.0.0.1 instead: its wire format is the real one, taken from the
// real engine's output in a failed CI run.
func lostImageEngine(t *testing.T) (*Engine, *atomic.Int32) {
	t.Helper()
	var builds atomic.Int32
	const id = "sha256:4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		switch {
		case strings.HasSuffix(r.URL.Path, "/_ping"):
			_, _ = io.WriteString(w, "OK")
		case strings.HasSuffix(r.URL.Path, "/build"):
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			lines := []string{
				`{"stream":"Step 1/2 : FROM scratch\n"}`,
				`{"stream":" ---\u003e \n"}`,
				`{"stream":"Step 2/2 : COPY hello /hello\n"}`,
			}
			if builds.Add(1) == 1 {
				lines = append(lines, `{"errorDetail":{"message":"unable to find image \"sha256:92bd3d476ef7233ac18bba0c5a3d3c383f883b2a1936c5603c3badaab09bfbaa\""},"error":"unable to find image \"sha256:92bd3d476ef7233ac18bba0c5a3d3c383f883b2a1936c5603c3badaab09bfbaa\""}`)
			} else {
				lines = append(lines, `{"stream":" ---\u003e 4c3b2a1f0e9d\n"}`, `{"aux":{"ID":"`+id+`"}}`, `{"stream":"Successfully built 4c3b2a1f0e9d\n"}`)
			}
			_, _ = io.WriteString(w, strings.Join(lines, "\r\n")+"\r\n")
		case strings.HasSuffix(r.URL.Path, "/images/"+id+"/json"):
			w.Header().Set("Content-Type", "application/json")
			_, _ = fmt.Fprintf(w, `{"Id":%q,"Os":"linux","Architecture":"amd64"}`, id)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	e, err := New(Endpoint{Host: "tcp://" + srv.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e, &builds
}

func TestBuildRunsAgainWhenTheEngineLosesACacheCandidate(t *testing.T) {
	e, builds := lostImageEngine(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM scratch\nCOPY hello /hello\n", "hello": "hi"})
	sink := &recSink{}
	res, err := e.Build(t.Context(), cloud.BuildOptions{ContextDir: dir}, sink)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	if !strings.HasPrefix(res.ImageID, "sha256:4c3b2a1f") || builds.Load() != 2 {
		t.Fatalf("result %+v after %d builds, want the second build's image", res, builds.Load())
	}
	out := strings.Join(sink.lines, "\n")
	if !strings.Contains(out, "fndeck: the engine lost an image") || strings.Count(out, "Step 2/2") != 2 {
		t.Fatalf("the output does not say why the build ran twice:\n%s", out)
	}
}

// Without the cache nothing is compared, so the message means something
// else: the error stands, and there is no second build.
func TestBuildWithoutCacheDoesNotRunAgain(t *testing.T) {
	e, builds := lostImageEngine(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM scratch\nCOPY hello /hello\n", "hello": "hi"})
	_, err := e.Build(t.Context(), cloud.BuildOptions{ContextDir: dir, NoCache: true}, &recSink{})
	if err == nil || !strings.Contains(err.Error(), `build failed at Step 2/2 : COPY hello /hello: unable to find image "sha256:92bd`) {
		t.Fatalf("err = %v", err)
	}
	if builds.Load() != 1 {
		t.Fatalf("%d builds, want 1", builds.Load())
	}
}
