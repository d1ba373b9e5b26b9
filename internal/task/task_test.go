package task

import (
	"encoding/json"
	"testing"
	"time"
)

func TestIDRoundTrip(t *testing.T) {
	for _, id := range []ID{1, 42, 18446744073709551615} {
		got, err := ParseID(id.String())
		if err != nil || got != id {
			t.Errorf("ParseID(%q) = %d, %v", id.String(), got, err)
		}
	}
	if _, err := ParseID("t1"); err == nil {
		t.Error("ParseID accepted a non-number")
	}
}

func TestFinal(t *testing.T) {
	for s, want := range map[State]bool{Queued: false, Running: false, Succeeded: true, Failed: true, Cancelled: true} {
		if s.Final() != want {
			t.Errorf("%s.Final() = %v", s, !want)
		}
	}
}

func TestInfoEventAndElapsed(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	in := Info{ID: 3, Kind: KindPush, Target: "img:1", State: Running, Started: t0}
	b, err := json.Marshal(in.Event())
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":3,"kind":"push","target":"img:1","state":"running","started":"2026-11-25T10:00:00Z"}`; string(b) != want {
		t.Errorf("event %s\nwant  %s", b, want)
	}
	if d := in.Elapsed(t0.Add(5 * time.Second)); d != 5*time.Second {
		t.Errorf("running elapsed %v", d)
	}
	in.Finished, in.State = t0.Add(2*time.Second), Succeeded
	if d := in.Elapsed(t0.Add(time.Hour)); d != 2*time.Second {
		t.Errorf("finished elapsed %v", d)
	}
	if (Info{}).Elapsed(t0) != 0 {
		t.Error("a queued task has no elapsed time")
	}
}
