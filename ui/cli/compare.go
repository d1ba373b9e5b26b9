package cli

import (
	"context"
	"encoding/json"

	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/compare"
	"github.com/fndeck/fndeck/internal/text"
)

// invoke kinds: what a target takes, and so which targets compare.
const (
	kindEvent = "event" // Lambda, local --as lambda: a JSON event in, a JSON result out
	kindHTTP  = "http"  // Cloud Run, local --as cloudrun: an HTTP request
)

// compareResult is one target's answer in a compare; Error is set when the
// invoke itself failed (no response).
type compareResult struct {
	cloud.InvokeResult
	Error string `json:"error,omitempty"`
}

// compareOutput is the --json shape of invoke with several targets.
type compareOutput struct {
	Results     []compareResult      `json:"results"`
	Differences []compare.Difference `json:"differences"`
}

type compareTarget struct {
	t    Target
	inv  cloud.Invoker
	kind string
	desc string // what it is, for the mixing refusal
}

// invokeCompare sends one payload to several targets in parallel and diffs
// the responses. All targets must take the same kind of invoke; anything
// else is refused before a request is sent.
func (a *app) invokeCompare(ctx context.Context, args []string, tmpl cloud.InvokeRequest, asJSON bool) error {
	sess, err := a.session(ctx)
	if err != nil {
		return err
	}
	targets := make([]compareTarget, 0, len(args))
	seen := map[string]bool{}
	for _, arg := range args {
		t, err := a.resolveTarget(sess, arg)
		if err != nil {
			return err
		}
		if seen[t.Address.String()] {
			return UsageError(fmt.Errorf("target %s is named twice: compare different targets", t.Address))
		}
		seen[t.Address.String()] = true
		inv, err := capability[cloud.Invoker](sess, t.Address, "invoke")
		if err != nil {
			return err
		}
		kind, desc, err := a.invokeKind(ctx, sess, t.Address)
		if err != nil {
			return err
		}
		targets = append(targets, compareTarget{t: t, inv: inv, kind: kind, desc: desc})
	}
	if err := sameKind(targets); err != nil {
		return UsageError(err)
	}

	results := make([]compareResult, len(targets))
	var wg sync.WaitGroup
	for i, ct := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := tmpl
			req.Target = ct.t.Address
			req.Headers = tmpl.Headers.Clone()
			start := time.Now()
			res, err := ct.inv.Invoke(ctx, req, nil)
			if res.ElapsedMS == 0 {
				res.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
			}
			if res.Address == "" {
				res.Address = ct.t.Address.String()
			}
			results[i] = compareResult{InvokeResult: res}
			if err != nil {
				results[i].Error = fmt.Sprintf("invoking %s: %v", ct.t.Address, err)
			}
		}()
	}
	wg.Wait()
	for i, ct := range targets {
		if results[i].Error != "" {
			continue
		}
		if sess.Pricing != nil {
			d, _ := capability[cloud.Describer](sess, ct.t.Address, "describe")
			sess.Pricing.Annotate(ctx, ct.t.Address, &results[i].InvokeResult, d)
		}
		if sess.RecordInvoke != nil {
			sess.RecordInvoke(ctx, ct.t.Address, tmpl.Payload, results[i].InvokeResult)
		}
	}

	diffs := differences(results)
	failed := 0
	for _, r := range results {
		if !succeeded(r) {
			failed++
		}
	}
	if asJSON {
		if diffs == nil {
			diffs = []compare.Difference{}
		}
		if err := (&jsonWriter{w: a.deps.Stdout}).write(compareOutput{Results: results, Differences: diffs}); err != nil {
			return err
		}
	} else {
		a.printCompare(results, diffs)
	}
	switch {
	case failed > 0:
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d of %d targets failed", failed, len(results))}
	case len(diffs) > 0:
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("the responses differ at %d path(s)", len(diffs))}
	}
	return nil
}

// invokeKind says whether a target takes events or HTTP requests.
func (a *app) invokeKind(ctx context.Context, sess *Session, addr cloud.Address) (kind, desc string, err error) {
	switch addr.Provider {
	case cloud.AWS:
		return kindEvent, "a Lambda function", nil
	case cloud.GCP:
		return kindHTTP, "a Cloud Run service", nil
	case cloud.Local:
		d, err := capability[cloud.Describer](sess, addr, "describe")
		if err != nil {
			return "", "", err
		}
		fn, err := d.Describe(ctx, addr)
		if err != nil {
			return "", "", fmt.Errorf("describing %s: %w", addr, err)
		}
		switch fn.Mode {
		case "lambda":
			return kindEvent, "a local --as lambda function", nil
		case "cloudrun":
			return kindHTTP, "a local --as cloudrun service", nil
		}
		return "", "", fmt.Errorf("%s: unknown local mode %q: cannot tell how to invoke it", addr, fn.Mode)
	}
	return "", "", fmt.Errorf("%s: cannot tell how to invoke it", addr)
}

