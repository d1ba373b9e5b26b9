#!/usr/bin/env bash
# Creates the benchmark fixture: N (default 300) distinct local images named
# fndeck-bench/img-NNN:latest on the current Docker engine. Each is a tiny
# imported filesystem with its own content, so each has its own image ID.
# Remove them with: bench/fixture.sh --remove
set -euo pipefail
n="${N:-300}"
if [ "${1:-}" = "--remove" ]; then
  docker images --format '{{.Repository}}:{{.Tag}}' | grep '^fndeck-bench/' | xargs -r docker rmi -f >/dev/null
  echo "removed the fixture images"
  exit 0
fi
have="$(docker images --format '{{.Repository}}' | grep -c '^fndeck-bench/' || true)"
if [ "$have" -ge "$n" ]; then
  echo "fixture present: $have images"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for i in $(seq -w 1 "$n"); do
  # each import reads its own directory: the imports run in the background
  # while the loop writes the next file
  mkdir "$work/$i"
  printf 'fixture image %s\n' "$i" >"$work/$i/id.txt"
  tar -C "$work/$i" -cf - id.txt | docker import --change "LABEL fndeck.bench=$i" - "fndeck-bench/img-$i:latest" >/dev/null &
  # a few imports at a time keeps dockerd responsive
  if (( 10#$i % 8 == 0 )); then wait; fi
done
wait
echo "fixture: $(docker images --format '{{.Repository}}' | grep -c '^fndeck-bench/') images"
