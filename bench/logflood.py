#!/usr/bin/env python3
"""Issue 4 log flood, measured on the real fndeck binary as a person sees it.

A local Cloud Run-style function (bench/flood, FROM scratch, static Go)
prints numbered lines stamped with its own clock (microseconds) at FLOOD_RATE
lines/s (default 126,000) for FLOOD_SECONDS (default 30). fndeck runs in tmux
at 160x48 and follows the function's logs (Functions pane `2`, select it,
`l`); only then is the flood started (GET /start), so the figure is "keeps
up with real time", not "replays history".

The screen is read through one tmux control-mode client (`tmux -C`), so a
capture or a key costs a round trip to the tmux server, not a fork+exec of
the tmux binary (that alone takes ~45 ms on a loaded 2-core box and would
swamp a 50 ms budget). Measured while the flood runs:
  lag   - our clock after a capture minus the producer clock of the newest
          line on screen (an upper bound: it includes the capture itself)
  keys  - every ~2 s `t` (toggles the time column; the output pane's status
          line gains/loses "time"): send-keys until a capture shows the flip.
          The same is measured idle, before the flood, as a baseline.
  CPU   - fndeck's user+system time over the flood / wall time (/proc)
  RSS   - VmRSS at the end and VmHWM (peak), fndeck process
  dockerd's CPU is printed for context (it carries the log stream).

Usage: bench/logflood.py [RUNS]   (default 3; prints each run and medians)
       bench/logflood.py --engine [RUNS]
       bench/logflood.py --tap-stall [RUNS]
--tap-stall deploys the flood without fndeck following it and reports the
producer's achieved rate with no tap subscriber and with one that connects
to the shim's log tap and never reads (set FLOOD_RATE high to find the
ceiling): the tap must not slow the app.
--engine is the reference without fndeck: the same flood read by
`docker logs -f --since NOW` (lines counted in large reads; lag from the newest
complete line of each read), i.e. how fast the engine itself hands a
follower the log. fndeck cannot be closer to real time than this.
Env: FLOOD_RATE, FLOOD_SECONDS, FNDECK_BIN (default ./fndeck), FLOOD_SHOW=1
(print the screen 2 s after the flood).
Needs tmux >= 3.2, a Docker engine, Go, and fndeck built at ./fndeck.
"""
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmuxctl import Control  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RATE = int(os.environ.get("FLOOD_RATE", "126000"))
SECS = int(os.environ.get("FLOOD_SECONDS", "30"))
BIN = os.environ.get("FNDECK_BIN", os.path.join(ROOT, "fndeck"))
CLK = os.sysconf("SC_CLK_TCK")


def run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def proc_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)


