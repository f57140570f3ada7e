#!/usr/bin/env bash
# Soak: find the server's closed-loop capacity for single submissions, then offer 80% of it
# open loop for SOAK_SECS (600 by default), printing throughput, errors and server RSS every
# 30 s. A leak shows as RSS that keeps climbing; an overload as errors or falling throughput.
#   bash benches/soak.sh
#   MODE=wait RATE=5000 bash benches/soak.sh   # issue #16: submit to signed checkpoint at 5k/s
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECS=${SOAK_SECS:-600}
NAME=soak; source benches/common.sh
serve 18095
MODE=${MODE:-submit}
L() { "${CLIENT_CPU[@]}" "$T/loadgen" --url "$URL" --mode "$MODE" --connections 64 --server-pid "$PID" "$@"; }
if [ -n "${RATE:-}" ]; then
  cap=null rate=$RATE
else
  cap=$(L --seconds 15 | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests_per_s"])')
  rate=$(python3 -c "print(round(0.8 * $cap))")
fi
echo "{\"capacity_per_s\": $cap, \"offered_per_s\": $rate, \"seconds\": $SOAK_SECS}"
L --seconds "$SOAK_SECS" --rate "$rate" --report-every 30
echo "{\"tree_size\": $(tree_size), \"disk_bytes\": $(du -sb "$W/data" | cut -f1)}"
