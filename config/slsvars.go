package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Serverless Framework variables, ${SOURCE:ADDRESS, FALLBACK}. fndeck
// resolves the sources that decide names and paths from the file and the
// command line — self (a path into the document), sls:stage, opt:stage
// (the global --stage) and env — with their fallbacks, nested references
// included. Every other source (ssm, cf, s3, file, aws, param, a plugin's)
// is the framework's to resolve at deploy time: fndeck reports it as
// unresolved rather than guessing.

// varError is a variable fndeck cannot resolve; the message names it and
// how to give it a value.
type varError struct{ msg string }

func (e *varError) Error() string { return e.msg }

func varErrorf(format string, args ...any) *varError {
	return &varError{msg: fmt.Sprintf(format, args...)}
}

// maxVarDepth bounds how deep variables may refer to variables; a loop
// ends here.
const maxVarDepth = 16

type slsResolver struct {
	root *value
	opts ProjectOptions
	// stage is the resolved stage; resolvingStage is set while it is worked
	// out, so that ${sls:stage} inside provider.stage is caught as a loop.
	stage          string
	resolvingStage bool
}

// resolve returns v with the variables in a string scalar expanded. A
// scalar that is exactly one variable takes the referenced value as is
// (a mapping, a number).
func (r *slsResolver) resolve(v *value, depth int) (*value, error) {
	if v == nil || v.kind != kindScalar || v.stype != typeString || !strings.Contains(v.text, "${") {
		return v, nil
	}
	return r.expand(v.text, v, depth)
}

// expand resolves each ${…} in text, a string written at v.
func (r *slsResolver) expand(text string, v *value, depth int) (*value, error) {
	if depth > maxVarDepth {
		return nil, varErrorf("variables in %q refer to each other in a loop (or nest more than %d deep)", text, maxVarDepth)
	}
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(text[i:], "${")
		if j < 0 {
			b.WriteString(text[i:])
			break
		}
		j += i
		end := closingBrace(text, j+2)
		if end < 0 {
			return nil, varErrorf("%q: \"${\" without its closing \"}\"", text)
		}
		got, err := r.variable(text[j+2:end], v, depth+1)
		if err != nil {
			return nil, err
		}
		if j == 0 && end == len(text)-1 {
			return got, nil
		}
		if got.kind != kindScalar {
			return nil, varErrorf("${%s} is %s; it cannot be part of the string %q", text[j+2:end], got.describe(), text)
		}
		b.WriteString(text[i:j])
		b.WriteString(got.text)
		i = end + 1
	}
	return &value{pos: v.pos, kind: kindScalar, text: b.String(), stype: typeString}, nil
}

