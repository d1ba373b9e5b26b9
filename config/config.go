// Over 600 lines, on purpose for now: the config schema, its defaults, env
// overrides and validation are one table-shaped reader; splitting it by
// concern is issue 19's part 4.

// Package config reads fndeck's user configuration (config.yaml) and the
// project file (fndeck.yaml). Values come, from weakest to strongest, from
// defaults, the file, FNDECK_* environment variables and flag overrides.
// Every mistake is reported at once, each naming FILE:LINE:COL (or the
// environment variable), as a Problems error.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/fndeck/fndeck/cloud/pricing"
)

// All, as the only element of AWS.Profiles or AWS.Regions, means every
// profile in the shared config files / every region enabled for the account.
const All = "all"

// Default values of the keys that have one.
const (
	DefaultBufferLines = 50_000
	DefaultBufferBytes = 64 << 20
	// DefaultCaptureBytes bounds one task's output file (logs.capture_bytes).
	DefaultCaptureBytes = 1 << 30
	DefaultLogsTail     = 200
	MaxLogsTail         = 100_000
	DefaultNetwork      = "bridge"
	DefaultTheme        = "auto"
)

// Config is the user configuration after defaults, file, environment and
// overrides have been applied.
type Config struct {
	// Path is the file that was read, or "" when none was (no default file).
	Path string

	AWS        AWSConfig
	GCP        GCPConfig
	Docker     DockerConfig
	Registries RegistriesConfig
	Logs       LogsConfig
	Local      LocalConfig
	UI         UIConfig
	// Pricing overrides the built-in price table (pricing.go).
	Pricing pricing.Overrides
}

// AWSConfig selects the AWS accounts and regions fndeck lists.
type AWSConfig struct {
	// Profiles: empty means the SDK's default chain; [All] every profile.
	Profiles []string
	// Regions: empty means each profile's region; [All] every enabled region.
	Regions []string
}

// GCPConfig selects the GCP projects and regions, and optional endpoints.
type GCPConfig struct {
	// Projects: empty means the Application Default Credentials' project.
	Projects []string
	// Regions: empty means every Cloud Run region of the project.
	Regions []string
	// RunEndpoint and LoggingEndpoint are host:port overrides; a loopback
	// host means plaintext without authentication (private endpoints, tests).
	RunEndpoint     string
	LoggingEndpoint string
}

// DockerConfig says which Docker engine to talk to.
type DockerConfig struct {
	// Host: empty means DOCKER_HOST, else the current context, else the
	// platform's default socket.
	Host string
}

// RegistriesConfig rewrites registry hosts (a mirror, a test registry).
type RegistriesConfig struct {
	// Rewrite maps a registry host to the host to use instead.
	Rewrite map[string]string
}

// LogsConfig bounds log and output buffers.
type LogsConfig struct {
	BufferLines int
	BufferBytes int64
	LiveTail    bool
	// Tail is how many of the newest events opening logs shows, whatever
	// their age (the TUI's l, and fndeck logs without --since).
	Tail int
	// CaptureBytes bounds one task's output file (a followed log stream
	// is written whole up to it; then the oldest segment is rotated out
	// and the loss counted).
	CaptureBytes int64
}

// LocalConfig configures the local target.
type LocalConfig struct {
	// Network is "bridge" or "host".
	Network string
}

// UIConfig holds presentation settings.
type UIConfig struct {
	// Theme is "auto", "dark" or "light".
	Theme string
	// Keys maps an action (one of KeyActions) to the keys that trigger it,
	// for the actions the user remapped only; the UI keeps its defaults for
	// the rest. Keys are Bubble Tea key strings ("ctrl+x", "pgup", "R").
	Keys map[string][]string
}

// Default returns the configuration used when nothing is set.
func Default() *Config {
	return &Config{
		Logs:  LogsConfig{BufferLines: DefaultBufferLines, BufferBytes: DefaultBufferBytes, LiveTail: true, Tail: DefaultLogsTail, CaptureBytes: DefaultCaptureBytes},
		Local: LocalConfig{Network: DefaultNetwork},
		UI:    UIConfig{Theme: DefaultTheme},
	}
}

// KeyPaths lists every configuration key; the environment variable of each
// is EnvName(key).
var KeyPaths = []string{
	"aws.profiles", "aws.regions",
	"gcp.projects", "gcp.regions", "gcp.run_endpoint", "gcp.logging_endpoint",
	"docker.host",
	"registries.rewrite",
	"logs.buffer_lines", "logs.buffer_bytes", "logs.live_tail", "logs.tail", "logs.capture_bytes",
	"local.network",
	"ui.theme", "ui.keys",
}

