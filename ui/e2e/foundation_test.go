package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// `fndeck images --json` lists exactly what `docker images` lists.
func TestImagesJSONMatchesDockerImages(t *testing.T) {
	cloudtest.RequireDocker(t)
	ref := cloudtest.UniqueName("fndeck-e2e-json") + ":v1"
	buildScratchImage(t, "", ref)

	// Other test packages create and delete images while this runs, so
	// docker's view is read before and after ours: every image docker lists
	// both times must be in fndeck's list, and fndeck may list nothing that
	// docker listed neither time.
	before := dockerImages(t)
	stdout, stderr, code := runCLI(t, isolatedEnv(t), "", "images", "--json")
	if code != 0 {
		t.Fatalf("fndeck images --json exited %d: %s", code, stderr)
	}
	after := dockerImages(t)
	want := map[string]int64{} // stable images: ID → size
	wantTags := map[string][]string{}
	for id, tags := range before {
		if tags2, ok := after[id]; ok && strings.Join(tags, ",") == strings.Join(tags2, ",") {
			wantTags[id] = tags
			want[id] = 0
		}
	}
	for id := range want {
		out, _, err := runDocker("image", "inspect", "--format", "{{.Size}}", id)
		if err != nil {
			delete(want, id) // removed meanwhile
			continue
		}
		sz, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		want[id] = sz
	}
	got := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var im struct {
			ID           string   `json:"id"`
			RepoTags     []string `json:"repo_tags"`
			Size         int64    `json:"size"`
			Architecture string   `json:"architecture"`
			OS           string   `json:"os"`
		}
		if err := json.Unmarshal([]byte(line), &im); err != nil {
			t.Fatalf("line %q is not a JSON object: %v", line, err)
		}
		if got[im.ID] {
			t.Errorf("image %s listed twice", im.ID)
		}
		got[im.ID] = true
		sz, ok := want[im.ID]
		if !ok {
			if _, b := before[im.ID]; !b {
				if _, a := after[im.ID]; !a {
					t.Errorf("fndeck lists %s which docker images does not", im.ID)
				}
			}
			continue
		}
		if im.Size != sz {
			t.Errorf("%s: size %d, docker says %d", im.ID, im.Size, sz)
		}
		a, b := append([]string{}, im.RepoTags...), append([]string{}, wantTags[im.ID]...)
		sort.Strings(a)
		sort.Strings(b)
		if strings.Join(a, ",") != strings.Join(b, ",") {
			t.Errorf("%s: tags %v, docker says %v", im.ID, a, b)
		}
		if im.OS == "" || im.Architecture == "" {
			t.Errorf("%s: os/architecture missing (%q/%q)", im.ID, im.OS, im.Architecture)
		}
	}
	for id := range want {
		if !got[id] {
			t.Errorf("docker images lists %s, fndeck does not", id)
		}
	}
	if !strings.Contains(stdout, ref) {
		t.Errorf("the image built for this test (%s) is not in the output", ref)
	}
}

