package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// CloudFormation intrinsic functions, in their short (!Ref) and long
// ({"Fn::Sub": …}) forms. fndeck evaluates what is knowable before the
// stack exists — parameters (samconfig overrides, else defaults), the
// pseudo parameters AWS::Region, AWS::StackName, AWS::Partition and
// AWS::NoValue, mappings, conditions, and the string functions — and
// reports the rest (a resource's Ref or attribute, imports) as unresolved.

// intrinsics maps each short-form tag to its long form.
var intrinsics = map[string]string{
	"!Ref": "Ref", "!Sub": "Fn::Sub", "!GetAtt": "Fn::GetAtt", "!If": "Fn::If", "!Join": "Fn::Join",
	"!Select": "Fn::Select", "!FindInMap": "Fn::FindInMap", "!Equals": "Fn::Equals", "!Not": "Fn::Not",
	"!And": "Fn::And", "!Or": "Fn::Or", "!Condition": "Condition", "!Split": "Fn::Split",
	"!Base64": "Fn::Base64", "!GetAZs": "Fn::GetAZs", "!ImportValue": "Fn::ImportValue", "!Cidr": "Fn::Cidr",
	"!Transform": "Fn::Transform", "!Length": "Fn::Length", "!ToJsonString": "Fn::ToJsonString",
}

// checkTags reports every tag that is not an intrinsic function, anywhere
// in the template.
func checkTags(c *collector, v *value) {
	if v == nil {
		return
	}
	if v.tag != "" {
		if _, ok := intrinsics[v.tag]; !ok {
			known := make([]string, 0, len(intrinsics))
			for k := range intrinsics {
				known = append(known, k)
			}
			sort.Strings(known)
			c.add(v.pos, "unknown intrinsic function %s%s; CloudFormation knows %s", v.tag, suggest(v.tag, known), strings.Join(known, ", "))
		}
	}
	for _, it := range v.items {
		checkTags(c, it)
	}
	for _, f := range v.fields {
		checkTags(c, f.val)
	}
}

// cfnEval evaluates intrinsic functions for one samconfig environment.
type cfnEval struct {
	root       *value
	params     map[string]string // parameter overrides (samconfig)
	region     string
	stack      string
	conditions map[string]bool // evaluated conditions, memoised
	evaluating map[string]bool
}

// intrinsic returns the long name and argument of an intrinsic function
// value, or "" when v is not one.
func intrinsic(v *value) (string, *value) {
	if v.tag != "" {
		arg := *v
		arg.tag = ""
		return intrinsics[v.tag], &arg
	}
	if v.kind == kindMap && len(v.fields) == 1 {
		k := v.fields[0].key
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, v.fields[0].val
		}
	}
	return "", nil
}

