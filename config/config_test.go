package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeFile writes content to a fresh file and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// problemsOf asserts err is Problems and returns it.
func problemsOf(t *testing.T, err error) Problems {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v (%T) is not Problems", err, err)
	}
	return ps
}

func TestLoadFullFile(t *testing.T) {
	cfg, err := Load(LoadOptions{Path: "testdata/full.yaml", Explicit: true})
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Path: "testdata/full.yaml",
		AWS:  AWSConfig{Profiles: []string{"dev", "prod"}, Regions: []string{"eu-west-1", "us-east-1"}},
		GCP: GCPConfig{Projects: []string{"acme-web"}, Regions: []string{"europe-west1"},
			RunEndpoint: "127.0.0.1:8085", LoggingEndpoint: "[::1]:8086"},
		Docker:     DockerConfig{Host: "unix:///var/run/docker.sock"},
		Registries: RegistriesConfig{Rewrite: map[string]string{"123456789012.dkr.ecr.eu-west-1.amazonaws.com": "127.0.0.1:5000"}},
		Logs:       LogsConfig{BufferLines: 1000, BufferBytes: 8 << 20, LiveTail: false, Tail: 200, CaptureBytes: DefaultCaptureBytes},
		Local:      LocalConfig{Network: "host"},
		UI:         UIConfig{Theme: "dark", Keys: map[string][]string{"quit": {"ctrl+q"}, "refresh": {"r", "f5"}}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load =\n%+v\nwant\n%+v", cfg, want)
	}
}

func TestLoadDefaults(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "config.yaml")
	for _, opts := range []LoadOptions{{}, {Path: missing}, {Path: writeFile(t, "empty.yaml", "# nothing set\n")}} {
		cfg, err := Load(opts)
		if err != nil {
			t.Fatalf("Load(%+v): %v", opts, err)
		}
		want := Default()
		if opts.Path != missing {
			want.Path = opts.Path
		}
		if !reflect.DeepEqual(cfg, want) {
			t.Errorf("Load(%+v) = %+v, want defaults %+v", opts, cfg, want)
		}
	}
	d := Default()
	if d.Logs.BufferLines != 50000 || d.Logs.BufferBytes != 64<<20 || !d.Logs.LiveTail || d.Logs.Tail != 200 || d.Local.Network != "bridge" || d.UI.Theme != "auto" {
		t.Errorf("defaults differ from PRODUCT.md: %+v", d)
	}
}

func TestLoadExplicitMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(LoadOptions{Path: missing, Explicit: true})
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].File != missing || !strings.Contains(ps[0].Msg, "does not exist") {
		t.Errorf("problems = %v", ps)
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, "config.yaml", `
aws:
  regions: [eu-west-1]
logs:
  buffer_lines: 100
  live_tail: false
ui:
  keys:
    quit: ctrl+q
    help: h
`)
	tests := []struct {
		name      string
		path      string
		env       []string
		overrides map[string]string
		check     func(*Config) string
	}{
		{"defaults", "", nil, nil, func(c *Config) string {
			if c.AWS.Regions != nil || c.Logs.BufferLines != 50000 || !c.Logs.LiveTail {
				return "defaults not applied"
			}
			return ""
		}},
		{"file over defaults", file, nil, nil, func(c *Config) string {
			if !reflect.DeepEqual(c.AWS.Regions, []string{"eu-west-1"}) || c.Logs.BufferLines != 100 || c.Logs.LiveTail {
				return "file values not applied"
			}
			return ""
		}},
		{"env over file", file, []string{"HOME=/x", "FNDECK_AWS_REGIONS=us-east-1, ap-south-1", "FNDECK_LOGS_BUFFER_LINES=200", "FNDECK_LOGS_LIVE_TAIL=yes"}, nil, func(c *Config) string {
			if !reflect.DeepEqual(c.AWS.Regions, []string{"us-east-1", "ap-south-1"}) || c.Logs.BufferLines != 200 || !c.Logs.LiveTail {
				return "env values not applied"
			}
			return ""
		}},
		{"env over defaults without file", "", []string{"FNDECK_LOGS_BUFFER_BYTES=1MiB", "FNDECK_LOCAL_NETWORK=host", "FNDECK_GCP_RUN_ENDPOINT=127.0.0.1:9000", "FNDECK_LOGS_TAIL=50"}, nil, func(c *Config) string {
			if c.Logs.BufferBytes != 1<<20 || c.Logs.Tail != 50 || c.Local.Network != "host" || c.GCP.RunEndpoint != "127.0.0.1:9000" {
				return "env values not applied"
			}
			return ""
		}},
		{"overrides over env", file, []string{"FNDECK_AWS_REGIONS=us-east-1"}, map[string]string{"aws.regions": "sa-east-1", "ui.theme": "light"}, func(c *Config) string {
			if !reflect.DeepEqual(c.AWS.Regions, []string{"sa-east-1"}) || c.UI.Theme != "light" {
				return "overrides not applied"
			}
			return ""
		}},
		{"maps merge key by key", file, []string{"FNDECK_UI_KEYS=help=?,help=f1,quit=Q", "FNDECK_REGISTRIES_REWRITE=gcr.io=127.0.0.1:5000"}, map[string]string{"ui.keys": "quit=ctrl+c"}, func(c *Config) string {
			want := map[string][]string{"quit": {"ctrl+c"}, "help": {"?", "f1"}}
			if !reflect.DeepEqual(c.UI.Keys, want) {
				return "ui.keys = " + strings.Join(flatten(c.UI.Keys), " ")
			}
			if c.Registries.Rewrite["gcr.io"] != "127.0.0.1:5000" {
				return "rewrite not applied"
			}
			return ""
		}},
		{"empty env variable is unset", file, []string{"FNDECK_AWS_REGIONS=", "FNDECK_UI_THEME="}, nil, func(c *Config) string {
			if !reflect.DeepEqual(c.AWS.Regions, []string{"eu-west-1"}) || c.UI.Theme != "auto" {
				return "empty env values applied"
			}
			return ""
		}},
		{"unrelated FNDECK variables ignored", "", []string{"FNDECK_RIE=/tmp/rie", "FNDECK_CONFIG=/x"}, nil, func(c *Config) string {
			if !reflect.DeepEqual(c, Default()) {
				return "config changed"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(LoadOptions{Path: tt.path, Explicit: tt.path != "", Env: tt.env, Overrides: tt.overrides})
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(cfg); msg != "" {
				t.Errorf("%s: %+v", msg, cfg)
			}
		})
	}
}

func flatten(m map[string][]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+strings.Join(v, "|"))
	}
	return out
}