// closingBrace finds the "}" that closes a "${" whose inside starts at i,
// skipping nested variables and quoted text.
func closingBrace(s string, i int) int {
	depth := 0
	var quote byte
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '{':
			depth++
		case c == '}':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

// splitTop splits s at commas outside quotes, braces and parentheses.
func splitTop(s string) []string {
	var parts []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '{' || c == '(' || c == '[':
			depth++
		case c == '}' || c == ')' || c == ']':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// variable resolves the inside of one ${…}: a reference and its fallbacks.
func (r *slsResolver) variable(inner string, at *value, depth int) (*value, error) {
	parts := splitTop(inner)
	var firstErr error
	for i, p := range parts {
		p = strings.TrimSpace(p)
		var got *value
		var err error
		if i == 0 {
			got, err = r.reference(p, at, depth)
		} else {
			got, err = r.fallback(p, at, depth)
		}
		if err != nil {
			return nil, err
		}
		if got != nil {
			return got, nil
		}
		if i == 0 {
			firstErr = r.notFound(p)
		}
	}
	return nil, firstErr
}

// notFound says why a reference without a usable fallback has no value.
func (r *slsResolver) notFound(ref string) error {
	src, addr, _ := strings.Cut(ref, ":")
	switch src {
	case "env":
		return varErrorf("${%s}: the environment variable %s is not set and the variable has no default; set %s (or add a default: ${env:%s, 'value'})", ref, addr, addr, addr)
	case "opt":
		if addr == "stage" {
			return varErrorf("${%s}: no stage given and the variable has no default; pass the global --stage S", ref)
		}
		return varErrorf("${%s}: fndeck has no --%s option; give the value a default (${opt:%s, 'value'})", ref, addr, addr)
	case "self":
		return varErrorf("${%s}: %s is not in the file", ref, addr)
	}
	return varErrorf("${%s} has no value", ref)
}

// reference resolves SOURCE:ADDRESS; nil, nil means "not found: use a
// fallback".
func (r *slsResolver) reference(ref string, at *value, depth int) (*value, error) {
	if strings.Contains(ref, "${") {
		v, err := r.expand(ref, at, depth)
		if err != nil {
			return nil, err
		}
		if v.kind != kindScalar {
			return nil, varErrorf("${%s}: the reference resolves to %s, not a name", ref, v.describe())
		}
		ref = v.text
	}
	src, addr, hasColon := strings.Cut(ref, ":")
	if !hasColon {
		return nil, varErrorf("${%s} is not a variable fndeck knows (expected SOURCE:ADDRESS like self:provider.stage)", ref)
	}
	addr = strings.TrimSpace(addr)
	switch src {
	case "self":
		found := lookupPath(r.root, addr)
		if found == nil {
			return nil, nil
		}
		return r.resolve(found, depth+1)
	case "sls":
		if addr == "stage" {
			if r.resolvingStage {
				return nil, varErrorf("${sls:stage} is used to define the stage itself; give provider.stage a value or pass --stage")
			}
			return &value{pos: at.pos, kind: kindScalar, text: r.stage}, nil
		}
	case "opt":
		if addr == "stage" && r.opts.Stage != "" {
			return &value{pos: at.pos, kind: kindScalar, text: r.opts.Stage}, nil
		}
		return nil, nil
	case "env":
		if v, ok := envLookup(r.opts.Env, addr); ok && v != "" {
			return &value{pos: at.pos, kind: kindScalar, text: v}, nil
		}
		return nil, nil
	}
	return nil, varErrorf("${%s}: %s variables are resolved by the Serverless Framework when it deploys, not by fndeck; write the value literally or give the variable a default fndeck can use", ref, strings.TrimRight(strings.SplitN(src, "(", 2)[0], " "))
}

// fallback resolves a default: a quoted string, a number or boolean, a
// nested variable, or another reference. nil, nil means it found nothing
// (the next fallback is tried).
func (r *slsResolver) fallback(p string, at *value, depth int) (*value, error) {
	if len(p) >= 2 && (p[0] == '\'' || p[0] == '"') && p[len(p)-1] == p[0] {
		return &value{pos: at.pos, kind: kindScalar, text: p[1 : len(p)-1]}, nil
	}
	if _, err := strconv.ParseFloat(p, 64); err == nil || p == "true" || p == "false" {
		return &value{pos: at.pos, kind: kindScalar, text: p}, nil
	}
	if strings.HasPrefix(p, "${") {
		return r.expand(p, at, depth)
	}
	if strings.Contains(p, ":") {
		return r.reference(p, at, depth)
	}
	return &value{pos: at.pos, kind: kindScalar, text: p}, nil
}

// lookupPath follows a dotted path (a.b.0.c) from root; nil if absent.
func lookupPath(root *value, path string) *value {
	v := root
	if path == "" {
		return v
	}
	for _, step := range strings.Split(path, ".") {
		switch v.kind {
		case kindMap:
			f := v.get(step)
			if f == nil {
				return nil
			}
			v = f.val
		case kindList:
			n, err := strconv.Atoi(step)
			if err != nil || n < 0 || n >= len(v.items) {
				return nil
			}
			v = v.items[n]
		default:
			return nil
		}
	}
	return v
}
