// Package reghost holds the registry-host matchers every part of fndeck
// shares: Docker Hub aliases, ECR and Google registry hosts, loopback
// registries, and the host part of an image reference. It links no SDK and
// compiles no regular expression at start-up (the TUI binary imports it).
package reghost

import (
	"net"
	"strings"
)

// DockerHub is the host Docker Hub's aliases normalise to.
const DockerHub = "index.docker.io"

// DockerHubAPI is the host Docker Hub's registry API is served from.
const DockerHubAPI = "registry-1.docker.io"

// IsDockerHub reports whether h (lowercase host) is one of Docker Hub's names.
func IsDockerHub(h string) bool {
	switch strings.ToLower(h) {
	case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return true
	}
	return false
}

// Normalize turns a config.json key, a URL or a reference's domain into a
// bare lowercase host[:port]; every Docker Hub alias becomes index.docker.io.
func Normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	if IsDockerHub(s) {
		return DockerHub
	}
	return s
}

// OfRef returns the registry host an image reference spells out: its first
// path part when that has a dot, a colon or is "localhost" ("" for Docker
// Hub short names like "alpine" or "team/app", and for bare local names).
func OfRef(ref string) string {
	first, _, ok := strings.Cut(ref, "/")
	if !ok || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		return ""
	}
	return first
}

// NamesRegistry reports whether ref spells out a registry host.
func NamesRegistry(ref string) bool { return OfRef(ref) != "" }

// ECR returns the account and region of a private ECR registry host,
// ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn].
func ECR(host string) (account, region string, ok bool) {
	h := strings.ToLower(host)
	acct, rest, found := strings.Cut(h, ".")
	if !found || len(acct) != 12 || !allDigits(acct) {
		return "", "", false
	}
	switch {
	case strings.HasPrefix(rest, "dkr.ecr-fips."):
		rest = rest[len("dkr.ecr-fips."):]
	case strings.HasPrefix(rest, "dkr.ecr."):
		rest = rest[len("dkr.ecr."):]
	default:
		return "", "", false
	}
	region, rest, found = strings.Cut(rest, ".")
	if !found || region == "" || (rest != "amazonaws.com" && rest != "amazonaws.com.cn") {
		return "", "", false
	}
	for _, r := range region {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return "", "", false
		}
	}
	return acct, region, true
}

// IsECR reports whether host is a private ECR registry.
func IsECR(host string) bool { _, _, ok := ECR(host); return ok }

// ECRHost is the private ECR registry of an account in a region.
func ECRHost(account, region string) string {
	return account + ".dkr.ecr." + region + ".amazonaws.com"
}

// IsGoogle reports whether host is Artifact Registry (REGION-docker.pkg.dev)
// or Container Registry (gcr.io, *.gcr.io).
func IsGoogle(host string) bool {
	h := strings.ToLower(host)
	return strings.HasSuffix(h, "-docker.pkg.dev") || h == "gcr.io" || strings.HasSuffix(h, ".gcr.io")
}

// IsLoopback reports whether host[:port] is localhost or a loopback IP:
// such registries are spoken to over plain http (as the engine does).
func IsLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
