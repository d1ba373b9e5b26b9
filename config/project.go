// Over 600 lines, on purpose for now: the fndeck.yaml schema, its decoding and
// its validation are one reader (framework readers are in their own files);
// the split by concern is issue 19's part 4, due once no branch edits it.

package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/fndeck/fndeck/cloud"
)

// ProjectFile is the project file's name, looked for in the working directory.
const ProjectFile = "fndeck.yaml"

// Project is a parsed fndeck.yaml.
type Project struct {
	// File is the project file's path as found; Dir its directory, absolute.
	// Relative paths inside the file are resolved against Dir.
	File string
	Dir  string
	// Functions in the order the file lists them.
	Functions []*Function
}

// Function is one entry under "functions".
type Function struct {
	Name string
	// Source is the file that defines the function: fndeck.yaml, or a
	// framework file (serverless.yml, template.yaml, service.yaml).
	Source string
	// Unresolved lists values the function's build needs that could not be
	// worked out from a framework file (a variable fndeck cannot resolve);
	// they are reported when a command builds the function.
	Unresolved Problems
	// Build is nil when the function has no build section (its images come
	// from elsewhere).
	Build *Build
	// Targets in file order.
	Targets []*Target
	// Payloads in file order: saved invoke payloads.
	Payloads []Payload
	// Smoke is ship's smoke test; nil when the file names none.
	Smoke *Smoke
}

// Smoke is a function's smoke test: one invoke with a saved payload and
// what its answer must be.
type Smoke struct {
	// Payload is the payload's name under payloads ("" when a file);
	// File the payload file's absolute path.
	Payload string
	File    string
	// Status is the expected status code (0: not checked); JSON a subset
	// the response must contain (nil: not checked), as decoded JSON values
	// (map[string]any, []any, string, float64, bool, nil).
	Status int
	JSON   any
}

// Build says how to build the function's image.
type Build struct {
	Context    string // absolute directory; default the project directory
	Dockerfile string // absolute path; default Dockerfile in Context
	Platform   string // "", "linux/amd64" or "linux/arm64"
	Args       map[string]string
	// Target is the Dockerfile stage to build ("" for the last one); from
	// SAM's DockerBuildTarget.
	Target string
	// Tag is the tag a framework names the image with (SAM's DockerTag),
	// "" when it does not.
	Tag string
	// Pre is build.pre: a shell command run in Context before the image
	// build (e.g. compiling on the host); "" for none.
	Pre string
}

// Payload is a saved invoke payload.
type Payload struct {
	Name string
	File string // absolute path
}

// Target is one deploy target of a function; exactly one of Lambda,
// CloudRun and Local is set.
type Target struct {
	Name     string
	Function string // the function's key in the file

	Lambda   *LambdaTarget
	CloudRun *CloudRunTarget
	Local    *LocalTarget

	// ImageConfig overrides the image's entrypoint, command and working
	// directory on deploy; nil keeps the image's.
	ImageConfig *cloud.ImageConfig
	// Unresolved lists values the target needs that could not be worked
	// out from a framework file; a command using the target reports them
	// (see Err) while the rest of the project stays usable.
	Unresolved Problems
	// Note says how the target relates to the framework that defined it
	// ("" for fndeck.yaml targets).
	Note string
	// Stack, when set, is the deployed stack that knows the Lambda
	// function's name, which the file does not give (a SAM function without
	// FunctionName): Lambda.Function is empty until a cloud.StackResolver
	// looks it up.
	Stack *cloud.StackResource
}

// Err returns the target's unresolved values as Problems, or nil.
func (t *Target) Err() error {
	if len(t.Unresolved) == 0 {
		return nil
	}
	return t.Unresolved
}

// LambdaTarget is an AWS Lambda container-image function. Zero numbers and
// empty strings mean "not set": the platform's default, or the function's
// current setting on update.
type LambdaTarget struct {
	Profile  string
	Region   string
	Function string
	Role     string
	MemoryMB int
	TimeoutS int
	Arch     string // "", "x86_64" or "arm64"
	Env      map[string]string
}

