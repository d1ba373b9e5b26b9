package aws

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/smithy-go"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/accounts"
)

// optInRegions are the aws partition's regions an account must enable
// before use (every region launched after March 2019). Without the Account
// API, "all" leaves them out unless aws.regions names them.
var optInRegions = map[string]bool{
	"af-south-1": true, "ap-east-1": true, "ap-south-2": true, "ap-southeast-3": true, "ap-southeast-4": true,
	"ap-southeast-5": true, "ap-southeast-7": true, "ca-west-1": true, "eu-central-2": true, "eu-south-1": true,
	"eu-south-2": true, "il-central-1": true, "me-central-1": true, "me-south-1": true, "mx-central-1": true,
}

// fallbackRegions is "all" when the Account API cannot say: the partition's
// regions enabled by default, plus the opt-in regions named alongside "all".
func fallbackRegions(named []string) []string {
	var out []string
	for _, r := range partitionRegions {
		if !optInRegions[r] || slices.Contains(named, r) {
			out = append(out, r)
		}
	}
	for _, r := range named {
		if r != "all" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// withNamed adds the regions named alongside "all" to an enabled list.
func withNamed(enabled, named []string) []string {
	for _, r := range named {
		if r != "all" && !slices.Contains(enabled, r) {
			enabled = append(enabled, r)
		}
	}
	slices.Sort(enabled)
	return enabled
}

// errRegionNotEnabled is what UnrecognizedClientException means in an
// opt-in region when the same credentials work elsewhere (the account
// resolved through STS): the region is not enabled, the keys are fine.
func regionNotEnabled(err error, profile, region, acct string) error {
	if err == nil || acct == "" || !optInRegions[region] {
		return err
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return err
	}
	switch api.ErrorCode() {
	case "UnrecognizedClientException", "InvalidClientTokenId":
	default:
		return err
	}
	return wrap(fmt.Errorf("region %s not enabled for this account (%s): %w", region, acct, err), cloud.ErrPermission,
		"enable "+region+" for the account (AWS console → Account → AWS Regions), or leave it out of aws.regions")
}

// sessionError reports, with no network call, a profile whose session
// cannot work: an SSO token that expired and cannot refresh, or an MFA role
// without a code. nil when the files say nothing against it; region is the
// profile's own, for the error's group.
func (b *Backend) sessionError(profile string) (region string, err error) {
	if profile == "" && (envSet("AWS_ACCESS_KEY_ID") || envSet("AWS_WEB_IDENTITY_TOKEN_FILE")) {
		return "", nil // the environment's credentials come first in the chain
	}
	p, ok, _ := accounts.LookupAWSProfile(profile)
	if !ok {
		return "", nil
	}
	region = p.Region
	s := accounts.AWSSession(p, b.now())
	switch s.State {
	case accounts.StateExpired:
		what := "session expired"
		if s.Expires.IsZero() {
			what = "not logged in"
		} else {
			what += " at " + s.Expires.Local().Format("2006-01-02 15:04")
		}
		return region, wrap(fmt.Errorf("%s: sso %s", profileLabel(p.Name), what), cloud.ErrUnauthenticated, s.Hint)
	case accounts.StateNeedsMFA:
		return region, wrap(fmt.Errorf("%s assumes %s with MFA (%s): a code is needed", profileLabel(p.Name), p.RoleARN, p.MFASerial),
			cloud.ErrUnauthenticated, s.Hint)
	}
	return region, nil
}

func envSet(k string) bool { return strings.TrimSpace(os.Getenv(k)) != "" }

// now is the backend's clock.
func (b *Backend) now() time.Time {
	if b.opts.Now != nil {
		return b.opts.Now()
	}
	return time.Now()
}
