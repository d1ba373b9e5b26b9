package actions

import (
	"slices"
	"testing"

	"github.com/fndeck/fndeck/internal/task"
)

func TestAdmissible(t *testing.T) {
	q := func(id task.ID, target string, after ...task.ID) task.Info {
		return task.Info{ID: id, Target: target, After: after, State: task.Queued}
	}
	r := func(id task.ID, target string) task.Info {
		return task.Info{ID: id, Target: target, State: task.Running}
	}
	tests := []struct {
		name    string
		queued  []task.Info
		running []task.Info
		limit   int
		want    []task.ID
	}{
		{"nothing queued", nil, []task.Info{r(1, "a")}, 4, nil},
		{"fifo up to the limit", []task.Info{q(1, "a"), q(2, "b"), q(3, "c")}, nil, 2, []task.ID{1, 2}},
		{"running tasks use slots", []task.Info{q(3, "c"), q(4, "d")}, []task.Info{r(1, "a"), r(2, "b")}, 3, []task.ID{3}},
		{"limit reached", []task.Info{q(3, "c")}, []task.Info{r(1, "a"), r(2, "b")}, 2, nil},
		{"no limit", []task.Info{q(1, "a"), q(2, "b"), q(3, "c")}, nil, 0, []task.ID{1, 2, 3}},
		{"one running task per target", []task.Info{q(2, "fn"), q(3, "other")}, []task.Info{r(1, "fn")}, 4, []task.ID{3}},
		{"two queued on one target: only the oldest", []task.Info{q(1, "fn"), q(2, "fn"), q(3, "x")}, nil, 4, []task.ID{1, 3}},
		{"empty target never serializes", []task.Info{q(1, ""), q(2, "")}, []task.Info{r(0, "")}, 4, []task.ID{1, 2}},
		{"dependency running", []task.Info{q(2, "repo:tag", 1)}, []task.Info{r(1, "img")}, 4, nil},
		{"dependency queued", []task.Info{q(1, "img"), q(2, "push", 1)}, nil, 4, []task.ID{1}},
		{"dependency done (not pending)", []task.Info{q(2, "push", 1)}, nil, 4, []task.ID{2}},
		{"waiting task still claims its target", []task.Info{q(2, "fn", 1), q(3, "fn")}, []task.Info{r(1, "img")}, 4, nil},
		{"waiting task does not use a slot", []task.Info{q(2, "p", 1), q(3, "c")}, []task.Info{r(1, "b")}, 2, []task.ID{3}},
		{"queued out of order is sorted", []task.Info{q(5, "a"), q(4, "a")}, nil, 4, []task.ID{4}},
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
