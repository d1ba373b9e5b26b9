package config

import (
	"errors"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/fndeck/fndeck/internal/sanitize"
)

// We decode YAML by walking goccy/go-yaml's AST rather than unmarshalling
// into structs: every value keeps its line and column, mappings keep the
// order they were written in, and decoding carries on past the first
// mistake so that all of them are reported together.

type valueKind int

const (
	kindNull valueKind = iota
	kindScalar
	kindList
	kindMap
)

// scalarType is the YAML type of a plain scalar, for messages and for
// telling true from "true".
type scalarType int

const (
	typeString scalarType = iota
	typeInt
	typeFloat
	typeBool
)

// value is a decoded YAML (or environment) value with its position.
type value struct {
	pos    pos
	kind   valueKind
	text   string // scalar text as written, quotes removed
	stype  scalarType
	items  []*value
	fields []*field
	// tag is a local tag written before the value ("!Ref", "!Sub"), as
	// CloudFormation's short forms use them; "" for none and for YAML's own
	// "!!" tags.
	tag string
}

// field is one mapping entry.
type field struct {
	key    string
	keyPos pos
	val    *value
}

// describe names the value's type for "expected X, got Y" messages.
func (v *value) describe() string {
	switch v.kind {
	case kindNull:
		return "nothing (null)"
	case kindList:
		return "a list"
	case kindMap:
		return "a mapping"
	}
	switch v.stype {
	case typeInt, typeFloat:
		return "the number " + v.text
	case typeBool:
		return v.text
	}
	return strconv.Quote(v.text)
}

// parseYAML reads one YAML document. A syntax error comes back as a single
// problem with its position; an empty document is a null value.
func parseYAML(file string, data []byte) (*value, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, Problems{syntaxProblem(file, err)}
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		return &value{pos: pos{file: file, line: 1, col: 1}, kind: kindNull}, nil
	}
	if len(docs) > 1 {
		p := positionOf(file, docs[1].Body)
		return nil, Problems{{File: file, Line: p.line, Col: p.col, Msg: "expected one YAML document, found more (remove the second \"---\")"}}
	}
	d := &decoder{file: file, anchors: map[string]ast.Node{}}
	v := d.node(docs[0].Body, 0)
	return v, d.c.err()
}

// syntaxProblem turns a go-yaml error into a positioned problem.
func syntaxProblem(file string, err error) Problem {
	var tokErr interface {
		GetToken() *token.Token
		GetMessage() string
	}
	if errors.As(err, &tokErr) {
		if tk := tokErr.GetToken(); tk != nil && tk.Position != nil {
			return Problem{File: file, Line: tk.Position.Line, Col: tk.Position.Column,
				Msg: "invalid YAML: " + sanitize.Escape(tokErr.GetMessage())}
		}
		return Problem{File: file, Msg: "invalid YAML: " + sanitize.Escape(tokErr.GetMessage())}
	}
	return Problem{File: file, Msg: "invalid YAML: " + sanitize.Escape(err.Error())}
}

func positionOf(file string, n ast.Node) pos {
	// A block mapping's own token is not where a reader sees it start; its
	// first key is. A flow mapping starts at its "{".
	if m, ok := n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 {
		n = m.Values[0].Key
	}
	if n == nil {
		return pos{file: file}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return pos{file: file}
	}
	return pos{file: file, line: tk.Position.Line, col: tk.Position.Column}
}

type decoder struct {
	file    string
	anchors map[string]ast.Node
	c       collector
}

// maxDepth bounds alias expansion, so a self-referencing alias cannot loop.
const maxDepth = 64

