#!/usr/bin/env bash
# Measures the real binary in tmux at 160x48, as a person sees it:
#   first frame   - start until the screen shows fndeck's layout
#   image names   - start until a fixture image name is on screen
#   idle CPU      - % of one core over 10 s once loaded
#   idle RSS      - resident memory once loaded
# Usage: bench/startup.sh [RUNS] (default 7); prints each run and the median.
# Needs: tmux, a Docker engine with the fixture (bench/fixture.sh), and fndeck
# built at ./fndeck (CGO_ENABLED=0 go build -o fndeck .) or $FNDECK_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"
bin="${FNDECK_BIN:-$PWD/fndeck}"
[ -x "$bin" ] || { echo "build fndeck first: CGO_ENABLED=0 go build -o fndeck ." >&2; exit 2; }
export XDG_CONFIG_HOME="$(mktemp -d)" XDG_STATE_HOME="$(mktemp -d)"
ms() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
first=(); names=(); cpu=(); rss=()
for r in $(seq 1 "$runs"); do
  s="fndeck-bench-$$-$r"
  t0=$(ms)
  tmux new-session -d -s "$s" -x 160 -y 48 "$bin"
  t_first=""; t_names=""
  for _ in $(seq 1 4000); do
    screen="$(tmux capture-pane -p -t "$s" 2>/dev/null || true)"
    now=$(ms)
    if [ -z "$t_first" ] && grep -q 'Images' <<<"$screen"; then t_first=$now; fi
    if [ -z "$t_names" ] && grep -q 'fndeck-bench/img-' <<<"$screen"; then t_names=$now; break; fi
  done
  first+=($(( (t_first - t0) / 1000000 )))
  names+=($(( (t_names - t0) / 1000000 )))
  pid="$(tmux list-panes -t "$s" -F '#{pane_pid}')"
  sleep 2
  clk=$(getconf CLK_TCK)
  read -r u1 s1 < <(awk '{print $14, $15}' /proc/"$pid"/stat)
  sleep 10
  read -r u2 s2 < <(awk '{print $14, $15}' /proc/"$pid"/stat)
  cpu+=("$(awk -v a=$((u2+s2-u1-s1)) -v c="$clk" 'BEGIN {printf "%.2f", a/c/10*100}')")
  rss+=("$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/"$pid"/status)")
  tmux send-keys -t "$s" q
  sleep 0.3
  tmux kill-session -t "$s" 2>/dev/null || true
  echo "run $r: first frame ${first[-1]} ms, image names ${names[-1]} ms, idle CPU ${cpu[-1]} %, idle RSS ${rss[-1]} MB"
done
echo "median: first frame $(printf '%s\n' "${first[@]}" | median) ms," \
  "image names $(printf '%s\n' "${names[@]}" | median) ms," \
  "idle CPU $(printf '%s\n' "${cpu[@]}" | median) %," \
  "idle RSS $(printf '%s\n' "${rss[@]}" | median) MB"
