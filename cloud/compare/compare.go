// Package compare diffs the responses of several functions to one payload.
//
// JSON bodies are compared structurally: object keys by name (order does
// not matter), arrays by index, scalars by value (numbers numerically, so
// 1 and 1.0 agree). A difference is reported at the shallowest path where
// the targets part: when a key or index is missing from some targets, or
// the kinds differ (object, array, string, number, bool, null), the whole
// value at that path is one difference rather than one per leaf below it.
//
// Paths are JSON paths rooted at the response body: $ is the body itself,
// $.items[2].name a member of it; keys that are not plain identifiers are
// quoted, $["a b"]. A target that lacks the path has null in Values and its
// index in Absent, so a JSON null and a missing key stay distinguishable.
//
// When any body is not JSON, all bodies are compared as text line by line
// (line N against line N, no realignment), with paths "line 3" and values
// the lines as strings; a target with fewer lines is absent there.
package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strings"
)

// Difference is one path where the targets disagree. Values holds each
// target's value there, in the order the bodies were given (null where
// absent); Absent lists the indices of the targets that lack the path.
type Difference struct {
	Path   string `json:"path"`
	Values []any  `json:"values"`
	Absent []int  `json:"absent,omitempty"`
}

// Bodies compares response bodies and returns where they differ, in path
// order; nil when they all agree (or fewer than two are given).
func Bodies(bodies [][]byte) []Difference {
	if len(bodies) < 2 {
		return nil
	}
	docs := make([]any, len(bodies))
	for i, b := range bodies {
		v, ok := decode(b)
		if !ok {
			return Lines(bodies)
		}
		docs[i] = v
	}
	present := make([]bool, len(docs))
	for i := range present {
		present[i] = true
	}
	var out []Difference
	walk("$", docs, present, &out)
	return out
}

// Lines compares bodies as text, line by line.
func Lines(bodies [][]byte) []Difference {
	lines := make([][]string, len(bodies))
	most := 0
	for i, b := range bodies {
		s := strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
		if s != "" {
			lines[i] = strings.Split(s, "\n")
		}
		most = max(most, len(lines[i]))
	}
	var out []Difference
	for n := 0; n < most; n++ {
		d := Difference{Path: fmt.Sprintf("line %d", n+1), Values: make([]any, len(bodies))}
		same := true
		for i := range bodies {
			if n >= len(lines[i]) {
				d.Absent = append(d.Absent, i)
				same = false
				continue
			}
			d.Values[i] = lines[i][n]
			if i > 0 && (n >= len(lines[0]) || lines[i][n] != lines[0][n]) {
				same = false
			}
		}
		if !same {
			out = append(out, d)
		}
	}
	return out
}

func decode(b []byte) (any, bool) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if dec.More() { // trailing data: not one JSON document
		return nil, false
	}
	return v, true
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	default:
		return "null"
	}
}

func walk(path string, vals []any, present []bool, out *[]Difference) {
	k, uniform := "", true
	for i, v := range vals {
		if !present[i] {
			uniform = false
			break
		}
		if i == 0 {
			k = kind(v)
		} else if kind(v) != k {
			uniform = false
			break
		}
	}
	if !uniform {
		*out = append(*out, difference(path, vals, present))
		return
	}
	switch k {
	case "object":
		keys := map[string]bool{}
		for _, v := range vals {
			for key := range v.(map[string]any) {
				keys[key] = true
			}
		}
		names := make([]string, 0, len(keys))
		for key := range keys {
			names = append(names, key)
		}
		sort.Strings(names)
		for _, key := range names {
			child := make([]any, len(vals))
			has := make([]bool, len(vals))
			for i, v := range vals {
				child[i], has[i] = v.(map[string]any)[key]
			}
			walk(path+member(key), child, has, out)
		}
	case "array":
		most := 0
		for _, v := range vals {
			most = max(most, len(v.([]any)))
		}
		for n := 0; n < most; n++ {
			child := make([]any, len(vals))
			has := make([]bool, len(vals))
			for i, v := range vals {
				if a := v.([]any); n < len(a) {
					child[i], has[i] = a[n], true
				}
			}
			walk(fmt.Sprintf("%s[%d]", path, n), child, has, out)
		}
	default:
		for _, v := range vals[1:] {
			if !scalarEqual(vals[0], v) {
				*out = append(*out, difference(path, vals, present))
				return
			}
		}
	}
}

func difference(path string, vals []any, present []bool) Difference {
	d := Difference{Path: path, Values: make([]any, len(vals))}
	for i, v := range vals {
		if present[i] {
			d.Values[i] = v
		} else {
			d.Absent = append(d.Absent, i)
		}
	}
	return d
}

func scalarEqual(a, b any) bool {
	if x, ok := a.(json.Number); ok {
		y := b.(json.Number)
		if x == y {
			return true
		}
		fx, _, err1 := big.ParseFloat(string(x), 10, 256, big.ToNearestEven)
		fy, _, err2 := big.ParseFloat(string(y), 10, 256, big.ToNearestEven)
		return err1 == nil && err2 == nil && fx.Cmp(fy) == 0
	}
	return a == b
}

var ident = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func member(key string) string {
	if ident.MatchString(key) {
		return "." + key
	}
	q, _ := json.Marshal(key)
	return "[" + string(q) + "]"
}
