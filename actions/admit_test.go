package actions

import (
	"slices"
	"testing"
)

func TestAdmissible(t *testing.T) {
	q := func(id ID, target string, after ...ID) TaskInfo {
		return TaskInfo{ID: id, Target: target, After: after, State: Queued}
	}
	r := func(id ID, target string) TaskInfo { return TaskInfo{ID: id, Target: target, State: Running} }
	tests := []struct {
		name    string
		queued  []TaskInfo
		running []TaskInfo
		limit   int
		want    []ID
	}{
		{"nothing queued", nil, []TaskInfo{r(1, "a")}, 4, nil},
		{"fifo up to the limit", []TaskInfo{q(1, "a"), q(2, "b"), q(3, "c")}, nil, 2, []ID{1, 2}},
		{"running tasks use slots", []TaskInfo{q(3, "c"), q(4, "d")}, []TaskInfo{r(1, "a"), r(2, "b")}, 3, []ID{3}},
		{"limit reached", []TaskInfo{q(3, "c")}, []TaskInfo{r(1, "a"), r(2, "b")}, 2, nil},
		{"no limit", []TaskInfo{q(1, "a"), q(2, "b"), q(3, "c")}, nil, 0, []ID{1, 2, 3}},
		{"one running task per target", []TaskInfo{q(2, "fn"), q(3, "other")}, []TaskInfo{r(1, "fn")}, 4, []ID{3}},
		{"two queued on one target: only the oldest", []TaskInfo{q(1, "fn"), q(2, "fn"), q(3, "x")}, nil, 4, []ID{1, 3}},
		{"empty target never serializes", []TaskInfo{q(1, ""), q(2, "")}, []TaskInfo{r(0, "")}, 4, []ID{1, 2}},
		{"dependency running", []TaskInfo{q(2, "repo:tag", 1)}, []TaskInfo{r(1, "img")}, 4, nil},
		{"dependency queued", []TaskInfo{q(1, "img"), q(2, "push", 1)}, nil, 4, []ID{1}},
		{"dependency done (not pending)", []TaskInfo{q(2, "push", 1)}, nil, 4, []ID{2}},
		{"waiting task still claims its target", []TaskInfo{q(2, "fn", 1), q(3, "fn")}, []TaskInfo{r(1, "img")}, 4, nil},
		{"waiting task does not use a slot", []TaskInfo{q(2, "p", 1), q(3, "c")}, []TaskInfo{r(1, "b")}, 2, []ID{3}},
		{"queued out of order is sorted", []TaskInfo{q(5, "a"), q(4, "a")}, nil, 4, []ID{4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(tc.queued)
			got := admissible(tc.queued, tc.running, tc.limit)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("admissible = %v, want %v", got, tc.want)
			}
			for i := range before {
				if before[i].ID != tc.queued[i].ID {
					t.Fatalf("admissible reordered its input")
				}
			}
		})
	}
}
