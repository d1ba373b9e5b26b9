package aws

import (
	"context"
	"fmt"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/accounts"
)

// mfaCredentials is the load option for a profile with mfa_serial whose
// assumed-role credentials fndeck cached (fndeck login aws --mfa-code):
// they replace the SDK's chain, which would ask for a code. nil when there
// is no valid cache.
func (b *Backend) mfaCredentials(profile string) config.LoadOptionsFunc {
	if profile == "" {
		return nil
	}
	p, ok, _ := accounts.LookupAWSProfile(profile)
	if !ok || p.MFASerial == "" {
		return nil
	}
	c, ok := accounts.ReadMFACache(profile, b.now())
	if !ok {
		return nil
	}
	creds := sdkaws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		Source: "fndeck mfa cache", CanExpire: true, Expires: c.Expiration}
	return config.WithCredentialsProvider(sdkaws.CredentialsProviderFunc(func(context.Context) (sdkaws.Credentials, error) {
		return creds, nil
	}))
}

// LoginMFA assumes profile's role with an MFA code (the SDK's
// AssumeRoleOptions.TokenProvider) and caches the credentials for their
// lifetime, so later runs use them without a code. It returns their expiry.
func (b *Backend) LoginMFA(ctx context.Context, profile, code string) (cloud.LoginResult, error) {
	p, ok, _ := accounts.LookupAWSProfile(profile)
	if !ok || p.MFASerial == "" {
		return cloud.LoginResult{}, fmt.Errorf("login: %s has no mfa_serial: %w", profileLabel(profile), cloud.ErrInvalid)
	}
	// The role is assumed from the source profile's credentials with an STS
	// client built from that profile's config, so that the endpoint
	// settings (AWS_ENDPOINT_URL[_STS]) apply as for every other call.
	src := p.SourceProfile
	if src == "" {
		return cloud.LoginResult{}, fmt.Errorf("login: %s has mfa_serial but no source_profile: %w", profileLabel(profile), cloud.ErrInvalid)
	}
	lo := []func(*config.LoadOptions) error{config.WithSharedConfigProfile(src)}
	if b.opts.HTTPClient != nil {
		lo = append(lo, config.WithHTTPClient(b.opts.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return cloud.LoginResult{}, classify(fmt.Errorf("loading AWS config for %s: %w", profileLabel(src), err), src)
	}
	if cfg.Region == "" {
		cfg.Region = cmpOr(p.Region, "us-east-1")
	}
	prov := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), p.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.SerialNumber = sdkaws.String(p.MFASerial)
		o.TokenProvider = func() (string, error) { return code, nil }
		o.RoleSessionName = "fndeck-" + profile
	})
	creds, err := prov.Retrieve(ctx)
	if err != nil {
		return cloud.LoginResult{}, classify(fmt.Errorf("assuming %s with the MFA code: %w", p.RoleARN, err), profile)
	}
	if err := accounts.WriteMFACache(profile, accounts.MFACredentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey,
		SessionToken: creds.SessionToken, Expiration: creds.Expires}); err != nil {
		return cloud.LoginResult{}, err
	}
	// The profile's config (and clients) are built again with the cache.
	b.mu.Lock()
	delete(b.profiles, profile)
	b.mu.Unlock()
	return cloud.LoginResult{Expires: creds.Expires}, nil
}
