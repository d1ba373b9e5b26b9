package compare

import (
	"encoding/json"
	"testing"
)

func TestBodies(t *testing.T) {
	tests := []struct {
		name   string
		bodies []string
		want   string // the differences as JSON
	}{
		{"identical, keys in another order", []string{`{"a":1,"b":[1,2]}`, `{"b":[1,2],"a":1.0}`}, `null`},
		{"nested object member", []string{`{"x":{"y":{"z":"a"}}}`, `{"x":{"y":{"z":"b"}}}`},
			`[{"path":"$.x.y.z","values":["a","b"]}]`},
		{"array of different length", []string{`{"items":[{"name":"a"},{"name":"b"}]}`, `{"items":[{"name":"a"},{"name":"c"},{"name":"d"}]}`},
			`[{"path":"$.items[1].name","values":["b","c"]},{"path":"$.items[2]","values":[null,{"name":"d"}],"absent":[0]}]`},
		{"missing key versus null", []string{`{"a":null}`, `{}`},
			`[{"path":"$.a","values":[null,null],"absent":[1]}]`},
		{"type change stops descent", []string{`{"v":{"n":1}}`, `{"v":[1]}`, `{"v":{"n":1}}`},
			`[{"path":"$.v","values":[{"n":1},[1],{"n":1}]}]`},
		{"three targets, one differs", []string{`{"ok":true,"n":2}`, `{"ok":true,"n":2}`, `{"ok":false,"n":2}`},
			`[{"path":"$.ok","values":[true,true,false]}]`},
		{"odd keys are quoted", []string{`{"a b":1}`, `{"a b":2}`}, `[{"path":"$[\"a b\"]","values":[1,2]}]`},
		{"root scalars", []string{`"x"`, `"y"`}, `[{"path":"$","values":["x","y"]}]`},
		{"non-JSON is line-diffed", []string{"one\ntwo\nthree\n", "one\n2\nthree\nfour"},
			`[{"path":"line 2","values":["two","2"]},{"path":"line 4","values":[null,"four"],"absent":[0]}]`},
		{"one JSON, one not", []string{`{"a":1}`, `oops`}, `[{"path":"line 1","values":["{\"a\":1}","oops"]}]`},
		{"identical text", []string{"same\n", "same"}, `null`},
		{"an empty body is text", []string{``, `x`}, `[{"path":"line 1","values":[null,"x"],"absent":[0]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bodies := make([][]byte, len(tt.bodies))
			for i, b := range tt.bodies {
				bodies[i] = []byte(b)
			}
			got, err := json.Marshal(Bodies(bodies))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Bodies(%q)\n got %s\nwant %s", tt.bodies, got, tt.want)
			}
		})
	}
}

func TestBodiesNeedsTwo(t *testing.T) {
	if d := Bodies([][]byte{[]byte(`{"a":1}`)}); d != nil {
		t.Errorf("one body: %v", d)
	}
}

// BenchmarkBodies diffs three ~40 KB JSON responses (500 items each) that
// differ in one field of one item: the compare view's typical load.
func BenchmarkBodies(b *testing.B) {
	mk := func(odd string) []byte {
		items := make([]map[string]any, 500)
		for i := range items {
			items[i] = map[string]any{"id": i, "name": "item", "tags": []string{"a", "b"}, "price": 1.25}
		}
		items[250]["name"] = odd
		out, _ := json.Marshal(map[string]any{"items": items, "count": len(items)})
		return out
	}
	bodies := [][]byte{mk("item"), mk("item"), mk("changed")}
	b.ReportAllocs()
	for b.Loop() {
		if d := Bodies(bodies); len(d) != 1 {
			b.Fatalf("%d differences, want 1", len(d))
		}
	}
}
