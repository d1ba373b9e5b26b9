package aws

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/fndeck/fndeck/cloud"
)

// deadEndpoint returns the URL of a 127.0.0.1 port that refuses connections.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(nil)
	u := srv.URL
	srv.Close()
	return u
}

// isolatedAWSEnv clears every variable that selects a profile or an endpoint
// and points the shared config files at a temp file holding cfg.
func isolatedAWSEnv(t *testing.T, cfg string) {
	t.Helper()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA",
		"AWS_ENDPOINT_URL_STS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
}

// A profile that no shared config file defines is an authentication problem
// with a hint to create it, and the scope names the profile actually used,
// also when the default chain took it from AWS_PROFILE / AWS_DEFAULT_PROFILE.
func TestListMissingProfile(t *testing.T) {
	const other = "[profile other]\nregion = us-east-1\naws_access_key_id = a\naws_secret_access_key = b\n"
	for _, c := range []struct {
		name       string
		env        map[string]string
		profiles   []string
		wantScope  string
		wantErr    string
		wantHint   []string
		unwantHint string
	}{
		{
			name:      "AWS_PROFILE",
			env:       map[string]string{"AWS_PROFILE": "ghost"},
			wantScope: "ghost",
			wantErr:   "profile ghost (AWS_PROFILE)",
			wantHint:  []string{"aws configure --profile ghost", "aws configure sso --profile ghost", "unset AWS_PROFILE"},
		},
		{
			// The SDK tolerates a missing AWS_DEFAULT_PROFILE (only
			// AWS_PROFILE must exist) and then finds no credentials; the
			// group still names the profile and the hint configures it.
			name:      "AWS_DEFAULT_PROFILE",
			env:       map[string]string{"AWS_DEFAULT_PROFILE": "spook"},
			wantScope: "spook",
			wantErr:   "profile spook (AWS_DEFAULT_PROFILE)",
			wantHint:  []string{"aws configure --profile spook"},
		},
		{
			name:       "configured",
			profiles:   []string{"nope"},
			wantScope:  "nope",
			wantErr:    "profile nope",
			wantHint:   []string{"aws configure --profile nope", "aws configure sso --profile nope"},
			unwantHint: "unset",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			isolatedAWSEnv(t, other)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			b := New(Options{Profiles: c.profiles, Regions: []string{"us-east-1"}})
			groups := collect(t, b, cloud.ListFilter{})
			if len(groups) != 1 {
				t.Fatalf("groups = %+v, want one error group", groups)
			}
			g := groups[0]
			if g.Group.Scope != c.wantScope || g.Group.Region != "us-east-1" {
				t.Errorf("scope = %q/%q, want %q/us-east-1", g.Group.Scope, g.Group.Region, c.wantScope)
			}
			if !errors.Is(g.Err, cloud.ErrUnauthenticated) || !strings.Contains(g.Err.Error(), c.wantErr) {
				t.Errorf("err = %v, want ErrUnauthenticated naming %q", g.Err, c.wantErr)
			}
			for _, w := range c.wantHint {
				if !strings.Contains(g.Hint, w) {
					t.Errorf("hint = %q, want it to contain %q (err %v)", g.Hint, w, g.Err)
				}
			}
			if c.unwantHint != "" && strings.Contains(g.Hint, c.unwantHint) {
				t.Errorf("hint = %q, should not contain %q", g.Hint, c.unwantHint)
			}
		})
	}
}

// With AWS_PROFILE naming an existing profile, a successful group's scope
// names that profile, not "default".
func TestListScopeNamesEnvProfile(t *testing.T) {
	f := newFakeAWS(t)
	f.accounts["AK1"] = acctA
	f.env(t, "unused")
	writeProfiles(t, map[string]string{"work": "AK1"})
	t.Setenv("AWS_PROFILE", "work")
	f.add(&fakeFn{Name: "fn", Account: acctA, Region: "us-east-1"})
	b := New(Options{Regions: []string{"us-east-1"}})
	groups := collect(t, b, cloud.ListFilter{})
	if len(groups) != 1 || groups[0].Err != nil || groups[0].Group.Scope != "work ("+acctA+")" {
		t.Fatalf("groups = %+v, want one group scoped %q", groups, "work ("+acctA+")")
	}
}

