#!/usr/bin/env bash
# Soak: find the server's closed-loop capacity for single submissions, then offer 80% of it
# open loop for SOAK_SECS (600 by default), printing throughput, errors and server RSS every
# 30 s. A leak shows as RSS that keeps climbing; an overload as errors or falling throughput.
#   bash benches/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECS=${SOAK_SECS:-600}
T=${CARGO_TARGET_DIR:-target}/release
cargo build --release -q -p glasslog -p glasslog-benches
W=$(mktemp -d /var/tmp/glasslog-soak.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$W"' EXIT
"$T/glasslog" serve --listen 127.0.0.1:18095 --data-dir "$W/data" --origin soak.example/log >"$W/out" 2>"$W/err" &
PID=$!
until grep -q 'listening on' "$W/out" 2>/dev/null; do sleep 0.05; done
export GLASSLOG_TOKEN; GLASSLOG_TOKEN=$(cat "$W/data/admin.token")
L() { "$T/loadgen" --url http://127.0.0.1:18095 --mode submit --connections 64 --server-pid "$PID" "$@"; }
cap=$(L --seconds 15 | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests_per_s"])')
rate=$(python3 -c "print(round(0.8 * $cap))")
echo "{\"capacity_per_s\": $cap, \"offered_per_s\": $rate, \"seconds\": $SOAK_SECS}"
L --seconds "$SOAK_SECS" --rate "$rate" --report-every 30
echo "{\"tree_size\": $(curl -s http://127.0.0.1:18095/v1/log | python3 -c 'import json,sys; print(json.load(sys.stdin)["tree_size"])'), \"disk_bytes\": $(du -sb "$W/data" | cut -f1)}"
