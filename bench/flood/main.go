// Command flood is the producer of the issue-4 log-flood measurement: a
// Cloud Run–style service that, once asked (GET /start), prints numbered,
// timestamped lines at a fixed rate for a fixed time. The timestamp is the
// producer's clock when the line was written, so a reader can tell how far
// behind real time a log pane is by comparing the newest line on screen with
// its own clock (same machine, same clock).
//
// It waits for /start rather than flooding from container start so the
// measurement begins with the log pane already following: what is measured
// is keeping up, not replaying history.
//
// Environment: PORT (listen address 127.0.0.1:PORT), FLOOD_RATE (lines/s,
// default 126000), FLOOD_SECONDS (default 30).
// GET /stats answers with the lines written so far and the achieved rate.
package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func main() {
	port := envInt("PORT", 8080)
	rate := envInt("FLOOD_RATE", 126000)
	secs := envInt("FLOOD_SECONDS", 30)
	var (
		once    sync.Once
		written atomic.Int64
		started atomic.Int64 // unix ns
		ended   atomic.Int64
	)
	run := func() {
		t0 := time.Now()
		started.Store(t0.UnixNano())
		w := bufio.NewWriterSize(os.Stdout, 256<<10)
		var n int64
		buf := make([]byte, 0, 128)
		for {
			now := time.Now()
			el := now.Sub(t0)
			if el >= time.Duration(secs)*time.Second {
				break
			}
			// Write what the rate allows by now, then flush: the lines of one
			// millisecond leave together, as a busy program's would.
			due := int64(el.Seconds() * float64(rate))
			ts := now.UnixMicro()
			for ; n < due; n++ {
				buf = buf[:0]
				buf = append(buf, "flood seq="...)
				buf = strconv.AppendInt(buf, n, 10)
				buf = append(buf, " t="...)
				buf = strconv.AppendInt(buf, ts, 10)
				buf = append(buf, " payload=abcdefghijklmnopqrstuvwxyz\n"...)
				_, _ = w.Write(buf)
			}
			_ = w.Flush()
			written.Store(n)
			time.Sleep(time.Millisecond)
		}
		_ = w.Flush()
		written.Store(n)
		ended.Store(time.Now().UnixNano())
		fmt.Fprintf(os.Stderr, "flood done: %d lines in %s\n", n, time.Since(t0).Round(time.Millisecond))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { go run() })
		fmt.Fprintln(w, "started")
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		s, e, n := started.Load(), ended.Load(), written.Load()
		end := time.Now().UnixNano()
		if e != 0 {
			end = e
		}
		var r0 float64
		if s != 0 && end > s {
			r0 = float64(n) / (float64(end-s) / 1e9)
		}
		fmt.Fprintf(w, "lines=%d rate=%.0f done=%t\n", n, r0, e != 0)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "flood ready") })
	if err := http.ListenAndServe("127.0.0.1:"+strconv.Itoa(port), mux); err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
}
