#!/usr/bin/env bash
# Start-up figures of the real binary in tmux (issue 2): first frame, image
# names, idle CPU, idle RSS. The measuring is in bench/startup.py (a tmux
# control-mode client: a forked capture-pane per poll costs ~45 ms here, too
# coarse for a 50 ms budget). Usage: bench/startup.sh [RUNS] (default 7).
# Needs tmux >= 3.2, python3, the fixture (bench/fixture.sh) and ./fndeck.
set -euo pipefail
exec python3 "$(dirname "$0")/startup.py" "$@"
