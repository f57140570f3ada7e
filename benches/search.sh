#!/usr/bin/env bash
# Search on a large log (#14): a server is loaded through the batch API with N audit events
# shaped like a real trail (searchbench), restarted, then timed on a mix of GET /v1/search
# queries. Then what the index costs: two fresh servers, search_index on and off, loaded with
# the same COST_N events one after the other, side by side: batched entries/s, bytes on disk,
# then single-entry submissions (loadgen, 16 connections, 8 s) on top.
# With STORE=pg the large log is on PostgreSQL 15 (one local node, as in benches/store.sh);
# the cost part stays on RocksDB.
#   bash benches/search.sh                  # N=1000000 COST_N=200000 SECS=20 CONNECTIONS=2
#   STORE=pg bash benches/search.sh         # needs root and postgresql (installed if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
COST_N=${COST_N:-200000}
SECS=${SECS:-20}
CONNECTIONS=${CONNECTIONS:-2}
STORE=${STORE:-rocks}
NAME=search; source benches/common.sh

store_args=()
if [ "$STORE" = pg ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
  stop_pg() { runuser -u postgres -- "$PGBIN/pg_ctl" -D "$W/pg/data" -m fast stop >/dev/null 2>&1 || true; }
  cleanup_hooks+=(stop_pg)
  mkdir -p "$W/pg" && chown postgres "$W/pg"
  runuser -u postgres -- "$PGBIN/initdb" -D "$W/pg/data" -U postgres --auth=trust >/dev/null
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$W/pg/data" -l "$W/pg/log" -w -o \
    "-p 55435 -k $W/pg -c listen_addresses='' -c synchronous_commit=on -c fsync=on -c shared_buffers=256MB" start >/dev/null
  store_args=(--store "host=$W/pg port=55435 user=postgres dbname=postgres")
fi

rm -rf "$W/data"
serve 18091 "${store_args[@]}"
"$T/searchbench" --url "$URL" load --entries "$N" >"$W/load.json"
# The rule the load's API keys were redacted under, read off the first redacted entry.
RULE=$(curl -s -H "Authorization: Bearer $GLASSLOG_TOKEN" "$URL/v1/entries?start=0&end=256" |
  python3 -c 'import json,re,sys; print(next(m.group(1) for e in json.load(sys.stdin)["entries"] for m in [re.search(r"\[REDACTED:([^:]+):", json.dumps(e["entry"]))] if m))')
stop_server
serve 18091 "${store_args[@]}"
sleep 5
"$T/searchbench" --url "$URL" query --seconds "$SECS" --connections "$CONNECTIONS" --rule "$RULE" >"$W/query.json"
size=$(tree_size)
stop_server

cost() { # cost on|off: loads COST_N into a fresh server; prints entries/s and bytes/entry
  rm -rf "$W/data"
  printf 'search_index = %s\n' "$([ "$1" = on ] && echo true || echo false)" >"$W/cost.toml"
  serve 18092 --config "$W/cost.toml"
  "$T/searchbench" --url "$URL" load --entries "$COST_N" >"$W/cost-$1.json"
  stop_server # a clean stop flushes the memtables, so the bytes are on disk
  du -sb "$W/data/db" | cut -f1 >"$W/cost-$1.bytes"
  serve 18092 --config "$W/cost.toml"
  "$T/loadgen" --url "$URL" --mode submit --connections 16 --seconds 8 >"$W/single-$1.json"
  stop_server
}
cost off
cost on

python3 - "$W" "$size" "$RULE" "$COST_N" "$STORE" <<'PY'
import json, sys
w, size, rule, cost_n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
load = json.load(open(f"{w}/load.json"))
q = json.load(open(f"{w}/query.json"))
print(f"log of {size} entries on {sys.argv[5]} (loaded at {load['entries_per_second']:.0f}/s); rule class: {rule}")
print(f"{'query':16} {'queries':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'matches':>8} {'cut':>5} {'steps':>8}")
for c in q["classes"]:
    print(f"{c['class']:16} {c['queries']:>8} {c['p50_ms']:>8.2f} {c['p99_ms']:>8.2f} {c['max_ms']:>8.2f} "
          f"{c['mean_matches']:>8.1f} {c['cut_by_budget']:>5} {c['mean_steps']:>8.0f}")
print(f"{'all':16} {q['queries']:>8} {q['p50_ms']:>8.2f} {q['p99_ms']:>8.2f}   ({q['connections']} connections)")
r = {s: json.load(open(f"{w}/cost-{s}.json"))["entries_per_second"] for s in ("off", "on")}
b = {s: int(open(f"{w}/cost-{s}.bytes").read()) / cost_n for s in ("off", "on")}
print(f"index cost over {cost_n} entries: ingest {r['off']:.0f}/s off, {r['on']:.0f}/s on "
      f"({r['on'] / r['off']:.2f}x); disk {b['off']:.0f} B/entry off, {b['on']:.0f} B/entry on "
      f"(+{b['on'] - b['off']:.0f} B)")
one = {s: json.load(open(f"{w}/single-{s}.json")) for s in ("off", "on")}
print(f"single-entry submissions (loadgen, 16 connections): {one['off']['entries_per_s']:.0f}/s off, "
      f"{one['on']['entries_per_s']:.0f}/s on ({one['on']['entries_per_s'] / one['off']['entries_per_s']:.2f}x); "
      f"p99 {one['off']['latency_ms']['p99']:.1f} ms off, {one['on']['latency_ms']['p99']:.1f} ms on")
PY
