package gcp

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/api/iterator"
	locationpb "google.golang.org/genproto/googleapis/cloud/location"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/accounts"
	"github.com/fndeck/fndeck/internal/reghost"
)

// Health checks the credentials (which kind, which account) and, for each
// project (with where it came from), that Cloud Run and Cloud Logging
// answer; the projects are checked in parallel.
func (b *Backend) Health(ctx context.Context) []cloud.HealthCheck {
	var out []cloud.HealthCheck
	loopback := b.opts.RunEndpoint != "" && reghost.IsLoopback(b.opts.RunEndpoint)
	if !loopback || b.opts.TokenSource != nil || len(b.opts.CredentialsJSON) > 0 {
		out = append(out, b.credentialsHealth(ctx))
	}
	projects, err := b.projects(ctx, cloud.ListFilter{})
	if err != nil {
		return append(out, cloud.HealthCheck{ID: "gcp:project", Level: cloud.HealthError, Message: err.Error(), Hint: cloud.Hint(err)})
	}
	checks := make([]cloud.HealthCheck, len(projects))
	var wg sync.WaitGroup
	for i, p := range projects {
		wg.Go(func() { checks[i] = b.projectHealth(ctx, p) })
	}
	wg.Wait()
	return append(out, checks...)
}

func (b *Backend) credentialsHealth(ctx context.Context) cloud.HealthCheck {
	c := cloud.HealthCheck{ID: "gcp:credentials"}
	if _, err := b.accessToken(ctx); err != nil {
		c.Level, c.Message, c.Hint = cloud.HealthError, err.Error(), cloud.Hint(err)
		return c
	}
	c.Level = cloud.HealthOK
	switch {
	case b.opts.TokenSource != nil || len(b.opts.CredentialsJSON) > 0:
		c.Message = "credentials given to fndeck"
	case b.usesGcloud():
		props, _ := accounts.ReadGcloudProperties()
		c.Message = fmt.Sprintf("gcloud's account %s (config-helper token until %s)", props.Account, b.gcloud.Expiry().Local().Format("15:04"))
	default:
		adc, found, _ := accounts.ReadADC()
		switch {
		case !found:
			c.Message = "application default credentials (metadata server)"
		case adc.Type == "authorized_user":
			props, _ := accounts.ReadGcloudProperties()
			c.Message = "application default credentials: user, refreshable"
			if props.Account != "" {
				c.Message += " (gcloud account " + props.Account + ")"
			}
		case adc.ClientEmail != "":
			c.Message = "application default credentials: " + strings.ReplaceAll(adc.Type, "_", " ") + " " + adc.ClientEmail
		default:
			c.Message = "application default credentials: " + adc.Type
		}
	}
	return c
}

func (b *Backend) projectHealth(ctx context.Context, project string) cloud.HealthCheck {
	c := cloud.HealthCheck{ID: "gcp:" + project, Level: cloud.HealthOK}
	label := b.scope(project)
	if label == project {
		label += " (config)"
	}
	_, _, locations, err := b.runClients(ctx)
	if err == nil {
		it := locations.ListLocations(ctx, &locationpb.ListLocationsRequest{Name: "projects/" + project, PageSize: 1})
		if _, err = it.Next(); err == iterator.Done {
			err = nil
		}
		err = classify(err, "cloud run", project, runAPI)
	}
	if err != nil {
		c.Level, c.Message, c.Hint = cloud.HealthError, label+": "+err.Error(), cloud.Hint(err)
		return c
	}
	lc, err := b.loggingClient(ctx)
	if err == nil {
		it := lc.ListLogEntries(ctx, &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/" + project}, PageSize: 1,
			Filter: `resource.type="cloud_run_revision"`})
		if _, err = it.Next(); err == iterator.Done {
			err = nil
		}
		err = classify(err, "cloud logging", project, loggingAPI)
	}
	if err != nil {
		c.Level, c.Message, c.Hint = cloud.HealthError, label+": cloud run answers; "+err.Error(), cloud.Hint(err)
		return c
	}
	c.Message = label + ": cloud run and cloud logging answer"
	return c
}
