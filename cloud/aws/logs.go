package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/fndeck/fndeck/cloud"
)

// Live Tail sessions end after 3 hours; reconnect a little before. After a
// dropped session, wait liveTailRetry before reconnecting.
var (
	liveTailMaxSession = 3*time.Hour - 5*time.Minute
	liveTailRetry      = time.Second
)

// Polling intervals of the FilterLogEvents fallback: faster while events
// flow, slower while the group is quiet.
var (
	pollMin = 500 * time.Millisecond
	pollMax = 10 * time.Second
)

// pollLookback re-reads this much before the newest event seen, because
// CloudWatch ingests late events with earlier timestamps; IDs de-duplicate.
const pollLookback = 30 * time.Second

// logTarget is where one function's logs live.
type logTarget struct {
	group string
	json  bool
}

// Logs prints the function's log events since req.Since and, with Follow,
// keeps following them (Live Tail, else polling FilterLogEvents) until ctx
// ends. It honours the function's LoggingConfig (custom group, JSON format).
func (b *Backend) Logs(ctx context.Context, req cloud.LogRequest, emit func(cloud.LogLine)) error {
	t := req.Target
	profile := b.profileFor(t)
	rc, err := b.clients(ctx, profile, t.Region)
	if err != nil {
		return err
	}
	lt, err := b.logTarget(ctx, rc, profile, t)
	if err != nil {
		return err
	}
	p := &poller{b: b, rc: rc, profile: profile, req: req, lt: lt, emit: emit, seen: map[string]int64{}, shown: map[string]int64{}}
	if err := p.history(ctx); err != nil {
		if !errors.Is(err, cloud.ErrNotFound) {
			return err
		}
		// No log group: the function has never written a line. A read
		// has nothing to show; a follow waits for the first invocation.
		if !req.Follow {
			return nil
		}
		if err := p.waitForGroup(ctx); err != nil {
			return nil // ctx ended while waiting
		}
	}
	if !req.Follow {
		return nil
	}
	if b.opts.LiveTail {
		acct, err := b.account(ctx, profile, t.Region)
		if err == nil {
			err = b.liveTail(ctx, rc, profile, t, lt, req, acct, p)
			if ctx.Err() != nil {
				return nil
			}
		}
		emit(cloud.LogLine{Time: time.Now(), Address: t.String(), Notice: true,
			Message: fmt.Sprintf("live tail unavailable (%v); polling FilterLogEvents instead", err)})
	}
	p.follow(ctx)
	return nil
}

// logTarget reads the function's LoggingConfig.
func (b *Backend) logTarget(ctx context.Context, rc *regionClients, profile string, t cloud.Address) (logTarget, error) {
	out, err := b.getFunctionRaw(ctx, rc, nil, t.Function, t.Qualifier)
	if err != nil {
		return logTarget{}, errorf(profile, "reading the logging config of %s: %w", t, err)
	}
	lt := logTarget{group: "/aws/lambda/" + t.Function}
	if c := out.Configuration; c != nil && c.LoggingConfig != nil {
		if g := sdkaws.ToString(c.LoggingConfig.LogGroup); g != "" {
			lt.group = g
		}
		lt.json = c.LoggingConfig.LogFormat == types.LogFormatJson
	}
	return lt, nil
}

// line turns one raw event into a LogLine. A JSON-format record (the
// function's LogFormat, or any line that is a JSON object) is kept as JSON
// with its level; a text-format line from a managed runtime
// ("TIME\tREQUEST_ID\tLEVEL\tmessage") gives its level from the third field.
func (lt logTarget) line(addr, stream, id, msg string, tsMillis int64) cloud.LogLine {
	l := cloud.LogLine{Time: time.UnixMilli(tsMillis).UTC(), Address: addr, Stream: stream, Message: strings.TrimRight(msg, "\n"), ID: id}
	trimmed := strings.TrimSpace(l.Message)
	if strings.HasPrefix(trimmed, "{") && json.Valid([]byte(trimmed)) {
		l.JSON = json.RawMessage(trimmed)
		var rec struct {
			Level string `json:"level"`
		}
		if json.Unmarshal([]byte(trimmed), &rec) == nil {
			l.Severity = strings.ToUpper(rec.Level)
		}
		return l
	}
	if !lt.json {
		if f := strings.SplitN(l.Message, "\t", 4); len(f) == 4 {
			switch lvl := strings.ToUpper(f[2]); lvl {
			case "TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL":
				l.Severity = lvl
			}
		}
	}
	return l
}

// poller reads FilterLogEvents from a cursor, de-duplicating by event ID so
// overlapping windows and retries after errors neither repeat nor skip.
type poller struct {
	b       *Backend
	rc      *regionClients
	profile string
	req     cloud.LogRequest
	lt      logTarget
	emit    func(cloud.LogLine)
	cursor  int64            // newest timestamp seen, ms
	seen    map[string]int64 // event ID → timestamp, pruned behind the lookback
	// shown holds stream|timestamp|message of recent lines, because Live
	// Tail events carry no ID: a catch-up poll after a (re)connect must not
	// repeat what the live session showed, nor the live session what the
	// catch-up showed.
	shown map[string]int64
	// hold, while set, collects accepted lines instead of emitting them.
	hold *[]cloud.LogLine
}