// CloudRunTarget is a Google Cloud Run service.
type CloudRunTarget struct {
	Project  string
	Region   string
	Service  string
	Port     int
	Memory   string // as written, for the API: "512Mi", "1Gi"
	MemoryMB int    // Memory in MiB
	TimeoutS int
	Env      map[string]string
}

// LocalTarget runs the image on the local Docker engine the way the
// platform named by As would.
type LocalTarget struct {
	As       string // "lambda" or "cloudrun"
	Name     string // local name; the function's key when not given
	MemoryMB int
	TimeoutS int
	Port     int  // cloudrun only
	HTTP     bool // lambda only: also serve a function URL (deploy --http)
	Env      map[string]string
}

// Address returns the target's function address. A local target is named
// after its "name", else after the function's key.
func (t Target) Address() cloud.Address {
	switch {
	case t.Lambda != nil:
		return cloud.Address{Provider: cloud.AWS, Profile: t.Lambda.Profile, Region: t.Lambda.Region, Function: t.Lambda.Function}
	case t.CloudRun != nil:
		return cloud.Address{Provider: cloud.GCP, Project: t.CloudRun.Project, Region: t.CloudRun.Region, Function: t.CloudRun.Service}
	case t.Local != nil:
		name := t.Local.Name
		if name == "" {
			name = t.Function
		}
		return cloud.Address{Provider: cloud.Local, Function: name}
	}
	return cloud.Address{}
}

// Function returns the function named name, or nil.
func (p *Project) Function(name string) *Function {
	for _, f := range p.Functions {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Target returns the target named name, or nil.
func (f *Function) Target(name string) *Target {
	for _, t := range f.Targets {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// readProjectFile decodes dir/fndeck.yaml into pd. found is false when
// there is no such file; problems are left in pd.c.
func readProjectFile(dir string, pd *projectDecoder) (found bool) {
	path := filepath.Join(dir, ProjectFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	pd.project.File = path
	if err != nil {
		pd.c.problems = append(pd.c.problems, Problem{File: path, Msg: fmt.Sprintf("reading project file: %v", err)})
		return true
	}
	root, err := parseYAML(path, data)
	if err != nil {
		pd.c.problems = append(pd.c.problems, asProblems(err)...)
		return true
	}
	pd.decode(root)
	return true
}

// asProblems returns err's problems, or err as one problem.
func asProblems(err error) Problems {
	var ps Problems
	if errors.As(err, &ps) {
		return ps
	}
	return Problems{{Msg: err.Error()}}
}

var (
	reName       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`) })
	reLambdaName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`) })
	reService    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`) })
	reLocalName  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`) })
	reRoleARN    = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9_+=,.@/-]+$`)
	})
	reEnvName   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })
	reRunMemory = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+)(Mi|Gi|M|G)$`) })
)

type projectDecoder struct {
	dir        string
	project    *Project
	c          collector
	localNames map[string]string // local name → "function/target" that uses it
	includes   []includeFile
	keyPos     map[string]pos // function name → where the file names it
}

func (d *projectDecoder) decode(root *value) {
	top, ok := d.c.mapping(root, "", []string{"functions", "include"})
	if !ok {
		return
	}
	if inc := top["include"]; inc != nil {
		d.include(inc)
	}
	f := top["functions"]
	if f == nil || f.val.kind == kindNull {
		if len(top) == len(root.fields) && len(d.includes) == 0 { // else an unknown key said enough
			d.c.add(root.pos, "no functions defined; add a \"functions:\" mapping (or an \"include:\" list of framework files)")
		}
		return
	}
	if f.val.kind != kindMap {
		d.c.add(f.val.pos, "functions: expected a mapping of function name to function, got %s", f.val.describe())
		return
	}
	if len(f.val.fields) == 0 {
		d.c.add(f.keyPos, "functions: no functions defined")
	}
	for _, ff := range f.val.fields {
		if !reName().MatchString(ff.key) {
			d.c.add(ff.keyPos, "function name %q: use letters, digits, '.', '_' or '-', at most 63", ff.key)
			continue
		}
		if fn := d.function(ff); fn != nil {
			fn.Source = d.project.File
			d.project.Functions = append(d.project.Functions, fn)
			d.keyPos[fn.Name] = ff.keyPos
		}
	}
}

