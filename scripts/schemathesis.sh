#!/usr/bin/env bash
# Property-based API testing: schemathesis generates requests from api/openapi.yaml against a
# live server on a free loopback port, and fails on any 5xx or any response that breaks the
# schema. Run after a release build (scripts/test.sh builds one).
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS_VERSION=4.32.5
if ! command -v schemathesis >/dev/null 2>&1 || ! schemathesis --version | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m pip install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
BIN="${CARGO_TARGET_DIR:-target}/release/glasslog"
[ -x "$BIN" ] || cargo build --release -p glasslog
DATA=$(mktemp -d)
OUT="$DATA/server.out"
"$BIN" serve --listen 127.0.0.1:0 --data-dir "$DATA/data" --origin schemathesis.example/log >"$OUT" 2>"$DATA/server.err" &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do grep -q 'listening on' "$OUT" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^glasslog: listening on //p' "$OUT")
TOKEN=$(cat "$DATA/data/admin.token")
# Some entries, so that proofs, tiles and entries have something to answer.
python3 - "$URL" "$TOKEN" <<'PY'
import sys, urllib.request
url, token = sys.argv[1], sys.argv[2]
body = b'[{"actor":"a","action":"create"},{"actor":"b","action":"read"},"text entry"]'
req = urllib.request.Request(url + "/v1/entries/batch", data=body, method="POST",
    headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
urllib.request.urlopen(req).read()
PY
schemathesis run api/openapi.yaml --url "$URL" -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-50}" --generation-deterministic
kill -0 "$PID"   # the server is still up
