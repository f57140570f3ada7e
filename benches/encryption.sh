#!/usr/bin/env bash
# What encryption at rest costs on ingest (#18): fresh RocksDB servers with [encryption] off
# and on, in alternating rounds, each loaded with the same COST_N audit events through the
# batch API (searchbench load: batches of 1,000, a skewed trail of actors, so many data keys),
# then SECS of single-entry submissions (loadgen, 16 connections). Prints the median of the
# rounds, side by side, and the bytes on disk per entry.
#   bash benches/encryption.sh              # COST_N=200000 SECS=8 ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
COST_N=${COST_N:-200000}
SECS=${SECS:-8}
ROUNDS=${ROUNDS:-3}
NAME=encryption; source benches/common.sh

mkdir -p "$W/keys"
"$T/glasslog" keygen --master-key "$W/keys/master.key" 2>/dev/null
: >"$W/off.toml"
printf '[encryption]\nmaster_key_file = "%s"\n' "$W/keys/master.key" >"$W/on.toml"

run() { # run off|on ROUND
  rm -rf "$W/data"
  serve 18093 --config "$W/$1.toml"
  "$T/searchbench" --url "$URL" load --entries "$COST_N" >"$W/load-$1-$2.json"
  stop_server # a clean stop flushes the memtables, so the bytes are on disk
  du -sb "$W/data/db" | cut -f1 >"$W/bytes-$1-$2"
  serve 18093 --config "$W/$1.toml"
  "${CLIENT_CPU[@]}" "$T/loadgen" --url "$URL" --mode submit --connections 16 --seconds "$SECS" >"$W/single-$1-$2.json"
  stop_server
}
for r in $(seq "$ROUNDS"); do run off "$r"; run on "$r"; done

python3 - "$W" "$COST_N" "$ROUNDS" <<'PY'
import json, statistics, sys
w, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = {}
for s in ("off", "on"):
    load = [json.load(open(f"{w}/load-{s}-{r}.json"))["entries_per_second"] for r in range(1, rounds + 1)]
    one = [json.load(open(f"{w}/single-{s}-{r}.json")) for r in range(1, rounds + 1)]
    rows[s] = {
        "batched": load,
        "single": [o["entries_per_s"] for o in one],
        "p99": [o["latency_ms"]["p99"] for o in one],
        "bytes": [int(open(f"{w}/bytes-{s}-{r}").read()) / n for r in range(1, rounds + 1)],
    }
m = {s: {k: statistics.median(v) for k, v in rows[s].items()} for s in rows}
print(f"{n} events per load, {rounds} rounds (off and on alternating); medians, with every round")
print(f"{'':28} {'off':>10} {'on':>10} {'on/off':>8}")
for k, label in (("batched", "batched ingest, entries/s"), ("single", "single-entry, entries/s")):
    print(f"{label:28} {m['off'][k]:>10.0f} {m['on'][k]:>10.0f} {m['on'][k] / m['off'][k]:>7.2f}x"
          f"   off {[round(x) for x in rows['off'][k]]}, on {[round(x) for x in rows['on'][k]]}")
print(f"{'single-entry p99, ms':28} {m['off']['p99']:>10.1f} {m['on']['p99']:>10.1f}")
print(f"{'disk per entry, bytes':28} {m['off']['bytes']:>10.0f} {m['on']['bytes']:>10.0f} "
      f"{m['on']['bytes'] - m['off']['bytes']:>+7.0f} B")
PY
