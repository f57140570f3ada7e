#!/usr/bin/env bash
# The project's checks, in the order CI runs them: formatting, lints with warnings denied, then
# every test. One build profile (release) serves all three, so RocksDB's C++ is compiled once.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets --locked -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Library, binary and integration tests (the crates have no doctests; benches run separately).
set +e
cargo test --release --workspace --locked --lib --bins --tests 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line with the totals over every test binary.
awk '/^test result:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed;/) p += $i; if ($(i+1) ~ /^failed;/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
