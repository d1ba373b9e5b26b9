package cloudtest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ImageSpec describes an image LoadImage makes: what the engine here cannot
// build (another architecture, no entrypoint, a big layer).
type ImageSpec struct {
	OS, Architecture string // default linux/amd64
	Entrypoint, Cmd  []string
	ExposedPorts     []string // "9000/tcp"
	// LayerBytes is the size of the one file (/data) in the image's layer.
	LayerBytes int
	// LayerStep is the history's created_by of that layer.
	LayerStep string
}

// LoadImage writes a docker-save tarball for spec by hand (manifest.json,
// config, one layer) and `docker load`s it as ref, removed when the test
// ends. It returns the image ID.
func LoadImage(t testing.TB, ref string, spec ImageSpec) string {
	t.Helper()
	RequireDocker(t)
	if spec.OS == "" {
		spec.OS = "linux"
	}
	if spec.Architecture == "" {
		spec.Architecture = "amd64"
	}
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	data := bytes.Repeat([]byte("fndeck-doctor\n"), spec.LayerBytes/14+1)[:spec.LayerBytes]
	if err := tw.WriteHeader(&tar.Header{Name: "data", Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	diffID := sha(layer.Bytes())
	ports := map[string]struct{}{}
	for _, p := range spec.ExposedPorts {
		ports[p] = struct{}{}
	}
	step := spec.LayerStep
	if step == "" {
		step = "COPY data /data"
	}
	cfg := map[string]any{
		"architecture": spec.Architecture, "os": spec.OS, "created": "2026-01-02T03:04:05Z",
		"config": map[string]any{"Entrypoint": spec.Entrypoint, "Cmd": spec.Cmd, "ExposedPorts": ports,
			"Labels": map[string]string{"fndeck.test": "1"}},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{diffID}},
		"history": []map[string]any{{"created": "2026-01-02T03:04:05Z", "created_by": step}},
	}
	cb, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgName := strings.TrimPrefix(sha(cb), "sha256:") + ".json"
	manifest, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{ref}, "Layers": []string{"l/layer.tar"}}})
	var tarball bytes.Buffer
	tw = tar.NewWriter(&tarball)
	for _, f := range []struct {
		name string
		b    []byte
	}{{cfgName, cb}, {"l/layer.tar", layer.Bytes()}, {"manifest.json", manifest}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(p, tarball.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	Docker(t, "load", "-i", p)
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", ref).Run() })
	return sha(cb)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}
