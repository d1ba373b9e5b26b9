package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/fndeck/fndeck/cloud"
)

// samEnv is one samconfig environment: where `sam deploy --config-env ENV`
// deploys.
type samEnv struct {
	file    string // the samconfig file; "" without one
	name    string
	stack   string
	region  string
	profile string
	params  map[string]string
}

// readSAM reads an AWS SAM template: each AWS::Serverless::Function with
// PackageType Image becomes a function named after its logical ID, built
// from its Metadata, with one Lambda target per samconfig environment.
func readSAM(c *collector, file string, root *value, opts ProjectOptions) []frameworkFunction {
	checkTags(c, root)
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		c.add(pos{file: file}, "resolving the directory of %s: %v", file, err)
		return nil
	}
	envs := readSAMConfig(c, dir)
	resources := child(root, "Resources")
	if resources == nil || resources.kind != kindMap {
		c.add(root.pos, "Resources: a SAM template needs a mapping of resources")
		return nil
	}
	globals := child(child(root, "Globals"), "Function")
	var out []frameworkFunction
	for _, rf := range resources.fields {
		typ := child(rf.val, "Type")
		if typ == nil || typ.text != "AWS::Serverless::Function" {
			continue
		}
		what := "Resources." + rf.key
		props := mergeGlobals(globals, child(rf.val, "Properties"))
		if pt := child(props, "PackageType"); pt == nil || pt.text != "Image" {
			continue // a zip function: not fndeck's
		}
		if !reName().MatchString(rf.key) {
			c.add(rf.keyPos, "%s: the logical ID is not usable as a function name", what)
			continue
		}
		fn := &Function{Name: rf.key, Source: file}
		meta := child(rf.val, "Metadata")
		if meta == nil {
			fn.Unresolved = append(fn.Unresolved, unresolved(rf.keyPos, "%s: no Metadata (Dockerfile, DockerContext) says how to build the image", what))
		} else if b, ok := samBuild(c, dir, meta, what+".Metadata", props); ok {
			fn.Build = b
		} else {
			continue
		}
		good := true
		for _, env := range envs {
			t, ok := samTarget(c, root, rf, props, env, what)
			if !ok {
				good = false
				break
			}
			fn.Targets = append(fn.Targets, t)
		}
		if good {
			out = append(out, frameworkFunction{fn: fn, at: rf.keyPos})
		}
	}
	return out
}

// mergeGlobals returns a function's properties over Globals.Function: the
// function's own value wins, mappings merge key by key, as SAM does
// (lists are replaced).
func mergeGlobals(g, props *value) *value {
	if g == nil || g.kind != kindMap {
		if props == nil {
			return &value{kind: kindMap}
		}
		return props
	}
	if props == nil || props.kind != kindMap {
		return g
	}
	return mergeMaps(g, props)
}

func mergeMaps(base, over *value) *value {
	out := &value{pos: over.pos, kind: kindMap}
	for _, f := range base.fields {
		if o := over.get(f.key); o != nil {
			if f.val.kind == kindMap && o.val.kind == kindMap && f.val.tag == "" && o.val.tag == "" {
				out.fields = append(out.fields, &field{key: f.key, keyPos: o.keyPos, val: mergeMaps(f.val, o.val)})
			} else {
				out.fields = append(out.fields, o)
			}
			continue
		}
		out.fields = append(out.fields, f)
	}
	for _, o := range over.fields {
		if base.get(o.key) == nil {
			out.fields = append(out.fields, o)
		}
	}
	return out
}

