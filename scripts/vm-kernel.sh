#!/usr/bin/env bash
# Fetches Debian's current kernel package and unpacks it (no install, no initramfs hooks) for
# the power-loss test's virtual machine, then prints the directory to pass as
# GLASSLOG_VM_KERNEL_DIR. Needs apt-get (download only), dpkg-deb and depmod (package kmod).
#
#   scripts/vm-kernel.sh [DIR]        (default: ../vm-kernel beside the clone)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-../vm-kernel}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if ! ls "$dir"/boot/vmlinuz-* >/dev/null 2>&1; then
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  work=$(mktemp -d)
  chmod 755 "$work"   # apt-get download drops privileges to _apt
  (cd "$work" && apt-get download -qq "$pkg")
  dpkg-deb -x "$work"/*.deb "$dir"
  rm -rf "$work"
  release=$(basename "$(ls -d "$dir"/lib/modules/*/ | head -1)")
  depmod -b "$dir" "$release"
fi
echo "$dir"
