package actions

import (
	"context"
	"strings"
	"testing"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/docker"
	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// inspectLoaded loads spec into the real engine and inspects it back, as
// doctor's CLI does.
func inspectLoaded(t *testing.T, spec cloudtest.ImageSpec) cloud.ImageDetail {
	t.Helper()
	ref := cloudtest.UniqueName("fndeck-doctor") + ":t"
	cloudtest.LoadImage(t, ref, spec)
	ep, err := docker.Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	e, err := docker.New(ep)
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.Inspect(context.Background(), ref)
	if err != nil {
		t.Fatalf("inspecting %s: %v", ref, err)
	}
	return d
}

func checkOf(t *testing.T, cs []Check, id string) Check {
	t.Helper()
	for _, c := range cs {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no %s check in %+v", id, cs)
	return Check{}
}

func TestDoctorChecksAgainstRealImages(t *testing.T) {
	arm := inspectLoaded(t, cloudtest.ImageSpec{Architecture: "arm64", Cmd: []string{"app.handler"}, LayerBytes: 3 << 20, LayerStep: "COPY node_modules /var/task"})
	amd := inspectLoaded(t, cloudtest.ImageSpec{Entrypoint: []string{"/server"}, ExposedPorts: []string{"9000/tcp"}, LayerBytes: 1000})
	bare := inspectLoaded(t, cloudtest.ImageSpec{LayerBytes: 10})
	lambdaX86 := DoctorTarget{Provider: cloud.AWS, Arch: "x86_64"}
	lambdaArm := DoctorTarget{Provider: cloud.AWS, Arch: "arm64"}
	run := DoctorTarget{Provider: cloud.GCP}

	c := checkOf(t, Doctor(arm, lambdaX86), "platform")
	if c.Level != LevelError || !strings.Contains(c.Message, "linux/arm64") || !strings.Contains(c.Hint, "--arch arm64") {
		t.Errorf("arm64 image to an x86_64 function: %+v", c)
	}
	if c := checkOf(t, Doctor(arm, lambdaArm), "platform"); c.Level != LevelOK {
		t.Errorf("arm64 image to an arm64 function: %+v", c)
	}
	if c := checkOf(t, Doctor(amd, DoctorTarget{Provider: cloud.AWS}), "platform"); c.Level != LevelOK {
		t.Errorf("amd64 image to a function of unknown (default x86_64) arch: %+v", c)
	}
	c = checkOf(t, Doctor(arm, run), "platform")
	if c.Level != LevelError || !strings.Contains(c.Message, "failed to start and listen on PORT") {
		t.Errorf("arm64 image to cloud run: %+v", c)
	}

	// Size: the limit is injectable; the message names the biggest layer's step.
	c = checkOf(t, Doctor(arm, DoctorTarget{Provider: cloud.AWS, Arch: "arm64", SizeLimit: 1 << 20}), "size")
	if c.Level != LevelError || !strings.Contains(c.Message, "COPY node_modules") || !strings.Contains(c.Message, "3.1 MB") {
		t.Errorf("3 MiB image over a 1 MiB limit: %+v (size %d)", c, arm.Size)
	}
	if c := checkOf(t, Doctor(arm, lambdaArm), "size"); c.Level != LevelOK {
		t.Errorf("3 MiB image under Lambda's 10 GB: %+v", c)
	}

	// Entrypoint.
	c = checkOf(t, Doctor(bare, lambdaX86), "entrypoint")
	if c.Level != LevelError || !strings.Contains(c.Message, "no ENTRYPOINT and no CMD") {
		t.Errorf("image without entrypoint or cmd: %+v", c)
	}
	if c := checkOf(t, Doctor(bare, DoctorTarget{Provider: cloud.AWS, CommandSet: true}), "entrypoint"); c.Level != LevelOK {
		t.Errorf("no entrypoint but the target's image config sets one: %+v", c)
	}

	// Port: warning only; no port check for Lambda.
	c = checkOf(t, Doctor(amd, run), "port")
	if c.Level != LevelWarning || !strings.Contains(c.Message, "8080") || !strings.Contains(c.Message, "9000/tcp") {
		t.Errorf("port 8080 vs an image exposing 9000: %+v", c)
	}
	if c := checkOf(t, Doctor(amd, DoctorTarget{Provider: cloud.GCP, Port: 9000}), "port"); c.Level != LevelOK {
		t.Errorf("port 9000 exposed: %+v", c)
	}
	for _, c := range Doctor(amd, lambdaX86) {
		if c.ID == "port" {
			t.Errorf("a port check for Lambda: %+v", c)
		}
	}
	if DoctorFailed(Doctor(amd, run)) || !DoctorFailed(Doctor(arm, run)) {
		t.Error("DoctorFailed: a warning failed or an error passed")
	}
}

// deployRecorder fails the test when it is asked to deploy.
type deployRecorder struct{ calls int }

func (d *deployRecorder) Deploy(context.Context, cloud.DeployRequest, cloud.Sink) (cloud.DeployResult, error) {
	d.calls++
	return cloud.DeployResult{}, nil
}

func TestDeployStopsOnDoctorErrorBeforeTheBackend(t *testing.T) {
	ref := cloudtest.UniqueName("fndeck-doctor-flow") + ":arm"
	cloudtest.LoadImage(t, ref, cloudtest.ImageSpec{Architecture: "arm64", Cmd: []string{"x"}, LayerBytes: 10})
	ep, err := docker.Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	e, err := docker.New(ep)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := Flows{StateDir: dir, History: NewHistory(dir, nil), Inspect: e.Inspect}
	target, _ := cloud.ParseAddress("cloudrun:acme/europe-west1/api")
	d := &deployRecorder{}
	_, err = f.Deploy(context.Background(), d, cloud.DeployRequest{Target: target, Image: ref}, cloud.DiscardSink{})
	if err == nil || !strings.Contains(err.Error(), "linux/arm64") || d.calls != 0 {
		t.Fatalf("deploy of an arm64 image to cloud run: %v, backend called %d times", err, d.calls)
	}
}

func TestHistorySkipsNoOpAndCarriesDigestAndSettings(t *testing.T) {
	ctx := context.Background()
	h := NewHistory(t.TempDir(), nil)
	target, _ := cloud.ParseAddress("local:fn")
	first := cloud.DeployResult{NewImage: "app:latest", ImageDigest: "sha256:bbb", OldImage: "app:latest", OldImageDigest: "sha256:aaa",
		OldSettings: &cloud.DeploySettings{Env: map[string]string{"A": "0"}}, Settings: &cloud.DeploySettings{Env: map[string]string{"A": "1"}}}
	if err := h.Record(ctx, target, first); err != nil {
		t.Fatal(err)
	}
	if err := h.Record(ctx, target, cloud.DeployResult{NewImage: "app:latest", NoOp: true}); err != nil {
		t.Fatal(err)
	}
	es, cur, err := h.Entries(ctx, target)
	if err != nil || len(es) != 1 || cur != 0 {
		t.Fatalf("after a deploy and a no-op: %d entries, current %d, %v", len(es), cur, err)
	}
	// Before the first entry: what served before fndeck, by digest, with its settings.
	prev, ok, err := h.Previous(ctx, target)
	if err != nil || !ok || prev.ImageDigest != "sha256:aaa" || prev.Settings == nil || prev.Settings.Env["A"] != "0" {
		t.Errorf("Previous = %+v %v %v", prev, ok, err)
	}
}

func TestDeployResultRedactedHidesEnvValues(t *testing.T) {
	r := cloud.DeployResult{Settings: &cloud.DeploySettings{Env: map[string]string{"TOKEN": "s3cret"}}}
	red := r.Redacted()
	if red.Settings.Env["TOKEN"] == "s3cret" || r.Settings.Env["TOKEN"] != "s3cret" {
		t.Errorf("Redacted: %v (original %v)", red.Settings.Env, r.Settings.Env)
	}
}

func TestDoctorRemoteManifestCheck(t *testing.T) {
	amd := &cloud.ImageDetail{Image: cloud.Image{OS: "linux", Architecture: "amd64", Size: 11 << 30}, Cmd: []string{"app.handler"}}
	lambda := DoctorTarget{Provider: cloud.AWS, Arch: "x86_64"}
	for _, tc := range []struct {
		name  string
		r     RemoteImage
		t     DoctorTarget
		level string
		msg   string
	}{
		{"schema1", RemoteImage{MediaType: "application/vnd.docker.distribution.manifest.v1+prettyjws"}, lambda, LevelError, "schema 1"},
		{"schema2", RemoteImage{MediaType: "application/vnd.docker.distribution.manifest.v2+json", Config: amd}, lambda, LevelOK, "Docker v2 schema 2"},
		{"index picked", RemoteImage{MediaType: "application/vnd.oci.image.index.v1+json", Platforms: []string{"linux/amd64", "linux/arm64"}, Picked: "sha256:aa"}, lambda, LevelOK, "fndeck deploys its linux/amd64 image sha256:aa"},
		{"index missing", RemoteImage{MediaType: "application/vnd.docker.distribution.manifest.list.v2+json", Platforms: []string{"linux/arm64"}}, lambda, LevelError, "(linux/arm64) without a linux/amd64 image"},
		{"index cloud run", RemoteImage{MediaType: "application/vnd.oci.image.index.v1+json", Platforms: []string{"linux/amd64"}, Picked: "sha256:bb"}, DoctorTarget{Provider: cloud.GCP}, LevelOK, "its linux/amd64 image sha256:bb runs"},
		{"odd type", RemoteImage{MediaType: "application/x-foo"}, lambda, LevelWarning, "unusual"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := DoctorRemote(tc.r, tc.t)
			if cs[0].ID != "manifest" || cs[0].Level != tc.level || !strings.Contains(cs[0].Message, tc.msg) {
				t.Errorf("manifest check = %+v, want %s %q", cs[0], tc.level, tc.msg)
			}
			if tc.r.Config == nil && len(cs) != 1 {
				t.Errorf("checks without a config: %+v", cs)
			}
		})
	}
	// Over Lambda's limit while still compressed: an error.
	cs := DoctorRemote(RemoteImage{MediaType: "application/vnd.oci.image.manifest.v1+json", Config: amd}, lambda)
	if !DoctorFailed(cs) || cs[2].ID != "size" || cs[2].Level != LevelError || !strings.Contains(cs[2].Message, "compressed") {
		t.Errorf("checks of an 11 GB compressed image: %+v", cs)
	}
}

func TestDoctorLocalIndexSaysWhichChildRuns(t *testing.T) {
	img := cloud.ImageDetail{Image: cloud.Image{OS: "linux", Architecture: "arm64"}, Cmd: []string{"x"}, MediaType: "application/vnd.oci.image.index.v1+json"}
	cs := Doctor(img, DoctorTarget{Provider: cloud.AWS, Arch: "arm64"})
	if cs[0].ID != "manifest" || cs[0].Level != LevelInfo || !strings.Contains(cs[0].Message, "fndeck deploys its linux/arm64 image") {
		t.Errorf("checks = %+v", cs)
	}
	if cs := Doctor(cloud.ImageDetail{Image: cloud.Image{OS: "linux", Architecture: "amd64"}}, DoctorTarget{Provider: cloud.AWS}); cs[0].ID == "manifest" {
		t.Errorf("a single image got a manifest check: %+v", cs[0])
	}
}
