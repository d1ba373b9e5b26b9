// Package shimbin carries the "shim binary fndeck carries": static
// linux/amd64 and linux/arm64 builds of cmd/fndeck-shim, used when the
// running fndeck is not itself a static Linux executable for the image's
// architecture (a cgo build; macOS, whose Docker Desktop runs linux/arm64
// on Apple silicon and linux/amd64 on Intel).
//
// Regenerate them after changing package shim (or the Go toolchain):
//
//	go generate ./cloud/local/shimbin
//
// which runs, for each architecture: CGO_ENABLED=0 GOOS=linux GOARCH=ARCH
// go build -trimpath -ldflags="-s -w" -o fndeck-shim-linux-ARCH ../shim/cmd/fndeck-shim
package shimbin

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
)

//go:generate env CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath "-ldflags=-s -w" -o fndeck-shim-linux-amd64 ../shim/cmd/fndeck-shim
//go:generate env CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath "-ldflags=-s -w" -o fndeck-shim-linux-arm64 ../shim/cmd/fndeck-shim

//go:embed fndeck-shim-linux-amd64
var linuxAMD64 []byte

//go:embed fndeck-shim-linux-arm64
var linuxARM64 []byte

// Arches are the architectures a shim is carried for (GOARCH names).
var Arches = []string{"amd64", "arm64"}

// Open returns the embedded linux shim for arch (a GOARCH name).
func Open(arch string) (io.ReadCloser, error) {
	var b []byte
	switch arch {
	case "amd64":
		b = linuxAMD64
	case "arm64":
		b = linuxARM64
	default:
		return nil, fmt.Errorf("fndeck carries no shim for linux/%s (only linux/amd64 and linux/arm64); run a static linux/%s build of fndeck (CGO_ENABLED=0) to deploy linux/%s images locally", arch, arch, arch)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("this fndeck build carries no embedded linux/%s shim (run go generate ./cloud/local/shimbin)", arch)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}