// sameKind refuses a set that mixes event-style and HTTP targets.
func sameKind(targets []compareTarget) error {
	for _, ct := range targets[1:] {
		if ct.kind == targets[0].kind {
			continue
		}
		ev, ht := targets[0], ct
		if ev.kind != kindEvent {
			ev, ht = ht, ev
		}
		return fmt.Errorf("cannot compare %s (%s, takes a JSON event) with %s (%s, takes an HTTP request): "+
			"compare only event-style targets (Lambda, local --as lambda) or only HTTP ones (Cloud Run, local --as cloudrun); "+
			"a Lambda function behind a function URL joining HTTP targets is not supported yet",
			ev.t.Address, ev.desc, ht.t.Address, ht.desc)
	}
	return nil
}

func succeeded(r compareResult) bool {
	return r.Error == "" && r.FunctionError == "" && !r.TimedOut && r.StatusCode < 400
}

func responseBody(r cloud.InvokeResult) []byte {
	if len(r.Body) > 0 {
		return r.Body
	}
	return r.Response
}

// differences diffs the responses of the targets that answered; a target
// whose invoke failed is absent at every path. Differing status codes come
// first, as the path "status_code".
func differences(results []compareResult) []compare.Difference {
	var answered []int
	var bodies [][]byte
	for i, r := range results {
		if r.Error == "" {
			answered = append(answered, i)
			bodies = append(bodies, responseBody(r.InvokeResult))
		}
	}
	var out []compare.Difference
	if len(answered) >= 2 {
		st := compare.Difference{Path: "status_code", Values: make([]any, len(results))}
		same := true
		for _, i := range answered {
			st.Values[i] = results[i].StatusCode
			same = same && results[i].StatusCode == results[answered[0]].StatusCode
		}
		if !same {
			out = append(out, widen(st, nil, results))
		}
	}
	for _, d := range compare.Bodies(bodies) {
		out = append(out, widen(d, answered, results))
	}
	return out
}

// widen maps a difference over the answered targets back onto all of
// them (answered nil: it already is), marking the others absent.
func widen(d compare.Difference, answered []int, results []compareResult) compare.Difference {
	w := compare.Difference{Path: d.Path, Values: make([]any, len(results))}
	abs := map[int]bool{}
	if answered == nil {
		copy(w.Values, d.Values)
		for _, i := range d.Absent {
			abs[i] = true
		}
	} else {
		for j, i := range answered {
			w.Values[i] = d.Values[j]
		}
		for _, j := range d.Absent {
			abs[answered[j]] = true
		}
	}
	for i, r := range results {
		if r.Error != "" || abs[i] {
			w.Absent = append(w.Absent, i)
		}
	}
	return w
}

func (a *app) printCompare(results []compareResult, diffs []compare.Difference) {
	w := a.deps.Stdout
	for i, r := range results {
		fmt.Fprintf(w, "[%d] %s\n", i+1, s(r.Address))
		if r.Error != "" {
			fmt.Fprintf(w, "    error: %s\n", s(r.Error))
			continue
		}
		fmt.Fprintf(w, "    status: %d  latency: %.1f ms", r.StatusCode, r.ElapsedMS)
		if r.FunctionError != "" {
			fmt.Fprintf(w, "  function error: %s", s(r.FunctionError))
		}
		if r.TimedOut {
			fmt.Fprint(w, "  (timed out)")
		}
		fmt.Fprintln(w)
		body := strings.TrimRight(sanitizeText(string(responseBody(r.InvokeResult))), "\n")
		fmt.Fprintln(w, "    response:")
		for _, l := range strings.Split(body, "\n") {
			fmt.Fprintln(w, "      "+l)
		}
	}
	if len(diffs) == 0 {
		fmt.Fprintln(w, "the responses agree")
		return
	}
	fmt.Fprintf(w, "differences (%d):\n", len(diffs))
	for _, d := range diffs {
		fmt.Fprintf(w, "  %s\n", s(d.Path))
		absent := map[int]bool{}
		for _, i := range d.Absent {
			absent[i] = true
		}
		for i, v := range d.Values {
			val := "(absent)"
			if !absent[i] {
				val = text.OrDash(jsonText(v))
			}
			fmt.Fprintf(w, "    [%d] %s\n", i+1, s(val))
		}
	}
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
