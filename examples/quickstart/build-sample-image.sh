#!/usr/bin/env bash
# Builds the quickstart's sample image into an OCI layout: the busybox test image plus a layer of
# "model weights" (incompressible, 256 MiB by default) that the entrypoint never reads, the way an
# inference image carries far more than its startup touches.
# Usage: build-sample-image.sh OUT_LAYOUT [TAG] [WEIGHTS_MIB]
set -euo pipefail
out=$1
tag=${2:-latest}
weights_mib=${3:-256}
here=$(cd "$(dirname "$0")" && pwd)
"$here/../../test/support/images/build-busybox-image.sh" "$out" "$tag"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umoci unpack --rootless --image "$out:$tag" "$work/b" >/dev/null
mkdir -p "$work/b/rootfs/models"
head -c "$((weights_mib * 1024 * 1024))" /dev/urandom > "$work/b/rootfs/models/weights.bin"
umoci repack --image "$out:$tag" "$work/b" >/dev/null
umoci config --image "$out:$tag" --config.entrypoint /bin/sh --config.cmd "-c" \
  --config.cmd "cat /data/hello.txt; ls -l /models" >/dev/null