// TestConfigProblems checks each validation message and its position.
func TestConfigProblems(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       string // "LINE:COL: message"
	}{
		{"unknown top key", "log:\n  live_tail: true\n", `1:1: unknown key "log" (did you mean "logs"?)`},
		{"unknown section key", "aws:\n  regon: eu-west-1\n", `2:3: unknown key "regon" in aws (did you mean "regions"?)`},
		{"unknown key far from any", "zzz: 1\n", `1:1: unknown key "zzz"; known keys: aws, gcp`},
		{"section not a mapping", "aws: eu-west-1\n", `1:6: aws: expected a mapping, got "eu-west-1"`},
		{"top not a mapping", "- a\n- b\n", `1:1: expected a mapping of settings at the top level, got a list`},
		{"bad region", "aws:\n  regions: [eu-west-1, eu-west]\n", `2:24: aws.regions: "eu-west" is not an AWS region (like eu-west-1)`},
		{"all combined", "aws:\n  profiles: [all, dev]\n", `2:14: aws.profiles: "all" means every one; it cannot be combined`},
		{"bad profile", "aws:\n  profiles:\n    - \"a b\"\n", `3:7: aws.profiles: "a b" is not a valid profile name`},
		{"list of mappings", "aws:\n  regions:\n    - {a: 1}\n", `3:7: aws.regions: expected a list of strings, found a mapping in it`},
		{"bad gcp project", "gcp:\n  projects: [Acme]\n", `2:14: gcp.projects: "Acme" is not a GCP project ID`},
		{"bad gcp region", "gcp:\n  regions: [europe-west]\n", `2:13: gcp.regions: "europe-west" is not a GCP region (like europe-west1)`},
		{"endpoint without port", "gcp:\n  run_endpoint: localhost\n", `2:17: gcp.run_endpoint: "localhost" is not host:port`},
		{"endpoint url", "gcp:\n  logging_endpoint: http://127.0.0.1:1\n", `2:21: gcp.logging_endpoint: "http://127.0.0.1:1" is a URL; give host:port only`},
		{"endpoint bad port", "gcp:\n  run_endpoint: 127.0.0.1:99999\n", `2:17: gcp.run_endpoint: port "99999" in "127.0.0.1:99999" is not a number from 1 to 65535`},
		{"docker host", "docker:\n  host: /var/run/docker.sock\n", `2:9: docker.host: "/var/run/docker.sock" is not a Docker host`},
		{"rewrite url", "registries:\n  rewrite:\n    gcr.io: https://mirror\n", `3:13: registries.rewrite: "https://mirror" is a URL`},
		{"rewrite bad key", "registries:\n  rewrite:\n    \"gcr io\": mirror\n", `3:5: registries.rewrite: "gcr io" is not a registry host`},
		{"rewrite not a map", "registries:\n  rewrite: [a]\n", `2:12: registries.rewrite: expected a mapping, got a list`},
		{"negative lines", "logs:\n  buffer_lines: -5\n", `2:17: logs.buffer_lines: -5 is out of range; use 1 to 100000000`},
		{"lines not a number", "logs:\n  buffer_lines: many\n", `2:17: logs.buffer_lines: expected a whole number, got "many"`},
		{"lines float", "logs:\n  buffer_lines: 1.5\n", `2:17: logs.buffer_lines: expected a whole number, got the number 1.5`},
		{"negative bytes", "logs:\n  buffer_bytes: -1MiB\n", `2:17: logs.buffer_bytes: -1048576 bytes is too small`},
		{"bad size", "logs:\n  buffer_bytes: 64 parsecs\n", `2:17: logs.buffer_bytes: expected a size in bytes like 67108864 or "64MiB", got "64 parsecs"`},
		{"tail zero", "logs:\n  tail: 0\n", `2:9: logs.tail: 0 is out of range; use 1 to 100000`},
		{"capture too small", "logs:\n  capture_bytes: 10KiB\n", `2:18: logs.capture_bytes: 10240 bytes is too small; use at least 1MiB`},
		{"tail not a number", "logs:\n  tail: all\n", `2:9: logs.tail: expected a whole number, got "all"`},
		{"bad bool", "logs:\n  live_tail: sometimes\n", `2:14: logs.live_tail: expected true or false, got "sometimes"`},
		{"bad network", "local:\n  network: bridged\n", `2:12: local.network: "bridged" is not one of bridge, host (did you mean "bridge"?)`},
		{"bad theme", "ui:\n  theme: drak\n", `2:10: ui.theme: "drak" is not one of auto, dark, light (did you mean "dark"?)`},
		{"theme wrong type", "ui:\n  theme: [dark]\n", `2:10: ui.theme: expected a string, got a list`},
		{"unknown action", "ui:\n  keys:\n    quitt: q\n", `3:5: ui.keys: unknown action "quitt" (did you mean "quit"?)`},
		{"bad modifier", "ui:\n  keys:\n    help: ctrl+shft+h\n", `3:11: ui.keys.help: "ctrl+shft+h": unknown modifier "shft" (did you mean "shift"?)`},
		{"bad key name", "ui:\n  keys:\n    page_down: [pgdn]\n", `3:17: ui.keys.page_down: "pgdn": unknown key "pgdn" (did you mean "pgdown"?)`},
		{"key wrong type", "ui:\n  keys:\n    help: {a: b}\n", `3:11: ui.keys.help: expected a key or a list of keys, got a mapping`},
		{"syntax error", "aws:\n  regions: [eu-west-1\n", `2:12: invalid YAML:`},
		{"duplicate key", "aws:\n  regions: [eu-west-1]\n  regions: [us-east-1]\n", `3:3: invalid YAML: mapping key "regions" already defined at [2:3]`},
		{"tab indentation", "aws:\n\tregions: [eu-west-1]\n", `2:1: invalid YAML:`},
		{"two documents", "aws: {}\n---\ngcp: {}\n", `3:1: expected one YAML document`},
		{"unknown alias", "aws:\n  regions: *nope\n", `2:12: alias *nope refers to no anchor defined before it`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "config.yaml", tt.yaml)
			_, err := Load(LoadOptions{Path: path, Explicit: true})
			ps := problemsOf(t, err)
			if len(ps) != 1 {
				t.Fatalf("want one problem, got %d:\n%v", len(ps), err)
			}
			got := ps[0].Error()
			if want := path + ":" + tt.want; !strings.HasPrefix(got, want) {
				t.Errorf("got  %s\nwant %s…", got, want)
			}
		})
	}
}

