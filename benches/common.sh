# Sourced by the benchmark scripts: build once, a scratch directory removed on exit, and one
# glasslog server at a time.
#   NAME=scale; source benches/common.sh; serve 18090 && ... ; stop_server
set -euo pipefail
T=${CARGO_TARGET_DIR:-target}/release
cargo build --release -q -p glasslog -p glasslog-benches
W=$(mktemp -d "/var/tmp/glasslog-$NAME.XXXXXX")
chmod 755 "$W"
PID=
stop_server() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true; fi
  PID=
}
cleanup_hooks=()
on_exit() {
  stop_server
  for h in "${cleanup_hooks[@]}"; do "$h"; done
  rm -rf "$W"
}
trap on_exit EXIT

# With PIN=1 the server (and any anchor) runs on CPU 0 and the load generator on CPU 1, so
# the figures show how much of the shared ones the generator costs.
SERVER_CPU=(); CLIENT_CPU=()
if [ "${PIN:-0}" = 1 ]; then SERVER_CPU=(taskset -c 0); CLIENT_CPU=(taskset -c 1); fi

# serve PORT [ARGS...]: starts a server on 127.0.0.1:PORT with its data in $W/data (and ARGS
# for `glasslog serve`), waits until it listens (or fails with its stderr), sets PID, URL and
# GLASSLOG_TOKEN, and writes the seconds it took to $W/started_in.
serve() {
  local t0; t0=$(date +%s.%N)
  : >"$W/out"
  "${SERVER_CPU[@]}" "$T/glasslog" serve --listen "127.0.0.1:$1" --data-dir "$W/data" --origin "$NAME.example/log" \
    "${@:2}" >"$W/out" 2>>"$W/err" &
  PID=$!
  until grep -q 'listening on' "$W/out" 2>/dev/null; do
    kill -0 "$PID" 2>/dev/null || { cat "$W/err" >&2; exit 1; }
    sleep 0.01
  done
  python3 -c "print(f'{$(date +%s.%N) - $t0:.2f}')" >"$W/started_in"
  URL="http://127.0.0.1:$1"
  export GLASSLOG_TOKEN; GLASSLOG_TOKEN=$(cat "$W/data/admin.token")
}

# tree_size: the served log's size.
tree_size() { curl -s "$URL/v1/log" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tree_size"])'; }
