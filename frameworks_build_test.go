package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/docker"
	"github.com/fndeck/fndeck/config"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

type lineSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *lineSink) Line(l string)           { s.mu.Lock(); s.lines = append(s.lines, l); s.mu.Unlock() }
func (s *lineSink) Progress(cloud.Progress) {}
func (s *lineSink) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// Functions from a serverless.yml (provider.ecr.images) and a SAM template
// (Metadata) build on the real engine with the Dockerfile, context, build
// args, platform and target their framework file gives: the path the TUI's
// build takes (projectBuilds).
func TestFrameworkFunctionsBuild(t *testing.T) {
	host := cloudtest.RequireDocker(t)
	ep, err := docker.Resolve(host)
	if err != nil {
		t.Fatal(err)
	}
	engine, err := docker.New(ep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = engine.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	builds := map[string]cloud.BuildOptions{}
	for _, dir := range []string{"serverless", "sam"} {
		p, err := config.LoadProjectWith(filepath.Join("config", "testdata", "frameworks", dir), config.ProjectOptions{Stage: "prod"})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range projectBuilds(p) {
			builds[b.Function] = b.Options
		}
	}
	if _, ok := builds["secretive"]; !ok {
		t.Errorf("secretive: its build is known (only its name is not), want it among the builds %v", builds)
	}
	if _, ok := builds["external"]; ok {
		t.Errorf("external: an image given by URI has nothing to build")
	}

	cases := []struct {
		function string
		platform string
		labels   map[string]string
	}{
		// appimage: ./app, its Dockerfile, buildArgs with ${sls:stage}, linux/arm64.
		{"resize", "linux/arm64", map[string]string{"python": "3.12", "stage": "prod"}},
		// worker: ./worker with file Dockerfile.worker.
		{"worker", "", map[string]string{"built-from": "Dockerfile.worker"}},
		// SAM: DockerContext ./hello, DockerBuildArgs, DockerBuildTarget runtime
		// (the last stage COPYs a file the context lacks), Architectures arm64.
		{"HelloFunction", "linux/arm64", map[string]string{"stage": "runtime", "python": "3.12"}},
	}
	for _, tc := range cases {
		t.Run(tc.function, func(t *testing.T) {
			opts, ok := builds[tc.function]
			if !ok {
				t.Fatalf("no build for %s in %v", tc.function, builds)
			}
			if opts.Platform != tc.platform {
				t.Errorf("platform %q, want %q", opts.Platform, tc.platform)
			}
			tag := cloudtest.UniqueName("fndeck-fw-"+strings.ToLower(tc.function)) + ":test"
			opts.Tags = []string{tag}
			t.Cleanup(func() { _, _ = engine.Remove(context.Background(), tag, true) })
			sink := &lineSink{}
			res, err := engine.Build(ctx, opts, sink)
			if err != nil {
				t.Fatalf("Build(%+v): %v\n%s", opts, err, sink.text())
			}
			var labels map[string]string
			if err := json.Unmarshal([]byte(cloudtest.Docker(t, "image", "inspect", "-f", "{{json .Config.Labels}}", tag)), &labels); err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.labels {
				if labels[k] != v {
					t.Errorf("label %s = %q, want %q (labels %v)", k, labels[k], v, labels)
				}
			}
			// The engine records a FROM scratch build as its own architecture
			// and the build says so: either way arm64 was what was asked for.
			if tc.platform == "linux/arm64" && res.Architecture != "arm64" && !strings.Contains(sink.text(), "requested platform linux/arm64") {
				t.Errorf("arch %s and no warning: linux/arm64 was not requested\n%s", res.Architecture, sink.text())
			}
		})
	}
}
