package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fndeck/fndeck/cloud"
)

// MaxHistory is how many deploys are kept per target.
const MaxHistory = 50

// HistoryEntry is one successful deploy fndeck made.
type HistoryEntry struct {
	Time   time.Time          `json:"time"`
	Result cloud.DeployResult `json:"result"`
}

// historyFile is the on-disk shape of one target's history.
type historyFile struct {
	Target  string         `json:"target"`
	Entries []HistoryEntry `json:"entries"`
	// Current is the index of the entry that serves now; -1 when a rollback
	// went back past the first entry (what served before fndeck).
	Current int `json:"current"`
}

// History is fndeck's per-target deploy history, kept in
// StateDir/history/<key>.json (0600). It behaves like a browser's history:
// Record pushes a deploy (dropping entries a rollback stepped back over),
// Previous says what a rollback should restore, MarkRolledBack steps back.
// Every method takes the file's lock, so processes can share it.
type History struct {
	dir string
	now func() time.Time
}

// NewHistory returns the history kept under stateDir. now may be nil (time.Now).
func NewHistory(stateDir string, now func() time.Time) *History {
	if now == nil {
		now = time.Now
	}
	return &History{dir: filepath.Join(stateDir, "history"), now: now}
}

func (h *History) path(target cloud.Address) string {
	return filepath.Join(h.dir, fileKey(target.Key())+".json")
}

// update runs fn on the target's history under its lock and writes the
// result atomically when fn reports a change.
func (h *History) update(ctx context.Context, target cloud.Address, fn func(*historyFile) (bool, error)) error {
	if target.IsZero() {
		return fmt.Errorf("deploy history: empty address: %w", cloud.ErrInvalid)
	}
	p := h.path(target)
	unlock, err := lockFile(ctx, p+".lock", "deploy history of "+target.Key(), nil)
	if err != nil {
		return err
	}
	defer unlock()
	hf, err := readHistory(p, target)
	if err != nil {
		return err
	}
	changed, err := fn(&hf)
	if err != nil || !changed {
		return err
	}
	b, err := json.MarshalIndent(hf, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding deploy history of %s: %w", target.Key(), err)
	}
	return writeFileAtomic(p, append(b, '\n'))
}

func readHistory(p string, target cloud.Address) (historyFile, error) {
	hf := historyFile{Target: target.Key(), Current: -1}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return hf, nil
	}
	if err != nil {
		return hf, fmt.Errorf("reading deploy history: %w", err)
	}
	if err := json.Unmarshal(b, &hf); err != nil {
		return hf, fmt.Errorf("reading deploy history %s: %w", p, err)
	}
	if hf.Current < -1 || hf.Current >= len(hf.Entries) {
		return hf, fmt.Errorf("reading deploy history %s: current entry %d out of range (%d entries)", p, hf.Current, len(hf.Entries))
	}
	return hf, nil
}

// writeFileAtomic writes b to a temp file in p's directory and renames it
// over p, so a reader or a crash never sees half a file.
func writeFileAtomic(p string, b []byte) error {
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(p)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp, 0o600)
	}
	if werr == nil {
		werr = os.Rename(tmp, p)
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", p, werr)
	}
	return nil
}

// digestOf returns the digest of a pinned reference (repo@sha256:…) or a
// bare digest / image ID, "" for a tag.
func digestOf(ref string) string {
	if _, d, ok := strings.Cut(ref, "@"); ok {
		return d
	}
	if strings.HasPrefix(ref, "sha256:") {
		return ref
	}
	return ""
}

// Record appends a successful deploy. Call it for deploys only: a rollback
// calls MarkRolledBack. A no-op deploy (r.NoOp) is not a rollback point and
// is not recorded. Entries a rollback stepped back over are dropped
// first, so Previous after a deploy is what served just before it.
func (h *History) Record(ctx context.Context, target cloud.Address, r cloud.DeployResult) error {
	if r.NoOp {
		return nil
	}
	if r.Target == "" {
		r.Target = target.Key()
	}
	return h.update(ctx, target, func(hf *historyFile) (bool, error) {
		hf.Entries = append(hf.Entries[:hf.Current+1], HistoryEntry{Time: h.now(), Result: r})
		if over := len(hf.Entries) - MaxHistory; over > 0 {
			hf.Entries = hf.Entries[over:]
		}
		hf.Current = len(hf.Entries) - 1
		return true, nil
	})
}

// Previous returns what a rollback should restore: the deploy before the one
// serving now. Before the first recorded deploy it offers that deploy's
// OldImage/OldRevision (what served before fndeck touched the target), when
// known. ok=false means there is nothing to roll back to.
func (h *History) Previous(ctx context.Context, target cloud.Address) (cloud.DeployResult, bool, error) {
	var prev cloud.DeployResult
	var ok bool
	err := h.update(ctx, target, func(hf *historyFile) (bool, error) {
		prev, ok = previousOf(hf)
		return false, nil
	})
	return prev, ok, err
}

func previousOf(hf *historyFile) (cloud.DeployResult, bool) {
	switch {
	case hf.Current >= 1:
		return hf.Entries[hf.Current-1].Result, true
	case hf.Current == 0:
		first := hf.Entries[0].Result
		if first.OldImage == "" && first.OldRevision == "" {
			return cloud.DeployResult{}, false
		}
		d := first.OldImageDigest
		if d == "" {
			d = digestOf(first.OldImage)
		}
		return cloud.DeployResult{Target: first.Target, NewImage: first.OldImage, ImageDigest: d,
			Revision: first.OldRevision, Settings: first.OldSettings}, true
	}
	return cloud.DeployResult{}, false
}

// MarkRolledBack records that the target now serves what Previous returned,
// so the next rollback steps one entry further back.
func (h *History) MarkRolledBack(ctx context.Context, target cloud.Address) error {
	return h.update(ctx, target, func(hf *historyFile) (bool, error) {
		if _, ok := previousOf(hf); !ok {
			return false, fmt.Errorf("marking rollback of %s: no earlier deploy in the history", target.Key())
		}
		hf.Current--
		return true, nil
	})
}

// Entries returns the target's recorded deploys, oldest first, and the index
// of the one serving now (-1: what served before the first).
func (h *History) Entries(ctx context.Context, target cloud.Address) ([]HistoryEntry, int, error) {
	var es []HistoryEntry
	cur := -1
	err := h.update(ctx, target, func(hf *historyFile) (bool, error) {
		es, cur = hf.Entries, hf.Current
		return false, nil
	})
	return es, cur, err
}
