#!/usr/bin/env bash
# Builds a realistic OCI layout: a Debian 12 root filesystem from mmdebstrap (minbase + python3,
# .debs from Debian's mirror) split into layers with different compressions, plus an edge-case layer.
# Usage: build-layered-image.sh OUT_LAYOUT TAG
# Layers: 1 /usr without python (gzip), 2 python (zstd), 3 everything else (uncompressed tar),
#         4 build-edge-layer.sh (gzip). Needs root (mmdebstrap root mode, device nodes).
set -euo pipefail
here=$(dirname "$(realpath "$0")")
out=$1
tag=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mmdebstrap --quiet --variant=minbase --include=python3 --mode=root \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
  bookworm "$root" >"$work/mmdebstrap.log" 2>&1 || { cat "$work/mmdebstrap.log" >&2; exit 1; }
python_paths=(usr/lib/python3.11 usr/lib/python3 usr/bin/python3 usr/bin/python3.11)
pyargs=()
for p in "${python_paths[@]}"; do [ -e "$root/$p" ] || [ -L "$root/$p" ] && pyargs+=("$p"); done
excludes=()
for p in "${pyargs[@]}"; do excludes+=("--exclude=./$p"); done
tarflags=(--format=pax --xattrs --xattrs-include='*' --numeric-owner --sort=name -C "$root")
tar "${tarflags[@]}" "${excludes[@]}" -cf "$work/1-usr.tar" ./usr
tar "${tarflags[@]}" -cf "$work/2-python.tar" "${pyargs[@]/#/./}"
others=()
for e in "$root"/* "$root"/.[!.]*; do
  [ -e "$e" ] || [ -L "$e" ] || continue
  name=$(basename "$e")
  [ "$name" = usr ] || others+=("./$name")
done
tar "${tarflags[@]}" -cf "$work/3-rest.tar" "${others[@]}"
"$here/build-edge-layer.sh" "$work/4-edge.tar"
python3 "$here/oci_layout_tool.py" image --out "$out" --tag "$tag" --platform linux/amd64 \
  --cmd /bin/sh --cmd=-c --cmd 'python3 -c "print(\"hello from python\")"' \
  --layer "$work/1-usr.tar:gzip" --layer "$work/2-python.tar:zstd" --layer "$work/3-rest.tar:none" \
  --layer "$work/4-edge.tar:gzip"
