#!/usr/bin/env bash
# Issue #16's targets in one command. Each glasslog workload alternates with its anchor ROUNDS
# times on this machine (glasslog, then the anchor, then glasslog ...), and the table printed
# at the end holds the medians, their ratio, the goal, and whether it is met. Only the ratios
# compare across runs: the machine is shared.
#   bash benches/targets.sh            # ROUNDS=3 SECS=10
#   PIN=1 bash benches/targets.sh      # load generators on CPU 1, servers on CPU 0
# Anchors: PostgreSQL 15 plain batched inserts (synchronous_commit=on, fsync=on; pgbench, a C
# client, so cheaper per request than loadgen), and nginx serving a 1 KiB file and the log's
# own 8 KiB level-0 tiles exported to files. Needs root; installs postgresql and nginx-light.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
command -v nginx >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light postgresql >/dev/null
}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
NAME=targets; source benches/common.sh
NGINX_PID=
stop_anchors() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$W/pg/data" -m fast stop >/dev/null 2>&1 || true
}
cleanup_hooks+=(stop_anchors)
results="$W/results.jsonl"
# run KEY CMD...: one measurement, its JSON line tagged with KEY.
run() {
  local k=$1; shift
  "$@" | python3 -c "import json,sys; d=json.load(sys.stdin); d['k']='$k'; print(json.dumps(d))" >>"$results"
}
L() { "${CLIENT_CPU[@]}" "$T/loadgen" --url "$URL" --seconds "$SECS" --server-pid "$PID" "$@"; }

serve 18086

mkdir -p "$W/pg" && chown postgres "$W/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$W/pg/data" -U postgres --auth=trust >/dev/null
runuser -u postgres -- "${SERVER_CPU[@]}" "$PGBIN/pg_ctl" -D "$W/pg/data" -l "$W/pg/log" -w -o \
  "-p 55433 -k $W/pg -c listen_addresses='' -c synchronous_commit=on -c fsync=on -c max_connections=200 -c shared_buffers=256MB" start >/dev/null
PSQL=(psql -q -h "$W/pg" -p 55433 -U postgres)
"${PSQL[@]}" -c "CREATE DATABASE bench" >/dev/null
"${PSQL[@]}" -d bench -f benches/anchors/pg_plain.sql >/dev/null
# pgbench's tps, as a loadgen-shaped JSON line (100 entries per transaction).
pg_batch() {
  local tps
  tps=$("${CLIENT_CPU[@]}" pgbench -n -h "$W/pg" -p 55433 -U postgres -T "$SECS" -j 2 -c 16 \
    -f benches/anchors/pg_plain_batch.sql bench 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
  echo "{\"k\":\"pg_batch\",\"entries_per_s\":$(python3 -c "print(100*$tps)"),\"latency_ms\":null}" >>"$results"
}

for r in $(seq "$ROUNDS"); do
  echo "write round $r/$ROUNDS" >&2
  run gl_batch L --mode batch --connections 16 --batch 100
  pg_batch
done

# nginx: a 1 KiB file and the first 1,000 full level-0 tiles (the paths loadgen's tile mode
# asks for), exported from the log as it stands after the write rounds.
python3 - "$W/www" "$URL" <<'PY'
import json, os, sys, urllib.request
root, url = sys.argv[1], sys.argv[2]
size = json.load(urllib.request.urlopen(f"{url}/v1/log"))["tree_size"]
os.makedirs(f"{root}/tile/0", exist_ok=True)
os.makedirs(f"{root}/v1", exist_ok=True)
with open(f"{root}/v1/log", "w") as f:
    json.dump({"tree_size": size}, f)
with open(f"{root}/event1k", "wb") as f:
    f.write(b"x" * 1024)
for i in range(min(size // 256, 1000)):
    data = urllib.request.urlopen(f"{url}/tile/0/{i:03d}").read()
    with open(f"{root}/tile/0/{i:03d}", "wb") as f:
        f.write(data)
PY
sed -e "s|ROOT|$W/www|" -e "s|PORT|18087|" -e "s|PIDFILE|$W/nginx.pid|" -e "s|ERRLOG|$W/nginx.err|" \
  benches/anchors/nginx.conf >"$W/nginx.conf"
chmod -R a+rX "$W/www"
"${SERVER_CPU[@]}" nginx -c "$W/nginx.conf" &
NGINX_PID=$!
sleep 1
N() { "${CLIENT_CPU[@]}" "$T/loadgen" --url http://127.0.0.1:18087 --seconds "$SECS" "$@"; }

for r in $(seq "$ROUNDS"); do
  echo "read and submit round $r/$ROUNDS" >&2
  run gl_single L --mode submit --connections 64
  run nginx_1k N --mode get --path /event1k --connections 64
  run gl_wait5k L --mode wait --connections 64 --rate 5000
  run gl_proof L --mode proof --connections 32
  run nginx_8k N --mode tile --connections 32
  run gl_tile L --mode tile --connections 32
done

python3 - "$results" "${PIN:-0}" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(k, f):
    return statistics.median(f(r) for r in rows if r["k"] == k)
rate = lambda k: med(k, lambda r: r["entries_per_s"])
runs = lambda k: "/".join(f"{r['entries_per_s']/1000:.1f}k" for r in rows if r["k"] == k)
p = lambda k, q: med(k, lambda r: r["latency_ms"][q])
print(f"load generator {'pinned to CPU 1, servers on CPU 0' if sys.argv[2] == '1' else 'sharing both CPUs'}; medians of {len([r for r in rows if r['k'] == 'gl_batch'])} rounds")
print()
print("| target | glasslog (runs) | anchor (runs) | ratio | goal | met |")
print("| --- | --- | --- | --- | --- | --- |")
def line(what, gl, anchor, goal, ok):
    print(f"| {what} | {rate(gl):,.0f}/s ({runs(gl)}) | {rate(anchor):,.0f}/s ({runs(anchor)}) | "
          f"{rate(gl)/rate(anchor):.2f}x | {goal} | {'yes' if ok else '**no**'} |")
b = rate("gl_batch") / rate("pg_batch")
line("batched ingest, 100 per request, 16 connections / PostgreSQL plain 100-row inserts",
     "gl_batch", "pg_batch", ">= 100,000/s or >= 0.85x", rate("gl_batch") >= 100_000 or b >= 0.85)
s = rate("gl_single") / rate("nginx_1k")
line(f"single submissions, 64 connections, p99 {p('gl_single','p99'):.1f} ms / nginx 1 KiB file",
     "gl_single", "nginx_1k", ">= 0.45x, p99 <= 10 ms", s >= 0.45 and p("gl_single", "p99") <= 10)
for k, what in (("gl_proof", "inclusion proofs by index"), ("gl_tile", "level-0 tiles")):
    r = rate(k) / rate("nginx_8k")
    line(f"{what}, 32 connections, p99 {p(k,'p99'):.2f} ms / nginx 8 KiB tile files",
         k, "nginx_8k", ">= 0.8x, p99 <= 2 ms", r >= 0.8 and p(k, "p99") <= 2)
w50, w99 = p("gl_wait5k", "p50"), p("gl_wait5k", "p99")
print(f"| submit to signed checkpoint at 5,000/s offered ({rate('gl_wait5k'):,.0f}/s achieved) | "
      f"p50 {w50:.2f} ms, p99 {w99:.2f} ms | | | p50 <= 5 ms, p99 <= 25 ms | {'yes' if w50 <= 5 and w99 <= 25 else '**no**'} |")
PY