// include reads the list of framework files to read with the project file.
func (d *projectDecoder) include(f *field) {
	items, ok := d.c.list(f.val, "include")
	if !ok {
		return
	}
	for i, it := range items {
		s, ok := d.c.str(it, fmt.Sprintf("include[%d]", i))
		if !ok {
			continue
		}
		if s == "" {
			d.c.add(it.pos, "include[%d]: empty file name", i)
			continue
		}
		file := d.abs(d.dir, s)
		if d.checkFile(it.pos, fmt.Sprintf("include[%d]", i), s, file) {
			d.includes = append(d.includes, includeFile{path: file, at: it.pos})
		}
	}
}

func (d *projectDecoder) function(ff *field) *Function {
	what := "functions." + ff.key
	m, ok := d.c.mapping(ff.val, what, []string{"build", "targets", "payloads", "smoke"})
	if !ok {
		return nil
	}
	fn := &Function{Name: ff.key}
	if b := m["build"]; b != nil {
		fn.Build = d.build(b.val, what+".build")
	}
	if t := m["targets"]; t != nil {
		switch t.val.kind {
		case kindNull:
		case kindMap:
			for _, tf := range t.val.fields {
				if !reName().MatchString(tf.key) {
					d.c.add(tf.keyPos, "target name %q: use letters, digits, '.', '_' or '-', at most 63", tf.key)
					continue
				}
				if tg := d.target(fn.Name, tf, what+".targets."+tf.key); tg != nil {
					fn.Targets = append(fn.Targets, tg)
				}
			}
		default:
			d.c.add(t.val.pos, "%s.targets: expected a mapping of target name to target, got %s", what, t.val.describe())
		}
	}
	if p := m["payloads"]; p != nil {
		pairs, _ := stringMap(&d.c, p.val, what+".payloads")
		for _, pr := range pairs {
			pw := what + ".payloads." + pr.key
			s, ok := d.c.str(pr.val, pw)
			if !ok {
				continue
			}
			if s == "" {
				d.c.add(pr.val.pos, "%s: empty file name", pw)
				continue
			}
			file := d.abs(d.dir, s)
			if d.checkFile(pr.val.pos, pw, s, file) {
				fn.Payloads = append(fn.Payloads, Payload{Name: pr.key, File: file})
			}
		}
	}
	if sm := m["smoke"]; sm != nil {
		fn.Smoke = d.smoke(fn, sm.val, what+".smoke")
	}
	return fn
}

// smoke reads `smoke: {payload: NAME-or-FILE, expect: {status: N, json: {...}}}`.
func (d *projectDecoder) smoke(fn *Function, v *value, what string) *Smoke {
	m, ok := d.c.mapping(v, what, []string{"payload", "expect"})
	if !ok || !d.required(m, v.pos, what, "payload") {
		return nil
	}
	sm := &Smoke{}
	good := true
	pf := m["payload"]
	if s, ok := d.c.str(pf.val, what+".payload"); ok && s != "" {
		for _, p := range fn.Payloads {
			if p.Name == s {
				sm.Payload, sm.File = s, p.File
			}
		}
		if sm.File == "" {
			file := d.abs(d.dir, s)
			if st, err := os.Stat(file); err == nil && !st.IsDir() {
				sm.File = file
			} else {
				names := make([]string, 0, len(fn.Payloads))
				for _, p := range fn.Payloads {
					names = append(names, p.Name)
				}
				d.c.add(pf.val.pos, "%s: %q is neither a payload of %s (%s) nor a file (looked for %s)", what+".payload", s, fn.Name, listOrNone(names), file)
				good = false
			}
		}
	} else {
		if ok {
			d.c.add(pf.val.pos, "%s.payload: empty payload name", what)
		}
		good = false
	}
	if ef := m["expect"]; ef != nil {
		em, ok := d.c.mapping(ef.val, what+".expect", []string{"status", "json"})
		if !ok {
			return nil
		}
		if f := em["status"]; f != nil {
			if n, ok := d.number(f, what+".expect.status", 100, 599, ""); ok {
				sm.Status = n
			} else {
				good = false
			}
		}
		if f := em["json"]; f != nil {
			sm.JSON = plainValue(f.val)
		}
	}
	if !good {
		return nil
	}
	return sm
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "it has none"
	}
	return "it has " + strings.Join(names, ", ")
}

