#!/usr/bin/env bash
# Builds a small but real rootfs that can run this machine's python3 under chroot: the interpreter,
# its shared libraries, the standard library and dist-packages (so the layer is much larger than
# what an import touches).
# Usage: make-python-rootfs.sh OUT_DIR
set -euo pipefail
out=$1
mkdir -p "$out/usr/bin" "$out/usr/lib" "$out/tmp" "$out/etc"
chmod 1777 "$out/tmp"
py=$(readlink -f /usr/bin/python3)
cp -a "$py" "$out/usr/bin/"
ln -s "$(basename "$py")" "$out/usr/bin/python3"
copy_libs() {
  ldd "$1" | awk '/=>/ {print $3} /^\s*\/lib/ {print $1}' | while read -r lib; do
    [ -n "$lib" ] && [ -e "$lib" ] || continue
    mkdir -p "$out$(dirname "$lib")"
    cp -aL "$lib" "$out$lib"
  done
}
copy_libs "$py"
for so in /usr/lib/python3.11/lib-dynload/*.so; do copy_libs "$so"; done
cp -a /usr/lib/python3.11 "$out/usr/lib/"
if [ -d /usr/lib/python3/dist-packages ]; then
  mkdir -p "$out/usr/lib/python3"
  cp -a /usr/lib/python3/dist-packages "$out/usr/lib/python3/"
fi
# Debian's ld.so expects /lib64 -> usr/lib64 style paths to resolve.
if [ ! -e "$out/lib64" ]; then mkdir -p "$out/lib64"; cp -aL /lib64/ld-linux-x86-64.so.2 "$out/lib64/"; fi
