// Command fndeck-cloud is fndeck's cloud helper: it serves the AWS and GCP
// backends to fndeck over its stdin and stdout (package cloud/remote/wire),
// so the TUI binary does not link the cloud SDKs and their package inits.
// fndeck starts it on its first cloud call; it exits when its stdin closes.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"

	"github.com/fndeck/fndeck/cloud/remote/wire"
)

// version is the build's version (-ldflags "-X main.version=…"), as fndeck's.
var version = "dev"

// capabilities are the methods this helper serves, for fndeck's handshake.
var capabilities = []string{wire.MList, wire.MDescribe, wire.MDeploy, wire.MRollback, wire.MInvoke, wire.MLogs, wire.MAuth, wire.MHealth, wire.MLoginMFA}

func main() {
	debug := false
	for _, a := range os.Args[1:] {
		switch a {
		case "--debug":
			debug = true
		case "--version", "-h", "--help":
			fmt.Fprintf(os.Stderr, "fndeck-cloud %s: fndeck's cloud helper (protocol %d); fndeck starts it, it is not run by hand\n", version, wire.Version)
			os.Exit(0)
		}
	}
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	// stderr is fndeck's debug log, never the terminal.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	// The terminal's Ctrl-C belongs to fndeck, which cancels calls by message;
	// dying on it would turn a cancelled log tail into a helper crash.
	signal.Ignore(os.Interrupt)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := serve(ctx, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fndeck-cloud:", err)
		os.Exit(1)
	}
}

// serve reads the Init message, builds the backends and answers calls until
// in ends. Every call runs in its own goroutine with its own ctx.
func serve(ctx context.Context, in io.Reader, out io.Writer) error {
	dec := json.NewDecoder(in)
	var first wire.Msg
	if err := dec.Decode(&first); err != nil {
		if err == io.EOF {
			return nil
		}
		return fmt.Errorf("reading the init message: %w", err)
	}
	if first.T != wire.TInit {
		return fmt.Errorf("first message is %q, want %q", first.T, wire.TInit)
	}
	var init wire.Init
	if err := json.Unmarshal(first.Data, &init); err != nil {
		return fmt.Errorf("decoding the init message: %w", err)
	}
	hello := wire.Hello{Protocol: wire.Version, Build: version, Capabilities: capabilities}
	if init.Version != wire.Version {
		err := fmt.Errorf("protocol version %d from fndeck %s, this helper (%s) speaks %d: rebuild both binaries together (CGO_ENABLED=0 go build -o bin/ . ./cloud/remote/fndeck-cloud)",
			init.Version, orDev(init.Build), version, wire.Version)
		sayHello(out, hello, err)
		return err
	}
	s, err := newServer(ctx, init, out)
	if err != nil {
		sayHello(out, hello, err)
		return err
	}
	s.send(0, wire.THello, hello, nil)
	defer s.close()
	for {
		var m wire.Msg
		if err := dec.Decode(&m); err != nil {
			if err == io.EOF {
				return nil // the parent is gone or done
			}
			return fmt.Errorf("reading a message: %w", err)
		}
		switch m.T {
		case wire.TCall:
			s.start(m)
		case wire.TCancel:
			s.cancel(m.ID)
		default:
			slog.Debug("ignoring an unknown message", "type", m.T)
		}
	}
}

// sayHello answers Init before the server exists (a refusal).
func sayHello(out io.Writer, h wire.Hello, err error) {
	if err != nil {
		h.Err = err.Error()
	}
	data, _ := json.Marshal(h)
	_ = json.NewEncoder(out).Encode(wire.Msg{T: wire.THello, Data: data})
}

func orDev(v string) string {
	if v == "" {
		return "(unknown build)"
	}
	return v
}