// plainValue turns a decoded YAML value into the values encoding/json
// decodes to, so it compares with a JSON response.
func plainValue(v *value) any {
	switch v.kind {
	case kindNull:
		return nil
	case kindList:
		out := make([]any, 0, len(v.items))
		for _, it := range v.items {
			out = append(out, plainValue(it))
		}
		return out
	case kindMap:
		out := make(map[string]any, len(v.fields))
		for _, f := range v.fields {
			out[f.key] = plainValue(f.val)
		}
		return out
	}
	switch v.stype {
	case typeInt, typeFloat:
		if f, err := strconv.ParseFloat(v.text, 64); err == nil {
			return f
		}
	case typeBool:
		return strings.EqualFold(v.text, "true")
	}
	return v.text
}

// abs resolves p against base unless it is absolute.
func (d *projectDecoder) abs(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, filepath.FromSlash(p))
}

func (d *projectDecoder) checkFile(at pos, what, written, path string) bool {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.c.add(at, "%s: file %q does not exist (looked for %s)", what, written, path)
	case err != nil:
		d.c.add(at, "%s: %v", what, err)
	case st.IsDir():
		d.c.add(at, "%s: %q is a directory, not a file", what, written)
	default:
		return true
	}
	return false
}

func (d *projectDecoder) build(v *value, what string) *Build {
	m, ok := d.c.mapping(v, what, []string{"context", "dockerfile", "platform", "args", "pre"})
	if !ok {
		return nil
	}
	b := &Build{Context: d.dir}
	good := true
	contextAt := v.pos
	if f := m["context"]; f != nil {
		if s, ok := d.c.str(f.val, what+".context"); ok && s != "" {
			b.Context, contextAt = d.abs(d.dir, s), f.val.pos
		} else {
			good = false
		}
	}
	contextOK := true
	if st, err := os.Stat(b.Context); err != nil || !st.IsDir() {
		rel := b.Context
		if r, err := filepath.Rel(d.dir, b.Context); err == nil {
			rel = r
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			d.c.add(contextAt, "%s.context: %v", what, err)
		} else if err != nil {
			d.c.add(contextAt, "%s.context: directory %q does not exist (looked for %s)", what, rel, b.Context)
		} else {
			d.c.add(contextAt, "%s.context: %q is not a directory", what, rel)
		}
		contextOK, good = false, false
	}
	written, dfAt := "Dockerfile", contextAt
	if f := m["dockerfile"]; f != nil {
		if s, ok := d.c.str(f.val, what+".dockerfile"); ok && s != "" {
			written, dfAt = s, f.val.pos
		} else {
			good = false
		}
	}
	// Like docker compose, the Dockerfile is relative to the context.
	b.Dockerfile = d.abs(b.Context, written)
	if contextOK && !d.checkFile(dfAt, what+".dockerfile", written, b.Dockerfile) {
		good = false
	}
	if f := m["platform"]; f != nil {
		if s, ok := d.c.enum(f.val, what+".platform", []string{"linux/amd64", "linux/arm64"}); ok {
			b.Platform = s
		} else {
			good = false
		}
	}
	if f := m["pre"]; f != nil {
		if s, ok := d.c.str(f.val, what+".pre"); ok && strings.TrimSpace(s) != "" {
			b.Pre = s
		} else {
			if ok {
				d.c.add(f.val.pos, "%s.pre: empty command", what)
			}
			good = false
		}
	}
	if f := m["args"]; f != nil {
		args, ok := d.vars(f.val, what+".args", nil)
		if !ok {
			good = false
		}
		b.Args = args
	}
	if !good {
		return nil
	}
	return b
}

