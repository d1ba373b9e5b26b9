"""A tmux control-mode client for the bench/ drivers.

Reading the screen with `tmux capture-pane` forks and execs the tmux binary
each time (~45 ms on a loaded 2-core machine), which would swamp 50 ms
budgets. One control-mode client (`tmux -C`) turns each capture or key into a
round trip to the tmux server instead.
"""
import queue
import subprocess
import threading


class Control:
    """One tmux control-mode client: commands in, %begin/%end blocks out."""

    def __init__(self, session):
        self.p = subprocess.Popen(
            ["tmux", "-C", "attach-session", "-f", "no-output,ignore-size", "-t", session],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self.replies = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.lock = threading.Lock()
        # The attach itself answers with one (empty) block.
        self.replies.get(timeout=10)

    def _read(self):
        block = None
        for raw in self.p.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith("%begin"):
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
            ok, lines = self.replies.get(timeout=30)
        if not ok:
            raise RuntimeError("tmux %r: %s" % (c, "\n".join(lines)))
        return lines

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=5)
        except Exception:
            self.p.kill()
