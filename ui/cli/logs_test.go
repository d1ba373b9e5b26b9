package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
)

// recordingTailer is a cloud.LogTailer that records the request and emits
// the lines it was given.
type recordingTailer struct {
	got   []cloud.LogRequest
	lines []cloud.LogLine
}

func (r *recordingTailer) Logs(_ context.Context, req cloud.LogRequest, emit func(cloud.LogLine)) error {
	r.got = append(r.got, req)
	for _, l := range r.lines {
		emit(l)
	}
	return nil
}

func runLogs(t *testing.T, tailer *recordingTailer, logTail int, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	deps := Deps{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Open: func(context.Context, Globals) (*Session, error) {
			return &Session{Providers: []ProviderInfo{{Provider: cloud.AWS, Backend: tailer}}, LogTail: logTail}, nil
		}}
	code := Execute(context.Background(), deps, append([]string{"logs"}, args...))
	return out.String(), errOut.String(), code
}

func TestLogsWithoutSinceAsksForTheLastEvents(t *testing.T) {
	tl := &recordingTailer{lines: []cloud.LogLine{{Time: time.Now().Add(-25 * time.Minute), Message: "from 25 minutes ago"}}}
	out, errOut, code := runLogs(t, tl, 0, "lambda:us-east-1/api")
	if code != 0 || !strings.Contains(out, "from 25 minutes ago") || errOut != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if r := tl.got[0]; !r.Since.IsZero() || r.Tail != cloud.DefaultLogTail || r.Follow {
		t.Errorf("request %+v: want the last %d events, no time window", r, cloud.DefaultLogTail)
	}
	// logs.tail from the config, then --tail over it.
	runLogs(t, tl, 50, "lambda:us-east-1/api")
	runLogs(t, tl, 50, "lambda:us-east-1/api", "--tail", "7", "--follow")
	if tl.got[1].Tail != 50 || tl.got[2].Tail != 7 || !tl.got[2].Follow {
		t.Errorf("requests %+v %+v", tl.got[1], tl.got[2])
	}
	// --since is a window: everything in it, unless --tail bounds it too.
	before := time.Now()
	runLogs(t, tl, 50, "lambda:us-east-1/api", "--since", "2h")
	runLogs(t, tl, 50, "lambda:us-east-1/api", "--since", "2h", "--tail", "3")
	if r := tl.got[3]; r.Tail != 0 || before.Sub(r.Since) < 2*time.Hour-time.Minute || before.Sub(r.Since) > 2*time.Hour+time.Minute {
		t.Errorf("--since 2h: %+v", r)
	}
	if r := tl.got[4]; r.Tail != 3 || r.Since.IsZero() {
		t.Errorf("--since 2h --tail 3: %+v", r)
	}
}

func TestLogsEmptyResultSaysSoOnStderr(t *testing.T) {
	tl := &recordingTailer{lines: []cloud.LogLine{{Time: time.Now(), Notice: true, Message: "a notice is not an event"}}}
	out, errOut, code := runLogs(t, tl, 0, "lambda:us-east-1/api")
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	if !strings.HasPrefix(errOut, "no log events for lambda:us-east-1/api") {
		t.Errorf("stderr = %q", errOut)
	}
	if strings.Contains(out, "no log events") {
		t.Errorf("stdout carries the diagnostic: %q", out)
	}
	_, errOut, _ = runLogs(t, tl, 0, "lambda:us-east-1/api", "--since", "1h", "--filter", "x")
	if !strings.HasPrefix(errOut, "no log events for lambda:us-east-1/api matching the filter since ") {
		t.Errorf("stderr = %q", errOut)
	}
}

func TestLogsTailMustBePositive(t *testing.T) {
	_, errOut, code := runLogs(t, &recordingTailer{}, 0, "lambda:us-east-1/api", "--tail", "0")
	if code != ExitUsage || !strings.Contains(errOut, "--tail 0") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