// vars reads a mapping of names to scalar values (build args, env).
// checkName, when set, validates each name.
func (d *projectDecoder) vars(v *value, what string, checkName *regexp.Regexp) (map[string]string, bool) {
	if v.kind != kindMap && v.kind != kindNull {
		d.c.add(v.pos, "%s: expected a mapping of NAME: value, got %s", what, v.describe())
		return nil, false
	}
	out := map[string]string{}
	ok := true
	for _, f := range v.fields {
		if checkName != nil && !checkName.MatchString(f.key) {
			d.c.add(f.keyPos, "%s: %q is not a valid variable name (letters, digits and '_', not starting with a digit)", what, f.key)
			ok = false
			continue
		}
		switch f.val.kind {
		case kindScalar:
			out[f.key] = f.val.text
		case kindNull:
			out[f.key] = ""
		default:
			d.c.add(f.val.pos, "%s.%s: expected a string, got %s", what, f.key, f.val.describe())
			ok = false
		}
	}
	return out, ok
}

var providers = []string{"lambda", "cloudrun", "local"}

func (d *projectDecoder) target(function string, tf *field, what string) *Target {
	m, ok := d.c.mapping(tf.val, what, append(providers[:len(providers):len(providers)], "image_config"))
	if !ok {
		return nil
	}
	var set []*field
	for _, f := range tf.val.fields {
		if m[f.key] != nil && f.key != "image_config" {
			set = append(set, f)
		}
	}
	var ic *cloud.ImageConfig
	if f := m["image_config"]; f != nil {
		var good bool
		if ic, good = d.imageConfig(f.val, what+".image_config"); !good {
			return nil
		}
	}
	switch len(set) {
	case 0:
		if len(tf.val.fields) == 0 { // unknown keys were reported already
			d.c.add(tf.keyPos, "%s: give one of lambda, cloudrun or local", what)
		}
		return nil
	case 1:
	default:
		d.c.add(set[1].keyPos, "%s: a target deploys to one place, but it has both %s and %s; split it into two targets", what, set[0].key, set[1].key)
		return nil
	}
	t := &Target{Name: tf.key, Function: function, ImageConfig: ic}
	p := set[0]
	pw := what + "." + p.key
	switch p.key {
	case "lambda":
		t.Lambda = d.lambda(p, pw)
		if t.Lambda == nil {
			return nil
		}
	case "cloudrun":
		t.CloudRun = d.cloudRun(p, pw)
		if t.CloudRun == nil {
			return nil
		}
	case "local":
		t.Local = d.local(function, tf.key, p, pw)
		if t.Local == nil {
			return nil
		}
	}
	return t
}

// imageConfig reads image_config: {command, entrypoint, workdir}. A command
// or entrypoint is a list of arguments; a single string is one argument.
func (d *projectDecoder) imageConfig(v *value, what string) (*cloud.ImageConfig, bool) {
	m, ok := d.c.mapping(v, what, []string{"command", "entrypoint", "workdir"})
	if !ok {
		return nil, false
	}
	ic := &cloud.ImageConfig{}
	good := true
	args := func(k string) []string {
		f := m[k]
		if f == nil {
			return nil
		}
		if f.val.kind == kindScalar {
			return []string{f.val.text}
		}
		items, ok := d.c.list(f.val, what+"."+k)
		if !ok {
			good = false
			return nil
		}
		out := make([]string, 0, len(items))
		for i, it := range items {
			s, ok := d.c.str(it, fmt.Sprintf("%s.%s[%d]", what, k, i))
			good = good && ok
			out = append(out, s)
		}
		return out
	}
	ic.Command, ic.Entrypoint = args("command"), args("entrypoint")
	if f := m["workdir"]; f != nil {
		s, ok := d.c.str(f.val, what+".workdir")
		switch {
		case !ok:
			good = false
		case !strings.HasPrefix(s, "/"):
			d.c.add(f.val.pos, "%s.workdir: %q is not an absolute path in the image (like /var/task)", what, s)
			good = false
		}
		ic.Workdir = s
	}
	if !good {
		return nil, false
	}
	if ic.IsZero() {
		return nil, true
	}
	return ic, true
}

// required reports a missing required key at the provider's key.
func (d *projectDecoder) required(m map[string]*field, at pos, what string, keys ...string) bool {
	ok := true
	for _, k := range keys {
		if m[k] == nil {
			d.c.add(at, "%s: %q is required", what, k)
			ok = false
		}
	}
	return ok
}

