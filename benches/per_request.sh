#!/usr/bin/env bash
# Instructions per request under callgrind, which do not move with the machine's load: a
# server run answering N requests minus one answering none, divided by N. Each binary gets a
# copy of the same 10,000-entry log.
#   bash benches/per_request.sh BINARY [BINARY ...]        (N=1000; WHAT="proof tile")
set -euo pipefail
N=${N:-1000}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
start() { # binary data-dir [valgrind...]: sets $pid and $port
  local out=$2.out
  "${@:3}" "$1" serve --listen 127.0.0.1:0 --data-dir "$2" --origin localhost/glasslog >"$out" 2>"$2.err" &
  pid=$!
  for _ in $(seq 600); do grep -q "listening on" "$out" 2>/dev/null && break; sleep 0.2; done
  port=$(sed -n 's/^glasslog: listening on http:\/\/127.0.0.1://p' "$out")
}
start "$1" "$W/seed"
python3 - "$port" "$(cat "$W/seed/admin.token")" <<'PY'
import json, sys, urllib.request
port, token = sys.argv[1], sys.argv[2]
for b in range(20):
    items = [{"actor": f"a{b}-{i}", "action": "x"} for i in range(500)]
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/entries/batch", data=json.dumps(items).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
PY
kill -TERM "$pid"; wait "$pid" || true
for bin in "$@"; do
  for what in ${WHAT:-proof tile}; do
    total=()
    for n in 0 "$N"; do
      rm -rf "$W/d"; cp -r "$W/seed" "$W/d"
      start "$bin" "$W/d" valgrind --tool=callgrind --callgrind-out-file="$W/cg.out"
      python3 - "$port" "$n" "$what" <<'PY'
import http.client, sys
port, n, what = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for i in range(n):
    path = f"/v1/proofs/inclusion?index={(i * 37) % 10000}&tree_size=10000" if what == "proof" else f"/tile/0/{(i * 7) % 39:03d}"
    c.request("GET", path)
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
      kill -TERM "$pid"; wait "$pid" || true
      total+=("$(sed -n 's/^summary: //p' "$W/cg.out")")
    done
    echo "$bin $what: $(( (total[1] - total[0]) / N )) instructions per request"
  done
done
