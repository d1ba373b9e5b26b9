package actions

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fndeck/fndeck/cloud"
)

func TestCheckSmoke(t *testing.T) {
	exp := SmokeExpect{Status: 200, JSON: map[string]any{"ok": true, "n": 2.0, "items": []any{map[string]any{"id": "a"}}}}
	good := cloud.InvokeResult{StatusCode: 200, Response: json.RawMessage(`{"ok":true,"n":2,"extra":1,"items":[{"id":"a","x":1}]}`)}
	if d := CheckSmoke(exp, good); len(d) != 0 {
		t.Errorf("a matching answer has differences: %+v", d)
	}
	bad := cloud.InvokeResult{StatusCode: 502, Response: json.RawMessage(`{"ok":false,"items":[{"id":"b"}]}`)}
	want := []Difference{
		{Path: "status", Expected: "200", Got: "502"},
		{Path: "json.items[0].id", Expected: `"a"`, Got: `"b"`},
		{Path: "json.n", Expected: "2", Got: "(missing)"},
		{Path: "json.ok", Expected: "true", Got: "false"},
	}
	if d := CheckSmoke(exp, bad); !reflect.DeepEqual(d, want) {
		t.Errorf("differences = %+v\nwant %+v", d, want)
	}
	// An HTTP-shaped Lambda answer: the subset applies to its JSON body.
	env := cloud.InvokeResult{StatusCode: 200, Response: json.RawMessage(`{"statusCode":200,"body":"{\"ok\":true,\"n\":2,\"items\":[{\"id\":\"a\"}]}"}`)}
	if d := CheckSmoke(exp, env); len(d) != 0 {
		t.Errorf("an enveloped matching answer has differences: %+v", d)
	}
	if d := CheckSmoke(SmokeExpect{JSON: map[string]any{}}, cloud.InvokeResult{Body: []byte("oops")}); len(d) != 1 || d[0].Path != "json" {
		t.Errorf("a non-JSON answer: %+v", d)
	}
}

func TestRunChainStopsAtFailedStage(t *testing.T) {
	var events []string
	boom := errors.New("boom")
	ran := false
	stages := []Stage{
		{Name: "build", Run: func(context.Context, cloud.Sink) (string, error) { return "img", nil }},
		{Name: "deploy", Run: func(context.Context, cloud.Sink) (string, error) { return "", boom }},
		{Name: "smoke", Run: func(context.Context, cloud.Sink) (string, error) { ran = true; return "", nil }},
	}
	err := RunChain(context.Background(), "c1", stages, cloud.DiscardSink{}, func(e StageEvent) {
		s := e.Stage + ":start"
		if e.Done() {
			s = e.Stage + ":end"
			if e.Err != nil {
				s += ":failed"
			}
		}
		events = append(events, s)
	})
	var se *StageError
	if !errors.As(err, &se) || se.Stage != "deploy" || !errors.Is(err, boom) {
		t.Fatalf("err = %v; want deploy's StageError wrapping boom", err)
	}
	if ran {
		t.Error("the stage after a failed one ran")
	}
	want := []string{"build:start", "build:end", "deploy:start", "deploy:end:failed"}
	if !reflect.DeepEqual(events, want) {
		t.Errorf("events = %v; want %v", events, want)
	}
}

type lineSink struct{ lines []string }

func (s *lineSink) Line(l string)           { s.lines = append(s.lines, l) }
func (s *lineSink) Progress(cloud.Progress) {}

func TestRunPre(t *testing.T) {
	dir := t.TempDir()
	var out lineSink
	if err := RunPre(context.Background(), dir, "echo compiled > app && echo done; echo warn >&2", &out); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "app")); err != nil || string(b) != "compiled\n" {
		t.Errorf("pre did not run in the context: %q, %v", b, err)
	}
	if !slices.Contains(out.lines, "pre: done") || !slices.Contains(out.lines, "pre: warn") {
		t.Errorf("pre's output not streamed: %q", out.lines)
	}
	err := RunPre(context.Background(), dir, "echo broken; exit 3", &out)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "build.pre") {
		t.Errorf("a failing pre: %v", err)
	}
}

// One build, then every target's stages; a failing target does not stop
// the other, and a failing build stops them all.
func TestRunShipMany(t *testing.T) {
	var mu sync.Mutex
	ran := map[string]int{}
	stage := func(name string, err error) Stage {
		return Stage{Name: name, Run: func(context.Context, cloud.Sink) (string, error) {
			mu.Lock()
			ran[name]++
			mu.Unlock()
			return "", err
		}}
	}
	boom := errors.New("boom")
	targets := [][]Stage{
		{stage("a.deploy", boom), stage("a.smoke", nil)},
		{stage("b.deploy", nil), stage("b.smoke", nil)},
	}
	err := RunShipMany(context.Background(), "c", stage("build", nil), targets, cloud.DiscardSink{}, func(int, StageEvent) {})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v; want a's failure", err)
	}
	want := map[string]int{"build": 1, "a.deploy": 1, "b.deploy": 1, "b.smoke": 1}
	if !reflect.DeepEqual(ran, want) {
		t.Errorf("ran %v; want %v", ran, want)
	}
	clear(ran)
	err = RunShipMany(context.Background(), "c", stage("build", boom), targets, cloud.DiscardSink{}, func(int, StageEvent) {})
	if !errors.Is(err, boom) || len(ran) != 1 {
		t.Errorf("a failed build: err %v, ran %v; want only the build", err, ran)
	}
}