// KeyActions are the action names ui.keys may remap (PRODUCT.md's key list).
var KeyActions = []string{
	// global
	"quit", "help", "palette", "filter", "back", "detail",
	"focus_next", "focus_prev", "focus_images", "focus_functions", "focus_tasks", "focus_output",
	"up", "down", "top", "bottom", "page_up", "page_down",
	// images and functions
	"build", "push", "deploy", "delete", "refresh", "invoke", "logs", "rollback",
	// tasks
	"output", "cancel", "retry",
	// output pane
	"follow", "search", "search_next", "search_prev", "wrap", "timestamps", "pretty_json", "save",
}

// DefaultKeys returns PRODUCT.md's default binding of every KeyActions
// entry, so the UI and the help screen share one table.
func DefaultKeys() map[string][]string {
	return map[string][]string{
		"quit": {"q"}, "help": {"?"}, "palette": {":"}, "filter": {"/"}, "back": {"esc"}, "detail": {"enter"},
		"focus_next": {"tab"}, "focus_prev": {"shift+tab"},
		"focus_images": {"1"}, "focus_functions": {"2"}, "focus_tasks": {"3"}, "focus_output": {"4"},
		"up": {"k", "up"}, "down": {"j", "down"}, "top": {"g"}, "bottom": {"G"},
		"page_up": {"pgup"}, "page_down": {"pgdown"},
		"build": {"b"}, "push": {"p"}, "deploy": {"d"}, "delete": {"x"}, "refresh": {"r"},
		"invoke": {"i"}, "logs": {"l"}, "rollback": {"R"},
		"output": {"enter"}, "cancel": {"c"}, "retry": {"R"},
		"follow": {"f"}, "search": {"/"}, "search_next": {"n"}, "search_prev": {"N"},
		"wrap": {"w"}, "timestamps": {"t"}, "pretty_json": {"J"}, "save": {"s"},
	}
}