// name reads a string checked by re; why explains the rule.
func (d *projectDecoder) name(f *field, what string, re *regexp.Regexp, why string) (string, bool) {
	if f == nil {
		return "", true
	}
	s, ok := d.c.str(f.val, what)
	if !ok {
		return "", false
	}
	if !re.MatchString(s) {
		d.c.add(f.val.pos, "%s: %q %s", what, s, why)
		return "", false
	}
	return s, true
}

// number reads a whole number in [lo, hi]; unit names it in messages.
func (d *projectDecoder) number(f *field, what string, lo, hi int, unit string) (int, bool) {
	if f == nil {
		return 0, true
	}
	n, ok := d.c.integer(f.val, what)
	if !ok {
		return 0, false
	}
	if n < int64(lo) || n > int64(hi) {
		d.c.add(f.val.pos, "%s: %d is out of range; use %d to %d%s", what, n, lo, hi, unit)
		return 0, false
	}
	return int(n), true
}

// runMemory reads Cloud Run memory ("512Mi", "1Gi") in MiB, 128Mi to 32Gi.
func (d *projectDecoder) runMemory(f *field, what string) (string, int, bool) {
	if f == nil {
		return "", 0, true
	}
	s, ok := d.c.str(f.val, what)
	if !ok {
		return "", 0, false
	}
	sm := reRunMemory().FindStringSubmatch(s)
	if sm == nil {
		hint := ""
		if f.val.stype == typeInt {
			hint = fmt.Sprintf(" (did you mean \"%sMi\"?)", s)
		}
		d.c.add(f.val.pos, "%s: %q is not a Cloud Run memory size like 512Mi or 1Gi%s", what, s, hint)
		return "", 0, false
	}
	n, err := strconv.Atoi(sm[1])
	if err != nil || n > 1<<20 {
		d.c.add(f.val.pos, "%s: %q is too large", what, s)
		return "", 0, false
	}
	var mib int
	switch sm[2] {
	case "Mi":
		mib = n
	case "Gi":
		mib = n << 10
	case "M":
		mib = n * 1_000_000 >> 20
	case "G":
		mib = n * 1_000_000_000 >> 20
	}
	if mib < 128 || mib > 32<<10 {
		d.c.add(f.val.pos, "%s: %s is out of range; use 128Mi to 32Gi", what, s)
		return "", 0, false
	}
	return s, mib, true
}

func (d *projectDecoder) lambda(p *field, what string) *LambdaTarget {
	m, ok := d.c.mapping(p.val, what, []string{"profile", "region", "function", "role", "memory", "timeout", "arch", "env"})
	if !ok {
		return nil
	}
	good := d.required(m, p.keyPos, what, "region", "function")
	l := &LambdaTarget{}
	var oks [8]bool
	l.Profile, oks[0] = d.name(m["profile"], what+".profile", reProfile(), "is not a valid profile name (letters, digits and _.+=,@-)")
	l.Region, oks[1] = d.name(m["region"], what+".region", reAWSRegion(), "is not an AWS region (like eu-west-1)")
	l.Function, oks[2] = d.name(m["function"], what+".function", reLambdaName(), "is not a Lambda function name (1-64 letters, digits, '-' or '_')")
	l.Role, oks[3] = d.name(m["role"], what+".role", reRoleARN(), "is not an IAM role ARN (like arn:aws:iam::123456789012:role/name)")
	l.MemoryMB, oks[4] = d.number(m["memory"], what+".memory", 128, 10240, " MB")
	l.TimeoutS, oks[5] = d.number(m["timeout"], what+".timeout", 1, 900, " seconds")
	oks[6] = true
	if f := m["arch"]; f != nil {
		l.Arch, oks[6] = d.c.enum(f.val, what+".arch", []string{"x86_64", "arm64"})
	}
	oks[7] = true
	if f := m["env"]; f != nil {
		l.Env, oks[7] = d.vars(f.val, what+".env", reEnvName())
	}
	for _, ok := range oks {
		good = good && ok
	}
	if !good {
		return nil
	}
	return l
}