def proc_mem(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def dockerd_pid():
    out = subprocess.run(["pgrep", "-xo", "dockerd"], capture_output=True, text=True).stdout.strip()
    return int(out) if out else None


T_RE = re.compile(r"\bt=(\d{16})\b")


def deploy_flood(image, name, env):
    """Deploys the flood image as local:NAME (cloudrun mode) and returns its URL."""
    dep = subprocess.run([BIN, "deploy", image, "local:" + name, "--as", "cloudrun",
                          "--env", "FLOOD_RATE=%d" % RATE, "--env", "FLOOD_SECONDS=%d" % SECS],
                         env=env, capture_output=True, text=True)
    urls = re.findall(r"http://127\.0\.0\.1:\d+", dep.stdout + dep.stderr)
    if dep.returncode != 0 or not urls:
        raise RuntimeError("deploy failed (%d): %s %s" % (dep.returncode, dep.stdout, dep.stderr))
    return urls[-1]


def one_run(image, work, n):
    name = "flood-%d-%d" % (os.getpid() % 100000, random.randrange(10000))
    sess = "fndeck-bench-flood-%d-%d" % (os.getpid(), n)
    env = dict(os.environ,
               XDG_CONFIG_HOME=os.path.join(work, "cfg"), XDG_STATE_HOME=os.path.join(work, "state%d" % n),
               HOME=os.path.join(work, "home"), AWS_CONFIG_FILE=os.path.join(work, "none"),
               AWS_SHARED_CREDENTIALS_FILE=os.path.join(work, "none"), AWS_EC2_METADATA_DISABLED="true",
               GOOGLE_APPLICATION_CREDENTIALS=os.path.join(work, "none.json"),
               CLOUDSDK_CONFIG=os.path.join(work, "gcloud"), TERM="xterm-256color", NO_COLOR="1",
               FNDECK_LOCAL_NETWORK="host")
    for d in ("cfg", "state%d" % n, "home", "gcloud"):
        os.makedirs(os.path.join(work, d), exist_ok=True)
    ctl = None
    try:
        url = deploy_flood(image, name, env)
        # The pane's process is fndeck itself (exec), so /proc/PANE_PID is fndeck.
        envs = " ".join("%s=%s" % (k, shell_quote(env[k])) for k in
                        ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
                         "AWS_EC2_METADATA_DISABLED", "GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "TERM",
                         "NO_COLOR", "FNDECK_LOCAL_NETWORK"))
        run("tmux", "new-session", "-d", "-s", sess, "-x", "160", "-y", "48",
            "exec env %s %s" % (envs, shell_quote(BIN)))
        pid = int(run("tmux", "list-panes", "-t", sess, "-F", "#{pane_pid}").strip())
        ctl = Control(sess)

        def capture():
            return "\n".join(ctl.cmd("capture-pane -p -t " + sess))

        def wait_for(pattern, within=15):
            end = time.time() + within
            while time.time() < end:
                s = capture()
                if re.search(pattern, s):
                    return s
                time.sleep(0.05)
            raise RuntimeError("timed out waiting for /%s/ on screen:\n%s" % (pattern, capture()))

        def keys(*k):
            ctl.cmd("send-keys -t %s %s" % (sess, " ".join(k)))

        def time_on(s):
            st = [l for l in s.splitlines() if "FOLLOW" in l]
            return bool(st) and re.search(r"\btime\b", st[-1]) is not None

        def key_latency():
            before = time_on(capture())
            t0 = time.perf_counter()
            keys("t")
            while True:
                s = capture()
                if time_on(s) != before:
                    return (time.perf_counter() - t0) * 1000
                if time.perf_counter() - t0 > 10:
                    return float("inf")

        wait_for(r"Images", 10)
        keys("2")
        wait_for(re.escape(name), 20)
        # Top row is "local", then "docker", then our function (the only local one).
        keys("g", "j", "j")
        time.sleep(0.3)
        keys("l")
        wait_for(r"Tasks \(1, 1 running\)", 10)
        # Work-around (see docs/benchmarks.md): the first logs task becomes the
        # Tasks pane's selection, which replaces the log view with the task's
        # own output. Cancel it and open the logs again: the selection stays on
        # the cancelled task, the pane on the logs, and one tail runs.
        keys("3")
        time.sleep(0.3)
        keys("c")
        wait_for(r"Tasks \(1\)", 10)
        keys("2")
        time.sleep(0.3)
        keys("l")
        wait_for(r"Output · logs local:", 10)
        wait_for(r"FOLLOW", 10)
        time.sleep(1)
        rtt = []
        for _ in range(10):
            t0 = time.perf_counter()
            capture()
            rtt.append((time.perf_counter() - t0) * 1000)
        idle_keys = []
        for _ in range(5):
            idle_keys.append(key_latency())
            time.sleep(0.3)

        dpid = dockerd_pid()
        # The container's PID 1: fndeck's shim, which copies the app's output
        # to the engine and serves the log tap (the app is its child).
        spid = int(run("docker", "inspect", "-f", "{{.State.Pid}}", "fndeck-" + name).strip())
        with open("/proc/loadavg") as f:
            load = float(f.read().split()[0])
        c0, d0, s0 = proc_cpu(pid), (proc_cpu(dpid) if dpid else 0), proc_cpu(spid)
        t0 = time.time()
        urllib.request.urlopen(url + "/start", timeout=10).read()
        lags, caps, flood_keys = [], [], []
        next_key = t0 + 2
        while time.time() - t0 < SECS:
            ta = time.time()
            s = capture()
            tb = time.time()
            ts = [int(m) for m in T_RE.findall(s)]
            if ts:
                lags.append((tb - max(ts) / 1e6) * 1000)
                caps.append((tb - ta) * 1000)
            if time.time() >= next_key:
                flood_keys.append(key_latency())
                next_key = time.time() + 2
            time.sleep(0.25)
        t1 = time.time()
        c1, d1, s1 = proc_cpu(pid), (proc_cpu(dpid) if dpid else 0), proc_cpu(spid)
        rss, hwm = proc_mem(pid, "VmRSS"), proc_mem(pid, "VmHWM")
        stats = urllib.request.urlopen(url + "/stats", timeout=10).read().decode().strip()
        time.sleep(2)
        s = capture()
        if os.environ.get("FLOOD_SHOW"):
            print(s)
        seqs = [int(x) for x in re.findall(r"seq=(\d+)", s)]
        # The output pane's status line counts the lines it no longer holds
        # ("… N lines dropped": evicted from its 50,000-line buffer, plus
        # what the producer reported lost); the lines that reached the pane
        # are about that plus the 50,000 it holds.
        drops = [d.replace(",", "") for d in re.findall(r"· … ([\d,]+) lines dropped", s)]
        return dict(
            load=load, stats=stats, lags=lags, caps=caps, rtt=rtt, idle_keys=idle_keys, flood_keys=flood_keys,
            cpu=(c1 - c0) / CLK / (t1 - t0) * 100, scpu=(s1 - s0) / CLK / (t1 - t0) * 100, dcpu=(d1 - d0) / CLK / (t1 - t0) * 100 if dpid else float("nan"),
            rss=rss, hwm=hwm, last_seq=max(seqs) if seqs else None, drops=drops[-1] if drops else None)
    finally:
        if ctl:
            ctl.close()
        subprocess.run(["tmux", "kill-session", "-t", sess], capture_output=True)
        subprocess.run(["docker", "rm", "-f", "fndeck-" + name], capture_output=True)


