#!/usr/bin/env bash
# What publishing static tiles (publish_dir) costs ingest: the same server with and without it,
# alternating ROUNDS times in one run, batched and single-entry submissions on 16 connections.
#   bash benches/publish.sh    # ROUNDS=3 SECS=8
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}; SECS=${SECS:-8}
NAME=publish; source benches/common.sh
printf 'publish_dir = "%s"\n' "$W/public" > "$W/pub.toml"; : > "$W/plain.toml"
results="$W/r.jsonl"
for r in $(seq $ROUNDS); do for kind in plain pub; do for mode in batch submit; do
  rm -rf "$W/data" "$W/public"; serve 18099 --config "$W/$kind.toml"
  "$T/loadgen" --url "$URL" --seconds $SECS --mode $mode --connections 16 --batch 100 | python3 -c "import json,sys; d=json.load(sys.stdin); d['k']='$kind-$mode'; print(json.dumps(d))" >> "$results"
  stop_server
done; done; done
python3 - "$results" <<'PY'
import json,statistics,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
m=lambda k,f: statistics.median(f(r) for r in rows if r['k']==k)
for mode in ('batch','submit'):
    a=m(f'plain-{mode}',lambda r:r['entries_per_s']); b=m(f'pub-{mode}',lambda r:r['entries_per_s'])
    pa=m(f'plain-{mode}',lambda r:r['latency_ms']['p99']); pb=m(f'pub-{mode}',lambda r:r['latency_ms']['p99'])
    print(f"{mode}: plain {a:.0f}/s p99 {pa:.1f} ms; publishing {b:.0f}/s p99 {pb:.1f} ms; {b/a:.2f}x")
print('errors', sum(r['errors'] for r in rows))
PY