func (d *projectDecoder) cloudRun(p *field, what string) *CloudRunTarget {
	m, ok := d.c.mapping(p.val, what, []string{"project", "region", "service", "port", "memory", "timeout", "env"})
	if !ok {
		return nil
	}
	good := d.required(m, p.keyPos, what, "project", "region", "service")
	r := &CloudRunTarget{}
	var oks [7]bool
	r.Project, oks[0] = d.name(m["project"], what+".project", reProject(), "is not a GCP project ID (lowercase letters, digits and hyphens, starting with a letter)")
	r.Region, oks[1] = d.name(m["region"], what+".region", reGCPRegion(), "is not a GCP region (like europe-west1)")
	r.Service, oks[2] = d.name(m["service"], what+".service", reService(), "is not a Cloud Run service name (lowercase letters, digits and '-', starting with a letter, at most 63)")
	r.Port, oks[3] = d.number(m["port"], what+".port", 1, 65535, "")
	r.Memory, r.MemoryMB, oks[4] = d.runMemory(m["memory"], what+".memory")
	r.TimeoutS, oks[5] = d.number(m["timeout"], what+".timeout", 1, 3600, " seconds")
	oks[6] = true
	if f := m["env"]; f != nil {
		r.Env, oks[6] = d.vars(f.val, what+".env", reEnvName())
	}
	for _, ok := range oks {
		good = good && ok
	}
	if !good {
		return nil
	}
	return r
}

func (d *projectDecoder) local(function, target string, p *field, what string) *LocalTarget {
	m, ok := d.c.mapping(p.val, what, []string{"as", "name", "memory", "timeout", "port", "http", "env"})
	if !ok {
		return nil
	}
	good := d.required(m, p.keyPos, what, "as")
	l := &LocalTarget{}
	if f := m["as"]; f != nil {
		l.As, ok = d.c.enum(f.val, what+".as", []string{"lambda", "cloudrun"})
		good = good && ok
	}
	var oks [4]bool
	l.Name, oks[0] = d.name(m["name"], what+".name", reLocalName(), "is not a local name (lowercase letters, digits, '.', '_' or '-', at most 63)")
	if m["name"] == nil && !reLocalName().MatchString(function) {
		d.c.add(p.keyPos, "%s: the function name %q is not a valid local name (lowercase letters, digits, '.', '_' or '-'); set \"name\"", what, function)
		oks[0] = false
	}
	switch l.As {
	case "cloudrun":
		_, l.MemoryMB, oks[1] = d.runMemory(m["memory"], what+".memory")
		l.TimeoutS, oks[2] = d.number(m["timeout"], what+".timeout", 1, 3600, " seconds")
		l.Port, oks[3] = d.number(m["port"], what+".port", 1, 65535, "")
	default: // lambda, or unknown (already reported): check as Lambda
		l.MemoryMB, oks[1] = d.number(m["memory"], what+".memory", 128, 10240, " MB")
		l.TimeoutS, oks[2] = d.number(m["timeout"], what+".timeout", 1, 900, " seconds")
		oks[3] = true
		if f := m["port"]; f != nil && l.As == "lambda" {
			d.c.add(f.keyPos, "%s.port: only a local target run as cloudrun listens on a port", what)
			oks[3] = false
		}
	}
	if f := m["http"]; f != nil {
		var ok bool
		l.HTTP, ok = d.c.boolean(f.val, what+".http")
		if ok && l.HTTP && l.As == "cloudrun" {
			d.c.add(f.keyPos, "%s.http: only a local target run as lambda gets an HTTP front door; as cloudrun it already answers HTTP", what)
			ok = false
		}
		good = good && ok
	}
	if f := m["env"]; f != nil {
		var ok bool
		l.Env, ok = d.vars(f.val, what+".env", reEnvName())
		good = good && ok
	}
	for _, ok := range oks {
		good = good && ok
	}
	if !good {
		return nil
	}
	// Two local targets with one name would share a container and history.
	name := l.Name
	if name == "" {
		name = function
	}
	if other, dup := d.localNames[name]; dup {
		d.c.add(p.keyPos, "%s: local name %q is already used by %s; set a different \"name\"", what, name, other)
		return nil
	}
	d.localNames[name] = function + "/" + target
	return l
}
