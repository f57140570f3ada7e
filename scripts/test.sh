#!/usr/bin/env bash
# The project's checks, in the order CI runs them: formatting, lints with warnings denied, then
# every test. One build profile (release) serves all three, so RocksDB's C++ is compiled once.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets --locked -- -D warnings
cargo test --release --workspace --locked
