#!/usr/bin/env bash
# Builds the shared test images once per build tree (ctest fixtures, see CMakeLists.txt here).
# Usage: build-test-images.sh OUT_DIR fast|debian
#   fast:   OUT_DIR/busybox (tag v1, umoci, gzip layers; build-busybox-image.sh)
#           OUT_DIR/edge    (tag v1: busybox rootfs tar gzip + edge-case layer zstd)
#           OUT_DIR/multi   (Docker media types: v1 = manifest list of v1-amd64 and v1-arm64,
#                            layers: busybox rootfs gzip + a data layer uncompressed)
#   debian: OUT_DIR/debian  (tag bookworm; build-layered-image.sh, needs Debian's mirror)
# A set already built by the same version of these scripts is reused.
set -euo pipefail
here=$(dirname "$(realpath "$0")")
out=$1
set_name=$2
mkdir -p "$out"
stamp="$out/.$set_name-$(cat "$here"/*.sh "$here"/*.py | sha256sum | cut -c1-16)"
[ -e "$stamp" ] && exit 0
rm -f "$out/.$set_name-"*
case "$set_name" in
fast)
  rm -rf "$out/busybox" "$out/edge" "$out/multi"
  "$here/build-busybox-image.sh" "$out/busybox" v1
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/base/bin" "$work/base/etc" "$work/base/tmp" "$work/data/data"
  cp /bin/busybox "$work/base/bin/busybox"
  for applet in sh ls cat echo sleep sha256sum find stat wc head; do ln -sf busybox "$work/base/bin/$applet"; done
  echo "root:x:0:0:root:/root:/bin/sh" > "$work/base/etc/passwd"
  echo "motd" > "$work/base/etc/motd"
  echo "data" > "$work/data/data/file.txt"
  tar --numeric-owner --sort=name -C "$work/base" -cf "$work/base.tar" bin etc tmp
  tar --numeric-owner --sort=name -C "$work/data" -cf "$work/data.tar" data
  "$here/build-edge-layer.sh" "$work/edge.tar"
  python3 "$here/oci_layout_tool.py" image --out "$out/edge" --tag v1 --cmd /bin/cat --cmd /edge/small.txt \
    --layer "$work/base.tar:gzip" --layer "$work/edge.tar:zstd"
  for arch in amd64 arm64; do
    python3 "$here/oci_layout_tool.py" image --docker --out "$out/multi" --tag "v1-$arch" \
      --platform "linux/$arch" --cmd /bin/cat --cmd /data/file.txt \
      --layer "$work/base.tar:gzip" --layer "$work/data.tar:none"
  done
  python3 "$here/oci_layout_tool.py" index --docker --out "$out/multi" --tag v1 --member v1-amd64 --member v1-arm64
  ;;
debian)
  rm -rf "$out/debian"
  "$here/build-layered-image.sh" "$out/debian" bookworm
  ;;
*)
  echo "unknown image set $set_name (want fast or debian)" >&2
  exit 2
  ;;
esac
touch "$stamp"
