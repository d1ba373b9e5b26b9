package local

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/local/shim"
	"github.com/fndeck/fndeck/internal/text"
)

// logEntry is one line of a container's output.
type logEntry struct {
	time    time.Time
	stream  string
	message string
}

// readLogs streams a container's output (stdout and stderr, demultiplexed)
// to fn until the stream ends, ctx ends or fn returns false.
func (b *Backend) readLogs(ctx context.Context, id string, since, until time.Time, follow bool, tail string, fn func(logEntry) bool) error {
	opts := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Follow: follow, Tail: tail}
	if !since.IsZero() {
		opts.Since = fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond())
	}
	if !until.IsZero() {
		opts.Until = fmt.Sprintf("%d.%09d", until.Unix(), until.Nanosecond())
	}
	rc, err := b.c.ContainerLogs(ctx, id, opts)
	if err != nil {
		return dockerErr("reading the container's logs", err)
	}
	defer rc.Close()
	// Closing the stream is what unblocks a follow read when ctx ends.
	stop := context.AfterFunc(ctx, func() { rc.Close() })
	defer stop()
	br := bufio.NewReaderSize(rc, 64<<10)
	var hdr [8]byte
	var partial [3]strings.Builder // per stream: a line split across frames
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("reading the container's logs: %w", err)
		}
		size := binary.BigEndian.Uint32(hdr[4:])
		payload := make([]byte, size)
		if _, err := io.ReadFull(br, payload); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("reading the container's logs: %w", err)
		}
		st := int(hdr[0])
		if st > 2 {
			st = 1
		}
		stream := "stdout"
		if st == 2 {
			stream = "stderr"
		}
		for len(payload) > 0 {
			line, rest, complete := bytes.Cut(payload, []byte{'\n'})
			payload = rest
			if !complete {
				partial[st].Write(line)
				break
			}
			text := string(line)
			if partial[st].Len() > 0 {
				partial[st].Write(line)
				text = partial[st].String()
				partial[st].Reset()
			}
			if !fn(parseLogLine(stream, text)) {
				return nil
			}
		}
	}
}

// parseLogLine splits the engine's RFC 3339 timestamp prefix off a line.
func parseLogLine(stream, text string) logEntry {
	e := logEntry{stream: stream, message: text}
	if ts, msg, ok := strings.Cut(text, " "); ok {
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			e.time, e.message = t, msg
		}
	}
	e.message = strings.TrimSuffix(e.message, "\r")
	return e
}

// Logs reads the function container's output. START/END/REPORT lines from
// the shim come through as ordinary lines. Query has no local syntax.
//
// A follow reads the history the request asks for from the engine (Since,
// Tail; up to the moment of connecting), then follows through the shim's
// log tap: the engine's own follow stream delivers one HTTP chunk per line
// and falls seconds behind a flood, while the tap sends from now, in large
// batches, and drops (and counts) what a slow reader cannot take. A
// container without a tap (deployed by an older fndeck) is followed through
// the engine as before.
func (b *Backend) Logs(ctx context.Context, req cloud.LogRequest, emit func(cloud.LogLine)) error {
	if req.Query != "" {
		return fmt.Errorf("logs of %s: --query has no meaning for local targets (use --filter TEXT): %w", req.Target, cloud.ErrInvalid)
	}
	if req.Tail < 0 {
		return fmt.Errorf("logs of %s: tail %d must not be negative: %w", req.Target, req.Tail, cloud.ErrInvalid)
	}
	s, err := b.mustFind(ctx, req.Target)
	if err != nil {
		return err
	}
	addr := req.Target.String()
	toLine := func(t time.Time, stream, message string) cloud.LogLine {
		l := cloud.LogLine{Time: t, Address: addr, Stream: stream, Message: message}
		if m := strings.TrimSpace(message); strings.HasPrefix(m, "{") && json.Valid([]byte(m)) {
			l.JSON = json.RawMessage(m)
		}
		return l
	}
	fromEngine := func(e logEntry) bool {
		if req.Filter == "" || strings.Contains(e.message, req.Filter) {
			emit(toLine(e.time, e.stream, e.message))
		}
		return true
	}
	tail := ""
	if req.Tail > 0 {
		tail = strconv.Itoa(req.Tail)
	}
	if req.Follow {
		f := &functionFollow{b: b, req: req, toLine: toLine, fromEngine: fromEngine, emit: emit}
		return f.run(ctx, s, tail)
	}
	if err := b.readLogs(ctx, s.ID, req.Since, time.Time{}, false, tail, fromEngine); err != nil {
		return fmt.Errorf("logs of %s: %w", req.Target, err)
	}
	return nil
}

// functionFollow is one follow of a function's logs: its request and where
// its lines go (toLine builds them, fromEngine takes the engine's entries,
// emit hands them on).
type functionFollow struct {
	b          *Backend
	req        cloud.LogRequest
	toLine     func(time.Time, string, string) cloud.LogLine
	fromEngine func(logEntry) bool
	emit       func(cloud.LogLine)
}

