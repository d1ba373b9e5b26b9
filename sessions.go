package main

import (
	"time"

	"github.com/fndeck/fndeck/cloud/accounts"
	"github.com/fndeck/fndeck/config"
)

// gcpDefaultHeader names the project fndeck lists when gcp.projects is
// unset, with where it came from ("acme-web (gcloud config)"); files only.
func gcpDefaultHeader() string {
	p, ok := accounts.DiscoverGCPProject()
	if !ok {
		return "ADC project"
	}
	src := p.Source
	if src == accounts.SourceEnv {
		src = p.Detail
	}
	return p.ID + " (" + src + ")"
}

// sessionWarnings is the header's session check: expired or soon-expiring
// AWS logins, read from the aws CLI's files (no call).
func sessionWarnings(cfg *config.Config, unconfigured bool) func(time.Time) []string {
	if unconfigured {
		return nil
	}
	profiles := cfg.AWS.Profiles
	return func(now time.Time) []string { return accounts.SessionWarnings(profiles, now) }
}
