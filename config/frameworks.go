package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Existing projects keep their functions in a framework's file: a
// Serverless Framework serverless.yml, an AWS SAM template.yaml, a Cloud Run
// service.yaml. fndeck reads those files into the same Project, Function
// and Target values fndeck.yaml gives, so build, deploy, invoke and logs
// work on them without a fndeck.yaml. fndeck does not deploy their stacks:
// it builds images and ships them to the functions the framework created.

// ProjectOptions are the inputs a framework file's variables may use.
type ProjectOptions struct {
	// Stage is the global --stage flag: a Serverless Framework project's
	// stage (${opt:stage}, ${sls:stage}).
	Stage string
	// Env is the environment, KEY=VALUE, for ${env:X}.
	Env []string
	// GCPProjects and GCPRegions are the configured gcp.projects and
	// gcp.regions: a Cloud Run service.yaml exported with a project number
	// as its namespace, or without a location label, resolves against them
	// when they name exactly one.
	GCPProjects []string
	GCPRegions  []string
}

// LoadProject reads the project in dir with the process's environment and
// no --stage; see LoadProjectWith.
func LoadProject(dir string) (*Project, error) {
	return LoadProjectWith(dir, ProjectOptions{Env: os.Environ()})
}

// LoadProjectWith reads dir/fndeck.yaml and the framework files it
// includes, or, without a fndeck.yaml, the framework files found in dir. It
// returns nil, nil when there is none of them. Every problem in every file
// comes back at once as Problems; values a framework file leaves
// unresolvable are not problems of the load but of the targets that need
// them (Target.Unresolved).
func LoadProjectWith(dir string, opts ProjectOptions) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving project directory %s: %w", dir, err)
	}
	pd := &projectDecoder{dir: abs, project: &Project{Dir: abs}, localNames: map[string]string{}, keyPos: map[string]pos{}}
	hasFile := readProjectFile(dir, pd)
	var files []includeFile
	if hasFile {
		files = pd.includes
	} else {
		files = discoverFrameworks(dir)
		if len(files) == 0 {
			return nil, nil
		}
		pd.project.File = files[0].path
	}
	for _, inc := range files {
		fns := readFramework(&pd.c, inc, opts, !hasFile)
		for _, fr := range fns {
			if prev := pd.project.Function(fr.fn.Name); prev != nil {
				at := pd.keyPos[prev.Name]
				pd.c.add(fr.at, "function %q is defined twice: here and in %s:%d:%d; rename one of them", fr.fn.Name, prev.Source, at.line, at.col)
				continue
			}
			pd.keyPos[fr.fn.Name] = fr.at
			pd.project.Functions = append(pd.project.Functions, fr.fn)
		}
	}
	if err := pd.c.err(); err != nil {
		return nil, err
	}
	if !hasFile && len(pd.project.Functions) == 0 {
		return nil, nil
	}
	return pd.project, nil
}

// includeFile is a framework file to read; at is where fndeck.yaml names it
// (zero when found in the directory).
type includeFile struct {
	path string
	at   pos
}

// frameworkFunction is a function read from a framework file, with where
// the file defines it.
type frameworkFunction struct {
	fn *Function
	at pos
}

// frameworkNames are the files looked for in a directory without
// fndeck.yaml, in this order.
var frameworkNames = []string{
	"serverless.yml", "serverless.yaml", "serverless.json", "serverless.ts", "serverless.js",
	"template.yaml", "template.yml",
	"service.yaml", "service.yml",
}

func discoverFrameworks(dir string) []includeFile {
	var out []includeFile
	readable := false // a serverless.yml/.yaml/.json next to a .ts/.js is the one to read
	for _, n := range frameworkNames {
		p := filepath.Join(dir, n)
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		program := strings.HasSuffix(n, ".ts") || strings.HasSuffix(n, ".js")
		if program && readable {
			continue
		}
		if strings.HasPrefix(n, "serverless.") && !program {
			readable = true
		}
		out = append(out, includeFile{path: p})
	}
	return out
}

// readFramework reads one framework file. found says it was discovered
// rather than included: a discovered template.yaml or service.yaml that is
// not a SAM template or a Knative Service is someone else's file and is
// skipped quietly; an included one is an error.
func readFramework(c *collector, inc includeFile, opts ProjectOptions, found bool) []frameworkFunction {
	base := strings.ToLower(filepath.Base(inc.path))
	at := inc.at
	if at.file == "" {
		at = pos{file: inc.path}
	}
	switch ext := filepath.Ext(base); ext {
	case ".ts", ".js", ".cjs", ".mjs":
		c.add(at, "%s is a program: fndeck cannot read it without running it; write its resolved form with `serverless print > serverless.yml` (then remove or rename %s) or list that file under \"include:\" in fndeck.yaml", inc.path, filepath.Base(inc.path))
		return nil
	}
	data, err := os.ReadFile(inc.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			c.add(at, "%s does not exist", inc.path)
		} else {
			c.add(at, "reading %s: %v", inc.path, err)
		}
		return nil
	}
	root, err := parseYAML(inc.path, data)
	if err != nil {
		c.problems = append(c.problems, asProblems(err)...)
		return nil
	}
	switch kind := frameworkKind(base, root); kind {
	case "serverless":
		return readServerless(c, inc.path, root, opts, found)
	case "sam":
		return readSAM(c, inc.path, root, opts)
	case "knative":
		return readKnative(c, inc.path, root, opts)
	default:
		if !found {
			c.add(at, "%s is not a Serverless Framework file (service, provider, functions), an AWS SAM template (Transform: AWS::Serverless-2016-10-31) or a Cloud Run service (apiVersion: serving.knative.dev/v1, kind: Service)", inc.path)
		}
		return nil
	}
}

// frameworkKind tells a framework file by its content; the name decides
// only for serverless.*, which may be written without a provider yet.
func frameworkKind(base string, root *value) string {
	if root.kind != kindMap {
		if strings.HasPrefix(base, "serverless.") {
			return "serverless"
		}
		return ""
	}
	if f := root.get("apiVersion"); f != nil && strings.HasPrefix(f.val.text, "serving.knative.dev/") {
		if k := root.get("kind"); k != nil && k.val.text == "Service" {
			return "knative"
		}
	}
	if f := root.get("Transform"); f != nil {
		isSAM := func(v *value) bool { return strings.HasPrefix(v.text, "AWS::Serverless") }
		if isSAM(f.val) {
			return "sam"
		}
		for _, it := range f.val.items {
			if isSAM(it) {
				return "sam"
			}
		}
	}
	if strings.HasPrefix(base, "serverless.") || (root.get("service") != nil && root.get("provider") != nil) {
		return "serverless"
	}
	return ""
}

// unresolved records a value a target needs that could not be worked out.
func unresolved(at pos, format string, args ...any) Problem {
	var c collector
	c.add(at, format, args...)
	return c.problems[0]
}

// envLookup finds KEY in a KEY=VALUE list; the last one wins, as in exec.
func envLookup(env []string, key string) (string, bool) {
	val, ok := "", false
	for _, kv := range env {
		if k, v, found := strings.Cut(kv, "="); found && k == key {
			val, ok = v, true
		}
	}
	return val, ok
}
