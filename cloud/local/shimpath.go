package local

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/fndeck/fndeck/cloud/local/shimbin"
)

// DefaultShimPath picks the shim binary mounted into lambda containers:
// the running fndeck when it is a static Linux ELF for the image's
// architecture (fndeck's main dispatches "__lambda-shim" to shim.Main),
// else the fndeck-shim for that architecture embedded in package shimbin
// (linux/amd64, linux/arm64). Either is copied to <stateDir>/shim/ first:
// a `go run` binary is deleted when it exits, and a headless deploy's
// container must outlive it.
func DefaultShimPath(stateDir string) func(ctx context.Context, arch string) (string, error) {
	return func(ctx context.Context, arch string) (string, error) {
		arch = normalizeArch(arch)
		if exe, err := os.Executable(); err == nil {
			if ok, _ := isStaticELF(exe, arch); ok {
				f, err := os.Open(exe)
				if err == nil {
					defer f.Close()
					return copyShim(stateDir, "fndeck", f)
				}
			}
		}
		return EmbeddedShimPath(stateDir, arch)
	}
}

// EmbeddedShimPath writes the embedded linux shim for arch to stateDir and
// returns its path.
func EmbeddedShimPath(stateDir, arch string) (string, error) {
	f, err := shimbin.Open(normalizeArch(arch))
	if err != nil {
		return "", err
	}
	defer f.Close()
	return copyShim(stateDir, "fndeck-shim", f)
}

func normalizeArch(arch string) string {
	switch arch {
	case "", "x86_64":
		return "amd64"
	case "aarch64", "arm64/v8":
		return "arm64"
	}
	return arch
}

// isStaticELF reports whether path is a Linux ELF executable for arch with
// no program interpreter (PT_INTERP), i.e. it runs in a FROM scratch image.
func isStaticELF(path, arch string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[normalizeArch(arch)]
	if f.Machine != want || f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return false, nil
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return false, nil
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	return true, nil
}

// copyShim stores r at <stateDir>/shim/<prefix>-<sha256[:16]> (0755) unless
// a file with that content hash is already there. The content-addressed
// name keeps the file mounted by running containers unchanged.
func copyShim(stateDir, prefix string, r io.Reader) (string, error) {
	dir := filepath.Join(stateDir, "shim")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".shim-*")
	if err != nil {
		return "", fmt.Errorf("copying the shim: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		tmp.Close()
		return "", fmt.Errorf("copying the shim to %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("copying the shim to %s: %w", tmp.Name(), err)
	}
	dst := filepath.Join(dir, prefix+"-"+hex.EncodeToString(h.Sum(nil))[:16])
	if fi, err := os.Stat(dst); err == nil && fi.Mode().Perm() == 0o755 {
		return dst, nil
	}
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return "", fmt.Errorf("copying the shim: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("copying the shim to %s: %w", dst, err)
	}
	return dst, nil
}
