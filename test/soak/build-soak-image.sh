#!/usr/bin/env bash
# Builds the soak test's image (soak_tree.py) as an OCI layout, and its file manifest.
# Usage: build-soak-image.sh OUT_LAYOUT TAG SCALE MANIFEST_OUT
set -euo pipefail
here=$(dirname "$(realpath "$0")")
out=$1
tag=$2
scale=$3
manifest=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/soak_tree.py" --out "$work/tree" --scale "$scale"
tarflags=(--format=pax --numeric-owner --owner=0 --group=0 --sort=name)
for layer in 1-base 2-runtime 3-devel 4-app; do
  tar "${tarflags[@]}" -C "$work/tree/$layer" -cf "$work/$layer.tar" .
done
python3 "$here/../support/images/oci_layout_tool.py" image --out "$out" --tag "$tag" --platform linux/amd64 \
  --cmd /bin/sh --cmd=-c --cmd 'cat /app/server.py >/dev/null' \
  --layer "$work/1-base.tar:gzip" --layer "$work/2-runtime.tar:gzip" --layer "$work/3-devel.tar:zstd" \
  --layer "$work/4-app.tar:gzip"
cp "$work/tree/files.sha256" "$manifest"
