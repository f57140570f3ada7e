#!/usr/bin/env bash
# Scores the default detectors on the external development set in ../shared/secrets-dev/
# (detect-secrets' and CredSweeper's own labelled test cases), with that set's own scorer.
# Usage: benches/secrets/devset.sh [--top N]   (prints recall, full cover and fp rates)
set -euo pipefail
cd "$(dirname "$0")/../.."
dev=../shared/secrets-dev
[ -f "$dev/peer-dev.jsonl" ] || { echo "no $dev/peer-dev.jsonl" >&2; exit 1; }
cargo build --release --quiet -p glasslog-ingest --example findings
bin="${CARGO_TARGET_DIR:-target}/release/examples/findings"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bin" < "$dev/peer-dev.jsonl" > "$out"
python3 "$dev/score.py" "$out" --corpus "$dev/peer-dev.jsonl" "$@"
