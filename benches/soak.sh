#!/usr/bin/env bash
# Soak: find the server's closed-loop capacity for single submissions, then offer 80% of it
# open loop for SOAK_SECS (600 by default), printing throughput, errors and server RSS every
# 30 s. A leak shows as RSS that keeps climbing; an overload as errors or falling throughput.
#   bash benches/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECS=${SOAK_SECS:-600}
NAME=soak; source benches/common.sh
serve 18095
L() { "$T/loadgen" --url "$URL" --mode submit --connections 64 --server-pid "$PID" "$@"; }
cap=$(L --seconds 15 | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests_per_s"])')
rate=$(python3 -c "print(round(0.8 * $cap))")
echo "{\"capacity_per_s\": $cap, \"offered_per_s\": $rate, \"seconds\": $SOAK_SECS}"
L --seconds "$SOAK_SECS" --rate "$rate" --report-every 30
echo "{\"tree_size\": $(tree_size), \"disk_bytes\": $(du -sb "$W/data" | cut -f1)}"
