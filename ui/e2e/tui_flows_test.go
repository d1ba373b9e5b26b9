package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// The TUI workflows (build, push, deploy, invoke, logs, rollback, remove)
// driven through the real binary in tmux, the way a user presses keys.

// flowName is a unique lower-case name usable as an image repository, a
// fndeck.yaml function and a local function name.
func flowName(prefix string) string {
	return strings.ToLower(strings.ReplaceAll(cloudtest.UniqueName(prefix), "_", "-"))
}

// project writes a project directory: fndeck.yaml with one function fn
// built from the directory itself, the Dockerfile, and extra files.
func project(t *testing.T, fn, dockerfile string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	yaml := fmt.Sprintf("functions:\n  %s:\n    build: {context: .}\n    targets:\n      dev: {local: {as: lambda}}\n", fn)
	files["fndeck.yaml"] = yaml
	files["Dockerfile"] = dockerfile
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// copyBusybox puts Debian's static busybox into dir, for RUN steps.
func copyBusybox(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(cloudtest.BusyboxPath(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// removeRepo removes every tag of repo the test created.
func removeRepo(t *testing.T, repo string) {
	t.Cleanup(func() {
		out, _, _ := runDocker("images", "--format", "{{.Repository}}:{{.Tag}}", repo)
		for _, ref := range strings.Fields(out) {
			_, _, _ = runDocker("rmi", "-f", ref)
		}
	})
}

// tagsOf lists repo's tags on the engine.
func tagsOf(repo string) []string {
	out, _, _ := runDocker("images", "--format", "{{.Tag}}", repo)
	return strings.Fields(out)
}

// filterImages narrows the Images pane to rows matching text and keeps the
// filter, so the first row is selected.
func (s *session) filterImages(text string) {
	s.t.Helper()
	s.keys("1")
	s.esc()
	s.keys("/")
	s.typeText(text)
	s.keys("Enter")
}

// TestTUIBuildFromProjectThenPush: `b` in the Images pane builds the
// fndeck.yaml function (the default tag is accepted), the task succeeds in
// the Tasks pane, the image appears in the Images pane; `p` pushes it to a
// registry typed at the prompt and the registry holds it.
func TestTUIBuildFromProjectThenPush(t *testing.T) {
	cloudtest.RequireDocker(t)
	reg := cloudtest.StartRegistry(t, false)
	fn := flowName("tuibuild")
	removeRepo(t, fn)
	dir := project(t, fn, "FROM scratch\nCOPY hello.txt /\nCOPY big.bin /\n", map[string]string{
		"hello.txt": "hello\n",
		// A layer big enough that the push streams progress for it.
		"big.bin": strings.Repeat("fndeck-layer-", 600_000),
	})
	s := startTUIIn(t, dir, isolatedEnv(t))
	s.waitFor(`1 Images`, 20*time.Second)
	s.keys("1", "b")
	screen := s.waitFor(`Tag the image as`, 10*time.Second)
	if !strings.Contains(screen, "> "+fn+":") {
		t.Fatalf("the tag prompt does not offer %s:TIMESTAMP:\n%s", fn, screen)
	}
	s.keys("Enter")
	s.waitFor(`✓ succeeded\s+build`, 2*time.Minute)
	s.waitFor(`built `+regexp.QuoteMeta(fn)+`:\d{8}-\d{6}`, 10*time.Second)
	if tags := tagsOf(fn); len(tags) != 2 {
		t.Fatalf("engine has tags %v of %s, want a timestamp tag and latest", tags, fn)
	}
	// The Images pane shows the new image (its event stream refreshes it).
	s.filterImages(fn)
	s.waitFor(regexp.QuoteMeta(fn)+`:latest`, 20*time.Second)

	// Push: the selected image, destination typed at the prompt.
	dest := reg.Addr + "/" + fn + ":pushed"
	removeRepo(t, reg.Addr+"/"+fn) // the push tags the local image first
	s.keys("p")
	s.waitFor(`Push as`, 10*time.Second)
	s.keys("C-u")
	s.typeText(dest)
	s.keys("Enter")
	// Per-layer progress shows in the Tasks pane while it runs, or the
	// summary once it is done; the output follows the task.
	s.waitFor(`✓ succeeded\s+push\s+127\.0\.0…\s+\S+\s+2/2 layers`, 2*time.Minute)
	s.waitFor(`(?m)^.*: Pushed[\s\S]*pushed `+regexp.QuoteMeta(reg.Addr+"/"+fn[:8]), 10*time.Second)
	req, _ := http.NewRequest("HEAD", "http://"+reg.Addr+"/v2/"+fn+"/manifests/pushed", nil)
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("registry has no manifest for %s: HTTP %d", dest, resp.StatusCode)
	}
}

// TestTUIFailingBuildShowsStep: a failing RUN marks the task failed and the
// failing step with its message is on screen.
func TestTUIFailingBuildShowsStep(t *testing.T) {
	cloudtest.RequireDocker(t)
	fn := flowName("tuifail")
	removeRepo(t, fn)
	dir := project(t, fn, "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"--install\",\"-s\",\"/bin\"]\nRUN echo about-to-fail && exit 3\n", map[string]string{})
	copyBusybox(t, dir)
	s := startTUIIn(t, dir, isolatedEnv(t))
	s.waitFor(`1 Images`, 20*time.Second)
	s.keys("1", "b")
	s.waitFor(`Tag the image as`, 10*time.Second)
	s.keys("Enter")
	s.waitFor(`✗ failed\s+build`, 2*time.Minute)
	// The output pane, wrapped, holds the whole error.
	s.keys("4", "w")
	screen := s.waitFor(`(?s)error: build failed at Step 4/4 : RUN echo.*non-zero.*code: 3`, 10*time.Second)
	if !strings.Contains(screen, "about-to-fail") {
		t.Errorf("the step's output is not shown:\n%s", screen)
	}
	if tags := tagsOf(fn); len(tags) != 0 {
		t.Errorf("a failed build left tags %v", tags)
	}
}

// TestTUICancelSlowBuild: quitting while a slow build runs asks first; `c`
// in the Tasks pane cancels it within a generous bound, it is marked
// cancelled, and no build container or tag is left behind.
func TestTUICancelSlowBuild(t *testing.T) {
	cloudtest.RequireDocker(t)
	fn := flowName("tuicancel")
	removeRepo(t, fn)
	mark := "mark-" + fn
	dir := project(t, fn, "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"--install\",\"-s\",\"/bin\"]\nRUN echo "+mark+" && sleep 300\n", map[string]string{})
	copyBusybox(t, dir)
	t.Cleanup(func() { removeContainersWith(mark) })
	s := startTUIIn(t, dir, isolatedEnv(t))
	s.waitFor(`1 Images`, 20*time.Second)
	s.keys("1", "b")
	s.waitFor(`Tag the image as`, 10*time.Second)
	s.keys("Enter")
	s.waitFor(`running\s+build`, 30*time.Second)
	// Wait for the slow step to be running in its container.
	deadline := time.Now().Add(60 * time.Second)
	for len(containersWith(mark)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the slow RUN step never started; screen:\n%s", s.capture())
		}
		time.Sleep(200 * time.Millisecond)
	}

	// q asks first; n keeps fndeck running.
	s.keys("q")
	s.waitFor(`Quit fndeck\?[\s\S]*1 task\(s\) still running`, 10*time.Second)
	s.keys("n")
	s.waitGone(`Quit fndeck\?`, 10*time.Second)

	s.keys("3")
	s.keys("c")
	start := time.Now()
	s.waitFor(`⊘ cancelled\s+build`, 30*time.Second)
	t.Logf("cancel → cancelled on screen: %s", time.Since(start))
	for len(containersWith(mark)) > 0 {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("the build container is still there 30 s after the cancel: %v", containersWith(mark))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if tags := tagsOf(fn); len(tags) != 0 {
		t.Errorf("a cancelled build left tags %v", tags)
	}
	// Nothing runs now: q quits at once.
	s.keys("q")
	if code := s.exitCode(15 * time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// containersWith lists containers (any state) whose command contains mark.
func containersWith(mark string) []string {
	out, _, _ := runDocker("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Command}}")
	var ids []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, mark) {
			ids = append(ids, strings.Fields(l)[0])
		}
	}
	return ids
}

func removeContainersWith(mark string) {
	for _, id := range containersWith(mark) {
		_, _, _ = runDocker("rm", "-f", id)
	}
}

// helloImages builds the aws-lambda-go hello handler into two FROM scratch
// images that differ only by a label, so a second deploy changes the image.
func helloImages(t *testing.T) (string, string) {
	t.Helper()
	cloudtest.RequireDocker(t)
	dir := t.TempDir()
	cloudtest.BuildStatic(t, "github.com/fndeck/fndeck/cloud/local/testdata/hello", dir, "hello")
	repo := flowName("tuihello")
	removeRepo(t, repo)
	var refs []string
	for _, v := range []string{"v1", "v2"} {
		os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY hello /var/task/hello\nLABEL version="+v+"\nENTRYPOINT [\"/var/task/hello\"]\n"), 0o644)
		ref := repo + ":" + v
		cloudtest.Docker(t, "build", "-q", "--no-cache", "-t", ref, dir)
		refs = append(refs, ref)
	}
	return refs[0], refs[1]
}

// deployFromImages selects ref in the Images pane, presses d, types the
// target and returns the confirmation on screen (not yet answered).
func (s *session) deployFromImages(ref, target string) string {
	s.t.Helper()
	s.filterImages(ref)
	s.waitFor(regexp.QuoteMeta(ref)+`\s`, 20*time.Second)
	s.keys("d")
	s.waitFor(`Deploy to`, 10*time.Second)
	s.keys("C-u")
	s.typeText(target)
	s.keys("Enter")
	return s.waitFor(`Deploy to `+regexp.QuoteMeta(target)+`\?`, 30*time.Second)
}

// TestTUILocalDeployInvokeLogsRollback: the local loop from the keyboard.
// Deploy from Images (confirm shows old → new), a second deploy, invoke with
// a typed payload (response and REPORT figures), logs (START/END/REPORT),
// rollback (asks, restores v1), remove (x).
func TestTUILocalDeployInvokeLogsRollback(t *testing.T) {
	v1, v2 := helloImages(t)
	name := flowName("tuifn")
	addr := "local:" + name
	t.Cleanup(func() { _, _, _ = runDocker("rm", "-f", "fndeck-"+name) })
	s := startTUIIn(t, t.TempDir(), isolatedEnv(t, "FNDECK_LOCAL_NETWORK=host"))
	s.waitFor(`1 Images`, 20*time.Second)

	confirm := s.deployFromImages(v1, addr)
	if !regexp.MustCompile(`old image: \(none: it will be created\)`).MatchString(confirm) ||
		!strings.Contains(confirm, "new image: "+v1) {
		t.Fatalf("first deploy confirmation does not show none → %s:\n%s", v1, confirm)
	}
	s.keys("y")
	s.waitCount(`✓ succeeded\s+deploy`, 1, 2*time.Minute)

	confirm = s.deployFromImages(v2, addr)
	if !strings.Contains(confirm, "old image: "+v1) || !strings.Contains(confirm, "new image: "+v2) {
		t.Fatalf("second deploy confirmation does not show %s → %s:\n%s", v1, v2, confirm)
	}
	s.keys("y")
	s.waitCount(`✓ succeeded\s+deploy`, 2, 2*time.Minute)
	if img := containerImage(t, name); img != v2 {
		t.Fatalf("after the second deploy the container runs %q, want %s", img, v2)
	}

	// Functions pane: the function is listed; select it.
	s.keys("2")
	s.waitFor(regexp.QuoteMeta(name), 30*time.Second)
	s.keys("/")
	s.typeText(name)
	s.keys("Enter")
	// Filtering puts the cursor on the first matching function.
	s.waitFor(`i invoke`, 10*time.Second)

	// Invoke: type a payload, send, see the response and REPORT figures.
	s.keys("i")
	s.waitFor(`Invoke · `+regexp.QuoteMeta(addr), 10*time.Second)
	s.keys("e", "C-a", "C-k")
	// Validated as typed: an unfinished payload shows where it breaks.
	s.typeText(`{"name":`)
	s.waitFor(`invalid JSON at line 1, column 9`, 10*time.Second)
	s.typeText(`"tui"}`)
	s.waitFor(`✓ valid JSON`, 10*time.Second)
	s.keys("C-s")
	screen := s.waitFor(`status 200`, 60*time.Second)
	screen = s.waitFor(`REPORT duration \S+ ms · billed \S+ ms`, 10*time.Second)
	if !strings.Contains(screen, "hello tui") {
		t.Errorf("the response is not on screen:\n%s", screen)
	}
	if !strings.Contains(screen, "(cold start)") {
		t.Errorf("the first invoke after a deploy shows no init duration:\n%s", screen)
	}
	// A handler error comes back as a function error with its message.
	s.keys("C-a", "C-k")
	s.typeText(`{"name":"fail"}`)
	s.keys("C-s")
	screen = s.waitFor(`function error: `, 60*time.Second)
	if !strings.Contains(screen, "name must not be fail") {
		t.Errorf("the handler's error message is not on screen:\n%s", screen)
	}

	// Logs into the output pane.
	s.esc()
	s.keys("2", "l")
	s.waitFor(`Output · logs `+regexp.QuoteMeta(addr), 10*time.Second)
	screen = s.waitFor(`(?s)START RequestId.*END RequestId.*REPORT RequestId`, 30*time.Second)
	if !strings.Contains(screen, "greeting tui") {
		t.Errorf("the handler's own log line is not in the tail:\n%s", screen)
	}

	// Rollback asks, showing what it restores, then restores v1.
	s.keys("2", "R")
	screen = s.waitFor(`Roll back\?`, 30*time.Second)
	if !strings.Contains(screen, "back to: "+v1) {
		t.Errorf("rollback confirmation does not name %s:\n%s", v1, screen)
	}
	s.keys("y")
	s.waitFor(`✓ succeeded\s+rollback`, 2*time.Minute)
	if img := containerImage(t, name); img != v1 {
		t.Fatalf("after the rollback the container runs %q, want %s", img, v1)
	}

	// Deploy from the Functions pane: type the image, confirm v1 → v2.
	s.keys("2", "d")
	s.waitFor(`Image \(a local image or a registry reference\)`, 10*time.Second)
	s.typeText(v2)
	s.keys("Enter")
	confirm = s.waitFor(`Deploy to `+regexp.QuoteMeta(addr)+`\?`, 30*time.Second)
	if !strings.Contains(confirm, "old image: "+v1) || !strings.Contains(confirm, "new image: "+v2) {
		t.Fatalf("deploy from Functions does not show %s → %s:\n%s", v1, v2, confirm)
	}
	s.keys("y")
	s.waitCount(`✓ succeeded\s+deploy`, 3, 2*time.Minute)
	if img := containerImage(t, name); img != v2 {
		t.Fatalf("after the deploy from Functions the container runs %q, want %s", img, v2)
	}

	// Remove from the Functions pane.
	s.keys("2", "x")
	s.waitFor(`Remove `+regexp.QuoteMeta(addr)+`\?`, 10*time.Second)
	s.keys("y")
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, _, _ := runDocker("ps", "-a", "--filter", "name=^fndeck-"+name+"$", "--format", "{{.Names}}")
		if strings.TrimSpace(out) == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("container fndeck-%s still exists after x; screen:\n%s", name, s.capture())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// and its row leaves the pane (the filter line still names it).
	s.waitGone(regexp.QuoteMeta(name[:12])+`\S*\s+lambda\s`, 30*time.Second)
}

// esc sends a lone ESC: followed at once by a key, a terminal reads the
// pair as alt+key, as it would for a person typing that fast.
func (s *session) esc() {
	s.t.Helper()
	s.keys("Escape")
	time.Sleep(250 * time.Millisecond)
}

// waitCount waits until re matches at least n times on screen.
func (s *session) waitCount(re string, n int, within time.Duration) string {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(within)
	var screen string
	for time.Now().Before(deadline) {
		screen = s.capture()
		if len(rx.FindAllString(screen, -1)) >= n {
			return screen
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("screen never matched %q %d times within %s; last screen:\n%s", re, n, within, screen)
	return ""
}

// containerImage is the image reference the function's container runs.
func containerImage(t *testing.T, name string) string {
	t.Helper()
	out, errOut, err := runDocker("inspect", "--format", "{{.Config.Image}}", "fndeck-"+name)
	if err != nil {
		t.Fatalf("inspecting fndeck-%s: %v: %s", name, err, errOut)
	}
	return strings.TrimSpace(out)
}

// TestTUIBuildAsksForContextWithoutProject: with no fndeck.yaml, `b` asks
// for a build context, then the tag, and builds it.
func TestTUIBuildAsksForContextWithoutProject(t *testing.T) {
	cloudtest.RequireDocker(t)
	repo := flowName("tuictx")
	removeRepo(t, repo)
	ctxDir := t.TempDir()
	os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM scratch\nCOPY a.txt /\n"), 0o644)
	os.WriteFile(filepath.Join(ctxDir, "a.txt"), []byte("a\n"), 0o644)
	s := startTUIIn(t, t.TempDir(), isolatedEnv(t))
	s.waitFor(`1 Images`, 20*time.Second)
	s.keys("1", "b")
	s.waitFor(`Build context \(a directory with a Dockerfile\)`, 10*time.Second)
	s.keys("C-u")
	s.typeText(ctxDir)
	s.keys("Enter")
	screen := s.waitFor(`Tag the image as`, 10*time.Second)
	if !strings.Contains(screen, "context: "+ctxDir) {
		t.Errorf("the tag prompt does not name the context:\n%s", screen)
	}
	s.keys("C-u")
	s.typeText(repo + ":v1")
	s.keys("Enter")
	s.waitFor(`✓ succeeded\s+build`, 2*time.Minute)
	s.waitFor(`built `+regexp.QuoteMeta(repo)+`:v1, `+regexp.QuoteMeta(repo)+`:latest`, 10*time.Second)
	if tags := strings.Join(tagsOf(repo), ","); tags != "latest,v1" && tags != "v1,latest" {
		t.Errorf("engine has tags %q of %s, want v1 and latest", tags, repo)
	}
	s.filterImages(repo + ":v1")
	s.waitFor(regexp.QuoteMeta(repo)+`:v1\s`, 20*time.Second)
}
