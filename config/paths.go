package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ConfigPath returns the user config file to read. A non-empty flag
// (--config) wins, then FNDECK_CONFIG; both are explicit, so a missing file
// is an error. Otherwise it is $XDG_CONFIG_HOME/fndeck/config.yaml (default
// ~/.config/fndeck/config.yaml), which may be absent. When no home directory
// is known either, path is "" and only defaults and the environment apply.
func ConfigPath(flag string) (path string, explicit bool) {
	if flag != "" {
		return flag, true
	}
	if p := os.Getenv("FNDECK_CONFIG"); p != "" {
		return p, true
	}
	dir, err := xdgDir("XDG_CONFIG_HOME", ".config")
	if err != nil {
		return "", false
	}
	return filepath.Join(dir, "fndeck", "config.yaml"), false
}

// StateDir returns fndeck's state directory, $XDG_STATE_HOME/fndeck
// (default ~/.local/state/fndeck), creating it with mode 0700: it holds task
// output, deploy and invoke history and the debug log, which are nobody
// else's business.
func StateDir() (string, error) {
	base, err := xdgDir("XDG_STATE_HOME", filepath.Join(".local", "state"))
	if err != nil {
		return "", fmt.Errorf("finding the state directory: %w", err)
	}
	dir := filepath.Join(base, "fndeck")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating state directory %s: %w", dir, err)
	}
	return dir, nil
}

// OpenStateFile opens name (a slash-separated path inside the state
// directory, like "history/deploys.json") with flag, creating parent
// directories 0700 and the file 0600.
func OpenStateFile(name string, flag int) (*os.File, error) {
	dir, err := StateDir()
	if err != nil {
		return nil, err
	}
	clean := filepath.Clean(filepath.FromSlash(name))
	if name == "" || filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("state file name %q must be a relative path inside the state directory", name)
	}
	path := filepath.Join(dir, clean)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening state file: %w", err)
	}
	return f, nil
}

// xdgDir returns $env when it is an absolute path (the XDG spec says to
// ignore relative ones), else ~/fallback.
func xdgDir(env, fallback string) (string, error) {
	if d := os.Getenv(env); d != "" && filepath.IsAbs(d) {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	if home == "" {
		return "", errors.New("no home directory")
	}
	return filepath.Join(home, fallback), nil
}
