package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fndeck/fndeck/cloud"
)

// readServerless reads a Serverless Framework serverless.yml: its AWS
// container-image functions (functions.F.image) and the images
// provider.ecr.images builds. Each becomes function F with one Lambda
// target named after the stage. Functions with a handler (zip packages)
// are not fndeck's and are left out.
func readServerless(c *collector, file string, root *value, opts ProjectOptions, found bool) []frameworkFunction {
	if root.kind != kindMap {
		c.add(root.pos, "expected a Serverless Framework service (service, provider, functions), got %s", root.describe())
		return nil
	}
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		c.add(pos{file: file}, "resolving the directory of %s: %v", file, err)
		return nil
	}
	s := &slsReader{c: c, file: file, dir: dir, found: found, r: &slsResolver{root: root, opts: opts}}
	return s.read(root)
}

type slsReader struct {
	c     *collector
	found bool // discovered in the directory, not named by include:
	file  string
	dir   string
	r     *slsResolver
}

// slsImage is one provider.ecr.images entry.
type slsImage struct {
	bad        bool // its definition has problems, reported already
	build      *Build
	uri        string
	unresolved Problems
}

// str resolves a scalar; a variable it cannot resolve comes back as a
// problem for whoever needs the value, a wrong shape goes to the collector.
func (s *slsReader) str(v *value, what string) (string, *Problem, bool) {
	got, err := s.r.resolve(v, 0)
	if err != nil {
		var ve *varError
		if errors.As(err, &ve) {
			p := unresolved(v.pos, "%s: %s", what, ve.msg)
			return "", &p, true
		}
		s.c.add(v.pos, "%s: %v", what, err)
		return "", nil, false
	}
	if got.kind != kindScalar {
		s.c.add(v.pos, "%s: expected a string, got %s", what, got.describe())
		return "", nil, false
	}
	return got.text, nil, true
}

// mapping resolves a value expected to be a mapping.
func (s *slsReader) mapping(v *value, what string) *value {
	got, err := s.r.resolve(v, 0)
	if err != nil {
		s.c.add(v.pos, "%s: %v", what, err)
		return nil
	}
	if got.kind == kindNull {
		return &value{pos: v.pos, kind: kindMap}
	}
	if got.kind != kindMap {
		s.c.add(v.pos, "%s: expected a mapping, got %s", what, got.describe())
		return nil
	}
	return got
}

func child(v *value, key string) *value {
	if v == nil {
		return nil
	}
	if f := v.get(key); f != nil {
		return f.val
	}
	return nil
}

