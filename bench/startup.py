#!/usr/bin/env python3
"""Start-up of the real fndeck binary in tmux at 160x48, as a person sees it
(issue 2; re-run with the AWS and GCP SDKs linked in for issues 5 and 6).

  first frame - start until the screen shows fndeck's layout ("Images")
  image names - start until a fixture image name (fndeck-bench/img-) shows
  idle CPU    - % of one core over 10 s, from 2 s after the names showed: from
                utime+stime (what top and ps report, sampled at the tick) and
                from the threads' schedstat (exact)
  idle RSS    - VmRSS at the end of that idle window

"Start" is the moment the pane's shell is told to exec fndeck: the session
is created first with `read _ && export VAR=... && exec fndeck`, then Enter
is sent, so tmux's own session set-up is not counted (nor an env binary's). The screen is polled through one tmux
control-mode client (bench/tmuxctl.py); the capture round trip, printed per
run, is the resolution of the two start-up figures.

Usage: bench/startup.py [RUNS] (default 7); prints each run and the medians.
STARTUP_WITH_AWS=1 configures an AWS profile (endpoint: a closed local port),
so fndeck also starts its cloud helper; build both binaries then
(CGO_ENABLED=0 go build -o bin/ . ./cloud/remote/fndeck-cloud, FNDECK_BIN=bin/fndeck).
Needs: tmux >= 3.2, a Docker engine with the fixture (bench/fixture.sh) and
fndeck at ./fndeck (CGO_ENABLED=0 go build -o fndeck .) or $FNDECK_BIN.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmuxctl import Control  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("FNDECK_BIN", os.path.join(ROOT, "fndeck"))
CLK = os.sysconf("SC_CLK_TCK")


def q(v):
    return "'" + v.replace("'", "'\\''") + "'"


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def sched_ns(pid):
    """CPU time of every thread of pid in ns, from /proc/PID/task/*/schedstat:
    exact, where utime+stime are sampled at the scheduler tick and can miss
    or over-count a process that wakes briefly, as an idle TUI does."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # the thread ended
    return total


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def one(n, work):
    sess = "fndeck-bench-start-%d-%d" % (os.getpid(), n)
    env = {
        "XDG_CONFIG_HOME": tempfile.mkdtemp(dir=work), "XDG_STATE_HOME": tempfile.mkdtemp(dir=work),
        "HOME": tempfile.mkdtemp(dir=work), "AWS_CONFIG_FILE": os.path.join(work, "none"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(work, "none"), "AWS_EC2_METADATA_DISABLED": "true",
        "GOOGLE_APPLICATION_CREDENTIALS": os.path.join(work, "none.json"),
        "CLOUDSDK_CONFIG": tempfile.mkdtemp(dir=work), "TERM": "xterm-256color",
    }
    if os.environ.get("DOCKER_HOST"):
        env["DOCKER_HOST"] = os.environ["DOCKER_HOST"]
    if os.environ.get("STARTUP_WITH_AWS"):
        # An AWS profile is configured, so the Functions pane lists it and
        # fndeck starts its cloud helper; the endpoint is a closed port on
        # 127.0.0.1, so nothing leaves the machine and the listing fails fast.
        cfg, cred = os.path.join(work, "aws-config"), os.path.join(work, "aws-credentials")
        with open(cfg, "w") as f:
            f.write("[default]\nregion = us-east-1\n")
        with open(cred, "w") as f:
            f.write("[default]\naws_access_key_id = AKIDBENCHFAKE\naws_secret_access_key = bench-fake\n")
        env.update({"AWS_CONFIG_FILE": cfg, "AWS_SHARED_CREDENTIALS_FILE": cred,
                    "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    # The shell sets the environment itself: `exec env ...` would add the
    # start of env (a dynamic binary, 5 ms here) to every figure.
    cmd = "read _ && export %s && exec %s" % (" ".join("%s=%s" % (k, q(v)) for k, v in env.items()), q(BIN))
    subprocess.run(["tmux", "new-session", "-d", "-s", sess, "-x", "160", "-y", "48", cmd], check=True)
    ctl = None
    try:
        pid = int(subprocess.run(["tmux", "list-panes", "-t", sess, "-F", "#{pane_pid}"], check=True,
                                 capture_output=True, text=True).stdout.strip())
        ctl = Control(sess, output=True)
        time.sleep(0.5)  # the shell is waiting in read

        def capture():
            return "\n".join(ctl.cmd("capture-pane -p -t " + sess))

        rtt = []
        for _ in range(5):
            a = time.perf_counter()
            capture()
            rtt.append((time.perf_counter() - a) * 1000)
        ctl.wait_output(0)
        t0 = time.perf_counter()
        ctl.cmd("send-keys -t %s Enter" % sess)
        first = names = None
        while time.perf_counter() - t0 < 20:
            # read the screen only once the pane wrote something: a tight
            # polling loop would take the CPU fndeck starts on
            ctl.wait_output(0.05)
            s = capture()
            now = (time.perf_counter() - t0) * 1000
            if first is None and "Images" in s:
                first = now
            if "fndeck-bench/img-" in s:
                names = now
                if first is None:
                    first = now
                break
        if names is None:
            raise RuntimeError("no fixture image name on screen within 20 s (run bench/fixture.sh):\n" + capture())
        time.sleep(2)
        c0, s0, a = cpu_ticks(pid), sched_ns(pid), time.time()
        time.sleep(10)
        c1, s1, b = cpu_ticks(pid), sched_ns(pid), time.time()
        return (first, names, (c1 - c0) / CLK / (b - a) * 100, (s1 - s0) / 1e9 / (b - a) * 100,
                rss_mb(pid), statistics.median(rtt))
    finally:
        if ctl:
            ctl.close()
        subprocess.run(["tmux", "send-keys", "-t", sess, "q"], capture_output=True)
        time.sleep(0.3)
        subprocess.run(["tmux", "kill-session", "-t", sess], capture_output=True)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    if not os.access(BIN, os.X_OK):
        sys.exit("build fndeck first: CGO_ENABLED=0 go build -o fndeck .")
    work = tempfile.mkdtemp(prefix="fndeck-start-")
    res = []
    for n in range(1, runs + 1):
        r = one(n, work)
        res.append(r)
        print("run %d: first frame %.0f ms, image names %.0f ms, idle CPU %.2f %% (schedstat %.2f %%), "
              "idle RSS %.1f MB (capture round trip %.1f ms)" % (n, *r))
        sys.stdout.flush()
    m = [statistics.median(x) for x in zip(*res)]
    print("median of %d: first frame %.0f ms, image names %.0f ms, idle CPU %.2f %% (schedstat %.2f %%), "
          "idle RSS %.1f MB (capture round trip %.1f ms; load %s)" % (runs, *m, open("/proc/loadavg").read().strip()))
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
