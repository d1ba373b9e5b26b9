// Package shimbin carries the "shim binary fndeck carries": a static
// linux/amd64 build of cmd/fndeck-shim, used when the running fndeck is not
// itself a static Linux executable (a cgo build, macOS).
//
// Regenerate it after changing package shim, from cloud/local/shimbin:
//
//	go generate ./cloud/local/shimbin
//
// which runs: CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags="-s -w" -o fndeck-shim-linux-amd64 ../shim/cmd/fndeck-shim
package shimbin

import (
	"bytes"
	_ "embed"
	"errors"
	"io"
)

//go:generate env CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath "-ldflags=-s -w" -o fndeck-shim-linux-amd64 ../shim/cmd/fndeck-shim

//go:embed fndeck-shim-linux-amd64
var linuxAMD64 []byte

// Open returns the embedded linux/amd64 shim's bytes.
func Open() (io.ReadCloser, error) {
	if len(linuxAMD64) == 0 {
		return nil, errors.New("this fndeck build carries no embedded shim (run go generate ./cloud/local/shimbin)")
	}
	return io.NopCloser(bytes.NewReader(linuxAMD64)), nil
}
