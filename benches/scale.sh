#!/usr/bin/env bash
# Proof latency and footprint as the log grows: for each size, a fresh server is loaded through
# the batch API, then measured: proofs by index and by hash and tiles (loadgen), server RSS,
# bytes on disk per entry and per stored event, and restart time (SIGTERM, start, first
# "listening" line).
#   bash benches/scale.sh                 # SIZES="1000000 10000000" by default
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"1000000 10000000"}
ENTRY_BYTES=${ENTRY_BYTES:-128}
SECS=${SECS:-10}
NAME=scale; source benches/common.sh
for N in $SIZES; do
  rm -rf "$W/data"
  serve 18090
  load_start=$(date +%s)
  while have=$(tree_size) && [ "$have" -lt "$N" ]; do
    # Chunks sized to land near N (about 50,000 entries/s), never shorter than 2 s.
    chunk=$(( (N - have) / 50000 )); chunk=$(( chunk < 2 ? 2 : (chunk > 20 ? 20 : chunk) ))
    "$T/loadgen" --url "$URL" --mode batch --batch 1000 --connections 4 \
      --entry-bytes "$ENTRY_BYTES" --seconds "$chunk" >/dev/null
  done
  load_secs=$(( $(date +%s) - load_start ))
  have=$(tree_size)
  # Restart: a clean stop, then time to serve. RocksDB compacts in the background afterwards.
  stop_server
  serve 18090
  restart=$(cat "$W/started_in")
  sleep 5
  for mode in proof proof-by-hash tile; do
    "$T/loadgen" --url "$URL" --mode "$mode" --connections 32 --seconds "$SECS" \
      --server-pid "$PID" >"$W/$mode.json"
  done
  bytes=$(du -sb "$W/data/db" | cut -f1)
  # The payload is what the log stores per entry (the sanitized OCSF event in its envelope),
  # averaged over the first 256 entries.
  stored=$(curl -s -H "Authorization: Bearer $GLASSLOG_TOKEN" "$URL/v1/entries?start=0&end=256" |
    python3 -c 'import base64,json,sys; e=json.load(sys.stdin)["entries"]; print(round(sum(len(base64.b64decode(x["entry_base64"])) for x in e)/len(e)))')
  python3 - "$N" "$have" "$load_secs" "$restart" "$bytes" "$stored" "$W" <<'PY'
import json, sys
n, have, load_secs, restart, bytes_, entry, w = sys.argv[1:]
have, bytes_, entry = int(have), int(bytes_), int(entry)
r = {m: json.load(open(f"{w}/{m}.json")) for m in ("proof", "proof-by-hash", "tile")}
print(json.dumps({
    "entries": have, "load_s": int(load_secs), "load_entries_per_s": round(have / max(int(load_secs), 1)),
    "restart_s": float(restart), "stored_entry_bytes": entry,
    "disk_bytes_per_entry": round(bytes_ / have, 1),
    "rss_mib": round((r["proof"]["server_rss_kib"] or 0) / 1024),
    **{f"{m}_per_s": round(r[m]["requests_per_s"]) for m in r},
    **{f"{m}_p50_ms": r[m]["latency_ms"]["p50"] for m in r},
    **{f"{m}_p99_ms": r[m]["latency_ms"]["p99"] for m in r},
}))
PY
  stop_server
done
