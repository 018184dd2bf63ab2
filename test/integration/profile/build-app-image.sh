#!/usr/bin/env bash
# Builds the profile tests' image: the 3-layer busybox image plus a layer /app with four files
# that are big enough to get chunks of their own. The entrypoint reads /app/a then /app/c only,
# prints READY and stays up; a third argument replaces that shell command. A fourth, a static
# binary, is added as /tool together with a 48 MiB file /app/model of random bytes for it to map.
# Usage: build-app-image.sh OUT_LAYOUT_DIR TAG [SH_COMMAND [TOOL_BINARY]]
set -euo pipefail
out=$1
tag=$2
cmd=${3:-"cat /app/a /app/c > /dev/null; echo READY; sleep 60"}
tool=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
"$here/../../support/images/build-busybox-image.sh" "$out" "$tag" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umoci unpack --rootless --image "$out:$tag" "$work/b" >/dev/null
mkdir -p "$work/b/rootfs/app"
for f in a b c d; do head -c 700000 /dev/urandom > "$work/b/rootfs/app/$f"; done
if [ -n "$tool" ]; then
  cp "$tool" "$work/b/rootfs/tool"
  head -c $((48 << 20)) /dev/urandom > "$work/b/rootfs/app/model"
fi
umoci repack --image "$out:$tag" "$work/b" >/dev/null
umoci config --image "$out:$tag" --config.entrypoint /bin/sh --config.cmd "-c" \
  --config.cmd "$cmd" >/dev/null
