// Command supervised is a Cloud Run style server for the tests of the shim
// as a supervisor: it reports how it was started (working directory, args,
// environment, user), prints numbered lines on request, exits with a chosen
// status, and handles SIGTERM itself (exit 3 after saying so).
package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	// For /orphan: a child that starts a grandchild and exits at once, so
	// the grandchild is re-parented to PID 1 (the supervisor must reap it).
	switch os.Getenv("SUPERVISED_ROLE") {
	case "parent":
		p, err := os.StartProcess("/proc/self/exe", []string{"grandchild"}, &os.ProcAttr{
			Env: []string{"SUPERVISED_ROLE=grandchild"}, Files: []*os.File{nil, os.Stdout, os.Stderr}})
		if err == nil {
			fmt.Println("orphaned pid", p.Pid)
		}
		os.Exit(0)
	case "grandchild":
		time.Sleep(300 * time.Millisecond)
		os.Exit(0)
	}
	port := os.Getenv("PORT")
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-term
		fmt.Println("terminating cleanly")
		os.Exit(3)
	}()
	http.HandleFunc("/info", func(w http.ResponseWriter, r *http.Request) {
		wd, _ := os.Getwd()
		fmt.Fprintf(w, "wd=%s args=%s x=%s uid=%d token=%q", wd, strings.Join(os.Args[1:], ","), os.Getenv("X"), os.Getuid(), os.Getenv("FNDECK_LOG_TOKEN"))
	})
	http.HandleFunc("/print", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		tag := r.URL.Query().Get("tag")
		bw := bufio.NewWriterSize(os.Stdout, 64<<10)
		t0 := time.Now()
		for i := 0; i < n; i++ {
			fmt.Fprintf(bw, "%s seq=%d\n", tag, i)
		}
		bw.Flush()
		fmt.Fprintf(w, "%.0f", float64(n)/time.Since(t0).Seconds())
	})
	http.HandleFunc("/stderr", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(os.Stderr, r.URL.Query().Get("text"))
	})
	http.HandleFunc("/orphan", func(w http.ResponseWriter, r *http.Request) {
		p, err := os.StartProcess("/proc/self/exe", []string{"parent"}, &os.ProcAttr{
			Env: []string{"SUPERVISED_ROLE=parent"}, Files: []*os.File{nil, os.Stdout, os.Stderr}})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = p.Wait()
		fmt.Fprint(w, "ok")
	})
	http.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		fmt.Println("exiting with", code)
		go func() { time.Sleep(50 * time.Millisecond); os.Exit(code) }()
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	fmt.Println("listening on", port)
	if err := http.ListenAndServe("127.0.0.1:"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
