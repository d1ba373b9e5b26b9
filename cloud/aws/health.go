package aws

import (
	"context"
	"fmt"
	"sync"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/accounts"
)

// Health checks every configured profile in parallel: its session (from
// the aws CLI's files, no call), then STS GetCallerIdentity for the account
// and ARN the credentials resolve to.
func (b *Backend) Health(ctx context.Context) []cloud.HealthCheck {
	names, err := b.profileNames(nil)
	if err != nil {
		return []cloud.HealthCheck{{ID: "aws", Level: cloud.HealthError, Message: err.Error(), Hint: cloud.Hint(err)}}
	}
	out := make([]cloud.HealthCheck, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { out[i] = b.profileHealth(ctx, name) })
	}
	wg.Wait()
	return out
}

func (b *Backend) profileHealth(ctx context.Context, name string) cloud.HealthCheck {
	c := cloud.HealthCheck{ID: "aws:" + displayProfile(name)}
	fail := func(err error) cloud.HealthCheck {
		c.Level, c.Message, c.Hint = cloud.HealthError, err.Error(), cloud.Hint(err)
		return c
	}
	if _, err := b.sessionError(name); err != nil {
		return fail(err)
	}
	cfg, err := b.config(ctx, b.profile(name))
	if err != nil {
		return fail(err)
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) { o.Region = region })
	var id *sts.GetCallerIdentityOutput
	err = b.call(ctx, nil, func() error {
		var e error
		id, e = client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return e
	})
	if err != nil {
		return fail(classify(fmt.Errorf("%s: STS GetCallerIdentity: %w", profileLabel(name), err), name))
	}
	c.Level = cloud.HealthOK
	c.Message = fmt.Sprintf("account %s, %s", sdkaws.ToString(id.Account), sdkaws.ToString(id.Arn))
	if p, ok, _ := accounts.LookupAWSProfile(name); ok {
		s := accounts.AWSSession(p, b.now())
		c.Message += " (" + p.Kind
		switch {
		case s.Refreshable:
			c.Message += ", session refreshes itself"
		case !s.Expires.IsZero():
			c.Message += ", session until " + s.Expires.Local().Format("2006-01-02 15:04")
		}
		c.Message += ")"
		if s.ExpiresWithin(b.now(), accounts.WarnBefore) {
			c.Level, c.Hint = cloud.HealthWarning, s.Hint
		}
	}
	return c
}