func (s *slsReader) read(root *value) []frameworkFunction {
	var unres Problems // values every target needs
	service := ""
	switch sv := child(root, "service"); {
	case sv == nil:
		s.c.add(root.pos, "service: the service name is required")
		return nil
	case sv.kind == kindMap: // the v1 form: service: {name: x}
		if n := child(sv, "name"); n != nil {
			v, p, ok := s.str(n, "service.name")
			if !ok {
				return nil
			}
			service = v
			unres = appendProblem(unres, p)
		}
	default:
		v, p, ok := s.str(sv, "service")
		if !ok {
			return nil
		}
		service = v
		unres = appendProblem(unres, p)
	}
	provider := &value{pos: root.pos, kind: kindMap}
	if pv := child(root, "provider"); pv != nil {
		if provider = s.mapping(pv, "provider"); provider == nil {
			return nil
		}
	}
	if n := child(provider, "name"); n != nil {
		if name, _, ok := s.str(n, "provider.name"); ok && name != "" && name != "aws" {
			// Another cloud's service found in the directory is not fndeck's
			// to read; one named by include: is a mistake to report.
			if !s.found {
				s.c.add(n.pos, "provider.name: fndeck reads Serverless Framework projects on AWS; got %q", name)
			}
			return nil
		}
	}

	// The stage: --stage, else provider.stage (often ${opt:stage, 'dev'}),
	// else dev, as the framework does.
	stage := s.r.opts.Stage
	stageAt := root.pos
	if stage == "" {
		stage = "dev"
		if sv := child(provider, "stage"); sv != nil {
			stageAt = sv.pos
			s.r.resolvingStage = true
			v, p, ok := s.str(sv, "provider.stage")
			s.r.resolvingStage = false
			switch {
			case !ok:
				return nil
			case p != nil:
				// Without a stage no target can be named: report it now.
				s.c.problems = append(s.c.problems, *p)
				return nil
			case v != "":
				stage = v
			}
		}
	}
	if !reName().MatchString(stage) {
		s.c.add(stageAt, "stage %q: use letters, digits, '.', '_' or '-', at most 63", stage)
		return nil
	}
	s.r.stage = stage

	region, profile := "us-east-1", ""
	if rv := child(provider, "region"); rv != nil {
		v, p, ok := s.str(rv, "provider.region")
		switch {
		case !ok:
			return nil
		case p != nil:
			unres = append(unres, *p)
		case !reAWSRegion().MatchString(v):
			s.c.add(rv.pos, "provider.region: %q is not an AWS region (like eu-west-1)", v)
			return nil
		default:
			region = v
		}
	}
	if pv := child(provider, "profile"); pv != nil {
		v, p, ok := s.str(pv, "provider.profile")
		switch {
		case !ok:
			return nil
		case p != nil:
			unres = append(unres, *p)
		case v != "" && !reProfile().MatchString(v):
			s.c.add(pv.pos, "provider.profile: %q is not a valid profile name", v)
			return nil
		default:
			profile = v
		}
	}

	images := s.images(provider)
	defMem, defTimeout, defArch, ok := s.settings(provider, "provider", lambdaSettings{}, &unres)
	if !ok {
		return nil
	}

	fv := child(root, "functions")
	if fv == nil {
		return nil
	}
	functions := s.mapping(fv, "functions")
	if functions == nil {
		return nil
	}
	var out []frameworkFunction
	for _, ff := range functions.fields {
		what := "functions." + ff.key
		if !reName().MatchString(ff.key) {
			s.c.add(ff.keyPos, "function name %q: use letters, digits, '.', '_' or '-', at most 63", ff.key)
			continue
		}
		fm := s.mapping(ff.val, what)
		if fm == nil {
			continue
		}
		iv := child(fm, "image")
		if iv == nil {
			continue // a zip function: not fndeck's
		}
		fn := &Function{Name: ff.key, Source: s.file}
		t := &Target{Name: stage, Function: ff.key, Unresolved: append(Problems(nil), unres...),
			Note: fmt.Sprintf("deployed by the Serverless Framework (service %s, stage %s): fndeck ships new images to it, `serverless deploy` still owns the stack", service, stage)}
		imageOK := s.functionImage(iv, what+".image", images, fn, t)
		name := service + "-" + stage + "-" + ff.key
		nameAt := ff.keyPos
		if nv := child(fm, "name"); nv != nil {
			v, p, ok := s.str(nv, what+".name")
			if !ok {
				continue
			}
			if p != nil {
				t.Unresolved = append(t.Unresolved, *p)
			}
			name, nameAt = v, nv.pos
		}
		if len(t.Unresolved) == 0 && !reLambdaName().MatchString(name) {
			s.c.add(nameAt, "%s: the deployed function name %q is not a Lambda function name (1-64 letters, digits, '-' or '_')", what, name)
			continue
		}
		mem, timeout, arch, ok := s.settings(fm, what, lambdaSettings{defMem, defTimeout, defArch}, &t.Unresolved)
		if !ok || !imageOK {
			continue
		}
		t.Lambda = &LambdaTarget{Profile: profile, Region: region, Function: name, MemoryMB: mem, TimeoutS: timeout, Arch: arch}
		fn.Targets = []*Target{t}
		out = append(out, frameworkFunction{fn: fn, at: ff.keyPos})
	}
	return out
}

type lambdaSettings struct {
	mem, timeout int
	arch         string
}