// TestAllProblemsAtOnce loads a file with many mistakes: every one is
// reported, in file order.
func TestAllProblemsAtOnce(t *testing.T) {
	_, err := Load(LoadOptions{Path: "testdata/mistakes.yaml", Explicit: true})
	ps := problemsOf(t, err)
	want := []string{
		"2:3: unknown key \"regon\"",
		"3:19: aws.profiles",
		"5:17: gcp.run_endpoint",
		"7:17: logs.buffer_lines",
		"8:17: logs.buffer_bytes",
		"9:14: logs.live_tail",
		"11:12: local.network",
		"13:10: ui.theme",
		"15:5: ui.keys: unknown action",
		"16:11: ui.keys.help",
		"17:1: unknown key \"log\"",
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for i, w := range want {
		if got := ps[i].Error(); !strings.HasPrefix(got, "testdata/mistakes.yaml:"+w) {
			t.Errorf("problem %d = %s, want prefix %s", i, got, w)
		}
	}
	// errors.Join semantics: each problem is reachable on its own.
	var p Problem
	if !errors.As(err, &p) || p.Line != 2 {
		t.Errorf("errors.As(Problem) = %+v", p)
	}
}

func TestTwoMistakesBothReported(t *testing.T) {
	path := writeFile(t, "config.yaml", "logs:\n  buffer_lines: -1\nui:\n  theme: neon\n")
	_, err := Load(LoadOptions{Path: path, Explicit: true, Env: []string{"FNDECK_LOCAL_NETWORK=wifi"}})
	ps := problemsOf(t, err)
	if len(ps) != 3 {
		t.Fatalf("got %d problems, want 3:\n%v", len(ps), err)
	}
	if ps[0].Line != 2 || ps[1].Line != 4 {
		t.Errorf("file problems out of order: %v", err)
	}
	// Environment problems name the variable and have no position.
	if ps[2].File != "" || ps[2].Line != 0 || !strings.HasPrefix(ps[2].Msg, `FNDECK_LOCAL_NETWORK: local.network: "wifi" is not one of bridge, host`) {
		t.Errorf("env problem = %+v", ps[2])
	}
}

func TestEnvAndOverrideProblems(t *testing.T) {
	_, err := Load(LoadOptions{
		Env:       []string{"FNDECK_LOGS_BUFFER_LINES=abc", "FNDECK_AWS_REGIONS=eu-west-1,nowhere", "FNDECK_UI_KEYS=quit"},
		Overrides: map[string]string{"aws.region": "eu-west-1", "gcp.run_endpoint": "x"},
	})
	got := problemsOf(t, err).Error()
	for _, want := range []string{
		`FNDECK_AWS_REGIONS: aws.regions: "nowhere" is not an AWS region`,
		`FNDECK_LOGS_BUFFER_LINES: logs.buffer_lines: expected a whole number, got "abc"`,
		`FNDECK_UI_KEYS: ui.keys: "quit" is not KEY=VALUE`,
		`override aws.region: unknown config key (did you mean "aws.regions"?)`,
		`override gcp.run_endpoint: gcp.run_endpoint: "x" is not host:port`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestAnchorsAndMerge(t *testing.T) {
	path := writeFile(t, "config.yaml", `
regions: &r
  - eu-west-1
aws:
  regions: *r
`)
	// "regions" at the top level is unknown even when it only holds an anchor.
	_, err := Load(LoadOptions{Path: path})
	if ps := problemsOf(t, err); len(ps) != 1 || ps[0].Line != 2 {
		t.Errorf("problems = %v", err)
	}
	path = writeFile(t, "config.yaml", `
gcp: &g
  regions: [europe-west1]
aws:
  regions: &r [eu-west-1, us-east-1]
  profiles: [dev]
`)
	cfg, err := Load(LoadOptions{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.AWS.Regions, []string{"eu-west-1", "us-east-1"}) || !reflect.DeepEqual(cfg.GCP.Regions, []string{"europe-west1"}) {
		t.Errorf("cfg = %+v", cfg)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"67108864", 64 << 20, true},
		{"64MiB", 64 << 20, true},
		{"64 MiB", 64 << 20, true},
		{"64M", 64 << 20, true},
		{"64MB", 64_000_000, true},
		{"1GiB", 1 << 30, true},
		{"512KiB", 512 << 10, true},
		{"10kb", 10_000, true},
		{"100B", 100, true},
		{"1.5MiB", 0, false},
		{"MiB", 0, false},
		{"", 0, false},
		{"99999999999999GiB", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseSize(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseSize(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBadKey(t *testing.T) {
	good := []string{"q", "?", "R", "é", "ctrl+c", "shift+tab", "alt+enter", "ctrl+alt+delete", "f5", "pgup", "space", "ctrl++"}
	for _, k := range good {
		if why := badKey(k); why != "" {
			t.Errorf("badKey(%q) = %q, want ok", k, why)
		}
	}
	bad := []string{"", "\x01", "ctl+c", "ctrl+", "enterr", "ctrl+shift"}
	for _, k := range bad {
		if badKey(k) == "" {
			t.Errorf("badKey(%q) accepted it", k)
		}
	}
}

func TestKeyActionsHaveDefaults(t *testing.T) {
	d := DefaultKeys()
	if len(d) != len(KeyActions) {
		t.Errorf("DefaultKeys has %d actions, KeyActions %d", len(d), len(KeyActions))
	}
	for _, a := range KeyActions {
		keys, ok := d[a]
		if !ok {
			t.Errorf("action %q has no default key", a)
		}
		for _, k := range keys {
			if why := badKey(k); why != "" {
				t.Errorf("default key for %q: %s", a, why)
			}
		}
	}
}

func TestEnvName(t *testing.T) {
	if got := EnvName("aws.regions"); got != "FNDECK_AWS_REGIONS" {
		t.Errorf("EnvName = %q", got)
	}
	if got := EnvName("gcp.run_endpoint"); got != "FNDECK_GCP_RUN_ENDPOINT" {
		t.Errorf("EnvName = %q", got)
	}
}

func TestConfigPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("FNDECK_CONFIG", "")
	tests := []struct {
		name, flag, envConfig, xdg string
		want                       string
		explicit                   bool
	}{
		{"default", "", "", "", filepath.Join(home, ".config", "fndeck", "config.yaml"), false},
		{"xdg", "", "", "/xdg", "/xdg/fndeck/config.yaml", false},
		{"relative xdg ignored", "", "", "rel", filepath.Join(home, ".config", "fndeck", "config.yaml"), false},
		{"env", "", "/etc/f.yaml", "/xdg", "/etc/f.yaml", true},
		{"flag wins", "my.yaml", "/etc/f.yaml", "/xdg", "my.yaml", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FNDECK_CONFIG", tt.envConfig)
			t.Setenv("XDG_CONFIG_HOME", tt.xdg)
			got, explicit := ConfigPath(tt.flag)
			if got != tt.want || explicit != tt.explicit {
				t.Errorf("ConfigPath(%q) = %q, %v; want %q, %v", tt.flag, got, explicit, tt.want, tt.explicit)
			}
		})
	}
}

func TestStateDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_STATE_HOME", "")
	dir, err := StateDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, ".local", "state", "fndeck"); dir != want {
		t.Errorf("StateDir = %q, want %q", dir, want)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode %v, want 0700", st.Mode().Perm())
	}

	xdg := filepath.Join(t.TempDir(), "state")
	t.Setenv("XDG_STATE_HOME", xdg)
	f, err := OpenStateFile("history/deploys.json", os.O_CREATE|os.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	st, err = os.Stat(filepath.Join(xdg, "fndeck", "history", "deploys.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", st.Mode().Perm())
	}
	if st, err := os.Stat(filepath.Join(xdg, "fndeck", "history")); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("state subdir: %v %v", st, err)
	}
	for _, bad := range []string{"", "../escape", "/etc/passwd", "a/../../b"} {
		if f, err := OpenStateFile(bad, os.O_RDONLY); err == nil {
			f.Close()
			t.Errorf("OpenStateFile(%q) succeeded", bad)
		}
	}
}

// FuzzLoad feeds arbitrary bytes as the config file: Load must not panic,
// and every problem it reports must name the file.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"aws: {regions: [eu-west-1]}\n",
		"logs:\n  buffer_bytes: 64MiB\n",
		"a: &x [*x]\n",
		"<<: *a\n",
		"ui:\n  keys:\n    quit: [q, ctrl+c]\n",
		"- [\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(LoadOptions{Path: path, Explicit: true})
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without error")
			}
			return
		}
		var ps Problems
		if !errors.As(err, &ps) || len(ps) == 0 {
			t.Fatalf("error %v is not Problems", err)
		}
		for _, p := range ps {
			if p.File != path {
				t.Fatalf("problem without the file: %+v", p)
			}
		}
	})
}

