#!/usr/bin/env bash
# Builds the sandbox tests' image: the busybox image plus a layer with the escape probe at /probe
# and what a hostile image may put where tidectl looks before starting it: /etc/passwd a symlink
# to /dev/zero, /etc/group a fifo, /dev a symlink to a host path; its entrypoint prints terminal
# escape sequences (clear the screen, set the title) before READY.
# Usage: build-hostile-image.sh OUT_LAYOUT_DIR TAG PROBE_BINARY
set -euo pipefail
out=$1
tag=$2
probe=$3
here=$(cd "$(dirname "$0")" && pwd)
"$here/../../support/images/build-busybox-image.sh" "$out" "$tag" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umoci unpack --rootless --image "$out:$tag" "$work/b" >/dev/null
root="$work/b/rootfs"
cp "$probe" "$root/probe"
rm -f "$root/etc/passwd"
ln -s /dev/zero "$root/etc/passwd"
mkfifo "$root/etc/group"
rm -rf "$root/dev"
ln -s /tmp "$root/dev"
umoci repack --image "$out:$tag" "$work/b" >/dev/null
umoci config --image "$out:$tag" --config.entrypoint /bin/sh --config.cmd "-c" \
  --config.cmd "printf '\\033[2J\\033]0;pwned\\007\\n'; cat /data/hello.txt; echo READY; sleep 60" >/dev/null