// settings reads memorySize, timeout and architecture from m, defaulting
// to def.
// A variable fndeck cannot resolve goes to unres: only commands on the
// targets it sets fail.
func (s *slsReader) settings(m *value, what string, def lambdaSettings, unres *Problems) (int, int, string, bool) {
	good := true
	num := func(key string, lo, hi int, unit string, def int) int {
		v := child(m, key)
		if v == nil {
			return def
		}
		text, p, ok := s.str(v, what+"."+key)
		if !ok {
			good = false
			return 0
		}
		if p != nil {
			*unres = append(*unres, *p)
			return def
		}
		n, err := strconv.Atoi(text)
		if err != nil || n < lo || n > hi {
			s.c.add(v.pos, "%s.%s: %q is not a number from %d to %d%s", what, key, text, lo, hi, unit)
			good = false
			return 0
		}
		return n
	}
	mem := num("memorySize", 128, 10240, " MB", def.mem)
	timeout := num("timeout", 1, 900, " seconds", def.timeout)
	arch := def.arch
	if v := child(m, "architecture"); v != nil {
		text, p, ok := s.str(v, what+".architecture")
		switch {
		case !ok:
			good = false
		case p != nil:
			*unres = append(*unres, *p)
		case text != "x86_64" && text != "arm64":
			s.c.add(v.pos, "%s.architecture: %q is not x86_64 or arm64", what, text)
			good = false
		default:
			arch = text
		}
	}
	return mem, timeout, arch, good
}

// images reads provider.ecr.images.
func (s *slsReader) images(provider *value) map[string]*slsImage {
	out := map[string]*slsImage{}
	ecr := child(provider, "ecr")
	if ecr == nil {
		return out
	}
	em := s.mapping(ecr, "provider.ecr")
	if em == nil {
		return out
	}
	iv := child(em, "images")
	if iv == nil {
		return out
	}
	im := s.mapping(iv, "provider.ecr.images")
	if im == nil {
		return out
	}
	for _, f := range im.fields {
		what := "provider.ecr.images." + f.key
		img := &slsImage{bad: true}
		out[f.key] = img // known, so that functions using it are not reported too
		m := s.mapping(f.val, what)
		if m == nil {
			continue
		}
		if u := child(m, "uri"); u != nil {
			v, p, ok := s.str(u, what+".uri")
			if !ok {
				continue
			}
			img.unresolved = appendProblem(img.unresolved, p)
			img.uri, img.bad = v, false
			continue
		}
		b := &Build{Args: map[string]string{}}
		good := true
		path := "."
		pathAt := f.keyPos
		if pv := child(m, "path"); pv != nil {
			v, p, ok := s.str(pv, what+".path")
			good = good && ok
			img.unresolved = appendProblem(img.unresolved, p)
			path, pathAt = v, pv.pos
		} else {
			s.c.add(f.keyPos, "%s: give \"path\" (the build context) or \"uri\"", what)
			continue
		}
		file := "Dockerfile"
		fileAt := pathAt
		if fv := child(m, "file"); fv != nil {
			v, p, ok := s.str(fv, what+".file")
			good = good && ok
			img.unresolved = appendProblem(img.unresolved, p)
			file, fileAt = v, fv.pos
		}
		if av := child(m, "buildArgs"); av != nil {
			if am := s.mapping(av, what+".buildArgs"); am != nil {
				for _, a := range am.fields {
					v, p, ok := s.str(a.val, what+".buildArgs."+a.key)
					good = good && ok
					img.unresolved = appendProblem(img.unresolved, p)
					b.Args[a.key] = v
				}
			} else {
				good = false
			}
		}
		if pv := child(m, "platform"); pv != nil {
			v, p, ok := s.str(pv, what+".platform")
			switch {
			case !ok:
				good = false
			case p != nil:
				img.unresolved = append(img.unresolved, *p)
			case v != "linux/amd64" && v != "linux/arm64":
				s.c.add(pv.pos, "%s.platform: %q is not linux/amd64 or linux/arm64", what, v)
				good = false
			default:
				b.Platform = v
			}
		}
		if !good {
			continue
		}
		if len(img.unresolved) == 0 {
			b.Context = absUnder(s.dir, path)
			b.Dockerfile = absUnder(b.Context, file)
			if !checkBuildPaths(s.c, what, path, pathAt, b.Context, file, fileAt, b.Dockerfile) {
				continue
			}
			img.build = b
		}
		img.bad = false
	}
	return out
}

