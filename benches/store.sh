#!/usr/bin/env bash
# The same server on its embedded RocksDB, on PostgreSQL 15 (one node on this machine, a Unix
# socket, synchronous_commit=on, fsync=on), and on the replicated cluster of
# deploy/cluster/cluster.sh (three PostgreSQL under Patroni on etcd, synchronous_mode, so every
# commit waits for a synchronous standby over loopback TCP), alternating ROUNDS times in one
# run: batched ingest (16 connections, 100 entries a request) and single-entry ingest (16
# connections). Prints the medians and each store's ratio to RocksDB.
#   bash benches/store.sh      # ROUNDS=3 SECS=10 STORES="rocks pg cluster"; needs root,
#                              # postgresql, and patroni etcd-server for the cluster
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
STORES=${STORES:-rocks pg cluster}
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
CLUSTER_URL=
if [[ " $STORES " == *" cluster "* ]]; then
  stop_cluster() { bash deploy/cluster/cluster.sh down "$W/cluster" >/dev/null 2>&1 || true; }
  cleanup_hooks+=(stop_cluster)
  bash deploy/cluster/cluster.sh up "$W/cluster" 15600 >/dev/null
  CLUSTER_URL=$(source "$W/cluster/env" && echo "$GLASSLOG_PG_URL")
fi
results="$W/results.jsonl"

# start STORE PORT: a server on RocksDB ("rocks"), or on a fresh database on the one node
# ("pg") or on the cluster ("cluster").
start() {
  rm -rf "$W/data"
  local extra=()
  DB="bench_$RANDOM$RANDOM"
  if [ "$1" = pg ]; then
    psql -q -h "$W/pg" -p 55434 -U postgres -c "CREATE DATABASE $DB" >/dev/null
    extra=(--store "host=$W/pg port=55434 user=postgres dbname=$DB")
  elif [ "$1" = cluster ]; then
    psql -q "${CLUSTER_URL/\/glasslog\?//postgres?}" -c "CREATE DATABASE $DB" >/dev/null
    extra=(--store "${CLUSTER_URL/\/glasslog\?//$DB?}")
  fi
  serve "$2" "${extra[@]}"
}

for r in $(seq "$ROUNDS"); do
  for store in $STORES; do
    for mode in batch submit; do
      echo "round $r/$ROUNDS: $store, $mode" >&2
      start "$store" 18096
      "${CLIENT_CPU[@]}" "$T/loadgen" --url "$URL" --seconds "$SECS" --mode "$mode" --connections 16 --batch 100 \
        >"$W/run.json"
      # Bytes stored per entry after the batched run: the database's size, or RocksDB's
      # directory once a clean stop has flushed its memtables.
      n=$(tree_size)
      case $store in
      pg) bytes=$(psql -Atq -h "$W/pg" -p 55434 -U postgres -c "SELECT pg_database_size('$DB')") ;;
      cluster) bytes=$(psql -Atq "${CLUSTER_URL/\/glasslog\?//postgres?}" -c "SELECT pg_database_size('$DB')") ;;
      esac
      stop_server
      [ "$store" = rocks ] && bytes=$(du -sb "$W/data/db" | cut -f1)
      python3 -c "import json,sys; d=json.load(open('$W/run.json')); d['k']='$store-$mode'; d['bytes_per_entry']=$bytes/max($n,1); print(json.dumps(d))" >>"$results"
    done
  done
done

python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(k, f):
    return statistics.median(f(r) for r in rows if r["k"] == k)
stores = [s for s in ("rocks", "pg", "cluster") if any(r["k"].startswith(s + "-") for r in rows)]
names = {"rocks": "RocksDB", "pg": "PostgreSQL", "cluster": "cluster"}
print(f"{'workload':<30}" + "".join(f"{names[s]:>12}" for s in stores)
      + "".join(f"{s + '/rocks':>14}" for s in stores[1:]))
for mode, label in (("batch", "batched (100/request)"), ("submit", "single-entry")):
    for what, f in (("entries/s", lambda r: r["entries_per_s"]), ("p99 ms", lambda r: r["latency_ms"]["p99"])):
        v = [med(f"{s}-{mode}", f) for s in stores]
        print(f"{f'{label}, {what}':<30}" + "".join(f"{x:>12.1f}" for x in v)
              + "".join(f"{x / v[0]:>13.2f}x" for x in v[1:]))
v = [med(f"{s}-batch", lambda r: r["bytes_per_entry"]) for s in stores]
print(f"{'stored bytes per entry':<30}" + "".join(f"{x:>12.0f}" for x in v)
      + "".join(f"{x / v[0]:>13.2f}x" for x in v[1:]))
print(f"errors: {sum(r['errors'] for r in rows)}")
PY
