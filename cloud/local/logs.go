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
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"github.com/fndeck/fndeck/cloud"
)

// logEntry is one line of a container's output.
type logEntry struct {
	time    time.Time
	stream  string
	message string
}

// readLogs streams a container's output (stdout and stderr, demultiplexed)
// to fn until the stream ends, ctx ends or fn returns false.
func (b *Backend) readLogs(ctx context.Context, id string, since time.Time, follow bool, tail string, fn func(logEntry) bool) error {
	opts := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Follow: follow, Tail: tail}
	if !since.IsZero() {
		opts.Since = fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond())
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
func (b *Backend) Logs(ctx context.Context, req cloud.LogRequest, emit func(cloud.LogLine)) error {
	if req.Query != "" {
		return fmt.Errorf("logs of %s: --query has no meaning for local targets (use --filter TEXT): %w", req.Target, cloud.ErrInvalid)
	}
	s, err := b.mustFind(ctx, req.Target)
	if err != nil {
		return err
	}
	addr := req.Target.String()
	err = b.readLogs(ctx, s.ID, req.Since, req.Follow, "", func(e logEntry) bool {
		if req.Filter != "" && !strings.Contains(e.message, req.Filter) {
			return true
		}
		l := cloud.LogLine{Time: e.time, Address: addr, Stream: e.stream, Message: e.message}
		if m := strings.TrimSpace(e.message); strings.HasPrefix(m, "{") && json.Valid([]byte(m)) {
			l.JSON = json.RawMessage(m)
		}
		emit(l)
		return true
	})
	if err != nil && errors.Is(err, context.Canceled) && req.Follow {
		return nil // following ends when the caller stops it
	}
	if err != nil {
		return fmt.Errorf("logs of %s: %w", req.Target, err)
	}
	return nil
}

// lastOutput returns the container's last n lines, for error messages.
func (b *Backend) lastOutput(ctx context.Context, id string, n int) string {
	var lines []string
	err := b.readLogs(ctx, id, time.Time{}, false, strconv.Itoa(n), func(e logEntry) bool {
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
