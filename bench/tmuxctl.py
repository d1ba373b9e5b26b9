"""A tmux control-mode client for the bench/ drivers.

Reading the screen with `tmux capture-pane` forks and execs the tmux binary
each time (~45 ms on a loaded 2-core machine), which would swamp 50 ms
budgets. One control-mode client (`tmux -C`) turns each capture or key into a
round trip to the tmux server instead.

A driver that waits for something to appear should not poll the screen in a
tight loop: on a 2-core machine the poller and the tmux server would take the
cores from the program being measured. wait_output() sleeps until tmux reports
that the pane wrote something (control mode's %output notification), so the
screen is read only when it may have changed.
"""
import queue
import subprocess
import threading


class Control:
    """One tmux control-mode client: commands in, %begin/%end blocks out."""

    def __init__(self, session, output=False):
        # output=True asks tmux for %output notifications (see wait_output).
        flags = "ignore-size" if output else "no-output,ignore-size"
        self.output = threading.Event()
        self.p = subprocess.Popen(
            ["tmux", "-C", "attach-session", "-f", flags, "-t", session],
            # buffered: an unbuffered pipe is read a byte per syscall, and a
            # screenful of %output would delay the next reply by tens of ms
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=-1)
        self.replies = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.lock = threading.Lock()
        # The attach itself answers with one (empty) block.
        self.replies.get(timeout=10)

    def _read(self):
        block = None
        for raw in self.p.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith("%output"):
                self.output.set()
            elif line.startswith("%begin"):
                block = []
            elif line.startswith("%end") or line.startswith("%error"):
                if block is not None:
                    self.replies.put((line.startswith("%end"), block))
                block = None
            elif block is not None:
                block.append(line)
        self.replies.put((False, ["control client ended"]))

    def cmd(self, c):
        with self.lock:
            self.p.stdin.write((c + "\n").encode())
            self.p.stdin.flush()
            ok, lines = self.replies.get(timeout=30)
        if not ok:
            raise RuntimeError("tmux %r: %s" % (c, "\n".join(lines)))
        return lines

    def wait_output(self, timeout):
        """Sleeps until the pane has written something since the last call
        (True), or timeout seconds passed (False)."""
        got = self.output.wait(timeout)
        self.output.clear()
        return got

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=5)
        except Exception:
            self.p.kill()