// dockerImages is `docker images`: image ID → sorted tags.
func dockerImages(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, line := range strings.Split(cloudtest.Docker(t, "images", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		if _, ok := out[f[0]]; !ok {
			out[f[0]] = []string{}
		}
		if !strings.HasSuffix(f[1], ":<none>") { // untagged, or a repository known by digest only
			out[f[0]] = append(out[f[0]], f[1])
		}
	}
	for id := range out {
		sort.Strings(out[id])
	}
	return out
}

// In tmux at 160x48 the real binary shows an image built in setup; `/` + part
// of its tag narrows the list to it; `?` shows key help; `:` lists actions;
// `q` exits cleanly.
func TestTUIImagesFilterHelpPaletteQuit(t *testing.T) {
	cloudtest.RequireDocker(t)
	base := cloudtest.UniqueName("fndeck-e2e-tui")
	alpha := base + "-alpha:v1"
	beta := base + "-beta:v1"
	buildScratchImage(t, "", alpha)
	buildScratchImage(t, "", beta)

	s := startTUI(t, isolatedEnv(t))
	// The engine may hold hundreds of images (other tests, the benchmark
	// fixture): find ours the way a user would, with the filter.
	s.waitFor(`Images \([1-9]`, 30*time.Second)
	s.keys("1", "/")
	s.typeText(base)
	s.keys("Enter")
	screen := s.waitFor(regexp.QuoteMeta(base+"-alpha"), 15*time.Second)
	if !strings.Contains(screen, base+"-beta") {
		t.Fatalf("filter %q does not show both test images:\n%s", base, screen)
	}
	s.keys("Escape")
	time.Sleep(150 * time.Millisecond) // let the terminal's ESC timeout pass

	s.keys("/")
	s.typeText(base + "-alp")
	s.keys("Enter")
	screen = s.waitGone(regexp.QuoteMeta(base+"-beta"), 10*time.Second)
	if !strings.Contains(screen, base+"-alpha") {
		t.Fatalf("filter hid the matching image too:\n%s", screen)
	}
	if n := strings.Count(screen, ":v1 "); n != 1 {
		t.Errorf("filtered list shows %d rows, want exactly the one image:\n%s", n, screen)
	}
	s.keys("Escape")
	time.Sleep(150 * time.Millisecond)

	s.keys("?")
	screen = s.waitFor(`keys — esc closes`, 10*time.Second)
	for _, want := range []string{"tab", "quit", "filter", "build", "invoke", "cancel"} {
		if !strings.Contains(strings.ToLower(screen), want) {
			t.Errorf("help screen lacks %q:\n%s", want, screen)
		}
	}
	// Wait for each escape to land: a key sent right after ESC reads as alt+key.
	s.keys("Escape")
	s.waitGone(`keys — esc closes`, 10*time.Second)

	s.keys(":")
	screen = s.waitFor(`images: build`, 10*time.Second)
	for _, want := range []string{"images: build", "images: push", "images: delete", "functions: invoke", "quit"} {
		if !strings.Contains(strings.ToLower(screen), want) {
			t.Errorf("palette lacks action %q:\n%s", want, screen)
		}
	}
	s.keys("Escape")
	s.waitGone(`images: build`, 10*time.Second)
	s.keys("q")
	if code := s.exitCode(15 * time.Second); code != 0 {
		t.Fatalf("fndeck exited %d after q", code)
	}
}

// Stopping dockerd while fndeck runs shows the unreachable state; starting
// it again brings the images back without restarting fndeck. A private
// dockerd is used so other tests' engine is never disturbed.
func TestTUIEngineGoesAwayAndComesBack(t *testing.T) {
	cloudtest.RequireDocker(t)
	if os.Geteuid() != 0 {
		cloudtest.Missing(t, "root", "a private dockerd for this test needs root")
	}
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		cloudtest.Missing(t, "dockerd", "apt-get install docker.io")
	}
	dir, err := os.MkdirTemp("/tmp", "fdd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "d.sock")
	host := "unix://" + sock
	start := func() *exec.Cmd {
		logf, _ := os.OpenFile(filepath.Join(dir, "log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		cmd := exec.Command(dockerd, "--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
			"--pidfile", filepath.Join(dir, "pid"), "-H", host, "--bridge=none", "--iptables=false", "--ip-forward=false")
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting private dockerd: %v", err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			c := exec.Command("docker", "info")
			c.Env = append(os.Environ(), "DOCKER_HOST="+host)
			if c.Run() == nil {
				return cmd
			}
			time.Sleep(200 * time.Millisecond)
		}
		b, _ := os.ReadFile(filepath.Join(dir, "log"))
		t.Fatalf("private dockerd did not answer:\n%s", b)
		return nil
	}
	stop := func(cmd *exec.Cmd) {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	d := start()
	t.Cleanup(func() {
		if d != nil {
			stop(d)
		}
	})
	ref := cloudtest.UniqueName("fndeck-e2e-restart") + ":v1"
	buildScratchImage(t, host, ref)

	s := startTUI(t, isolatedEnv(t, "DOCKER_HOST="+host))
	s.waitFor(regexp.QuoteMeta(strings.TrimSuffix(ref, ":v1")), 30*time.Second)

	stop(d)
	d = nil
	screen := s.waitFor(`(?i)not reachable`, 30*time.Second)
	if !strings.Contains(screen, sock) {
		t.Errorf("the unreachable message does not name the address %s:\n%s", sock, screen)
	}
	// The rest of the UI keeps working: focus moves and help opens.
	s.keys("2")
	s.keys("?")
	s.waitFor(`keys — esc closes`, 10*time.Second)
	s.keys("Escape")
	s.waitGone(`keys — esc closes`, 10*time.Second)

	d = start()
	s.keys("1")
	s.waitFor(regexp.QuoteMeta(strings.TrimSuffix(ref, ":v1")), 60*time.Second)
	s.keys("q")
	if code := s.exitCode(15 * time.Second); code != 0 {
		t.Fatalf("fndeck exited %d", code)
	}
}

// A config file with two mistakes prints both, each with its line and
// column, and exits 2.
func TestConfigTwoMistakes(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("aws:\n  regions: [eu-west-1]\nlogs:\n  buffer_lines: -5\nlocal:\n  network: wifi\n"), 0o600)
	_, stderr, code := runCLI(t, isolatedEnv(t), "", "--config", cfg, "images")
	if code != 2 {
		t.Fatalf("exit code %d, want 2; stderr:\n%s", code, stderr)
	}
	for _, pos := range []string{"config.yaml:4:", "config.yaml:6:"} {
		if !strings.Contains(stderr, pos) {
			t.Errorf("stderr does not point at %s…:\n%s", pos, stderr)
		}
	}
	if !strings.Contains(stderr, "buffer_lines") || !strings.Contains(stderr, "network") {
		t.Errorf("stderr does not name both keys:\n%s", stderr)
	}
}