func shownKey(stream string, ts int64, msg string) string {
	return fmt.Sprintf("%s|%d|%s", stream, ts, msg)
}

// live emits one Live Tail event unless a poll already showed it.
func (p *poller) live(stream, msg string, ts int64) {
	k := shownKey(stream, ts, msg)
	if _, dup := p.shown[k]; dup {
		return
	}
	p.shown[k] = ts
	if ts > p.cursor {
		p.cursor = ts
	}
	p.emit(p.lt.line(p.req.Target.String(), stream, "", msg, ts))
}

func (p *poller) fetch(ctx context.Context, start int64) (int, error) {
	return p.fetchRange(ctx, start, 0)
}

// fetchRange reads FilterLogEvents from start to end (ms; 0 = no bound).
func (p *poller) fetchRange(ctx context.Context, start, end int64) (int, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: &p.lt.group, StartTime: sdkaws.Int64(start)}
	if end > 0 {
		in.EndTime = sdkaws.Int64(end)
	}
	if p.req.Query != "" {
		in.FilterPattern = &p.req.Query
	}
	n := 0
	pg := cloudwatchlogs.NewFilterLogEventsPaginator(p.rc.logs, in)
	for pg.HasMorePages() {
		var out *cloudwatchlogs.FilterLogEventsOutput
		err := p.b.call(ctx, nil, func() error {
			var e error
			out, e = pg.NextPage(ctx)
			return e
		})
		if err != nil {
			return n, errorf(p.profile, "reading logs of %s from %s: %w", p.req.Target, p.lt.group, err)
		}
		for _, ev := range out.Events {
			if p.accept(ev) {
				n++
			}
		}
	}
	p.prune()
	return n, nil
}

func (p *poller) accept(ev logtypes.FilteredLogEvent) bool {
	return p.acceptRaw(sdkaws.ToString(ev.EventId), sdkaws.ToString(ev.LogStreamName), sdkaws.ToString(ev.Message), sdkaws.ToInt64(ev.Timestamp))
}

// acceptRaw takes one event unless it was seen already: by its event ID
// when it has one (FilterLogEvents), else by stream, timestamp and message
// (GetLogEvents and Live Tail events carry no ID). While p.hold is set the
// line is kept there instead of emitted (a tail read sorts before showing).
func (p *poller) acceptRaw(id, stream, msg string, ts int64) bool {
	if id != "" {
		if _, dup := p.seen[id]; dup {
			return false
		}
		p.seen[id] = ts
	}
	if ts > p.cursor {
		p.cursor = ts
	}
	if p.req.Filter != "" && !strings.Contains(msg, p.req.Filter) {
		return false
	}
	k := shownKey(stream, ts, msg)
	if _, dup := p.shown[k]; dup {
		return false
	}
	p.shown[k] = ts
	l := p.lt.line(p.req.Target.String(), stream, id, msg, ts)
	if p.hold != nil {
		*p.hold = append(*p.hold, l)
		return true
	}
	p.emit(l)
	return true
}

func (p *poller) prune() {
	if p.hold != nil {
		return // a tail read de-duplicates across its whole history
	}
	floor := p.cursor - 2*pollLookback.Milliseconds()
	for id, ts := range p.seen {
		if ts < floor {
			delete(p.seen, id)
		}
	}
	for k, ts := range p.shown {
		if ts < floor {
			delete(p.shown, k)
		}
	}
}

// follow polls until ctx ends: the interval halves while events arrive and
// doubles while the group is quiet; an error keeps the cursor, so the next
// successful poll resumes where the last one stopped.
func (p *poller) follow(ctx context.Context) {
	interval := time.Second
	timer := time.NewTimer(interval)
	defer timer.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := p.cursor - pollLookback.Milliseconds()
		n, err := p.fetch(ctx, start)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !failing {
				p.emit(cloud.LogLine{Time: time.Now().UTC(), Address: p.req.Target.String(), Notice: true,
					Message: fmt.Sprintf("polling failed (%v); retrying", err)})
			}
			failing = true
			interval = min(interval*2, pollMax)
		case n > 0:
			if failing {
				p.emit(cloud.LogLine{Time: time.Now().UTC(), Address: p.req.Target.String(), Notice: true, Message: "polling resumed"})
			}
			failing = false
			interval = max(interval/2, pollMin)
		default:
			if failing {
				p.emit(cloud.LogLine{Time: time.Now().UTC(), Address: p.req.Target.String(), Notice: true, Message: "polling resumed"})
			}
			failing = false
			interval = min(interval*2, pollMax)
		}
		timer.Reset(interval)
	}
}