// functionImage reads functions.F.image: an ecr.images name, a URI, or a
// mapping {name | uri, command, entryPoint, workingDirectory}.
func (s *slsReader) functionImage(iv *value, what string, images map[string]*slsImage, fn *Function, t *Target) bool {
	v, err := s.r.resolve(iv, 0)
	if err != nil {
		s.c.add(iv.pos, "%s: %v", what, err)
		return false
	}
	ref, refAt := "", iv.pos
	switch v.kind {
	case kindScalar:
		ref = v.text
	case kindMap:
		m, ok := s.c.mapping(v, what, []string{"name", "uri", "command", "entryPoint", "workingDirectory"})
		if !ok {
			return false
		}
		for _, k := range []string{"name", "uri"} {
			if f := m[k]; f != nil {
				text, p, ok := s.str(f.val, what+"."+k)
				if !ok {
					return false
				}
				if p != nil {
					fn.Unresolved = append(fn.Unresolved, *p)
					t.Unresolved = append(t.Unresolved, *p)
				}
				ref, refAt = text, f.val.pos
			}
		}
		ic := &cloud.ImageConfig{}
		good := true
		list := func(k string) []string {
			f := m[k]
			if f == nil {
				return nil
			}
			lv, err := s.r.resolve(f.val, 0)
			if err != nil || lv.kind != kindList {
				if lv != nil && lv.kind == kindScalar {
					return []string{lv.text}
				}
				s.c.add(f.val.pos, "%s.%s: expected a list of strings", what, k)
				good = false
				return nil
			}
			var out []string
			for i, it := range lv.items {
				text, p, ok := s.str(it, fmt.Sprintf("%s.%s[%d]", what, k, i))
				if p != nil {
					t.Unresolved = append(t.Unresolved, *p)
				}
				good = good && ok
				out = append(out, text)
			}
			return out
		}
		ic.Command, ic.Entrypoint = list("command"), list("entryPoint")
		if f := m["workingDirectory"]; f != nil {
			text, p, ok := s.str(f.val, what+".workingDirectory")
			good = good && ok
			if p != nil {
				t.Unresolved = append(t.Unresolved, *p)
			}
			ic.Workdir = text
		}
		if !good {
			return false
		}
		if !ic.IsZero() {
			t.ImageConfig = ic
		}
	default:
		s.c.add(iv.pos, "%s: expected an image name from provider.ecr.images, an image URI, or a mapping {name, command, entryPoint, workingDirectory}, got %s", what, v.describe())
		return false
	}
	if ref == "" {
		if len(fn.Unresolved) == 0 {
			s.c.add(iv.pos, "%s: give the image's name (from provider.ecr.images) or its uri", what)
			return false
		}
		return true
	}
	if img, ok := images[ref]; ok {
		if img.bad {
			return false
		}
		fn.Build = img.build
		fn.Unresolved = append(fn.Unresolved, img.unresolved...)
		return true
	}
	if strings.ContainsAny(ref, "/:@") {
		return true // an image built elsewhere
	}
	known := make([]string, 0, len(images))
	for k := range images {
		known = append(known, k)
	}
	s.c.add(refAt, "%s: image %q is not in provider.ecr.images%s", what, ref, suggest(ref, known))
	return false
}

func appendProblem(ps Problems, p *Problem) Problems {
	if p == nil {
		return ps
	}
	return append(ps, *p)
}

// absUnder resolves p against base unless it is absolute.
func absUnder(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, filepath.FromSlash(p))
}

// checkBuildPaths reports a build context that is not a directory or a
// Dockerfile that is not a file.
func checkBuildPaths(c *collector, what, ctxWritten string, ctxAt pos, ctxDir, dfWritten string, dfAt pos, df string) bool {
	st, err := os.Stat(ctxDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.add(ctxAt, "%s: build context %q does not exist (looked for %s)", what, ctxWritten, ctxDir)
		return false
	case err != nil:
		c.add(ctxAt, "%s: %v", what, err)
		return false
	case !st.IsDir():
		c.add(ctxAt, "%s: build context %q is not a directory", what, ctxWritten)
		return false
	}
	st, err = os.Stat(df)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.add(dfAt, "%s: Dockerfile %q does not exist (looked for %s)", what, dfWritten, df)
		return false
	case err != nil:
		c.add(dfAt, "%s: %v", what, err)
		return false
	case st.IsDir():
		c.add(dfAt, "%s: Dockerfile %q is a directory", what, dfWritten)
		return false
	}
	return true
}
