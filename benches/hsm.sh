#!/usr/bin/env bash
# What a checkpoint key in a PKCS#11 token costs ingest: the same server with its key in a file
# and in SoftHSM2, alternating ROUNDS times in one run, single-entry submissions with one
# connection (every append waits for its own checkpoint signature: the worst case) and with 16
# (appends share a batch and its one signature). Prints medians and the token/file ratio.
#   bash benches/hsm.sh        # ROUNDS=3 SECS=10; needs softhsm2 (installed if missing, as root)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
MODULE=/usr/lib/softhsm/libsofthsm2.so
[ -e "$MODULE" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq softhsm2 >/dev/null
NAME=hsm; source benches/common.sh
export SOFTHSM2_CONF="$W/softhsm2.conf"
mkdir -p "$W/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$W/tokens" >"$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 12345678 >/dev/null
printf '1234\n' >"$W/pin" && chmod 600 "$W/pin"
"$T/glasslog" keygen --name "$NAME.example/log" --pkcs11-module "$MODULE" --pkcs11-token bench \
  --pkcs11-key checkpoint --pkcs11-pin-file "$W/pin" >/dev/null
printf '[pkcs11]\nmodule = "%s"\ntoken_label = "bench"\nkey_label = "checkpoint"\npin_file = "%s"\n' \
  "$MODULE" "$W/pin" >"$W/token.toml"
: >"$W/file.toml"
results="$W/results.jsonl"

# start KIND PORT: a server with a fresh data directory, its key as KIND says.
start() { rm -rf "$W/data"; serve "$2" --config "$W/$1.toml"; }

for r in $(seq "$ROUNDS"); do
  for kind in file token; do
    for c in 1 16; do
      echo "round $r/$ROUNDS: $kind key, $c connection(s)" >&2
      start "$kind" 18095
      "${CLIENT_CPU[@]}" "$T/loadgen" --url "$URL" --seconds "$SECS" --mode submit --connections "$c" \
        | python3 -c "import json,sys; d=json.load(sys.stdin); d['k']='$kind-$c'; print(json.dumps(d))" >>"$results"
      stop_server
    done
  done
done

python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(k, f):
    return statistics.median(f(r) for r in rows if r["k"] == k)
print(f"{'workload':<28}{'file key':>14}{'token key':>14}{'token/file':>12}")
for c in (1, 16):
    for label, f in (("entries/s", lambda r: r["entries_per_s"]), ("p99 ms", lambda r: r["latency_ms"]["p99"])):
        a, b = med(f"file-{c}", f), med(f"token-{c}", f)
        print(f"{f'single, {c} conn, {label}':<28}{a:>14.1f}{b:>14.1f}{b / a:>11.2f}x")
errors = sum(r["errors"] for r in rows)
print(f"errors: {errors}")
PY
