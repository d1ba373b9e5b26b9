package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/fndeck/fndeck/cloud"
)

// A tail read (the last N events whatever their age) first reads the recent
// past with FilterLogEvents in widening slices back from now, up to
// tailRecent: a stream's LastEventTime can lag its newest event by up to an
// hour, so ordering streams by it alone would miss what was just logged.
// While fewer than N events are found, the newest streams by LastEventTime
// (at most tailMaxStreams) are read backwards with GetLogEvents.
var tailSlices = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour}

const (
	tailRecent     = time.Hour
	tailMaxStreams = 50
	// tailStreamPages bounds the backward pages read from one stream.
	tailStreamPages = 20
)

// With a --query pattern (GetLogEvents cannot filter), the tail read widens
// FilterLogEvents further back instead of reading streams.
var tailQuerySlices = []time.Duration{24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour}

// While the log group does not exist yet, a follow looks again after
// groupWaitMin, doubling to groupWaitMax. Tests shorten them.
var (
	groupWaitMin = time.Second
	groupWaitMax = 30 * time.Second
)

// history emits what the request asks for before following: everything
// since req.Since (its last req.Tail when set), or without Since the last
// req.Tail events whatever their age (cloud.DefaultLogTail when unset). It
// leaves the cursor at the newest event seen (or now, when there is none),
// so a follow continues from there.
func (p *poller) history(ctx context.Context) error {
	now := time.Now()
	n := p.req.Tail
	if p.req.Since.IsZero() && n <= 0 {
		n = cloud.DefaultLogTail
	}
	if n <= 0 {
		p.cursor = p.req.Since.UnixMilli()
		_, err := p.fetch(ctx, p.cursor)
		return err
	}
	var held []cloud.LogLine
	p.hold = &held
	defer func() { p.hold = nil }()
	var err error
	if !p.req.Since.IsZero() {
		_, err = p.fetchRange(ctx, p.req.Since.UnixMilli(), 0)
	} else {
		err = p.lastEvents(ctx, now, n, &held)
	}
	if err != nil {
		// Nothing was shown: forget what this attempt took in, so a
		// retry (waitForGroup) shows it.
		p.seen, p.shown, p.cursor = map[string]int64{}, map[string]int64{}, 0
		return err
	}
	slices.SortStableFunc(held, func(a, b cloud.LogLine) int { return a.Time.Compare(b.Time) })
	if len(held) > n {
		held = held[len(held)-n:]
	}
	p.hold = nil
	for _, l := range held {
		p.emit(l)
	}
	if p.cursor == 0 {
		p.cursor = now.UnixMilli()
	}
	p.prune()
	return nil
}

// lastEvents gathers at least n events (when the group holds that many)
// including the newest n, into held.
func (p *poller) lastEvents(ctx context.Context, now time.Time, n int, held *[]cloud.LogLine) error {
	end := now.UnixMilli()
	for _, back := range tailSlices {
		start := now.Add(-back).UnixMilli()
		if _, err := p.fetchRange(ctx, start, end); err != nil {
			return err
		}
		if len(*held) >= n {
			return nil
		}
		end = start
	}
	if p.req.Query != "" {
		for _, back := range tailQuerySlices {
			start := now.Add(-back).UnixMilli()
			if _, err := p.fetchRange(ctx, start, end); err != nil {
				return err
			}
			if len(*held) >= n {
				return nil
			}
			end = start
		}
		return nil
	}
	return p.newestStreams(ctx, n, held)
}

// newestStreams reads the streams with the newest LastEventTime backwards
// until held has n events newer than anything the next stream can hold.
func (p *poller) newestStreams(ctx context.Context, n int, held *[]cloud.LogLine) error {
	var out *cloudwatchlogs.DescribeLogStreamsOutput
	err := p.b.call(ctx, nil, func() error {
		var e error
		out, e = p.rc.logs.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{
			LogGroupName: &p.lt.group, OrderBy: logtypes.OrderByLastEventTime,
			Descending: sdkaws.Bool(true), Limit: sdkaws.Int32(tailMaxStreams)})
		return e
	})
	if err != nil {
		return errorf(p.profile, "listing the log streams of %s: %w", p.lt.group, err)
	}
	for _, st := range out.LogStreams {
		if len(*held) >= n {
			// Every event of this stream (and of the older ones) is at most
			// its LastEventTime plus the lag; stop once the n-th newest
			// event held is newer than that.
			last := sdkaws.ToInt64(st.LastEventTimestamp)
			if last == 0 {
				last = sdkaws.ToInt64(st.CreationTime)
			}
			if nthNewest(*held, n) > last+tailRecent.Milliseconds() {
				return nil
			}
		}
		if err := p.readBackwards(ctx, sdkaws.ToString(st.LogStreamName), n); err != nil {
			return err
		}
	}
	return nil
}

// nthNewest is the timestamp (ms) of the n-th newest line held.
func nthNewest(held []cloud.LogLine, n int) int64 {
	ts := make([]int64, len(held))
	for i, l := range held {
		ts[i] = l.Time.UnixMilli()
	}
	slices.Sort(ts)
	return ts[len(ts)-n]
}

// readBackwards reads one stream from its end (GetLogEvents,
// startFromHead=false) until it gave n matching events or has no more.
func (p *poller) readBackwards(ctx context.Context, stream string, n int) error {
	in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: &p.lt.group, LogStreamName: &stream,
		StartFromHead: sdkaws.Bool(false), Limit: sdkaws.Int32(int32(min(n, 10000)))}
	got := 0
	for page := 0; page < tailStreamPages && got < n; page++ {
		var out *cloudwatchlogs.GetLogEventsOutput
		err := p.b.call(ctx, nil, func() error {
			var e error
			out, e = p.rc.logs.GetLogEvents(ctx, in)
			return e
		})
		if err != nil {
			return errorf(p.profile, "reading log stream %s of %s: %w", stream, p.lt.group, err)
		}
		if len(out.Events) == 0 {
			return nil
		}
		// A page is oldest first; walk it newest first so the count
		// stops at the newest n of the stream.
		for i := len(out.Events) - 1; i >= 0; i-- {
			ev := out.Events[i]
			if p.acceptRaw("", stream, sdkaws.ToString(ev.Message), sdkaws.ToInt64(ev.Timestamp)) {
				got++
			}
		}
		next := sdkaws.ToString(out.NextBackwardToken)
		if next == "" || next == sdkaws.ToString(in.NextToken) {
			return nil // the same token again: the stream's start
		}
		in.NextToken = &next
	}
	return nil
}

// waitForGroup waits for the log group of a function that has never written
// a line, looking again with backoff, and then emits its history (its last
// events). It returns only when the group exists or ctx ends.
func (p *poller) waitForGroup(ctx context.Context) error {
	addr := p.req.Target.String()
	p.emit(cloud.LogLine{Time: time.Now().UTC(), Address: addr, Notice: true,
		Message: fmt.Sprintf("%s: log group %s does not exist yet", cloud.WaitingNotice, p.lt.group)})
	interval := groupWaitMin
	failing := false
	for {
		timer := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		err := p.history(ctx)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, cloud.ErrNotFound) && !failing:
			failing = true
			p.emit(cloud.LogLine{Time: time.Now().UTC(), Address: addr, Notice: true,
				Message: fmt.Sprintf("looking for the log group failed (%v); retrying", err)})
		case errors.Is(err, cloud.ErrNotFound):
			failing = false
		}
		interval = min(interval*2, groupWaitMax)
	}
}
