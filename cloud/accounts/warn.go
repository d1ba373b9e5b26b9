package accounts

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// WarnBefore is how long before a known expiry the header warns.
const WarnBefore = 5 * time.Minute

// SessionWarnings returns the header's session warnings for the AWS
// profiles fndeck lists (configured names; empty = the default chain;
// "all" = every profile): "aws dev: session expired — aws sso login
// --profile dev" for an expired one, "aws dev: session expires in 4m" for
// one that ends within WarnBefore and cannot renew itself. It reads files
// only.
func SessionWarnings(profiles []string, now time.Time) []string {
	var ps []AWSProfile
	switch {
	case slices.Contains(profiles, "all"):
		ps, _ = AWSProfiles()
	case len(profiles) == 0:
		if p, ok, _ := LookupAWSProfile(""); ok {
			ps = append(ps, p)
		}
	default:
		for _, n := range profiles {
			if p, ok, _ := LookupAWSProfile(n); ok {
				ps = append(ps, p)
			}
		}
	}
	var out []string
	for _, p := range ps {
		s := AWSSession(p, now)
		switch {
		case s.State == StateExpired:
			out = append(out, fmt.Sprintf("aws %s: session expired — %s", p.Name, s.Hint))
		case s.ExpiresWithin(now, WarnBefore):
			left := s.Expires.Sub(now).Round(time.Minute)
			out = append(out, fmt.Sprintf("aws %s: session expires in %s", p.Name, strings.TrimSuffix(left.String(), "0s")))
		}
	}
	return out
}
