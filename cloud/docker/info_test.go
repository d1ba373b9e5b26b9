package docker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// TestEngineInfo asks the real engine (dockerd 20.10 here: classic image
// store) and a dead socket.
func TestEngineInfo(t *testing.T) {
	host := cloudtest.RequireDocker(t)
	e, err := New(Endpoint{Host: host})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info, err := e.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Version == "" || !strings.HasPrefix(info.APIVersion, "1.") || info.StorageDriver == "" || info.Host == "" {
		t.Errorf("info = %+v", info)
	}
	dead, err := New(Endpoint{Host: "unix://" + t.TempDir() + "/none.sock"})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	if _, err := dead.Info(ctx); err == nil {
		t.Error("a dead socket answered")
	}
	if !usesContainerdStore([][2]string{{"driver-type", "io.containerd.snapshotter.v1"}}) || usesContainerdStore([][2]string{{"Backing Filesystem", "extfs"}}) {
		t.Error("containerd store detection is wrong")
	}
}