// disableHostPrefix stops the SDK from dialing "stream-HOST" when the logs
// endpoint is a custom one (a private endpoint or a test server). The flag is
// a stack value, so it must be set inside the operation's middleware stack.
func disableHostPrefix(o *cloudwatchlogs.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("fndeckDisableHostPrefix",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
			}), middleware.Before)
	})
}

// errLiveTailEnded tells liveTail's loop that a session ended normally.
var errLiveTailEnded = errors.New("live tail session ended")

// liveTail follows the group with StartLiveTail, reconnecting before the
// 3-hour session limit and after the stream drops. It returns when ctx ends,
// or with the error when a session cannot be started at all (the caller then
// falls back to polling).
func (b *Backend) liveTail(ctx context.Context, rc *regionClients, profile string, t cloud.Address, lt logTarget, req cloud.LogRequest, acct string, p *poller) error {
	emit := p.emit
	arn := fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", partitionOf(t.Region), t.Region, acct, lt.group)
	failures, everStarted := 0, false
	for ctx.Err() == nil {
		started := false
		err := b.liveTailSession(ctx, rc, t, lt, req, arn, p, &started)
		if ctx.Err() != nil {
			return nil
		}
		if started {
			everStarted, failures = true, 0
		} else {
			failures++
		}
		// A session that cannot start (at first, or three reconnects in a
		// row) hands over to polling, which resumes from its cursor.
		if !started && (!everStarted || failures >= 3) {
			return errorf(profile, "starting live tail of %s: %w", lt.group, err)
		}
		if err != nil && !errors.Is(err, errLiveTailEnded) {
			emit(cloud.LogLine{Time: time.Now().UTC(), Address: t.String(), Notice: true, Message: fmt.Sprintf("live tail dropped (%v); reconnecting", err)})
			timer := time.NewTimer(liveTailRetry)
			select {
			case <-ctx.Done():
				timer.Stop()
				return nil
			case <-timer.C:
			}
		}
	}
	return nil
}

func (b *Backend) liveTailSession(ctx context.Context, rc *regionClients, t cloud.Address, lt logTarget, req cloud.LogRequest, arn string, p *poller, started *bool) error {
	emit := p.emit
	sctx, cancel := context.WithTimeout(ctx, liveTailMaxSession)
	defer cancel()
	in := &cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{arn}}
	if req.Query != "" {
		in.LogEventFilterPattern = &req.Query
	}
	var opts []func(*cloudwatchlogs.Options)
	if rc.customLogsEndpoint {
		opts = append(opts, disableHostPrefix)
	}
	out, err := rc.logs.StartLiveTail(sctx, in, opts...)
	if err != nil {
		return err
	}
	stream := out.GetStream()
	defer stream.Close()
	*started = true
	// The session is open: catch up on what arrived between the last poll
	// (or the dropped session) and now, so the hand-over leaves no gap.
	// Live events wait in the stream meanwhile.
	if _, err := p.fetch(sctx, p.cursor-pollLookback.Milliseconds()); err != nil && ctx.Err() == nil {
		emit(cloud.LogLine{Time: time.Now().UTC(), Address: t.String(), Notice: true, Message: fmt.Sprintf("catching up before live tail failed (%v); events just before it may be missing", err)})
	}
	sampled := false
	for {
		select {
		case <-sctx.Done():
			if ctx.Err() == nil {
				emit(cloud.LogLine{Time: time.Now().UTC(), Address: t.String(), Notice: true, Message: "live tail session limit reached; reconnecting"})
			}
			return errLiveTailEnded
		case ev, ok := <-stream.Events():
			if !ok {
				if sctx.Err() != nil && ctx.Err() == nil {
					// The stream broke because the session deadline closed it.
					emit(cloud.LogLine{Time: time.Now().UTC(), Address: t.String(), Notice: true, Message: "live tail session limit reached; reconnecting"})
					return errLiveTailEnded
				}
				if err := stream.Err(); err != nil {
					return err
				}
				return errLiveTailEnded
			}
			upd, ok := ev.(*logtypes.StartLiveTailResponseStreamMemberSessionUpdate)
			if !ok {
				continue
			}
			if m := upd.Value.SessionMetadata; m != nil && m.Sampled != sampled {
				sampled = m.Sampled
				msg := "live tail is sampling: not every event is shown (narrow it with --query)"
				if !sampled {
					msg = "live tail stopped sampling: every event is shown"
				}
				emit(cloud.LogLine{Time: time.Now().UTC(), Address: t.String(), Notice: true, Message: msg})
			}
			for _, r := range upd.Value.SessionResults {
				msg := sdkaws.ToString(r.Message)
				if req.Filter != "" && !strings.Contains(msg, req.Filter) {
					continue
				}
				p.live(sdkaws.ToString(r.LogStreamName), msg, sdkaws.ToInt64(r.Timestamp))
			}
		}
	}
}

// partitionOf names the ARN partition of a region.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}
