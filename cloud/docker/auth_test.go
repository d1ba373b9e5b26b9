package docker

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fndeck/fndeck/cloud"
)

// fakeHelper installs docker-credential-NAME on PATH: a shell script that
// speaks the credential helper protocol for one server and answers
// "credentials not found" for any other.
func fakeHelper(t *testing.T, name, server, user, secret string) {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh for the fake credential helper")
	}
	bin := t.TempDir()
	script := fmt.Sprintf(`#!/bin/sh
[ "$1" = get ] || { echo "unsupported $1" >&2; exit 1; }
read -r server
if [ "$server" = %q ]; then
  printf '{"ServerURL":"%%s","Username":%q,"Secret":%q}\n' "$server"
else
  echo "credentials not found in native keychain"
  exit 1
fi
`, server, user, secret)
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-"+name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestDockerConfigAuth(t *testing.T) {
	fakeHelper(t, "fndecktest", "helper.example:5000", "hu", "hp")
	fakeHelper(t, "fndecktoken", "https://index.docker.io/v1/", "<token>", "idtok")
	ctx := context.Background()
	tests := []struct {
		name, config, host string
		want               cloud.RegistryAuth
		ok                 bool
		wantErr            string
	}{
		{name: "auths base64", config: `{"auths":{"127.0.0.1:5000":{"auth":"` + b64("u:p:w") + `"}}}`,
			host: "127.0.0.1:5000", ok: true, want: cloud.RegistryAuth{Username: "u", Password: "p:w", ServerAddress: "127.0.0.1:5000"}},
		{name: "auths key with scheme", config: `{"auths":{"https://reg.example/":{"auth":"` + b64("u:p") + `"}}}`,
			host: "reg.example", ok: true, want: cloud.RegistryAuth{Username: "u", Password: "p", ServerAddress: "reg.example"}},
		{name: "identity token", config: `{"auths":{"reg.example":{"identitytoken":"tok"}}}`,
			host: "reg.example", ok: true, want: cloud.RegistryAuth{IdentityToken: "tok", ServerAddress: "reg.example"}},
		{name: "docker hub key normalised", config: `{"auths":{"https://index.docker.io/v1/":{"auth":"` + b64("hub:pw") + `"}}}`,
			host: "docker.io", ok: true, want: cloud.RegistryAuth{Username: "hub", Password: "pw", ServerAddress: dockerHubKey}},
		{name: "other host not claimed", config: `{"auths":{"a.example":{"auth":"` + b64("u:p") + `"}}}`, host: "b.example"},
		{name: "credHelpers per host", config: `{"credHelpers":{"helper.example:5000":"fndecktest"},"auths":{"helper.example:5000":{"auth":"` + b64("file:pw") + `"}}}`,
			host: "helper.example:5000", ok: true, want: cloud.RegistryAuth{Username: "hu", Password: "hp", ServerAddress: "helper.example:5000"}},
		{name: "credsStore with token username", config: `{"credsStore":"fndecktoken"}`,
			host: "index.docker.io", ok: true, want: cloud.RegistryAuth{IdentityToken: "idtok", ServerAddress: dockerHubKey}},
		{name: "credsStore miss falls back to auths", config: `{"credsStore":"fndecktest","auths":{"x.example":{"auth":"` + b64("u:p") + `"}}}`,
			host: "x.example", ok: true, want: cloud.RegistryAuth{Username: "u", Password: "p", ServerAddress: "x.example"}},
		{name: "missing helper named", config: `{"credsStore":"nosuchhelper"}`, host: "x.example",
			wantErr: "docker-credential-nosuchhelper not found on PATH"},
		{name: "bad base64", config: `{"auths":{"x.example":{"auth":"%%%"}}}`, host: "x.example", wantErr: "not valid base64"},
		{name: "no file", host: "x.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.config != "" {
				dir = writeConfig(t, tc.config)
			}
			a := &DockerConfigAuth{Dir: dir}
			got, ok, err := a.AuthFor(ctx, tc.host)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("AuthFor error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("AuthFor: %v", err)
			}
			if ok != tc.ok || got != tc.want {
				// Field names only: the values are credentials.
				t.Fatalf("AuthFor(%s) ok=%v user=%q server=%q token set=%v; want ok=%v user=%q server=%q",
					tc.host, ok, got.Username, got.ServerAddress, got.IdentityToken != "", tc.ok, tc.want.Username, tc.want.ServerAddress)
			}
		})
	}
}