// samBuild reads Metadata: Dockerfile (relative to DockerContext),
// DockerContext (relative to the template), DockerTag, DockerBuildArgs,
// DockerBuildTarget; the platform follows Architectures.
func samBuild(c *collector, dir string, meta *value, what string, props *value) (*Build, bool) {
	m, ok := c.mapping(meta, what, []string{"Dockerfile", "DockerContext", "DockerTag", "DockerBuildArgs", "DockerBuildTarget", "SamResourceId", "BuildMethod", "BuildProperties", "SkipBuild"})
	if !ok {
		return nil, false
	}
	b := &Build{Args: map[string]string{}}
	ctxWritten, ctxAt := ".", meta.pos
	if f := m["DockerContext"]; f != nil {
		s, ok := c.str(f.val, what+".DockerContext")
		if !ok {
			return nil, false
		}
		ctxWritten, ctxAt = s, f.val.pos
	}
	dfWritten, dfAt := "Dockerfile", ctxAt
	if f := m["Dockerfile"]; f != nil {
		s, ok := c.str(f.val, what+".Dockerfile")
		if !ok {
			return nil, false
		}
		dfWritten, dfAt = s, f.val.pos
	}
	b.Context = absUnder(dir, ctxWritten)
	b.Dockerfile = absUnder(b.Context, dfWritten)
	if !checkBuildPaths(c, what, ctxWritten, ctxAt, b.Context, dfWritten, dfAt, b.Dockerfile) {
		return nil, false
	}
	if f := m["DockerBuildArgs"]; f != nil {
		pairs, ok := stringMap(c, f.val, what+".DockerBuildArgs")
		if !ok {
			return nil, false
		}
		for _, p := range pairs {
			b.Args[p.key] = p.val.text
		}
	}
	if f := m["DockerBuildTarget"]; f != nil {
		s, ok := c.str(f.val, what+".DockerBuildTarget")
		if !ok {
			return nil, false
		}
		b.Target = s
	}
	if f := m["DockerTag"]; f != nil {
		s, ok := c.str(f.val, what+".DockerTag")
		if !ok {
			return nil, false
		}
		b.Tag = s
	}
	if a := child(props, "Architectures"); a != nil && a.kind == kindList && len(a.items) == 1 {
		switch a.items[0].text {
		case "arm64":
			b.Platform = "linux/arm64"
		case "x86_64":
			b.Platform = "linux/amd64"
		}
	}
	return b, true
}

// samTarget evaluates the function's properties for one environment.
func samTarget(c *collector, root *value, rf *field, props *value, env samEnv, what string) (*Target, bool) {
	e := &cfnEval{root: root, params: env.params, region: env.region, stack: env.stack,
		conditions: map[string]bool{}, evaluating: map[string]bool{}}
	t := &Target{Name: env.name, Function: rf.key, Lambda: &LambdaTarget{Profile: env.profile, Region: env.region}}
	stack := env.stack
	if stack == "" {
		stack = "(no stack_name in samconfig)"
	}
	t.Note = fmt.Sprintf("deployed by AWS SAM (stack %s): fndeck ships new images to it, `sam deploy` still owns the stack", stack)
	switch {
	case env.region == "" && env.file == "":
		t.Unresolved = append(t.Unresolved, unresolved(rf.keyPos, "%s: no region: there is no samconfig.toml; write one with region and stack_name under [default.deploy.parameters] (sam deploy --guided does)", what))
	case env.region == "":
		t.Unresolved = append(t.Unresolved, unresolved(pos{file: env.file}, "%s: no region for the %s environment; set region under [%s.deploy.parameters]", what, env.name, env.name))
	}
	good := true
	get := func(key string) (*value, bool) {
		f := props.get(key)
		if f == nil {
			return nil, true
		}
		v, err := e.eval(f.val, 0)
		if err != nil {
			var ve *varError
			if errors.As(err, &ve) {
				t.Unresolved = append(t.Unresolved, unresolved(f.val.pos, "%s.Properties.%s: %s", what, key, ve.msg))
				return nil, true
			}
			c.add(f.val.pos, "%s.Properties.%s: %v", what, key, err)
			good = false
			return nil, false
		}
		if v.kind == kindNull {
			return nil, true
		}
		return v, true
	}
	if v, ok := get("FunctionName"); ok && v != nil {
		if !reLambdaName().MatchString(v.text) {
			c.add(v.pos, "%s.Properties.FunctionName: %q is not a Lambda function name", what, v.text)
			good = false
		}
		t.Lambda.Function = v.text
	} else if ok && props.get("FunctionName") == nil {
		// SAM names it STACK-LOGICALID-RANDOM: only the deployed stack knows.
		if env.stack != "" && env.region != "" {
			t.Stack = &cloud.StackResource{Profile: env.profile, Region: env.region, Stack: env.stack, LogicalID: rf.key}
		} else if env.stack == "" {
			t.Unresolved = append(t.Unresolved, unresolved(rf.keyPos, "%s: the deployed function's name is known only to its stack, and no stack_name is set for the %s environment; set stack_name in samconfig.toml, or give the function a FunctionName", what, env.name))
		}
	}
	num := func(key string, lo, hi int) int {
		v, ok := get(key)
		if !ok || v == nil {
			return 0
		}
		n, err := strconv.Atoi(v.text)
		if err != nil || n < lo || n > hi {
			c.add(v.pos, "%s.Properties.%s: %q is not a number from %d to %d", what, key, v.text, lo, hi)
			good = false
			return 0
		}
		return n
	}
	t.Lambda.MemoryMB = num("MemorySize", 128, 10240)
	t.Lambda.TimeoutS = num("Timeout", 1, 900)
	if v, ok := get("Architectures"); ok && v != nil && v.kind == kindList && len(v.items) == 1 {
		t.Lambda.Arch = v.items[0].text
	}
	if v, ok := get("ImageConfig"); ok && v != nil && v.kind == kindMap {
		ic := &cloud.ImageConfig{}
		for _, f := range v.fields {
			switch f.key {
			case "Command", "EntryPoint":
				var l []string
				for _, it := range f.val.items {
					l = append(l, it.text)
				}
				if f.key == "Command" {
					ic.Command = l
				} else {
					ic.Entrypoint = l
				}
			case "WorkingDirectory":
				ic.Workdir = f.val.text
			}
		}
		if !ic.IsZero() {
			t.ImageConfig = ic
		}
	}
	return t, good
}

