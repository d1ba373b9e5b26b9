package remote

import (
	"regexp"
	"runtime/debug"
)

// HelperPackage is the helper's package path, what `go install` fetches.
const HelperPackage = "github.com/fndeck/fndeck/cloud/remote/fndeck-cloud"

// moduleVersion matches an installable module version: semver with a
// leading v and no build metadata (a "+dirty" source build is not one).
var moduleVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

// InstallVersion returns the module version whose helper matches a fndeck
// built as version (main's -ldflags "-X main.version=…", "dev" by default):
// version itself when it was set at build time (a bare "0.3.0", as
// GoReleaser writes it, gains its v); else the module version `go install`
// recorded in the binary (info, from debug.ReadBuildInfo); else "" — a build
// from a source tree, whose commit need not be published.
func InstallVersion(version string, info *debug.BuildInfo) string {
	if version != "" && version != "dev" {
		if version[0] >= '0' && version[0] <= '9' {
			version = "v" + version
		}
		return version
	}
	if info == nil || !moduleVersion.MatchString(info.Main.Version) {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			// go build in a checkout stamps a pseudo-version of a commit
			// that may exist nowhere else; go install from the proxy has no VCS.
			return ""
		}
	}
	return info.Main.Version
}

// InstallHint says how to get the helper that matches fndeck version (as
// InstallVersion reads it): the `go install` line for that version, and for
// a source-tree build `@latest` beside the source-tree build command.
func InstallHint(version string) string {
	info, _ := debug.ReadBuildInfo()
	return installHint(InstallVersion(version, info))
}

func installHint(v string) string {
	if v != "" {
		return "install it with: go install " + HelperPackage + "@" + v
	}
	return "install it with: go install " + HelperPackage + "@latest, or build both binaries in the source tree with: " + BuildCommand
}
