package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fndeck/fndeck/internal/sanitize"
)

// Problem is one thing wrong with the configuration, with where it is.
// File is the config or project file; Line and Col are 1-based and zero when
// the problem has no position (an environment variable, a flag, a file that
// cannot be read). For environment variables the variable's name starts Msg.
type Problem struct {
	File      string
	Line, Col int
	Msg       string
}

// Error prints the problem as FILE:LINE:COL: MSG, the form editors jump to.
func (p Problem) Error() string {
	switch {
	case p.File != "" && p.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
	case p.File != "":
		return p.File + ": " + p.Msg
	}
	return p.Msg
}

// Problems is every problem found in one load, in the order they appear.
// Load and LoadProject return it as their error so that a user fixes all
// mistakes in one round; main prints each and exits 2:
//
//	var ps config.Problems
//	if errors.As(err, &ps) { for _, p := range ps { fmt.Fprintln(os.Stderr, p) } }
type Problems []Problem

// Error prints one problem per line.
func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap exposes each problem, the way errors.Join does.
func (ps Problems) Unwrap() []error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errs
}

// pos is where a value came from: a file position, or the name of an
// environment variable or flag.
type pos struct {
	file      string
	line, col int
	source    string // "FNDECK_AWS_REGIONS", "override aws.regions"; empty for files
}

// collector gathers problems while decoding goes on past the first one.
type collector struct {
	problems Problems
}

func (c *collector) add(p pos, format string, args ...any) {
	msg := sanitize.Escape(fmt.Sprintf(format, args...))
	if p.source != "" {
		msg = p.source + ": " + msg
	}
	c.problems = append(c.problems, Problem{File: p.file, Line: p.line, Col: p.col, Msg: msg})
}

// err returns the problems in reading order: by file, line and column,
// with those that have no position (environment, flags) last.
func (c *collector) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	sort.SliceStable(c.problems, func(i, j int) bool {
		a, b := c.problems[i], c.problems[j]
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line == 0
		}
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return c.problems
}

// suggest returns ` (did you mean "x"?)` for the candidate closest to word,
// or "" when none is close enough to be a likely typo.
func suggest(word string, candidates []string) string {
	limit := 1
	if len(word) > 3 {
		limit = min(max(2, len(word)/3), 3)
	}
	// Scores are doubled distances, less one when word abbreviates the
	// candidate ("pgdn" → "pgdown" before "pgup").
	best, bestScore := "", 2*limit+1
	lw := strings.ToLower(word)
	for _, c := range candidates {
		lc := strings.ToLower(c)
		score := 2 * levenshtein(lw, lc)
		if isSubsequence(lw, lc) {
			score--
		}
		if score < bestScore {
			best, bestScore = c, score
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func isSubsequence(short, long string) bool {
	i := 0
	for j := 0; j < len(long) && i < len(short); j++ {
		if long[j] == short[i] {
			i++
		}
	}
	return i == len(short)
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
