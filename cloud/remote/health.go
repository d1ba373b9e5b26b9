package remote

import (
	"context"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/remote/wire"
)

var _ cloud.HealthChecker = (*Backend)(nil)

// Health implements cloud.HealthChecker in the helper. A helper that cannot
// answer is one error check for the provider.
func (b *Backend) Health(ctx context.Context) []cloud.HealthCheck {
	data, err := b.c.call(ctx, b.provider, wire.MHealth, struct{}{}, noStream)
	if err != nil {
		return []cloud.HealthCheck{{ID: string(b.provider), Level: cloud.HealthError, Message: err.Error(), Hint: cloud.Hint(err)}}
	}
	var out []cloud.HealthCheck
	if err := decodeInto(data, &out, "health checks"); err != nil {
		return []cloud.HealthCheck{{ID: string(b.provider), Level: cloud.HealthError, Message: err.Error()}}
	}
	return out
}

// LoginMFA assumes profile's role with an MFA code in the helper, which
// caches the credentials for their lifetime.
func (b *Backend) LoginMFA(ctx context.Context, profile, code string) (cloud.LoginResult, error) {
	data, err := b.c.call(ctx, b.provider, wire.MLoginMFA, wire.LoginMFAArgs{Profile: profile, Code: code}, noStream)
	if err != nil {
		return cloud.LoginResult{}, err
	}
	var r cloud.LoginResult
	err = decodeInto(data, &r, "login result")
	return r, err
}
