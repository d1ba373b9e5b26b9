package shim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

func superviseMain(cfg Config) int {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	code, err := Supervise(context.Background(), cfg, sigs, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fndeck shim:", err)
	}
	return code
}

// Supervise runs cfg.Command (the image's entrypoint + cmd) as a
// transparent supervisor, the way a Cloud Run container runs: the app keeps
// the shim's working directory, user and environment (docker set them from
// the image's WORKDIR, USER and ENV), gets every signal that arrives on sigs,
// and its exit status becomes the shim's (128+N when killed by signal N, as
// a shell reports it). Its output is copied to stdout/stderr and offered to
// the log tap on cfg.LogAddr. The HTTP port is the app's own; the shim does
// not touch it. ctx ending kills the app (tests use it; the container's
// stop arrives as a signal).
func Supervise(ctx context.Context, cfg Config, sigs <-chan os.Signal, stdout, stderr io.Writer) (int, error) {
	if len(cfg.Command) == 0 {
		return 127, errors.New("the image has no entrypoint or cmd to run")
	}
	path, err := lookPath(cfg.Command[0], os.Getenv("PATH"))
	if err != nil {
		return 127, fmt.Errorf("starting %s: %w", cfg.Command[0], err)
	}
	tap := NewTap(cfg.LogToken)
	out, err := newAppOutput(stdout, stderr, tap)
	if err != nil {
		return 1, err
	}
	var stopTap func()
	if cfg.LogAddr != "" {
		if stopTap, err = serveTap(ctx, cfg.LogAddr, tap); err != nil {
			// The app runs without a tap; fndeck falls back to the engine's logs.
			out.writeOwn(1, fmt.Sprintf("fndeck shim: %v\n", err))
		}
	}
	finish := func() {
		out.wait(2 * time.Second)
		if stopTap != nil {
			stopTap()
		}
	}
	wd, _ := os.Getwd()
	proc, err := os.StartProcess(path, cfg.Command, &os.ProcAttr{
		Dir:   wd,
		Env:   withoutEnv(os.Environ(), TokenEnv),
		Files: []*os.File{os.Stdin, out.Stdout(), out.Stderr()},
	})
	out.closeWriters() // the app holds them now; EOF comes when it (and its children) exit
	if err != nil {
		finish()
		return 127, fmt.Errorf("starting %s: %w", path, err)
	}
	exited := make(chan int, 1)
	go func() { exited <- waitChild(proc) }()
	for {
		select {
		case sig := <-sigs:
			_ = proc.Signal(sig)
		case <-ctx.Done():
			_ = proc.Kill()
			code := <-exited
			finish()
			return code, nil
		case code := <-exited:
			finish()
			return code, nil
		}
	}
}
