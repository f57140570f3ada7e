#!/usr/bin/env bash
# Two builds of the server side by side on this machine, interleaved, so that a change's
# effect on ingest throughput is a ratio from one run rather than figures from two days:
#   bash benches/ab.sh OLD_BINARY NEW_BINARY [ROUNDS]      (default 4 rounds of 8 s each)
#   WORKLOADS="single batch tile proof" bash benches/ab.sh ...   (default: single batch; tile
#   and proof read the log the batch workload filled)
# Build the old one from a worktree at the base commit with its own target directory.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 rounds=${3:-4}
cargo build --release -q -p glasslog-benches --bin loadgen
L=${CARGO_TARGET_DIR:-target}/release/loadgen
for round in $(seq "$rounds"); do
  for which in old new; do
    bin=$old; [ "$which" = new ] && bin=$new
    d=$(mktemp -d)
    "$bin" serve --listen 127.0.0.1:0 --data-dir "$d/data" >"$d/out" 2>"$d/err" &
    pid=$!
    for _ in $(seq 100); do grep -q "listening on" "$d/out" 2>/dev/null && break; sleep 0.1; done
    url=$(sed -n 's/^glasslog: listening on //p' "$d/out")
    export GLASSLOG_TOKEN; GLASSLOG_TOKEN=$(cat "$d/data/admin.token")
    for name in ${WORKLOADS:-single batch}; do
      case $name in
        single) w="single|--mode submit --connections 64" ;;
        batch) w="batch|--mode batch --connections 16 --batch 100" ;;
        tile) w="tile|--mode tile --connections 32" ;;
        proof) w="proof|--mode proof --connections 32" ;;
        *) echo "unknown workload $name" >&2; exit 2 ;;
      esac
      # shellcheck disable=SC2086
      "$L" --url "$url" --seconds 8 --server-pid "$pid" ${w#*|} |
        python3 -c "import json,sys; d=json.load(sys.stdin); print('round $round $which ${w%%|*}: %d entries/s, p99 %.1f ms' % (d['entries_per_s'], d['latency_ms']['p99']))"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true; rm -rf "$d"
  done
done
