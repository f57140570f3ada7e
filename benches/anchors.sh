#!/usr/bin/env bash
# Side by side, in one run, as ratios: glasslog against PostgreSQL (write path: an append-only
# hash-chained audit table, synchronous_commit=on) and against nginx (read path: the same tiles
# served from files). Each comparison alternates the two systems ROUNDS times and reports
# medians. Needs root (PostgreSQL runs as its own user) and Debian's postgresql and
# nginx-light packages (installed if missing).
#   bash benches/anchors.sh            # ROUNDS=3 SECS=10 by default
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
command -v nginx >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light postgresql >/dev/null
}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
NAME=anchors; source benches/common.sh
NGINX_PID=
stop_anchors() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$W/pg/data" -m fast stop >/dev/null 2>&1 || true
}
cleanup_hooks+=(stop_anchors)

# glasslog, embedded default, its own data directory on the same disk as PostgreSQL's.
serve 18080
L() { "$T/loadgen" --url "$URL" --seconds "$SECS" "$@"; }

# PostgreSQL: a private cluster as the postgres user, durable commits.
mkdir -p "$W/pg" && chown postgres "$W/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$W/pg/data" -U postgres --auth=trust >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$W/pg/data" -l "$W/pg/log" -w -o \
  "-p 55432 -k $W/pg -c listen_addresses='' -c synchronous_commit=on -c fsync=on -c max_connections=200 -c shared_buffers=256MB" start >/dev/null
PSQL=(psql -q -h "$W/pg" -p 55432 -U postgres)
"${PSQL[@]}" -c "CREATE DATABASE bench" >/dev/null
"${PSQL[@]}" -d bench -f benches/anchors/pg_schema.sql >/dev/null
pgb() { pgbench -n -h "$W/pg" -p 55432 -U postgres -T "$SECS" -j 2 "$@" bench 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }

results="$W/results.jsonl"
for r in $(seq "$ROUNDS"); do
  echo "write round $r/$ROUNDS" >&2
  echo "{\"k\":\"gl_single\",\"v\":$(L --mode submit --connections 64 | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries_per_s"])')}" >>"$results"
  echo "{\"k\":\"pg_single\",\"v\":$(pgb -c 64 -f benches/anchors/pg_insert.sql)}" >>"$results"
  echo "{\"k\":\"gl_batch\",\"v\":$(L --mode batch --connections 16 --batch 100 | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries_per_s"])')}" >>"$results"
  echo "{\"k\":\"pg_batch\",\"v\":$(python3 -c "print(100*$(pgb -c 16 -f benches/anchors/pg_insert_batch.sql))")}" >>"$results"
done
PG_ROWS=$("${PSQL[@]}" -d bench -Atc "SELECT count(*) FROM audit_log")

# nginx: the first 1,000 full level-0 tiles (what loadgen's tile mode asks for), exported.
python3 - "$W/www" <<'PY'
import json, os, sys, urllib.request
root = sys.argv[1]
size = json.load(urllib.request.urlopen("http://127.0.0.1:18080/v1/log"))["tree_size"]
os.makedirs(f"{root}/tile/0", exist_ok=True)
os.makedirs(f"{root}/v1", exist_ok=True)
with open(f"{root}/v1/log", "w") as f:
    json.dump({"tree_size": size}, f)
for i in range(min(size // 256, 1000)):
    data = urllib.request.urlopen(f"http://127.0.0.1:18080/tile/0/{i:03d}").read()
    with open(f"{root}/tile/0/{i:03d}", "wb") as f:
        f.write(data)
PY
sed -e "s|ROOT|$W/www|" -e "s|PORT|18081|" -e "s|PIDFILE|$W/nginx.pid|" -e "s|ERRLOG|$W/nginx.err|" \
  benches/anchors/nginx.conf >"$W/nginx.conf"
chmod -R a+rX "$W/www"
nginx -c "$W/nginx.conf" &
NGINX_PID=$!
sleep 1
for r in $(seq "$ROUNDS"); do
  echo "read round $r/$ROUNDS" >&2
  echo "{\"k\":\"gl_tile\",\"v\":$(L --mode tile --connections 32 | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["requests_per_s"])')}" >>"$results"
  echo "{\"k\":\"nginx_tile\",\"v\":$("$T/loadgen" --url http://127.0.0.1:18081 --seconds "$SECS" --mode tile --connections 32 | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["requests_per_s"])')}" >>"$results"
done
GL_SIZE=$(tree_size)
# Footprint after a clean stop (memtables flushed, nothing left in the WAL) and after
# PostgreSQL's checkpoint, so neither counts its write-ahead log.
stop_server
GL_BYTES=$(du -sb "$W/data/db" | cut -f1)
"${PSQL[@]}" -d bench -c "CHECKPOINT" >/dev/null
PG_BYTES=$("${PSQL[@]}" -d bench -Atc "SELECT pg_total_relation_size('audit_log')")

python3 - "$results" "$GL_SIZE" "$GL_BYTES" "$PG_ROWS" "$PG_BYTES" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = {k: statistics.median([r["v"] for r in rows if r["k"] == k]) for k in {r["k"] for r in rows}}
runs = {k: [round(r["v"]) for r in rows if r["k"] == k] for k in med}
def line(what, a, b, unit):
    print(f"| {what} | {med[a]:,.0f} {unit} {runs[a]} | {med[b]:,.0f} {unit} {runs[b]} | {med[a]/med[b]:.2f}x |")
print("| workload | glasslog (median [runs]) | anchor (median [runs]) | glasslog / anchor |")
print("| --- | --- | --- | --- |")
line("single events, 64 connections (PostgreSQL: one INSERT per transaction)", "gl_single", "pg_single", "events/s")
line("batches of 100, 16 connections (PostgreSQL: 100-row INSERT per transaction)", "gl_batch", "pg_batch", "events/s")
line("level-0 tile GETs, 32 connections (nginx: same files)", "gl_tile", "nginx_tile", "req/s")
gl_size, gl_bytes, pg_rows, pg_bytes = map(int, sys.argv[2:])
print(f"\nOn disk after the write rounds and a clean stop: glasslog {gl_bytes/gl_size:,.0f} B/entry ({gl_size:,} entries), "
      f"PostgreSQL {pg_bytes/pg_rows:,.0f} B/row ({pg_rows:,} rows).")
PY