func TestKeyActionsFromUI(t *testing.T) {
	path := writeFile(t, "config.yaml", "ui:\n  keys:\n    zoom: z\n    quit: q\n")
	cfg, err := Load(LoadOptions{Path: path, KeyActions: []string{"zoom"}})
	ps := problemsOf(t, err)
	if cfg != nil || len(ps) != 1 || ps[0].Line != 4 || !strings.Contains(ps[0].Msg, `unknown action "quit"`) {
		t.Errorf("problems = %v", err)
	}
	path = writeFile(t, "config.yaml", "ui:\n  keys:\n    zoom: z\n")
	cfg, err = Load(LoadOptions{Path: path, KeyActions: []string{"zoom"}})
	if err != nil || !reflect.DeepEqual(cfg.UI.Keys, map[string][]string{"zoom": {"z"}}) {
		t.Errorf("Load = %+v, %v", cfg, err)
	}
}

// TestProblemsAreTerminalSafe: text from the file never reaches the
// terminal raw through a problem message.
func TestProblemsAreTerminalSafe(t *testing.T) {
	path := writeFile(t, "config.yaml", "aws:\n\tregions: [x]\nregistries:\n  rewrite: {\"a\\e[2Jb\": [1]}\n")
	_, err := Load(LoadOptions{Path: path})
	if err == nil {
		t.Fatal("no error")
	}
	if strings.ContainsAny(err.Error(), "\t\x1b") {
		t.Errorf("raw control characters in %q", err.Error())
	}
	dir := project(t, "functions:\n  fn:\n    payloads: {\"p\\e]0;x\\a\u202e\": [1]}\n")
	_, err = LoadProject(dir)
	if err == nil || strings.ContainsAny(err.Error(), "\x1b\x07\u202e") || !strings.Contains(err.Error(), `p\x1b]0;x\a\u202e`) {
		t.Errorf("project error %q", err)
	}
}