// run follows the function, not one container: when the
// container it follows ends (a redeploy or a rollback replaces it, or it is
// stopped), the follow says so and waits for the function's next container
// to run, then follows that one from its start — as a follow of a Lambda or
// Cloud Run function carries on across deploys. It ends only when ctx does.
// The engine's start events of the function's containers tell when the
// next one runs; they are subscribed to before the first container is
// followed, so no start is missed.
func (f *functionFollow) run(ctx context.Context, s *container.Summary, tail string) error {
	b, req := f.b, f.req
	notice := func(msg string) {
		l := f.toLine(b.now(), StreamFndeck, msg)
		l.Notice = true
		f.emit(l)
	}
	evCtx, stopEvents := context.WithCancel(ctx)
	defer stopEvents()
	starts := b.c.Events(evCtx, client.EventsListOptions{Filters: make(client.Filters).
		Add("type", "container").Add("event", "start").Add("label", LabelFunction+"="+req.Target.Function)})
	since, tap := req.Since, tapFirst
	for {
		err := f.container(ctx, s, since, tail, tap)
		if ctx.Err() != nil {
			return nil // following ends when the caller stops it
		}
		// The engine refuses the logs of a container it is removing
		// (conflict) or has removed (not found): that is its end too, even
		// while its listing still says running.
		going := errors.Is(err, cloud.ErrConflict) || errors.Is(err, cloud.ErrNotFound)
		if cur, ferr := b.find(ctx, req.Target.Function); !going && ferr == nil && cur != nil && cur.ID == s.ID && cur.State == container.StateRunning {
			if err != nil {
				return fmt.Errorf("logs of %s: %w", req.Target, err)
			}
			// The stream ended, the container did not (its tap went away,
			// or it is being killed and its listing lags): follow it
			// through the engine from now.
			if tap == tapNone {
				time.Sleep(100 * time.Millisecond) // not a busy loop while the listing lags
			}
			since, tail, tap = b.now(), "", tapNone
			continue
		}
		// Whatever the stream said as its container went (cut, or the
		// container gone), the container ended.
		notice(fmt.Sprintf("container %s ended; waiting for the next container of %s (a deploy, a rollback or a start)", text.ShortID(s.ID), req.Target))
		next, started, err := b.nextContainer(ctx, starts, req.Target.Function, s.ID)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("logs of %s: waiting for its next container: %w", req.Target, err)
		}
		notice(fmt.Sprintf("following container %s from its start", text.ShortID(next.ID)))
		// All of a new container's output; a restarted one's since it started.
		since, tail, tap = time.Time{}, "", tapWait
		if next.ID == s.ID {
			since = started
		}
		s = next
	}
}

// nextContainer returns the function's container once one runs that is not
// prev as it was: another container (it may be running already), or prev
// started again (known from its start event, whose time it returns).
func (b *Backend) nextContainer(ctx context.Context, starts client.EventsResult, name, prev string) (*container.Summary, time.Time, error) {
	running := func() (*container.Summary, error) {
		s, err := b.find(ctx, name)
		if err != nil || s == nil || s.State != container.StateRunning {
			return nil, err
		}
		return s, nil
	}
	if s, err := running(); err != nil || (s != nil && s.ID != prev) {
		return s, time.Time{}, err
	}
	for {
		select {
		case <-ctx.Done():
			return nil, time.Time{}, ctx.Err()
		case err := <-starts.Err:
			if err == nil {
				err = errors.New("the engine's event stream ended")
			}
			return nil, time.Time{}, dockerErr("reading the engine's events", err)
		case m := <-starts.Messages:
			s, err := running()
			if err != nil {
				return nil, time.Time{}, err
			}
			if s == nil || s.ID != m.Actor.ID {
				continue // a start that is over already, or not of the container the function has now
			}
			started := time.Unix(0, m.TimeNano)
			if m.TimeNano == 0 {
				started = time.Unix(m.Time, 0)
			}
			return s, started, nil
		}
	}
}

// How functionFollow.container uses a container's log tap.
const (
	tapFirst = iota // the tap if it answers, else the engine
	tapWait         // a container just started: give its tap tapStartWait to listen
	tapNone         // the engine only
)

// container reads one container's history (since, tail; up to the moment
// the follow connects), then follows it until it ends or ctx does, through
// its log tap as tap says, else through the engine.
func (f *functionFollow) container(ctx context.Context, s *container.Summary, since time.Time, tail string, tap int) error {
	b := f.b
	var body io.ReadCloser
	var connected time.Time
	if tap != tapNone {
		body, connected = b.openTap(ctx, s)
	}
	for deadline := time.Now().Add(tapStartWait); body == nil && tap == tapWait && s.Labels[LabelLogPort] != "" && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(50 * time.Millisecond)
		body, connected = b.openTap(ctx, s)
	}
	if body != nil {
		defer body.Close()
		// History up to the moment the tap started sending: the tap has
		// everything after it.
		if err := b.readLogs(ctx, s.ID, since, connected, false, tail, f.fromEngine); err != nil {
			return err
		}
		if err := followTap(ctx, body, f.req.Filter, cloud.LogBusy(ctx), f.toLine, f.emit); err != nil {
			return fmt.Errorf("following the log tap: %w", err)
		}
		return nil // the container ended (or ctx did)
	}
	return b.readLogs(ctx, s.ID, since, time.Time{}, true, tail, f.fromEngine)
}

