package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestProjectLocalHTTP(t *testing.T) {
	dir := project(t, "functions:\n  fn:\n    targets:\n      dev: {local: {as: lambda, http: true}}\n      plain: {local: {as: lambda, name: fn2}}\n")
	p, err := LoadProject(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got = map[string]bool{}
	for _, f := range p.Functions {
		for _, tg := range f.Targets {
			got[tg.Name] = tg.Local.HTTP
		}
	}
	if !got["dev"] || got["plain"] {
		t.Errorf("local http per target: %v", got)
	}

	for _, tt := range []struct{ yaml, want string }{
		{"      dev: {local: {as: cloudrun, http: true}}\n", `4:35: functions.fn.targets.dev.local.http: only a local target run as lambda gets an HTTP front door`},
		{"      dev: {local: {as: lambda, http: maybe}}\n", `4:39: functions.fn.targets.dev.local.http: expected true or false, got "maybe"`},
	} {
		dir := project(t, "functions:\n  fn:\n    targets:\n"+tt.yaml)
		_, err := LoadProject(dir)
		ps := problemsOf(t, err)
		want := filepath.Join(dir, ProjectFile) + ":" + tt.want
		if len(ps) != 1 || !strings.HasPrefix(ps[0].Error(), want) {
			t.Errorf("got %v\nwant %s…", err, want)
		}
	}
}
