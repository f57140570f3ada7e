#!/usr/bin/env bash
# The HTTP figures of BENCHMARKS.md in one command: one fresh server, each workload run ROUNDS
# times (interleaved), medians printed as a Markdown table.
#   bash benches/http.sh              # ROUNDS=3 SECS=10
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
NAME=http; source benches/common.sh
serve 18085
L() { "$T/loadgen" --url "$URL" --seconds "$SECS" --server-pid "$PID" "$@"; }
workloads=(
  "batch, 100 per request, 16 connections|--mode batch --connections 16 --batch 100"
  "single entries, 64 connections|--mode submit --connections 64"
  "wait=checkpoint at 1,000/s|--mode wait --connections 64 --rate 1000"
  "wait=checkpoint at 5,000/s|--mode wait --connections 64 --rate 5000"
  "wait=checkpoint at 20,000/s|--mode wait --connections 64 --rate 20000"
  "inclusion proof by index, 32 connections|--mode proof --connections 32"
  "inclusion proof by leaf hash, 32 connections|--mode proof-by-hash --connections 32"
  "level-0 tile, 32 connections|--mode tile --connections 32"
  "mixed (40% single, 10% batch, 30% proof, 20% tile), 64 connections|--mode mixed --connections 64"
)
for r in $(seq "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  for w in "${workloads[@]}"; do
    # shellcheck disable=SC2086
    L ${w#*|} | python3 -c "import json,sys; d=json.load(sys.stdin); d['name']='''${w%%|*}'''; print(json.dumps(d))" >>"$W/results.jsonl"
  done
done
python3 - "$W/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
names = list(dict.fromkeys(r["name"] for r in rows))
print("| workload | entries/s (or requests/s) | p50 ms | p90 ms | p99 ms | p99.9 ms | errors | server RSS MiB |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for n in names:
    rs = [r for r in rows if r["name"] == n]
    med = lambda f: statistics.median(f(r) for r in rs)
    rate = med(lambda r: r["entries_per_s"])
    runs = ", ".join(f"{r['entries_per_s']:,.0f}" for r in rs)
    print(f"| {n} | {rate:,.0f} ({runs}) | {med(lambda r: r['latency_ms']['p50']):.2f} | "
          f"{med(lambda r: r['latency_ms']['p90']):.2f} | {med(lambda r: r['latency_ms']['p99']):.2f} | "
          f"{med(lambda r: r['latency_ms']['p99_9']):.2f} | {sum(r['errors'] for r in rs)} | "
          f"{max((r['server_rss_kib'] or 0) for r in rs) / 1024:.0f} |")
PY
