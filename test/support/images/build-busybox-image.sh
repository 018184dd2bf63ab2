#!/usr/bin/env bash
# Builds a small multi-layer OCI image from Debian's busybox-static into an OCI layout.
# Usage: build-busybox-image.sh OUT_LAYOUT_DIR [TAG]
# Layer 1: busybox and its applet links; layer 2: /data with text files; layer 3: a whiteout of
# /data/removed.txt and an extra file. The entrypoint prints "hello from tide".
set -euo pipefail
out=$1
tag=${2:-latest}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umoci init --layout "$out" >/dev/null 2>&1 || true
umoci new --image "$out:$tag"
umoci unpack --rootless --image "$out:$tag" "$work/b" >/dev/null
root="$work/b/rootfs"
mkdir -p "$root/bin" "$root/etc" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in sh ls cat echo sleep sha256sum find stat wc head; do ln -sf busybox "$root/bin/$applet"; done
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
umoci repack --image "$out:$tag" "$work/b" >/dev/null
rm -rf "$work/b"
umoci unpack --rootless --image "$out:$tag" "$work/b" >/dev/null
root="$work/b/rootfs"
mkdir -p "$root/data"
echo "hello from tide" > "$root/data/hello.txt"
echo "to be removed" > "$root/data/removed.txt"
head -c 3000000 /dev/urandom > "$root/data/random.bin"
umoci repack --image "$out:$tag" "$work/b" >/dev/null
rm -rf "$work/b"
umoci unpack --rootless --image "$out:$tag" "$work/b" >/dev/null
root="$work/b/rootfs"
rm "$root/data/removed.txt"
echo "third layer" > "$root/data/third.txt"
umoci repack --image "$out:$tag" "$work/b" >/dev/null
umoci config --image "$out:$tag" --config.entrypoint /bin/sh --config.cmd "-c" --config.cmd "cat /data/hello.txt" \
  --os linux --architecture amd64 >/dev/null
