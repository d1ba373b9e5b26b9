package aws

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/internal/reghost"
)

// registryHost is the private ECR registry of an account in a region.
func registryHost(acct, region string) string { return reghost.ECRHost(acct, region) }

// AuthName implements cloud.AuthNamer.
func (b *Backend) AuthName() string { return "aws ecr" }

// AuthFor implements cloud.AuthProvider for private ECR hosts: it finds a
// configured profile on the host's account, gets an authorization token and
// caches it until shortly before it expires. The token is never logged.
func (b *Backend) AuthFor(ctx context.Context, host string) (cloud.RegistryAuth, bool, error) {
	acct, region, ok := reghost.ECR(host)
	if !ok {
		return cloud.RegistryAuth{}, false, nil
	}
	b.ecrMu.Lock()
	cached, hit := b.ecrCache[host]
	b.ecrMu.Unlock()
	if hit && (cached.Expires.IsZero() || time.Until(cached.Expires) > time.Minute) {
		return cached, true, nil
	}
	profiles, err := b.profilesForAccount(ctx, acct, region)
	if err != nil {
		return cloud.RegistryAuth{}, true, err
	}
	// Any profile on the account that gets a token will do: one whose SSO
	// session expired hands the host on to the next.
	var errs []error
	for _, profile := range profiles {
		rc, err := b.clients(ctx, profile, region)
		if err == nil {
			var auth cloud.RegistryAuth
			if auth, err = b.ecrToken(ctx, rc, profile, host); err == nil {
				return auth, true, nil
			}
		}
		if ctx.Err() != nil {
			return cloud.RegistryAuth{}, true, ctx.Err()
		}
		errs = append(errs, fmt.Errorf("profile %s: %w", profile, err))
	}
	if len(errs) == 1 {
		return cloud.RegistryAuth{}, true, errs[0]
	}
	return cloud.RegistryAuth{}, true, errors.Join(errs...)
}

// ecrToken asks ECR for a token and caches it by host.
func (b *Backend) ecrToken(ctx context.Context, rc *regionClients, profile, host string) (cloud.RegistryAuth, error) {
	var out *ecr.GetAuthorizationTokenOutput
	err := b.call(ctx, nil, func() error {
		var e error
		out, e = rc.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
		return e
	})
	if err != nil {
		return cloud.RegistryAuth{}, errorf(profile, "getting an ECR token for %s: %w", host, err)
	}
	if len(out.AuthorizationData) == 0 {
		return cloud.RegistryAuth{}, fmt.Errorf("getting an ECR token for %s: the answer holds no authorization data", host)
	}
	d := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(sdkaws.ToString(d.AuthorizationToken))
	if err != nil {
		return cloud.RegistryAuth{}, fmt.Errorf("decoding the ECR token for %s: not base64", host)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return cloud.RegistryAuth{}, fmt.Errorf("decoding the ECR token for %s: no user:password pair", host)
	}
	auth := cloud.RegistryAuth{Username: user, Password: pass, ServerAddress: host}
	if d.ExpiresAt != nil {
		auth.Expires = *d.ExpiresAt
	}
	b.ecrMu.Lock()
	b.ecrCache[host] = auth
	b.ecrMu.Unlock()
	return auth, nil
}

// profilesForAccount lists the configured profiles whose account is acct.
func (b *Backend) profilesForAccount(ctx context.Context, acct, region string) ([]string, error) {
	names, err := b.profileNames(nil)
	if err != nil {
		return nil, err
	}
	var errs []error
	var on []string
	for _, n := range names {
		a, err := b.account(ctx, n, region)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if a == acct {
			on = append(on, n)
		}
	}
	if len(on) > 0 {
		return on, nil
	}
	err = fmt.Errorf("no configured AWS profile is on account %s: %w", acct, cloud.ErrUnauthenticated)
	if len(errs) > 0 {
		err = fmt.Errorf("%w (%w)", err, errors.Join(errs...))
	}
	return nil, cloud.WithHint(err, "add a profile for account "+acct+" to aws.profiles")
}

// ensureRepository makes sure an ECR repository exists, creating it only
// when the caller said yes; otherwise it fails naming --yes. immutable
// reports whether its tags are immutable (IMMUTABLE, or
// IMMUTABLE_WITH_EXCLUSION: fndeck then pushes under a tag of its own).
func (b *Backend) ensureRepository(ctx context.Context, rc *regionClients, profile, region, repo string, yes bool, out cloud.Sink) (immutable bool, err error) {
	var dr *ecr.DescribeRepositoriesOutput
	err = b.call(ctx, nil, func() error {
		var e error
		dr, e = rc.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{repo}})
		return e
	})
	if err == nil {
		for _, r := range dr.Repositories {
			switch r.ImageTagMutability {
			case ecrtypes.ImageTagMutabilityImmutable, ecrtypes.ImageTagMutabilityImmutableWithExclusion:
				return true, nil
			}
		}
		return false, nil
	}
	if cerr := classify(err, profile); !errors.Is(cerr, cloud.ErrNotFound) {
		return false, errorf(profile, "looking up ECR repository %s in %s: %w", repo, region, err)
	}
	if !yes {
		return false, cloud.WithHint(fmt.Errorf("ECR repository %s does not exist in %s: creating it %w (--yes)", repo, region, cloud.ErrNeedsConfirmation),
			"pass --yes to create the repository")
	}
	out.Line(fmt.Sprintf("creating ECR repository %s in %s", repo, region))
	err = b.call(ctx, nil, func() error {
		_, e := rc.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: &repo})
		return e
	})
	if err != nil {
		return false, errorf(profile, "creating ECR repository %s in %s: %w", repo, region, err)
	}
	return false, nil
}

// repoAndTag derives an ECR repository name and tag from a local image
// reference: "localhost:5000/team/app:1" → ("team/app", "1"); an image ID
// gets the repository "fndeck" and a tag from the ID.
func repoAndTag(ref string) (repo, tag string) {
	if strings.HasPrefix(ref, "sha256:") || (len(ref) >= 12 && !strings.ContainsAny(ref, ":/") && isHex(ref)) {
		id := strings.TrimPrefix(ref, "sha256:")
		if len(id) > 12 {
			id = id[:12]
		}
		return "fndeck", "id-" + id
	}
	name := ref
	if at := strings.Index(name, "@"); at >= 0 {
		name = name[:at]
		tag = "latest"
	}
	if h := reghost.OfRef(name); h != "" {
		name = strings.TrimPrefix(name, h+"/")
	}
	if i := strings.LastIndex(name, ":"); i >= 0 {
		name, tag = name[:i], name[i+1:]
	}
	if tag == "" {
		tag = "latest"
	}
	name = strings.TrimPrefix(name, "library/")
	return strings.ToLower(name), tag
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// LoginHint tells the user what to run when an ECR registry refuses the
// credentials fndeck got for it (the docker engine pusher asks for it).
func (b *Backend) LoginHint(host string) string {
	_, region, ok := reghost.ECR(host)
	if !ok {
		return ""
	}
	names, err := b.profileNames(nil)
	profile := ""
	if err == nil && len(names) > 0 {
		profile = names[0]
	}
	return "refresh the AWS credentials (aws sso login" + profileFlag(profile) + ", or aws configure" + profileFlag(profile) +
		"), or check ecr:GetAuthorizationToken in " + region
}