func (d *decoder) node(n ast.Node, depth int) *value {
	p := positionOf(d.file, n)
	if depth > maxDepth {
		d.c.add(p, "value nested too deeply (recursive alias?)")
		return &value{pos: p, kind: kindNull}
	}
	switch n := n.(type) {
	case nil:
		return &value{pos: p, kind: kindNull}
	case *ast.NullNode:
		return &value{pos: p, kind: kindNull}
	case *ast.StringNode:
		return &value{pos: p, kind: kindScalar, text: n.Value, stype: typeString}
	case *ast.LiteralNode:
		text := ""
		if n.Value != nil {
			text = n.Value.Value
		}
		return &value{pos: p, kind: kindScalar, text: text, stype: typeString}
	case *ast.IntegerNode:
		return &value{pos: p, kind: kindScalar, text: n.GetToken().Value, stype: typeInt}
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return &value{pos: p, kind: kindScalar, text: n.GetToken().Value, stype: typeFloat}
	case *ast.BoolNode:
		return &value{pos: p, kind: kindScalar, text: strconv.FormatBool(n.Value), stype: typeBool}
	case *ast.AnchorNode:
		if name := n.Name; name != nil {
			d.anchors[name.GetToken().Value] = n.Value
		}
		return d.node(n.Value, depth+1)
	case *ast.AliasNode:
		name := ""
		if n.Value != nil {
			name = n.Value.GetToken().Value
		}
		target, ok := d.anchors[name]
		if !ok {
			d.c.add(p, "alias *%s refers to no anchor defined before it", name)
			return &value{pos: p, kind: kindNull}
		}
		v := d.node(target, depth+1)
		return v
	case *ast.TagNode:
		v := d.node(n.Value, depth+1)
		if t := n.Start.Value; !strings.HasPrefix(t, "!!") {
			v.pos, v.tag = p, t
		}
		return v
	case *ast.SequenceNode:
		v := &value{pos: p, kind: kindList}
		for _, item := range n.Values {
			v.items = append(v.items, d.node(item, depth+1))
		}
		return v
	case *ast.MappingValueNode:
		v := &value{pos: p, kind: kindMap}
		d.entry(v, n, depth)
		return v
	case *ast.MappingNode:
		v := &value{pos: p, kind: kindMap}
		for _, mv := range n.Values {
			d.entry(v, mv, depth)
		}
		return v
	}
	d.c.add(p, "unsupported YAML construct %T", n)
	return &value{pos: p, kind: kindNull}
}

// entry adds one key: value to the mapping m, expanding "<<" merge keys.
// Keys written in the mapping win over merged ones, as YAML specifies.
func (d *decoder) entry(m *value, mv *ast.MappingValueNode, depth int) {
	kp := positionOf(d.file, mv.Key)
	if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
		src := d.node(mv.Value, depth+1)
		merge := []*value{src}
		if src.kind == kindList {
			merge = src.items
		}
		for _, s := range merge {
			if s.kind != kindMap {
				d.c.add(s.pos, "\"<<\" merges a mapping, got %s", s.describe())
				continue
			}
			for _, f := range s.fields {
				if m.get(f.key) == nil {
					m.fields = append(m.fields, f)
				}
			}
		}
		return
	}
	key := d.keyText(mv.Key)
	val := d.node(mv.Value, depth+1)
	if val.kind == kindNull && mv.Value != nil {
		// A key with nothing after it: point at the key, where the reader looks.
		val.pos = kp
	}
	// A key merged earlier is overridden by one written explicitly.
	for i, f := range m.fields {
		if f.key == key {
			m.fields[i] = &field{key: key, keyPos: kp, val: val}
			return
		}
	}
	m.fields = append(m.fields, &field{key: key, keyPos: kp, val: val})
}

func (d *decoder) keyText(k ast.Node) string {
	switch k := k.(type) {
	case *ast.MappingKeyNode:
		return d.keyText(k.Value)
	case *ast.StringNode:
		return k.Value
	case nil:
		return ""
	}
	if tk := k.GetToken(); tk != nil {
		return tk.Value
	}
	return strings.TrimSpace(k.String())
}

// get returns the field named key, or nil.
func (v *value) get(key string) *field {
	for _, f := range v.fields {
		if f.key == key {
			return f
		}
	}
	return nil
}