def engine_run(image, work, n):
    name = "flood-%d-%d" % (os.getpid() % 100000, random.randrange(10000))
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "cfg"), XDG_STATE_HOME=os.path.join(work, "state%d" % n),
               HOME=os.path.join(work, "home"), FNDECK_LOCAL_NETWORK="host")
    for d in ("cfg", "state%d" % n, "home"):
        os.makedirs(os.path.join(work, d), exist_ok=True)
    follower = None
    try:
        url = deploy_flood(image, name, env)
        follower = subprocess.Popen(["docker", "logs", "-f", "--since", "%.6f" % time.time(), "fndeck-" + name],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        fd = follower.stdout.fileno()
        os.set_blocking(fd, False)
        t0 = time.time()
        urllib.request.urlopen(url + "/start", timeout=10).read()
        lags, lines, tail, next_sample = [], 0, b"", t0 + 0.5
        while time.time() - t0 < SECS:
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:
                time.sleep(0.005)
                continue
            if not chunk:
                break
            lines += chunk.count(b"\n")
            buf = tail + chunk
            cut = buf.rfind(b"\n")
            if cut >= 0:
                last = buf[buf.rfind(b"\n", 0, cut) + 1:cut]
                tail = buf[cut + 1:]
                if time.time() >= next_sample:
                    m = re.search(rb"t=(\d{16})", last)
                    if m:
                        lags.append((time.time() - int(m.group(1)) / 1e6) * 1000)
                    next_sample = time.time() + 0.5
            else:
                tail = buf
        el = time.time() - t0
        stats = urllib.request.urlopen(url + "/stats", timeout=10).read().decode().strip()
        return dict(stats=stats, lags=lags, rate=lines / el)
    finally:
        if follower:
            follower.kill()
            follower.wait()
        subprocess.run(["docker", "rm", "-f", "fndeck-" + name], capture_output=True)


def stall_run(image, work, n, stalled):
    """The producer's rate with no tap subscriber, or with one that connects
    to the shim's log tap and never reads: the tap must not slow the app."""
    import socket
    name = "flood-%d-%d" % (os.getpid() % 100000, random.randrange(10000))
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "cfg"), XDG_STATE_HOME=os.path.join(work, "state%d" % n),
               HOME=os.path.join(work, "home"), FNDECK_LOCAL_NETWORK="host")
    for d in ("cfg", "state%d" % n, "home"):
        os.makedirs(os.path.join(work, d), exist_ok=True)
    sock = None
    try:
        url = deploy_flood(image, name, env)
        if stalled:
            port = int(run("docker", "inspect", "-f", '{{index .Config.Labels "fndeck.log-port"}}', "fndeck-" + name))
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(b"GET /fndeck/v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            time.sleep(0.3)
        urllib.request.urlopen(url + "/start", timeout=10).read()
        time.sleep(SECS + 1)
        return urllib.request.urlopen(url + "/stats", timeout=10).read().decode().strip()
    finally:
        if sock:
            sock.close()
        subprocess.run(["docker", "rm", "-f", "fndeck-" + name], capture_output=True)


def shell_quote(v):
    return "'" + v.replace("'", "'\\''") + "'"


def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def main():
    args = sys.argv[1:]
    engine = bool(args) and args[0] == "--engine"
    stall = bool(args) and args[0] == "--tap-stall"
    if engine or stall:
        args = args[1:]
    runs = int(args[0]) if args else 3
    if not os.access(BIN, os.X_OK):
        sys.exit("build fndeck first: CGO_ENABLED=0 go build -o fndeck .")
    work = tempfile.mkdtemp(prefix="fndeck-flood-")
    tag = "fndeck-bench-flood-%d-%d:v1" % (os.getpid(), random.randrange(1 << 30))
    try:
        run("go", "build", "-o", os.path.join(work, "flood"), "./bench/flood", cwd=ROOT,
            env=dict(os.environ, CGO_ENABLED="0"))
        with open(os.path.join(work, "Dockerfile"), "w") as f:
            f.write('FROM scratch\nCOPY flood /flood\nENTRYPOINT ["/flood"]\n')
        run("docker", "build", "-q", "-t", tag, work)
        if stall:
            for n in range(1, runs + 1):
                for stalled in (False, True):
                    with open("/proc/loadavg") as f:
                        load = f.read().split()[0]
                    print("stall run %d, %s (load %s): producer %s" % (
                        n, "one tap subscriber that never reads" if stalled else "no tap subscriber", load,
                        stall_run(tag, work, n, stalled)))
                    sys.stdout.flush()
            return
        if engine:
            res = [engine_run(tag, work, n) for n in range(1, runs + 1)]
            for n, r in enumerate(res, 1):
                print("engine run %d: producer %s; docker logs -f read %.0f lines/s; lag ms %s"
                      % (n, r["stats"], r["rate"], " ".join("%.0f" % x for x in r["lags"])))
                print("  lag median %.0f ms, max %.0f ms" % (med(r["lags"]), max(r["lags"] or [float("nan")])))
            print("median of %d engine runs: read %.0f lines/s, lag %.0f ms (median of run medians)"
                  % (runs, med([r["rate"] for r in res]), med([med(r["lags"]) for r in res])))
            return
        res = []
        for n in range(1, runs + 1):
            r = one_run(tag, work, n)
            res.append(r)
            print("run %d: load %.1f before the flood; producer %s (asked %d lines/s for %d s)"
                  % (n, r["load"], r["stats"], RATE, SECS))
            print("  lag ms (each sample): %s" % " ".join("%.0f" % x for x in r["lags"]))
            print("  lag median %.0f ms, max %.0f ms; capture round trip during flood median %.1f ms, idle %.1f ms"
                  % (med(r["lags"]), max(r["lags"] or [float("nan")]), med(r["caps"]), med(r["rtt"])))
            print("  key->screen ms idle: %s | during flood: %s" % (
                " ".join("%.0f" % x for x in r["idle_keys"]), " ".join("%.0f" % x for x in r["flood_keys"])))
            print("  fndeck CPU %.1f %% of a core, RSS end %.1f MB, peak %.1f MB; dockerd CPU %.1f %%; shim CPU %.1f %%"
                  % (r["cpu"], r["rss"], r["hwm"], r["dcpu"], r["scpu"]))
            print("  after the flood: newest seq on screen %s; the pane's status: %s lines dropped"
                  % (r["last_seq"], r["drops"]))
            sys.stdout.flush()
        print("median of %d runs: lag %.0f ms (median of run medians), worst sample %.0f ms; "
              "keys idle %.0f ms, during flood %.0f ms (worst %.0f ms); CPU %.1f %%; RSS end %.1f MB, peak %.1f MB"
              % (runs, med([med(r["lags"]) for r in res]), max(max(r["lags"] or [0]) for r in res),
                 med([med(r["idle_keys"]) for r in res]), med([med(r["flood_keys"]) for r in res]),
                 max(max(r["flood_keys"] or [0]) for r in res), med([r["cpu"] for r in res]),
                 med([r["rss"] for r in res]), med([r["hwm"] for r in res])))
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
