package table

import (
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

var update = flag.Bool("update", false, "rewrite golden files")

type item struct {
	id   string
	name string
	size int
}

func newTable() *Table[item] {
	return New(Options[item]{
		Columns: []Column{{Title: "NAME", Flex: 1}, {Title: "SIZE", Width: 6, Right: true}},
		ID:      func(i item) string { return i.id },
		Version: func(i item) uint64 {
			h := fnv.New64a()
			fmt.Fprintf(h, "%s|%d", i.name, i.size)
			return h.Sum64()
		},
		Cells: func(i item) []string { return []string{i.name, fmt.Sprint(i.size)} },
		Compare: func(a, b item, col int) int {
			if col == 1 {
				return a.size - b.size
			}
			return strings.Compare(a.name, b.name)
		},
	})
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden (run with -update): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from golden:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestColumnWidthsSumExactly(t *testing.T) {
	cols := []Column{{Width: 10}, {Flex: 2}, {Flex: 1, Min: 3}, {Width: 5}}
	for _, w := range []int{10, 25, 30, 47, 80, 200} {
		ws := ColumnWidths(cols, w)
		sum := len(cols) - 1
		for _, x := range ws {
			if x < 0 {
				t.Fatalf("width %d: negative column %v", w, ws)
			}
			sum += x
		}
		if w >= 30 && sum != w {
			t.Errorf("width %d: columns %v sum to %d", w, ws, sum)
		}
		if sum > w {
			t.Errorf("width %d: columns %v overflow (%d)", w, ws, sum)
		}
	}
}

func TestFitTruncatesByDisplayWidth(t *testing.T) {
	cases := []struct {
		in    string
		w     int
		right bool
		want  string
	}{
		{"hello", 8, false, "hello   "},
		{"hello", 8, true, "   hello"},
		{"hello world", 6, false, "hello…"},
		{"日本語テキスト", 7, false, "日本語…"},
		{"", 3, false, "   "},
	}
	for _, c := range cases {
		got := Fit(c.in, c.w, c.right)
		if got != c.want {
			t.Errorf("Fit(%q,%d)=%q want %q", c.in, c.w, got, c.want)
		}
		if ansi.StringWidth(got) != c.w && !(c.w == 7 && ansi.StringWidth(got) == 7) {
			t.Errorf("Fit(%q,%d) width %d", c.in, c.w, ansi.StringWidth(got))
		}
	}
}

func TestCursorFollowsIDAcrossRefresh(t *testing.T) {
	tb := newTable()
	tb.SetSize(30, 6)
	tb.SetRows([]item{{"a", "alpha", 1}, {"b", "beta", 2}, {"c", "gamma", 3}})
	tb.HandleKey(press("j"))
	tb.HandleKey(press("j"))
	if tb.SelectedID() != "c" {
		t.Fatalf("cursor on %q, want c", tb.SelectedID())
	}
	// c moves to the front, a is deleted, d is added.
	tb.SetRows([]item{{"c", "gamma", 3}, {"d", "delta", 4}, {"b", "beta", 2}})
	if tb.SelectedID() != "c" {
		t.Fatalf("after refresh cursor on %q, want c", tb.SelectedID())
	}
	if tb.Len() != 3 {
		t.Fatalf("len %d", tb.Len())
	}
	// Deleting the cursor row leaves the cursor in range.
	tb.SetRows([]item{{"d", "delta", 4}})
	if tb.SelectedID() != "d" {
		t.Fatalf("cursor on %q, want d", tb.SelectedID())
	}
}

func TestRowCacheReRendersOnlyChangedRows(t *testing.T) {
	calls := map[string]int{}
	tb := newTable()
	inner := tb.opts.Cells
	tb.opts.Cells = func(i item) []string { calls[i.id]++; return inner(i) }
	tb.opts.FilterText = func(i item) string { return i.name }
	tb.SetSize(30, 5)
	tb.SetRows([]item{{"a", "alpha", 1}, {"b", "beta", 2}})
	tb.View()
	tb.View()
	if calls["a"] != 1 || calls["b"] != 1 {
		t.Fatalf("cells rendered %v, want once each", calls)
	}
	tb.SetRows([]item{{"a", "alpha", 1}, {"b", "beta", 20}})
	out := tb.View()
	if calls["a"] != 1 || calls["b"] != 2 {
		t.Fatalf("after changing b: %v, want a=1 b=2", calls)
	}
	if !strings.Contains(out, "20") {
		t.Fatalf("changed row not shown:\n%s", out)
	}
	tb.SetSize(40, 5) // widths change: everything re-renders
	tb.View()
	if calls["a"] != 2 {
		t.Fatalf("resize did not re-render: %v", calls)
	}
}

func TestOnlyVisibleWindowRendered(t *testing.T) {
	calls := 0
	tb := newTable()
	inner := tb.opts.Cells
	tb.opts.Cells = func(i item) []string { calls++; return inner(i) }
	tb.SetSize(30, 11) // header + 10 rows
	var items []item
	for i := range 1000 {
		items = append(items, item{fmt.Sprint(i), fmt.Sprintf("row%04d", i), i})
	}
	tb.opts.FilterText = func(i item) string { return i.name }
	tb.SetRows(items)
	tb.View()
	if calls != 10 {
		t.Fatalf("rendered %d rows for a 10-row window", calls)
	}
}

func TestNavigation(t *testing.T) {
	tb := newTable()
	tb.SetSize(30, 4) // 3 body rows
	var items []item
	for i := range 10 {
		items = append(items, item{fmt.Sprint(i), fmt.Sprintf("r%d", i), i})
	}
	tb.SetRows(items)
	steps := []struct {
		key  string
		want string
	}{
		{"j", "1"}, {"k", "0"}, {"k", "0"}, {"G", "9"}, {"g", "0"},
	}
	for _, s := range steps {
		tb.HandleKey(press(s.key))
		if tb.SelectedID() != s.want {
			t.Fatalf("after %s cursor %q want %q", s.key, tb.SelectedID(), s.want)
		}
	}
	tb.HandleKey(tea.KeyPressMsg{Code: tea.KeyPgDown})
	if tb.SelectedID() != "3" {
		t.Fatalf("pgdn: %q", tb.SelectedID())
	}
	tb.HandleKey(tea.KeyPressMsg{Code: tea.KeyPgUp})
	if tb.SelectedID() != "0" {
		t.Fatalf("pgup: %q", tb.SelectedID())
	}
	tb.HandleKey(press("G"))
	v := ansi.Strip(tb.View())
	if !strings.Contains(v, "r9") || strings.Contains(v, "r5") {
		t.Fatalf("window does not follow cursor:\n%s", v)
	}
}

func TestFilterSubstringCaseInsensitive(t *testing.T) {
	tb := newTable()
	tb.SetSize(30, 8)
	tb.SetRows([]item{{"a", "Alpha", 1}, {"b", "beta", 2}, {"c", "ALPINE", 3}})
	tb.StartFilter()
	for _, k := range []string{"a", "l", "p"} {
		tb.HandleKey(press(k))
	}
	if tb.Visible() != 2 {
		t.Fatalf("filter alp: %d rows", tb.Visible())
	}
	tb.HandleKey(press("h"))
	if tb.Visible() != 1 {
		t.Fatalf("filter alph: %d rows", tb.Visible())
	}
	tb.HandleKey(press("backspace"))
	if tb.Visible() != 2 {
		t.Fatalf("backspace: %d rows", tb.Visible())
	}
	tb.HandleKey(press("enter"))
	if tb.Filtering() || tb.Filter() != "alp" || tb.Visible() != 2 {
		t.Fatalf("enter should keep the filter: editing=%v filter=%q rows=%d", tb.Filtering(), tb.Filter(), tb.Visible())
	}
	tb.StartFilter()
	tb.HandleKey(press("esc"))
	if tb.Filter() != "" || tb.Visible() != 3 {
		t.Fatalf("esc should clear: %q %d", tb.Filter(), tb.Visible())
	}
}

func TestFilterFuzzy(t *testing.T) {
	tb := newTable()
	tb.opts.Fuzzy = true
	tb.SetSize(30, 8)
	tb.SetRows([]item{{"a", "thumbnailer", 1}, {"b", "api", 2}, {"c", "thumb-resizer", 3}})
	tb.SetFilter("tbr")
	got := tb.Items()
	if len(got) != 2 || got[0].id != "a" || got[1].id != "c" {
		t.Fatalf("fuzzy tbr: %v", got)
	}
}

func TestSubsequence(t *testing.T) {
	for _, c := range []struct {
		hay, needle string
		want        bool
	}{
		{"team3/service-12", "tm3svc", true},
		{"team3/service-12", "", true},
		{"abc", "cb", false},        // order matters
		{"abc", "abcd", false},      // longer than the text
		{"aab", "aa", true},         // each rune consumed once
		{"ab", "aa", false},         // ... so a repeated rune needs two
		{"über-ärger", "ürä", true}, // multi-byte runes
		{"ü", "¼", false},           // U+00FC and U+00BC share their last byte: runes, not bytes
	} {
		if got := subsequence(c.hay, c.needle); got != c.want {
			t.Errorf("subsequence(%q, %q) = %v, want %v", c.hay, c.needle, got, c.want)
		}
	}
}

func TestSortByColumn(t *testing.T) {
	tb := newTable()
	tb.SetSize(30, 8)
	tb.SetRows([]item{{"a", "b", 3}, {"b", "c", 1}, {"c", "a", 2}})
	ids := func() string {
		var s []string
		for _, i := range tb.Items() {
			s = append(s, i.id)
		}
		return strings.Join(s, "")
	}
	if ids() != "abc" {
		t.Fatalf("unsorted order %s", ids())
	}
	tb.SortBy(0, false)
	if ids() != "cab" {
		t.Fatalf("by name %s", ids())
	}
	tb.SortBy(1, true)
	if ids() != "acb" {
		t.Fatalf("by size desc %s", ids())
	}
	tb.SetRows([]item{{"a", "b", 3}, {"b", "c", 1}, {"c", "a", 2}, {"d", "d", 9}})
	if ids() != "dacb" {
		t.Fatalf("refresh keeps sort: %s", ids())
	}
}

func TestGolden(t *testing.T) {
	tb := newTable()
	tb.SetSize(24, 6)
	tb.SetRows([]item{{"a", "alpha", 1}, {"b", "a-very-long-name-indeed", 123456}, {"c", "\x1b[31mred\x1b]0;title\x07", 3}})
	tb.SortBy(1, false)
	tb.SetFilter("a")
	golden(t, "table", ansi.Strip(tb.View()))
	for _, l := range strings.Split(tb.View(), "\n") {
		if w := ansi.StringWidth(l); w != 24 {
			t.Errorf("line %q has width %d", l, w)
		}
	}
	if n := len(strings.Split(tb.View(), "\n")); n != 6 {
		t.Errorf("view has %d lines, want 6", n)
	}
}

func benchRows(n int) []item {
	items := make([]item, n)
	for i := range items {
		items[i] = item{fmt.Sprintf("sha256:%064d", i), fmt.Sprintf("registry.example/team%d/service-%d:v%d", i%37, i, i%11), i * 1000}
	}
	return items
}

func BenchmarkRenderFrame10k(b *testing.B) {
	tb := newTable()
	tb.SetSize(200, 60)
	tb.SetRows(benchRows(10000))
	tb.SetFocused(true)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// Move the cursor so each frame differs, as when the user scrolls.
		if i%2 == 0 {
			tb.HandleKey(press("j"))
		} else {
			tb.HandleKey(press("k"))
		}
		_ = tb.View()
	}
}

func BenchmarkFilterKeystroke10k(b *testing.B) {
	tb := newTable()
	tb.SetSize(200, 60)
	tb.SetRows(benchRows(10000))
	b.ReportAllocs()
	for b.Loop() {
		// A fresh one-letter filter scans every row: the worst keystroke.
		tb.SetFilter("")
		tb.SetFilter("team3")
	}
}

func BenchmarkFilterFuzzyKeystroke10k(b *testing.B) {
	tb := newTable()
	tb.opts.Fuzzy = true
	tb.SetSize(200, 60)
	tb.SetRows(benchRows(10000))
	b.ReportAllocs()
	for b.Loop() {
		// From no filter, so every row is scanned (the worst keystroke).
		tb.SetFilter("")
		tb.SetFilter("tm3svc")
	}
}

// treeItem is a row of a two-level tree: a group (parent "") or a leaf.
type treeItem struct{ id, parent, name string }

func newTree(rows []treeItem, fuzzy bool) *Table[treeItem] {
	tb := New(Options[treeItem]{
		Columns: []Column{{Title: "NAME", Flex: 1}},
		ID:      func(i treeItem) string { return i.id },
		Cells:   func(i treeItem) []string { return []string{i.name} },
		Keep:    func(i treeItem) bool { return strings.HasPrefix(i.id, "g") },
		Parent:  func(i treeItem) string { return i.parent },
		Fuzzy:   fuzzy,
	})
	tb.SetSize(40, 20)
	tb.SetRows(rows)
	return tb
}

func ids[T any](tb *Table[T], id func(T) string) string {
	var out []string
	for _, it := range tb.Items() {
		out = append(out, id(it))
	}
	return strings.Join(out, ",")
}

// With Parent, a filter shows the matching leaves and the groups above
// them only; a group whose own name matches but holds no match stays out.
func TestTreeFilterShowsOnlyGroupsHoldingAMatch(t *testing.T) {
	rows := []treeItem{
		{"g1", "", "eu (checkout)"}, {"g1a", "g1", "eu-west1"}, {"l1", "g1a", "checkout"}, {"l2", "g1a", "api"},
		{"g2", "", "us"}, {"g2a", "g2", "us-east1"}, {"l3", "g2a", "worker"},
		{"g3", "", "asia"}, {"g3a", "g3", "asia-east1"},
	}
	id := func(i treeItem) string { return i.id }
	for _, fuzzy := range []bool{false, true} {
		tb := newTree(rows, fuzzy)
		for _, tc := range []struct{ filter, want string }{
			{"check", "g1,g1a,l1"},
			{"checkout", "g1,g1a,l1"}, // narrowing from the last view
			{"r", "g2,g2a,l3"},        // a wider filter after a narrower one

			{"asia", ""}, // the group's own name does not count
			{"euw", ""},
			{"", "g1,g1a,l1,l2,g2,g2a,l3,g3,g3a"},
		} {
			tb.SetFilter(tc.filter)
			if got := ids(tb, id); got != tc.want {
				t.Errorf("fuzzy=%v filter %q shows %q, want %q", fuzzy, tc.filter, got, tc.want)
			}
		}
	}
}

// BenchmarkFilterTreeKeystroke10k is the substring filter over a tree:
// 3 providers × 3 scopes × 42 regions, 10,000 leaves among them; a
// matching leaf marks its ancestors.
func BenchmarkFilterTreeKeystroke10k(b *testing.B) {
	var rows []treeItem
	leaves := 0
	for p := range 3 {
		pid := fmt.Sprintf("g%d", p)
		rows = append(rows, treeItem{pid, "", "provider"})
		for s := range 3 {
			sid := fmt.Sprintf("%s/%d", pid, s)
			rows = append(rows, treeItem{sid, pid, "scope"})
			for r := range 42 {
				rid := fmt.Sprintf("%s/%d", sid, r)
				rows = append(rows, treeItem{rid, sid, "region"})
				for ; leaves < 10000*(p*3*42+s*42+r+1)/(3*3*42); leaves++ {
					rows = append(rows, treeItem{fmt.Sprintf("l%d", leaves), rid, fmt.Sprintf("team%d/service-%d", leaves%37, leaves)})
				}
			}
		}
	}
	tb := newTree(rows, false)
	b.ReportAllocs()
	for b.Loop() {
		tb.SetFilter("")
		tb.SetFilter("team3")
	}
}
