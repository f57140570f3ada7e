#!/usr/bin/env bash
# Sets up what a fresh Debian machine lacks, builds glasslog, and starts the server with its
# embedded default: data in ./glasslog-data, listening on 127.0.0.1:8080. Extra arguments go
# to `glasslog serve` (for example --config glasslog.example.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang >/dev/null 2>&1 || ! ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1; then
  echo "installing clang and libclang-dev (RocksDB's bindings need them)" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq clang libclang-dev
fi
cargo build --release -p glasslog
exec "${CARGO_TARGET_DIR:-target}/release/glasslog" serve "$@"
