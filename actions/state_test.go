package actions

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
)

func mustAddr(t *testing.T, s string) cloud.Address {
	t.Helper()
	a, err := cloud.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestFileKey(t *testing.T) {
	a := fileKey("lambda:prod@eu-west-1/fn:live")
	b := fileKey("lambda:prod_eu-west-1/fn:live")
	if a == b {
		t.Fatalf("keys that sanitize alike share a file: %s", a)
	}
	if strings.ContainsAny(a, "/:@") || !strings.HasPrefix(a, "lambda_prod_eu-west-1_fn_live-") {
		t.Fatalf("fileKey = %q", a)
	}
}

func TestHistoryRollbackSteps(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	h := NewHistory(dir, nil)
	fn := mustAddr(t, "lambda:prod@eu-west-1/thumbnailer")

	if _, ok, err := h.Previous(ctx, fn); err != nil || ok {
		t.Fatalf("empty history: ok=%v err=%v", ok, err)
	}
	if err := h.MarkRolledBack(ctx, fn); err == nil {
		t.Fatal("MarkRolledBack on empty history: no error")
	}
	deploy := func(old, img string) {
		t.Helper()
		if err := h.Record(ctx, fn, cloud.DeployResult{OldImage: old, NewImage: img}); err != nil {
			t.Fatal(err)
		}
	}
	prev := func() string {
		t.Helper()
		r, ok, err := h.Previous(ctx, fn)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return "<none>"
		}
		return r.NewImage
	}
	rollback := func() {
		t.Helper()
		if err := h.MarkRolledBack(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	deploy("v0", "v1")
	if got := prev(); got != "v0" {
		t.Fatalf("after first deploy Previous = %s, want v0 (what served before fndeck)", got)
	}
	deploy("v1", "v2")
	deploy("v2", "v3")
	if got := prev(); got != "v2" {
		t.Fatalf("Previous = %s, want v2", got)
	}
	rollback() // now serving v2
	if got := prev(); got != "v1" {
		t.Fatalf("after one rollback Previous = %s, want v1", got)
	}
	rollback() // v1
	rollback() // v0 (before fndeck)
	if got := prev(); got != "<none>" {
		t.Fatalf("past the first deploy Previous = %s, want none", got)
	}
	if err := h.MarkRolledBack(ctx, fn); err == nil {
		t.Fatal("rolling back past the beginning: no error")
	}
	// A deploy after rollbacks: Previous is what served just before it.
	deploy("v0", "v4")
	if got := prev(); got != "v0" {
		t.Fatalf("Previous = %s, want v0", got)
	}
	es, cur, err := h.Entries(ctx, fn)
	if err != nil || len(es) != 1 || cur != 0 || es[0].Result.Target != fn.Key() || es[0].Time.IsZero() {
		t.Fatalf("entries %+v cur %d err %v", es, cur, err)
	}
	// Rollback, then deploy: the rolled-over entry is dropped.
	deploy("v4", "v5")
	rollback() // v4
	deploy("v4", "v6")
	if got := prev(); got != "v4" {
		t.Fatalf("Previous = %s, want v4", got)
	}
	// Another target has its own history; the file is 0600.
	other := mustAddr(t, "cloudrun:acme-web/europe-west1/api")
	if _, ok, _ := h.Previous(ctx, other); ok {
		t.Fatal("history leaked across targets")
	}
	fi, err := os.Stat(h.path(fn))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("history file: %v %v", fi, err)
	}
}

func TestHistoryBoundedAndCorrupt(t *testing.T) {
	ctx := t.Context()
	h := NewHistory(t.TempDir(), nil)
	fn := mustAddr(t, "local:app")
	for i := range MaxHistory + 10 {
		if err := h.Record(ctx, fn, cloud.DeployResult{NewImage: fmt.Sprint("v", i)}); err != nil {
			t.Fatal(err)
		}
	}
	es, cur, err := h.Entries(ctx, fn)
	if err != nil || len(es) != MaxHistory || cur != MaxHistory-1 || es[0].Result.NewImage != "v10" {
		t.Fatalf("len %d cur %d first %v err %v", len(es), cur, es[0].Result.NewImage, err)
	}
	if err := os.WriteFile(h.path(fn), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.Previous(ctx, fn); err == nil || !strings.Contains(err.Error(), h.path(fn)) {
		t.Fatalf("corrupt history: %v", err)
	}
}

func TestHistoryConcurrentRecords(t *testing.T) {
	ctx := t.Context()
	h := NewHistory(t.TempDir(), nil)
	fn := mustAddr(t, "local:app")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.Record(ctx, fn, cloud.DeployResult{NewImage: fmt.Sprint("v", i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	es, _, err := h.Entries(ctx, fn)
	if err != nil || len(es) != 20 {
		t.Fatalf("concurrent records kept %d entries (want 20): %v", len(es), err)
	}
}

func TestLockTargetInProcess(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	fn := mustAddr(t, "lambda:eu-west-1/fn")
	unlock, err := LockTarget(ctx, dir, fn)
	if err != nil {
		t.Fatal(err)
	}
	// A second holder waits; it learns who holds the lock.
	var waitedFor atomic.Value
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, hangBound)
		defer cancel()
		u2, err := LockTargetWait(ctx, dir, fn, func(holder string) { waitedFor.Store(holder) })
		if err == nil {
			u2()
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond) // let it find the lock taken
	unlock()
	unlock() // idempotent
	if err := <-got; err != nil {
		t.Fatalf("second LockTarget: %v", err)
	}
	if h, _ := waitedFor.Load().(string); h != fmt.Sprintf("pid %d", os.Getpid()) {
		t.Fatalf("waiting callback got holder %q", h)
	}
	// Other targets are independent.
	u3, err := LockTarget(ctx, dir, mustAddr(t, "lambda:eu-west-1/other"))
	if err != nil {
		t.Fatal(err)
	}
	u3()
}

const lockHelperEnv = "FNDECK_TEST_LOCK_HELPER"

// TestMain lets TestLockTargetAcrossProcesses run this test binary again as
// a helper process that holds a lock until its stdin closes.
func TestMain(m *testing.M) {
	if spec := os.Getenv(lockHelperEnv); spec != "" {
		os.Exit(lockHelper(spec))
	}
	os.Exit(m.Run())
}

func lockHelper(spec string) int {
	dir, addr, _ := strings.Cut(spec, "|")
	a, err := cloud.ParseAddress(addr)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	defer cancel()
	unlock, err := LockTarget(ctx, dir, a)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n')
	unlock()
	return 0
}

func TestLockTargetAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	const addr = "cloudrun:acme-web/europe-west1/api"
	ctx, cancel := context.WithTimeout(t.Context(), hangBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir+"|"+addr)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	// While the helper holds it, we cannot take it; the error names the holder.
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = LockTarget(short, dir, mustAddr(t, addr))
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", cmd.Process.Pid)) {
		t.Fatalf("LockTarget while another process holds it: %v", err)
	}
	// Once it lets go, we get it.
	got := make(chan error, 1)
	go func() {
		u, err := LockTarget(ctx, dir, mustAddr(t, addr))
		if err == nil {
			u()
		}
		got <- err
	}()
	stdin.Close()
	if err := <-got; err != nil {
		t.Fatalf("LockTarget after the helper released: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
}

func TestInvokeHistory(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := NewInvokeStore(dir, nil)
	fn := mustAddr(t, "local:app")
	for i := range MaxInvokeHistory + 5 {
		res := cloud.InvokeResult{StatusCode: 200, RequestID: fmt.Sprint("req-", i), Body: []byte(`{"ok":true,"password":"pw"}`),
			Report: &cloud.Report{DurationMS: float64(i)}}
		if err := s.Append(ctx, fn, []byte(fmt.Sprintf(`{"n":%d}`, i)), res, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Append(ctx, fn, []byte(strings.Repeat("x", 100<<10)), cloud.InvokeResult{}, errors.New("dial tcp 127.0.0.1:9: connection refused")); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Recent(ctx, fn)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != MaxInvokeHistory {
		t.Fatalf("kept %d records, want %d", len(recs), MaxInvokeHistory)
	}
	if recs[0].Error == "" || !recs[0].PayloadCut || len(recs[0].Payload) != maxStoredPayload {
		t.Fatalf("newest record: err %q cut %v payload %d", recs[0].Error, recs[0].PayloadCut, len(recs[0].Payload))
	}
	if recs[1].RequestID != fmt.Sprint("req-", MaxInvokeHistory+4) || recs[1].Payload != fmt.Sprintf(`{"n":%d}`, MaxInvokeHistory+4) || recs[1].Report.DurationMS != MaxInvokeHistory+4 {
		t.Fatalf("second newest: %+v", recs[1])
	}
	if strings.Contains(recs[1].Response, `"pw"`) {
		t.Fatalf("stored response holds a password: %s", recs[1].Response)
	}
	if recs[len(recs)-1].RequestID != "req-6" {
		t.Fatalf("oldest kept = %s, want req-6", recs[len(recs)-1].RequestID)
	}
	fi, err := os.Stat(filepath.Join(dir, "invokes", fileKey(fn.Key())+".jsonl"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("invoke history file: %v %v", fi, err)
	}
}

func TestPayloads(t *testing.T) {
	s := NewInvokeStore(t.TempDir(), nil)
	fn := mustAddr(t, "lambda:eu-west-1/fn")
	if ps, err := s.Payloads(fn); err != nil || len(ps) != 0 {
		t.Fatalf("no payloads: %v %v", ps, err)
	}
	if err := s.SavePayload(fn, "small", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SavePayload(fn, "small", []byte(`{"a":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SavePayload(fn, "big.v2", []byte(`[1,2]`)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "../escape", ".hidden", "a/b", strings.Repeat("n", 65)} {
		if err := s.SavePayload(fn, bad, []byte("{}")); !errors.Is(err, cloud.ErrInvalid) {
			t.Errorf("SavePayload(%q): %v, want ErrInvalid", bad, err)
		}
	}
	ps, err := s.Payloads(fn)
	if err != nil || len(ps) != 2 || string(ps["small"]) != `{"a":2}` || string(ps["big.v2"]) != `[1,2]` {
		t.Fatalf("payloads: %q %v", ps, err)
	}
	if other, _ := s.Payloads(mustAddr(t, "lambda:eu-west-1/other")); len(other) != 0 {
		t.Fatalf("payloads leaked across targets: %v", other)
	}
}

func TestFigures(t *testing.T) {
	reports := []cloud.Report{
		{DurationMS: 100, BilledMS: 100, InitMS: 300, MaxMemoryMB: 60},
		{DurationMS: 10, BilledMS: 10, MaxMemoryMB: 61},
		{DurationMS: 30, BilledMS: 30, MaxMemoryMB: 62},
		{DurationMS: 120, BilledMS: 120, InitMS: 500, MaxMemoryMB: 63},
		{DurationMS: 20, BilledMS: 20, MaxMemoryMB: 64},
	}
	cold, warm := Figures(reports)
	if cold.Count != 2 || cold.Latest.InitMS != 500 || cold.MedianInitMS != 400 || cold.MedianDurationMS != 110 {
		t.Fatalf("cold = %+v", cold)
	}
	if warm.Count != 3 || warm.Latest.DurationMS != 20 || warm.MedianDurationMS != 20 || warm.MedianInitMS != 0 || warm.MedianMaxMemoryMB != 62 {
		t.Fatalf("warm = %+v", warm)
	}
	if c, w := Figures(nil); c.Count != 0 || w.Count != 0 {
		t.Fatalf("empty: %+v %+v", c, w)
	}
}

func TestLockTargetIgnoresQualifier(t *testing.T) {
	dir := t.TempDir()
	unlock, err := LockTarget(t.Context(), dir, mustAddr(t, "lambda:eu-west-1/fn:live"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := LockTarget(ctx, dir, mustAddr(t, "lambda:eu-west-1/fn")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the unqualified function was not locked by its alias: %v", err)
	}
}