// eval returns v with its intrinsic functions evaluated; a *varError says
// what is not knowable before the stack exists.
func (e *cfnEval) eval(v *value, depth int) (*value, error) {
	if v == nil {
		return nil, nil
	}
	if depth > maxVarDepth {
		return nil, varErrorf("intrinsic functions nest more than %d deep", maxVarDepth)
	}
	fn, arg := intrinsic(v)
	if fn == "" {
		switch v.kind {
		case kindList:
			out := &value{pos: v.pos, kind: kindList}
			for _, it := range v.items {
				got, err := e.eval(it, depth+1)
				if err != nil {
					return nil, err
				}
				if got.kind == kindNull && got.text == "novalue" {
					continue
				}
				out.items = append(out.items, got)
			}
			return out, nil
		case kindMap:
			out := &value{pos: v.pos, kind: kindMap}
			for _, f := range v.fields {
				got, err := e.eval(f.val, depth+1)
				if err != nil {
					return nil, err
				}
				if got.kind == kindNull && got.text == "novalue" {
					continue
				}
				out.fields = append(out.fields, &field{key: f.key, keyPos: f.keyPos, val: got})
			}
			return out, nil
		}
		return v, nil
	}
	str := func(s string) *value { return &value{pos: v.pos, kind: kindScalar, text: s} }
	args := func(n int) ([]*value, error) {
		if arg.kind != kindList || (n > 0 && len(arg.items) != n) {
			return nil, fmt.Errorf("%s: expected a list of %d arguments, got %s", fn, n, arg.describe())
		}
		out := make([]*value, len(arg.items))
		for i, it := range arg.items {
			got, err := e.eval(it, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = got
		}
		return out, nil
	}
	switch fn {
	case "Ref":
		name, err := e.scalar(arg, depth, fn)
		if err != nil {
			return nil, err
		}
		return e.ref(name, v)
	case "Fn::Sub":
		return e.sub(arg, v, depth)
	case "Fn::GetAtt":
		what := arg.text
		if arg.kind == kindList {
			var parts []string
			for _, it := range arg.items {
				parts = append(parts, it.text)
			}
			what = strings.Join(parts, ".")
		}
		return nil, varErrorf("!GetAtt %s is known only once the stack is deployed", what)
	case "Fn::ImportValue", "Fn::GetAZs", "Fn::Cidr", "Fn::Transform":
		return nil, varErrorf("%s is known only to CloudFormation", fn)
	case "Fn::Join":
		a, err := args(2)
		if err != nil {
			return nil, err
		}
		if a[1].kind != kindList {
			return nil, fmt.Errorf("Fn::Join: expected a list to join, got %s", a[1].describe())
		}
		parts := make([]string, len(a[1].items))
		for i, it := range a[1].items {
			parts[i] = it.text
		}
		return str(strings.Join(parts, a[0].text)), nil
	case "Fn::Select":
		a, err := args(2)
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(a[0].text)
		if err != nil || a[1].kind != kindList || i < 0 || i >= len(a[1].items) {
			return nil, fmt.Errorf("Fn::Select: index %s is not in the list", a[0].text)
		}
		return a[1].items[i], nil
	case "Fn::Split":
		a, err := args(2)
		if err != nil {
			return nil, err
		}
		out := &value{pos: v.pos, kind: kindList}
		for _, p := range strings.Split(a[1].text, a[0].text) {
			out.items = append(out.items, str(p))
		}
		return out, nil
	case "Fn::FindInMap":
		a, err := args(3)
		if err != nil {
			return nil, err
		}
		found := lookupPath(child(e.root, "Mappings"), a[0].text+"."+a[1].text+"."+a[2].text)
		if found == nil {
			return nil, fmt.Errorf("Fn::FindInMap: Mappings has no %s.%s.%s", a[0].text, a[1].text, a[2].text)
		}
		return e.eval(found, depth+1)
	case "Fn::If":
		if arg.kind != kindList || len(arg.items) != 3 {
			return nil, fmt.Errorf("Fn::If: expected [condition, value if true, value if false], got %s", arg.describe())
		}
		ok, err := e.condition(arg.items[0].text, depth)
		if err != nil {
			return nil, err
		}
		if ok {
			return e.eval(arg.items[1], depth+1)
		}
		return e.eval(arg.items[2], depth+1)
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition":
		ok, err := e.boolean(v, depth)
		if err != nil {
			return nil, err
		}
		return &value{pos: v.pos, kind: kindScalar, text: strconv.FormatBool(ok), stype: typeBool}, nil
	case "Fn::Base64", "Fn::Length", "Fn::ToJsonString":
		return nil, varErrorf("%s is not evaluated by fndeck", fn)
	}
	return nil, fmt.Errorf("unknown intrinsic function %s", fn)
}

func (e *cfnEval) scalar(v *value, depth int, what string) (string, error) {
	got, err := e.eval(v, depth+1)
	if err != nil {
		return "", err
	}
	if got.kind != kindScalar {
		return "", fmt.Errorf("%s: expected a name, got %s", what, got.describe())
	}
	return got.text, nil
}

// ref resolves a parameter or pseudo parameter.
func (e *cfnEval) ref(name string, at *value) (*value, error) {
	str := func(s string) *value { return &value{pos: at.pos, kind: kindScalar, text: s} }
	switch name {
	case "AWS::Region":
		if e.region == "" {
			return nil, varErrorf("!Ref AWS::Region: no region; set region in samconfig.toml")
		}
		return str(e.region), nil
	case "AWS::StackName":
		if e.stack == "" {
			return nil, varErrorf("!Ref AWS::StackName: no stack name; set stack_name in samconfig.toml")
		}
		return str(e.stack), nil
	case "AWS::Partition":
		switch {
		case strings.HasPrefix(e.region, "cn-"):
			return str("aws-cn"), nil
		case strings.HasPrefix(e.region, "us-gov-"):
			return str("aws-us-gov"), nil
		case e.region != "":
			return str("aws"), nil
		}
		return nil, varErrorf("!Ref AWS::Partition: no region; set region in samconfig.toml")
	case "AWS::NoValue":
		return &value{pos: at.pos, kind: kindNull, text: "novalue"}, nil
	}
	if strings.HasPrefix(name, "AWS::") {
		return nil, varErrorf("!Ref %s is known only to CloudFormation", name)
	}
	if v, ok := e.params[name]; ok {
		return str(v), nil
	}
	if p := lookupPath(child(e.root, "Parameters"), name); p != nil {
		if d := child(p, "Default"); d != nil {
			return d, nil
		}
		return nil, varErrorf("!Ref %s: the parameter has no Default; give it one in parameter_overrides in samconfig.toml", name)
	}
	if lookupPath(child(e.root, "Resources"), name) != nil {
		return nil, varErrorf("!Ref %s is a resource's name, known only once the stack is deployed", name)
	}
	return nil, fmt.Errorf("!Ref %s: no parameter or resource has that name", name)
}

// sub evaluates Fn::Sub: "text" or [text, {VAR: value}].
func (e *cfnEval) sub(arg, at *value, depth int) (*value, error) {
	text := arg.text
	vars := map[string]string{}
	if arg.kind == kindList {
		if len(arg.items) != 2 {
			return nil, fmt.Errorf("Fn::Sub: expected a string or [string, {NAME: value}], got %s", arg.describe())
		}
		text = arg.items[0].text
		m, err := e.eval(arg.items[1], depth+1)
		if err != nil {
			return nil, err
		}
		for _, f := range m.fields {
			vars[f.key] = f.val.text
		}
	} else if arg.kind != kindScalar {
		return nil, fmt.Errorf("Fn::Sub: expected a string, got %s", arg.describe())
	}
	var b strings.Builder
	for {
		i := strings.Index(text, "${")
		if i < 0 {
			b.WriteString(text)
			break
		}
		b.WriteString(text[:i])
		j := strings.IndexByte(text[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("Fn::Sub: \"${\" without \"}\" in %q", text)
		}
		name := text[i+2 : i+j]
		text = text[i+j+1:]
		if strings.HasPrefix(name, "!") { // ${!Literal}
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		if v, ok := vars[name]; ok {
			b.WriteString(v)
			continue
		}
		if strings.Contains(name, ".") {
			return nil, varErrorf("${%s} in !Sub is a resource attribute, known only once the stack is deployed", name)
		}
		got, err := e.ref(name, at)
		if err != nil {
			return nil, err
		}
		b.WriteString(got.text)
	}
	return &value{pos: at.pos, kind: kindScalar, text: b.String()}, nil
}

// condition evaluates a named condition of the Conditions section.
func (e *cfnEval) condition(name string, depth int) (bool, error) {
	if ok, done := e.conditions[name]; done {
		return ok, nil
	}
	if e.evaluating[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	cv := lookupPath(child(e.root, "Conditions"), name)
	if cv == nil {
		return false, fmt.Errorf("condition %s is not in Conditions", name)
	}
	e.evaluating[name] = true
	ok, err := e.boolean(cv, depth+1)
	delete(e.evaluating, name)
	if err != nil {
		return false, err
	}
	e.conditions[name] = ok
	return ok, nil
}

// boolean evaluates a condition function.
func (e *cfnEval) boolean(v *value, depth int) (bool, error) {
	if depth > maxVarDepth {
		return false, varErrorf("conditions nest more than %d deep", maxVarDepth)
	}
	fn, arg := intrinsic(v)
	list := func() ([]*value, error) {
		if arg.kind != kindList {
			return nil, fmt.Errorf("%s: expected a list, got %s", fn, arg.describe())
		}
		return arg.items, nil
	}
	switch fn {
	case "Condition":
		return e.condition(arg.text, depth)
	case "Fn::Equals":
		items, err := list()
		if err != nil {
			return false, err
		}
		if len(items) != 2 {
			return false, fmt.Errorf("Fn::Equals: expected two values")
		}
		a, err := e.scalar(items[0], depth, fn)
		if err != nil {
			return false, err
		}
		b, err := e.scalar(items[1], depth, fn)
		if err != nil {
			return false, err
		}
		return a == b, nil
	case "Fn::Not", "Fn::And", "Fn::Or":
		items, err := list()
		if err != nil {
			return false, err
		}
		res := fn == "Fn::And"
		for _, it := range items {
			var ok bool
			if it.kind == kindScalar && it.tag == "" {
				ok, err = e.condition(it.text, depth)
			} else {
				ok, err = e.boolean(it, depth+1)
			}
			if err != nil {
				return false, err
			}
			switch fn {
			case "Fn::Not":
				return !ok, nil
			case "Fn::And":
				res = res && ok
			case "Fn::Or":
				res = res || ok
			}
		}
		return res, nil
	}
	if v.kind == kindScalar && v.stype == typeBool {
		return v.text == "true", nil
	}
	return false, fmt.Errorf("expected a condition function (!Equals, !Not, !And, !Or, !Condition), got %s", v.describe())
}