func TestAuthForNamesTheProvidersHint(t *testing.T) {
	dir := writeConfig(t, `{"auths":{"reg.example":{"auth":"`+b64("u:p")+`"}}}`)
	e, err := New(Endpoint{Host: "unix:///nonexistent.sock"}, WithAuth(cloud.AuthChain{
		hintedProvider{host: "ecr.example", hint: "aws sso login --profile prod", auth: cloud.RegistryAuth{Username: "AWS"}},
		cloud.AuthChain{&DockerConfigAuth{Dir: dir}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first := func(hosts ...string) (*cloud.RegistryAuth, string) {
		var got *cloud.RegistryAuth
		var hint string
		err := cloud.TryAuth(ctx, e.auth, hosts, func(a *cloud.RegistryAuth, by cloud.AuthProvider) error {
			got, hint = a, hintOf(by, hosts[len(hosts)-1])
			return nil
		})
		if err != nil {
			t.Fatalf("TryAuth(%v): %v", hosts, err)
		}
		return got, hint
	}
	// A rewritten ECR host: the push host is unknown, the named host is the provider's.
	a, hint := first("127.0.0.1:5000", "ecr.example")
	if a == nil || a.Username != "AWS" || hint != "aws sso login --profile prod" {
		t.Fatalf("ecr: %v, %q", a, hint)
	}
	a, hint = first("reg.example")
	if a == nil || a.Username != "u" || hint != "docker login reg.example" {
		t.Fatalf("reg: user set %v, %q", a != nil, hint)
	}
	if a, hint = first("other.example"); a != nil || hint != "" {
		t.Fatalf("other: %v, %q", a, hint)
	}
}

// hintedProvider stands in for a cloud provider (ECR) in front of the chain.
type hintedProvider struct {
	host, hint string
	auth       cloud.RegistryAuth
}

func (p hintedProvider) AuthFor(_ context.Context, host string) (cloud.RegistryAuth, bool, error) {
	if host != p.host {
		return cloud.RegistryAuth{}, false, nil
	}
	return p.auth, true, nil
}

func (p hintedProvider) LoginHint(string) string { return p.hint }

// fixedAuth claims one host and may hint.
type fixedAuth struct {
	host, user, hint string
}

func (f fixedAuth) AuthFor(_ context.Context, host string) (cloud.RegistryAuth, bool, error) {
	if host != f.host {
		return cloud.RegistryAuth{}, false, nil
	}
	return cloud.RegistryAuth{Username: f.user, ServerAddress: host}, true, nil
}

func (f fixedAuth) LoginHint(host string) string {
	if host != f.host {
		return ""
	}
	return f.hint
}

func TestAuthRefIsFilledInLater(t *testing.T) {
	ref := &AuthRef{}
	if _, ok, err := ref.AuthFor(t.Context(), "a.example"); ok || err != nil {
		t.Fatalf("an empty chain claimed a host: ok=%v err=%v", ok, err)
	}
	ref.Chain = cloud.AuthChain{
		fixedAuth{host: "a.example", user: "first", hint: "log in to a"},
		fixedAuth{host: "b.example", user: "second"},
	}
	if a, ok, _ := ref.AuthFor(t.Context(), "b.example"); !ok || a.Username != "second" {
		t.Fatalf("b.example: %+v ok=%v", a, ok)
	}
	if h := ref.LoginHint("a.example"); h != "log in to a" {
		t.Fatalf("hint for a.example: %q", h)
	}
	if h := ref.LoginHint("b.example"); h != "" {
		t.Fatalf("hint for b.example, whose provider gives none: %q", h)
	}
}
