#!/usr/bin/env bash
# Builds the power-loss test's guest: an initramfs holding busybox, the glasslog binary under
# test (stripped), its shared libraries, libeatmydata (for the run with sync turned off) and
# the kernel modules for a virtio disk, a virtio NIC and ext4.
#
#   tests/powerloss/initramfs.sh KERNEL_DIR GLASSLOG_BINARY OUT.cpio
#
# KERNEL_DIR is an unpacked Debian kernel package (boot/vmlinuz-*, lib/modules/*), as
# scripts/vm-kernel.sh leaves it.
set -euo pipefail
kernel_dir=$1 binary=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
release=$(basename "$(ls -d "$kernel_dir"/lib/modules/*/ | head -1)")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,dev,proc,sys,data,tmp,lib/modules/"$release"}
cp "$(command -v busybox)" "$root/bin/busybox"
strip -o "$root/bin/glasslog" "$binary"
# The binary's libraries and the loader, at the paths it was linked against.
for lib in $(ldd "$binary" | awk '$3 ~ /^\// {print $3} $1 ~ /^\// {print $1}') \
  /usr/lib/x86_64-linux-gnu/libeatmydata.so.1; do
  real=$(readlink -f "$lib")
  mkdir -p "$root$(dirname "$lib")"
  cp "$real" "$root$lib"
done
# Only the modules the guest loads, with a modules.dep for busybox's modprobe.
modules=(virtio_pci virtio_blk virtio_net crc32c_generic ext4)
src="$kernel_dir/lib/modules/$release"
: > "$root/lib/modules/$release/modules.dep"
for m in "${modules[@]}"; do
  line=$(grep -E "/$m\.ko:" "$src/modules.dep")
  for ko in ${line/:/}; do
    mkdir -p "$root/lib/modules/$release/$(dirname "$ko")"
    cp "$src/$ko" "$root/lib/modules/$release/$ko"
    grep -E "^$ko:" "$src/modules.dep" >> "$root/lib/modules/$release/modules.dep"
  done
done
sort -u -o "$root/lib/modules/$release/modules.dep" "$root/lib/modules/$release/modules.dep"
sed "s/@MODULES@/${modules[*]}/" "$here/init" > "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) > "$out"