// tapStartWait is how long a follow waits for a just-started container's
// log tap before it follows through the engine instead.
const tapStartWait = 5 * time.Second

// openTap connects to the container's log tap and returns the stream and
// the time the tap answered; nil when the container has none or it does not
// answer (stopped, or deployed before the tap existed).
func (b *Backend) openTap(ctx context.Context, s *container.Summary) (io.ReadCloser, time.Time) {
	port, err := strconv.Atoi(s.Labels[LabelLogPort])
	if err != nil || port <= 0 || port > 65535 || s.State != container.StateRunning {
		return nil, time.Time{}
	}
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, shim.TapPath)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, time.Time{}
	}
	req.Header.Set(shim.TokenHeader, s.Labels[LabelLogToken])
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, time.Time{}
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get(shim.TapHeader) != "1" {
		resp.Body.Close()
		return nil, time.Time{}
	}
	return resp.Body, b.now()
}

// tapReadBuffer is the reader's buffer: a flood arrives in batches of
// hundreds of kilobytes, read in few large reads.
const tapReadBuffer = 1 << 20

// quietAfter is how long a follow waits for more of the stream before it
// reports lines it skipped: a flood keeps arriving (its count joins the next
// notice), a burst that stopped gets its count shown.
const quietAfter = 100 * time.Millisecond

// followTap emits the tap's records until it ends or ctx does. A drop
// marker becomes a notice line in the stream where the lines went missing.
// While busy (may be nil) reports the consumer full, records are only
// counted, not decoded: the count joins the next drop notice.
func followTap(ctx context.Context, body io.ReadCloser, filter string, busy func() bool, toLine func(time.Time, string, string) cloud.LogLine, emit func(cloud.LogLine)) error {
	stop := context.AfterFunc(ctx, func() { body.Close() }) // unblocks the read
	defer stop()
	tr := shim.NewTapReader(body, tapReadBuffer)
	fb := []byte(filter)
	// skipped is shared with the quiet timer, which only runs while this
	// goroutine waits for the network and is finished before it goes on.
	var skipped uint64
	notice := func(t time.Time) {
		if skipped > 0 {
			l := toLine(t, StreamFndeck, DroppedMessage(skipped))
			l.Notice = true
			emit(l)
			skipped = 0
		}
	}
	var quiet *time.Timer
	var quietDone chan struct{}
	armQuiet := func() {
		quiet = nil
		if skipped == 0 || tr.Buffered() > 0 {
			return // nothing to report, or the next read will not wait
		}
		done := make(chan struct{})
		quietDone = done
		quiet = time.AfterFunc(quietAfter, func() {
			defer close(done)
			notice(time.Now())
		})
	}
	stopQuiet := func() {
		if quiet != nil && !quiet.Stop() {
			<-quietDone // it fired: let it finish before touching skipped
		}
	}
	end := func(err error) error {
		notice(time.Now()) // the stream ended right after lines this reader lost
		return tapEnd(err)
	}
	for {
		armQuiet()
		if busy != nil && busy() {
			// Counting costs a newline search per record; decoding,
			// converting and queueing lines nobody will see costs far more.
			n, err := tr.Skip()
			stopQuiet()
			skipped += n
			if err != nil {
				return end(err)
			}
			continue
		}
		rec, err := tr.Next()
		stopQuiet()
		if err != nil {
			return end(err)
		}
		if rec.Kind == shim.KindDrop {
			skipped += rec.Dropped
			continue
		}
		notice(rec.Time)
		if len(fb) > 0 && !bytes.Contains(rec.Text, fb) {
			continue
		}
		stream := "stdout"
		if rec.Kind == shim.KindStderr {
			stream = "stderr"
		}
		emit(toLine(rec.Time, stream, strings.TrimSuffix(string(rec.Text), "\r")))
	}
}

// tapEnd maps how a tap stream ended to followTap's result. A cut stream is
// how a killed or removed container ends its tap (docker rm -f, a
// redeploy): the follow is over, as the engine's follow is when its
// container goes.
func tapEnd(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		return nil
	}
	return err
}

// StreamFndeck is the Stream of lines fndeck itself adds to a log, such as
// the count of lines the log tap dropped.
const StreamFndeck = "fndeck"

// DroppedMessage is the text of a drop marker: n lines the app wrote that
// this reader did not get because it fell behind.
func DroppedMessage(n uint64) string {
	return "… " + groupThousands(n) + " lines dropped (fndeck could not keep up)"
}

func groupThousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// lastOutput returns the container's last n lines, for error messages.
func (b *Backend) lastOutput(ctx context.Context, id string, n int) string {
	var lines []string
	err := b.readLogs(ctx, id, time.Time{}, time.Time{}, false, strconv.Itoa(n), func(e logEntry) bool {
		lines = append(lines, e.message)
		return true
	})
	if err != nil {
		return "(logs unavailable: " + err.Error() + ")"
	}
	if len(lines) == 0 {
		return "(no output)"
	}
	return strings.Join(lines, "\n")
}