// The unreachable hint names where the dead endpoint came from.
func TestListUnreachableHintNamesEndpointSource(t *testing.T) {
	t.Run("profile endpoint_url", func(t *testing.T) {
		dead := deadEndpoint(t)
		isolatedAWSEnv(t, fmt.Sprintf("[profile bad]\nregion = us-east-1\naws_access_key_id = a\naws_secret_access_key = b\nendpoint_url = %s\n", dead))
		b := New(Options{Profiles: []string{"bad"}, Regions: []string{"us-east-1"}})
		groups := collect(t, b, cloud.ListFilter{})
		if len(groups) != 1 || !errors.Is(groups[0].Err, cloud.ErrUnreachable) {
			t.Fatalf("groups = %+v, want one unreachable group", groups)
		}
		h := groups[0].Hint
		host := strings.TrimPrefix(dead, "http://")
		if !strings.Contains(h, "endpoint_url configured for profile bad") || !strings.Contains(h, host) || strings.Contains(h, "AWS_ENDPOINT_URL") {
			t.Errorf("hint = %q, want it to name profile bad's endpoint_url (%s) and not AWS_ENDPOINT_URL", h, host)
		}
	})
	t.Run("AWS_ENDPOINT_URL", func(t *testing.T) {
		isolatedAWSEnv(t, "")
		t.Setenv("AWS_ENDPOINT_URL", deadEndpoint(t))
		t.Setenv("AWS_ACCESS_KEY_ID", "a")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "b")
		b := New(Options{Regions: []string{"us-east-1"}})
		groups := collect(t, b, cloud.ListFilter{})
		if len(groups) != 1 || !errors.Is(groups[0].Err, cloud.ErrUnreachable) {
			t.Fatalf("groups = %+v, want one unreachable group", groups)
		}
		if h := groups[0].Hint; h != "check the network and the endpoint in AWS_ENDPOINT_URL" {
			t.Errorf("hint = %q, want it to name AWS_ENDPOINT_URL", h)
		}
	})
	t.Run("AWS_ENDPOINT_URL_LAMBDA", func(t *testing.T) {
		// STS (the account) answers from the fake; only Lambda is dead.
		f := newFakeAWS(t)
		f.accounts["AK1"] = acctA
		f.env(t, "AK1")
		t.Setenv("AWS_ENDPOINT_URL_LAMBDA", deadEndpoint(t))
		t.Setenv("AWS_MAX_ATTEMPTS", "1")
		b := New(Options{Regions: []string{"us-east-1"}})
		groups := collect(t, b, cloud.ListFilter{})
		if len(groups) != 1 || !errors.Is(groups[0].Err, cloud.ErrUnreachable) {
			t.Fatalf("groups = %+v, want one unreachable group", groups)
		}
		if h := groups[0].Hint; h != "check the network and the endpoint in AWS_ENDPOINT_URL_LAMBDA" {
			t.Errorf("hint = %q, want it to name AWS_ENDPOINT_URL_LAMBDA", h)
		}
	})
}

// unreachableHint follows the SDK's endpoint precedence; built errors stand
// in for the SDK's so AWS's own hosts need no network.
func TestUnreachableHint(t *testing.T) {
	sendErr := func(service, rawURL string) error {
		return &smithy.OperationError{ServiceID: service, OperationName: "Op",
			Err: &url.Error{Op: "Post", URL: rawURL, Err: errors.New("connect: connection refused")}}
	}
	for _, c := range []struct {
		name    string
		env     map[string]string
		profile string
		err     error
		want    string
	}{
		{"service env wins", map[string]string{"AWS_ENDPOINT_URL_STS": "x", "AWS_ENDPOINT_URL": "y"}, "p",
			sendErr("STS", "http://127.0.0.1:1/"), "check the network and the endpoint in AWS_ENDPOINT_URL_STS"},
		{"service ID with a space", map[string]string{"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": "x"}, "p",
			sendErr("CloudWatch Logs", "http://127.0.0.1:1/"), "check the network and the endpoint in AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"},
		{"global env", map[string]string{"AWS_ENDPOINT_URL": "y"}, "p",
			sendErr("Lambda", "http://127.0.0.1:1/"), "check the network and the endpoint in AWS_ENDPOINT_URL"},
		{"profile endpoint_url", nil, "dev",
			sendErr("Lambda", "http://127.0.0.1:1/2015-03-31/functions"), "check the network and the endpoint_url configured for profile dev in the shared config file (127.0.0.1:1)"},
		{"AWS's own endpoint", nil, "dev",
			sendErr("Lambda", "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions"), "check the network: AWS's endpoint lambda.eu-west-1.amazonaws.com could not be reached"},
		{"env ignored", map[string]string{"AWS_ENDPOINT_URL": "y", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "dev",
			sendErr("Lambda", "https://lambda.us-east-1.amazonaws.com/"), "check the network: AWS's endpoint lambda.us-east-1.amazonaws.com could not be reached"},
		{"no URL known", nil, "",
			errors.New("dial tcp: connection refused"), "check the network and the endpoint configured for the default AWS profile (endpoint_url in the shared config file, or AWS_ENDPOINT_URL)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
				"AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
				t.Setenv(k, c.env[k])
			}
			err := classify(fmt.Errorf("listing: %w", c.err), c.profile)
			if !errors.Is(err, cloud.ErrUnreachable) || cloud.Hint(err) != c.want {
				t.Errorf("classify → %v, hint %q; want unreachable with hint %q", err, cloud.Hint(err), c.want)
			}
		})
	}
}
