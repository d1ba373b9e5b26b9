package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestProjectSmoke(t *testing.T) {
	dir := project(t, `functions:
  api:
    build: {context: ., pre: "go build -o app ."}
    payloads: {ok: payloads/ok.json}
    smoke: {payload: ok, expect: {status: 200, json: {ok: true, n: 2, tags: [a]}}}
  web:
    smoke: {payload: payloads/ok.json}
`)
	p, err := LoadProject(dir)
	if err != nil {
		t.Fatal(err)
	}
	sm := p.Function("api").Smoke
	want := &Smoke{Payload: "ok", File: filepath.Join(dir, "payloads/ok.json"), Status: 200,
		JSON: map[string]any{"ok": true, "n": 2.0, "tags": []any{"a"}}}
	if !reflect.DeepEqual(sm, want) {
		t.Errorf("api smoke = %#v\nwant %#v", sm, want)
	}
	if pre := p.Function("api").Build.Pre; pre != "go build -o app ." {
		t.Errorf("build.pre = %q", pre)
	}
	if sm := p.Function("web").Smoke; sm == nil || sm.File != filepath.Join(dir, "payloads/ok.json") || sm.Payload != "" {
		t.Errorf("web smoke (a file) = %#v", sm)
	}
}

func TestProjectSmokeProblems(t *testing.T) {
	for _, tt := range []struct{ name, smoke, want string }{
		{"unknown payload", `{payload: nope}`, `4:22: functions.api.smoke.payload: "nope" is neither a payload of api (it has ok)`},
		{"bad status", `{payload: ok, expect: {status: 42}}`, `4:43: functions.api.smoke.expect.status: 42 is out of range`},
		{"no payload", `{expect: {status: 200}}`, `4:12: functions.api.smoke: "payload" is required`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := project(t, "functions:\n  api:\n    payloads: {ok: payloads/ok.json}\n    smoke: "+tt.smoke+"\n")
			_, err := LoadProject(dir)
			ps := problemsOf(t, err)
			if len(ps) != 1 {
				t.Fatalf("want one problem, got %d:\n%v", len(ps), err)
			}
			want := filepath.Join(dir, ProjectFile) + ":" + tt.want
			if got := ps[0].Error(); !strings.HasPrefix(got, want) {
				t.Errorf("got  %s\nwant %s…", got, want)
			}
		})
	}
}