// EnvName returns the environment variable for a key path:
// "aws.regions" → "FNDECK_AWS_REGIONS".
func EnvName(key string) string {
	return "FNDECK_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// LoadOptions says where configuration comes from.
type LoadOptions struct {
	// Path is the config file ("" for none); Explicit says the user named
	// it (--config, FNDECK_CONFIG), so a missing file is an error. Use
	// ConfigPath to fill both.
	Path     string
	Explicit bool
	// Env is the environment as os.Environ returns it; FNDECK_* entries
	// override the file. Nil means no environment.
	Env []string
	// Overrides are flag values by key path ("aws.regions": "eu-west-1,us-east-1");
	// they win over everything. Lists are comma-separated, maps K=V pairs.
	Overrides map[string]string
	// KeyActions, when not nil, replaces the package's KeyActions as the
	// list of action names ui.keys may use, for a UI that names its own.
	KeyActions []string
}

// Load builds the configuration: defaults, then the file, then FNDECK_*
// variables, then Overrides. Lists are replaced by a stronger source; maps
// (registries.rewrite, ui.keys) are merged key by key. On any problem the
// error is Problems, holding all of them, and the Config is nil.
func Load(opts LoadOptions) (*Config, error) {
	cfg := Default()
	var c collector
	actions := KeyActions
	if opts.KeyActions != nil {
		actions = opts.KeyActions
	}
	if opts.Path != "" {
		data, err := os.ReadFile(opts.Path)
		switch {
		case err == nil:
			cfg.Path = opts.Path
			root, err := parseYAML(opts.Path, data)
			var ps Problems
			if errors.As(err, &ps) {
				c.problems = append(c.problems, ps...)
			}
			if root != nil {
				applyConfig(&c, cfg, root, actions)
			}
		case errors.Is(err, fs.ErrNotExist) && !opts.Explicit:
			// No default config file: defaults it is.
		case errors.Is(err, fs.ErrNotExist):
			c.problems = append(c.problems, Problem{File: opts.Path, Msg: "config file does not exist"})
		default:
			c.problems = append(c.problems, Problem{File: opts.Path, Msg: fmt.Sprintf("reading config file: %v", err)})
		}
	}
	if env := envValues(opts.Env); env != nil {
		applyConfig(&c, cfg, env, actions)
	}
	if ov := overrideValues(&c, opts.Overrides); ov != nil {
		applyConfig(&c, cfg, ov, actions)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// envValues builds a value tree from the FNDECK_* variables that name keys.
// Other FNDECK_* variables (FNDECK_CONFIG, tooling) are not ours to judge.
// An empty variable counts as unset, as shells make "unset" hard to say.
func envValues(env []string) *value {
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && v != "" && strings.HasPrefix(k, "FNDECK_") {
			vars[k] = v
		}
	}
	var root *value
	for _, key := range KeyPaths {
		name := EnvName(key)
		if v, ok := vars[name]; ok {
			root = setPath(root, key, &value{pos: pos{source: name}, kind: kindScalar, text: v})
		}
	}
	return root
}

func overrideValues(c *collector, overrides map[string]string) *value {
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var root *value
	for _, key := range keys {
		if !contains(KeyPaths, key) {
			c.add(pos{source: "override " + key}, "unknown config key%s", suggest(key, KeyPaths))
			continue
		}
		root = setPath(root, key, &value{pos: pos{source: "override " + key}, kind: kindScalar, text: overrides[key]})
	}
	return root
}

// setPath puts v at the dotted key path inside root, creating mappings.
func setPath(root *value, key string, v *value) *value {
	if root == nil {
		root = &value{kind: kindMap}
	}
	m := root
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		f := m.get(p)
		if f == nil {
			f = &field{key: p, keyPos: v.pos, val: &value{pos: v.pos, kind: kindMap}}
			m.fields = append(m.fields, f)
		}
		m = f.val
	}
	m.fields = append(m.fields, &field{key: parts[len(parts)-1], keyPos: v.pos, val: v})
	return root
}

var (
	reAWSRegion = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2,}(-[a-z]+)+-\d+$`) })
	reGCPRegion = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]+-[a-z]+\d+$`) })
	reProfile   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.+=,@-]{1,128}$`) })
	reProject   = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[a-z][a-z0-9.:-]{2,62}$`)
	})
	reHost = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$`)
	})
)

var sections = []string{"aws", "gcp", "docker", "registries", "logs", "local", "ui", "pricing"}

// applyConfig lays the values in root over cfg, reporting every problem.
// Only values that are valid are applied.
func applyConfig(c *collector, cfg *Config, root *value, actions []string) {
	top, ok := c.mapping(root, "", sections)
	if !ok {
		return
	}
	section := func(name string, allowed []string) map[string]*field {
		f := top[name]
		if f == nil {
			return nil
		}
		m, _ := c.mapping(f.val, name, allowed)
		return m
	}
	if m := section("aws", []string{"profiles", "regions"}); m != nil {
		if f := m["profiles"]; f != nil {
			if l, ok := nameList(c, f.val, "aws.profiles", true, func(s string) string {
				if !reProfile().MatchString(s) {
					return "is not a valid profile name (letters, digits and _.+=,@-)"
				}
				return ""
			}); ok {
				cfg.AWS.Profiles = l
			}
		}
		if f := m["regions"]; f != nil {
			if l, ok := nameList(c, f.val, "aws.regions", true, func(s string) string {
				if !reAWSRegion().MatchString(s) {
					return "is not an AWS region (like eu-west-1)"
				}
				return ""
			}); ok {
				cfg.AWS.Regions = l
			}
		}
	}
	if m := section("gcp", []string{"projects", "regions", "run_endpoint", "logging_endpoint"}); m != nil {
		if f := m["projects"]; f != nil {
			if l, ok := nameList(c, f.val, "gcp.projects", false, func(s string) string {
				if !reProject().MatchString(s) {
					return "is not a GCP project ID (lowercase letters, digits and hyphens, starting with a letter)"
				}
				return ""
			}); ok {
				cfg.GCP.Projects = l
			}
		}
		if f := m["regions"]; f != nil {
			if l, ok := nameList(c, f.val, "gcp.regions", false, func(s string) string {
				if !reGCPRegion().MatchString(s) {
					return "is not a GCP region (like europe-west1)"
				}
				return ""
			}); ok {
				cfg.GCP.Regions = l
			}
		}
		if f := m["run_endpoint"]; f != nil {
			if s, ok := c.endpoint(f.val, "gcp.run_endpoint"); ok {
				cfg.GCP.RunEndpoint = s
			}
		}
		if f := m["logging_endpoint"]; f != nil {
			if s, ok := c.endpoint(f.val, "gcp.logging_endpoint"); ok {
				cfg.GCP.LoggingEndpoint = s
			}
		}
	}
	if m := section("docker", []string{"host"}); m != nil {
		if f := m["host"]; f != nil {
			if s, ok := dockerHost(c, f.val); ok {
				cfg.Docker.Host = s
			}
		}
	}
	if f := top["pricing"]; f != nil {
		applyPricing(c, cfg, f.val)
	}
	if m := section("registries", []string{"rewrite"}); m != nil {
		if f := m["rewrite"]; f != nil {
			if pairs, ok := stringMap(c, f.val, "registries.rewrite"); ok {
				applyRewrite(c, cfg, pairs)
			}
		}
	}
	if m := section("logs", []string{"buffer_lines", "buffer_bytes", "live_tail", "tail", "capture_bytes"}); m != nil {
		if f := m["buffer_lines"]; f != nil {
			if n, ok := c.integer(f.val, "logs.buffer_lines"); ok {
				if n < 1 || n > 100_000_000 {
					c.add(f.val.pos, "logs.buffer_lines: %d is out of range; use 1 to 100000000", n)
				} else {
					cfg.Logs.BufferLines = int(n)
				}
			}
		}
		if f := m["buffer_bytes"]; f != nil {
			if n, ok := c.byteSize(f.val, "logs.buffer_bytes"); ok {
				if n < 1<<10 {
					c.add(f.val.pos, "logs.buffer_bytes: %d bytes is too small; use at least 1KiB", n)
				} else {
					cfg.Logs.BufferBytes = n
				}
			}
		}
		if f := m["capture_bytes"]; f != nil {
			if n, ok := c.byteSize(f.val, "logs.capture_bytes"); ok {
				if n < 1<<20 {
					c.add(f.val.pos, "logs.capture_bytes: %d bytes is too small; use at least 1MiB", n)
				} else {
					cfg.Logs.CaptureBytes = n
				}
			}
		}
		if f := m["live_tail"]; f != nil {
			if b, ok := c.boolean(f.val, "logs.live_tail"); ok {
				cfg.Logs.LiveTail = b
			}
		}
		if f := m["tail"]; f != nil {
			if n, ok := c.integer(f.val, "logs.tail"); ok {
				if n < 1 || n > MaxLogsTail {
					c.add(f.val.pos, "logs.tail: %d is out of range; use 1 to %d", n, MaxLogsTail)
				} else {
					cfg.Logs.Tail = int(n)
				}
			}
		}
	}
	if m := section("local", []string{"network"}); m != nil {
		if f := m["network"]; f != nil {
			if s, ok := c.enum(f.val, "local.network", []string{"bridge", "host"}); ok {
				cfg.Local.Network = s
			}
		}
	}
	if m := section("ui", []string{"theme", "keys"}); m != nil {
		if f := m["theme"]; f != nil {
			if s, ok := c.enum(f.val, "ui.theme", []string{"auto", "dark", "light"}); ok {
				cfg.UI.Theme = s
			}
		}
		if f := m["keys"]; f != nil {
			applyKeys(c, cfg, f.val, actions)
		}
	}
}

// nameList reads a list of names, each checked by bad (which returns why a
// name is wrong, or ""). allowAll permits the single word "all".
func nameList(c *collector, v *value, what string, allowAll bool, bad func(string) string) ([]string, bool) {
	items, ok := c.list(v, what)
	if !ok {
		return nil, false
	}
	var out []string
	for _, it := range items {
		s := it.text
		if s == All && allowAll {
			if len(items) > 1 {
				c.add(it.pos, "%s: %q means every one; it cannot be combined with other names", what, All)
				ok = false
			}
			out = append(out, s)
			continue
		}
		if why := bad(s); why != "" {
			c.add(it.pos, "%s: %q %s", what, s, why)
			ok = false
			continue
		}
		out = append(out, s)
	}
	return out, ok
}

func dockerHost(c *collector, v *value) (string, bool) {
	s, ok := c.str(v, "docker.host")
	if !ok {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || !contains([]string{"unix", "tcp", "ssh", "npipe", "http", "https"}, u.Scheme) {
		c.add(v.pos, "docker.host: %q is not a Docker host; use unix:///path, tcp://host:port, ssh://user@host or npipe:////./pipe/name", s)
		return "", false
	}
	return s, true
}

// pair is one entry of a map-valued key, with where it was written.
type pair struct {
	key    string
	keyPos pos
	val    *value
}

// stringMap reads a mapping of string → value, or (from the environment and
// overrides) text "k=v,k=v". A key may repeat in the text form; the map
// readers decide what that means.
func stringMap(c *collector, v *value, what string) ([]pair, bool) {
	switch v.kind {
	case kindNull:
		return nil, true
	case kindMap:
		out := make([]pair, 0, len(v.fields))
		for _, f := range v.fields {
			out = append(out, pair{key: f.key, keyPos: f.keyPos, val: f.val})
		}
		return out, true
	case kindScalar:
		var out []pair
		ok := true
		for _, part := range strings.Split(v.text, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			k, val, found := strings.Cut(part, "=")
			k, val = strings.TrimSpace(k), strings.TrimSpace(val)
			if !found || k == "" {
				c.add(v.pos, "%s: %q is not KEY=VALUE", what, part)
				ok = false
				continue
			}
			out = append(out, pair{key: k, keyPos: v.pos, val: &value{pos: v.pos, kind: kindScalar, text: val}})
		}
		return out, ok
	}
	c.add(v.pos, "%s: expected a mapping, got %s", what, v.describe())
	return nil, false
}

func applyRewrite(c *collector, cfg *Config, pairs []pair) {
	check := func(p pos, host string) bool {
		switch {
		case strings.Contains(host, "://"):
			c.add(p, "registries.rewrite: %q is a URL; give the registry host (and port) only", host)
		case !reHost().MatchString(host):
			c.add(p, "registries.rewrite: %q is not a registry host like registry.example.com or 127.0.0.1:5000", host)
		default:
			return true
		}
		return false
	}
	for _, pr := range pairs {
		to, ok := c.str(pr.val, "registries.rewrite."+pr.key)
		if !ok {
			continue
		}
		okFrom, okTo := check(pr.keyPos, pr.key), check(pr.val.pos, to)
		if okFrom && okTo {
			if cfg.Registries.Rewrite == nil {
				cfg.Registries.Rewrite = map[string]string{}
			}
			cfg.Registries.Rewrite[pr.key] = to
		}
	}
}

func applyKeys(c *collector, cfg *Config, v *value, actions []string) {
	pairs, ok := stringMap(c, v, "ui.keys")
	if !ok {
		return
	}
	// In the text form an action may repeat to bind several keys; a later
	// source replaces an action's keys rather than adding to them.
	fromText := v.kind == kindScalar
	set := map[string][]string{}
	var order []string
	for _, pr := range pairs {
		if !contains(actions, pr.key) {
			c.add(pr.keyPos, "ui.keys: unknown action %q%s", pr.key, suggest(pr.key, actions))
			continue
		}
		var keys []*value
		switch pr.val.kind {
		case kindScalar:
			keys = []*value{pr.val}
		case kindList:
			keys = pr.val.items
		default:
			c.add(pr.val.pos, "ui.keys.%s: expected a key or a list of keys, got %s", pr.key, pr.val.describe())
			continue
		}
		good := true
		var names []string
		for _, k := range keys {
			if k.kind != kindScalar {
				c.add(k.pos, "ui.keys.%s: expected a key, got %s", pr.key, k.describe())
				good = false
				continue
			}
			if why := badKey(k.text); why != "" {
				c.add(k.pos, "ui.keys.%s: %s", pr.key, why)
				good = false
				continue
			}
			names = append(names, k.text)
		}
		if !good {
			continue
		}
		if _, seen := set[pr.key]; !seen {
			order = append(order, pr.key)
		}
		if fromText {
			set[pr.key] = append(set[pr.key], names...)
		} else {
			set[pr.key] = names
		}
	}
	for _, action := range order {
		if cfg.UI.Keys == nil {
			cfg.UI.Keys = map[string][]string{}
		}
		cfg.UI.Keys[action] = set[action]
	}
}

var keyModifiers = []string{"ctrl", "alt", "shift", "meta", "super", "hyper"}

var namedKeys = []string{
	"enter", "esc", "tab", "space", "backspace", "delete", "insert", "home", "end",
	"pgup", "pgdown", "up", "down", "left", "right",
	"f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12",
}

// badKey explains why s is not a key string Bubble Tea would produce, or
// returns "".
func badKey(s string) string {
	if s == "" {
		return "empty key"
	}
	if utf8.RuneCountInString(s) == 1 {
		r, _ := utf8.DecodeRuneInString(s)
		if !unicode.IsPrint(r) {
			return fmt.Sprintf("%q is not a printable key; use names like \"enter\" or \"ctrl+x\"", s)
		}
		return ""
	}
	parts := strings.Split(s, "+")
	if n := len(parts); n >= 3 && parts[n-1] == "" && parts[n-2] == "" { // "ctrl++"
		parts = append(parts[:n-2], "+")
	}
	base := parts[len(parts)-1]
	if base == "" {
		return fmt.Sprintf("%q: missing the key after the last \"+\"", s)
	}
	for _, m := range parts[:len(parts)-1] {
		if !contains(keyModifiers, m) {
			return fmt.Sprintf("%q: unknown modifier %q%s (use ctrl, alt, shift, meta, super or hyper)", s, m, suggest(m, keyModifiers))
		}
	}
	if utf8.RuneCountInString(base) == 1 || contains(namedKeys, base) {
		return ""
	}
	return fmt.Sprintf("%q: unknown key %q%s", s, base, suggest(base, namedKeys))
}
