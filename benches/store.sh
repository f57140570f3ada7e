#!/usr/bin/env bash
# The same server on its embedded RocksDB and on PostgreSQL 15 (one node on this machine, a Unix
# socket, synchronous_commit=on, fsync=on), alternating ROUNDS times in one run: batched ingest
# (16 connections, 100 entries a request) and single-entry ingest (16 connections). Prints the
# medians and the PostgreSQL/RocksDB ratio. No replica here: a synchronous standby adds a
# network round trip to every commit.
#   bash benches/store.sh      # ROUNDS=3 SECS=10; needs root and postgresql (installed if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
  || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
NAME=store; source benches/common.sh
stop_pg() { runuser -u postgres -- "$PGBIN/pg_ctl" -D "$W/pg/data" -m fast stop >/dev/null 2>&1 || true; }
cleanup_hooks+=(stop_pg)
mkdir -p "$W/pg" && chown postgres "$W/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$W/pg/data" -U postgres --auth=trust >/dev/null
runuser -u postgres -- "${SERVER_CPU[@]}" "$PGBIN/pg_ctl" -D "$W/pg/data" -l "$W/pg/log" -w -o \
  "-p 55434 -k $W/pg -c listen_addresses='' -c synchronous_commit=on -c fsync=on -c shared_buffers=256MB" start >/dev/null
results="$W/results.jsonl"

# start STORE PORT: a server on RocksDB ("rocks") or on a fresh PostgreSQL database ("pg").
start() {
  rm -rf "$W/data"
  local extra=()
  if [ "$1" = pg ]; then
    local db="bench_$RANDOM$RANDOM"
    psql -q -h "$W/pg" -p 55434 -U postgres -c "CREATE DATABASE $db" >/dev/null
    extra=(--store "host=$W/pg port=55434 user=postgres dbname=$db")
  fi
  serve "$2" "${extra[@]}"
}

for r in $(seq "$ROUNDS"); do
  for store in rocks pg; do
    for mode in batch submit; do
      echo "round $r/$ROUNDS: $store, $mode" >&2
      start "$store" 18096
      "${CLIENT_CPU[@]}" "$T/loadgen" --url "$URL" --seconds "$SECS" --mode "$mode" --connections 16 --batch 100 \
        | python3 -c "import json,sys; d=json.load(sys.stdin); d['k']='$store-$mode'; print(json.dumps(d))" >>"$results"
      stop_server
    done
  done
done

python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(k, f):
    return statistics.median(f(r) for r in rows if r["k"] == k)
print(f"{'workload':<30}{'RocksDB':>12}{'PostgreSQL':>12}{'pg/rocks':>10}")
for mode, label in (("batch", "batched (100/request)"), ("submit", "single-entry")):
    for what, f in (("entries/s", lambda r: r["entries_per_s"]), ("p99 ms", lambda r: r["latency_ms"]["p99"])):
        a, b = med(f"rocks-{mode}", f), med(f"pg-{mode}", f)
        print(f"{f'{label}, {what}':<30}{a:>12.1f}{b:>12.1f}{b / a:>9.2f}x")
print(f"errors: {sum(r['errors'] for r in rows)}")
PY