// samConfigNames are the samconfig files, in the order SAM reads them.
var samConfigNames = []string{"samconfig.toml", "samconfig.yaml", "samconfig.yml"}

// readSAMConfig reads the environments of dir's samconfig file; without
// one there is the single environment "default" with nothing known.
func readSAMConfig(c *collector, dir string) []samEnv {
	for _, n := range samConfigNames {
		path := filepath.Join(dir, n)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			c.add(pos{file: path}, "reading %s: %v", path, err)
			return nil
		}
		var tree map[string]any
		if strings.HasSuffix(n, ".toml") {
			if _, err := toml.Decode(string(data), &tree); err != nil {
				var pe toml.ParseError
				if errors.As(err, &pe) {
					c.add(pos{file: path, line: pe.Position.Line, col: pe.Position.Col}, "invalid TOML: %s", pe.Message)
				} else {
					c.add(pos{file: path}, "invalid TOML: %v", err)
				}
				return nil
			}
		} else {
			root, err := parseYAML(path, data)
			if err != nil {
				c.problems = append(c.problems, asProblems(err)...)
				return nil
			}
			tree, _ = plain(root).(map[string]any)
		}
		envs := samEnvs(tree)
		for i := range envs {
			envs[i].file = path
		}
		if len(envs) == 0 {
			c.add(pos{file: path, line: 1, col: 1}, "no environments (like [default.deploy.parameters]) in %s", n)
		}
		return envs
	}
	return []samEnv{{name: "default", params: map[string]string{}}}
}

// plain turns a value tree into maps, lists and strings.
func plain(v *value) any {
	switch v.kind {
	case kindMap:
		m := map[string]any{}
		for _, f := range v.fields {
			m[f.key] = plain(f.val)
		}
		return m
	case kindList:
		l := make([]any, len(v.items))
		for i, it := range v.items {
			l[i] = plain(it)
		}
		return l
	case kindScalar:
		return v.text
	}
	return nil
}

func samEnvs(tree map[string]any) []samEnv {
	var names []string
	for k, v := range tree {
		if _, ok := v.(map[string]any); ok && k != "version" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var out []samEnv
	for _, n := range names {
		env := samEnv{name: n, params: map[string]string{}}
		cmds, _ := tree[n].(map[string]any)
		for _, cmd := range []string{"global", "deploy"} { // deploy's win
			c, _ := cmds[cmd].(map[string]any)
			p, _ := c["parameters"].(map[string]any)
			get := func(k string) string {
				s, _ := p[k].(string)
				return s
			}
			if s := get("stack_name"); s != "" {
				env.stack = s
			}
			if s := get("region"); s != "" {
				env.region = s
			}
			if s := get("profile"); s != "" {
				env.profile = s
			}
			switch po := p["parameter_overrides"].(type) {
			case string:
				for k, v := range parseOverrides(po) {
					env.params[k] = v
				}
			case []any:
				for _, it := range po {
					if s, ok := it.(string); ok {
						for k, v := range parseOverrides(s) {
							env.params[k] = v
						}
					}
				}
			}
		}
		if reName().MatchString(n) {
			out = append(out, env)
		}
	}
	return out
}

// parseOverrides reads "Key=Value Key2=\"two words\"".
func parseOverrides(s string) map[string]string {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		k := strings.TrimSpace(s[:eq])
		s = s[eq+1:]
		var v string
		if s != "" && (s[0] == '"' || s[0] == '\'') {
			q := s[0]
			end := strings.IndexByte(s[1:], q)
			if end < 0 {
				v, s = s[1:], ""
			} else {
				v, s = s[1:end+1], s[end+2:]
			}
		} else {
			sp := strings.IndexAny(s, " \t")
			if sp < 0 {
				v, s = s, ""
			} else {
				v, s = s[:sp], s[sp:]
			}
		}
		out[k] = v
	}
	return out
}
