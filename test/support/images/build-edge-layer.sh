#!/usr/bin/env bash
# Writes a tar layer full of edge cases, made the way real layers are made (a real directory tree
# archived by GNU tar in pax format with xattrs). Needs root for device nodes and security.* xattrs.
# Usage: build-edge-layer.sh OUT.tar
# Contents: empty, small, multi-chunk (5 MiB) and sparse-looking (8 MiB, mostly zeros) files;
# hardlinks; relative, absolute and dangling symlinks; a 200+ byte path and a long link target;
# a whiteout (etc/.wh.motd) and an opaque dir (edge/opaque/.wh..wh..opq); user.* and
# security.capability xattrs; char and block devices; a fifo; setuid, sticky and odd modes;
# non-root owners; a UTF-8 name.
set -euo pipefail
out=$(realpath -m "$1")
if [ "$(id -u)" != 0 ]; then
  echo "build-edge-layer.sh: needs root (device nodes, security.capability)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
r="$work/root"
mkdir -p "$r/edge/sub/deeper" "$r/edge/opaque" "$r/etc" "$r/edge/sticky"
: > "$r/edge/empty"
printf 'small file\n' > "$r/edge/small.txt"
python3 - "$r" <<'PY'
import random, sys
root = sys.argv[1]
rng = random.Random(1234)
with open(f"{root}/edge/multi-chunk.bin", "wb") as f:
    f.write(rng.randbytes(5 * 1024 * 1024 + 12345))
with open(f"{root}/edge/sparse-looking.bin", "wb") as f:
    f.write(b"head" + b"\0" * (4 * 1024 * 1024) + b"middle" + b"\0" * (4 * 1024 * 1024) + b"tail")
with open(f"{root}/edge/text.txt", "w") as f:
    for i in range(20000):
        f.write(f"line {i} of a compressible text file\n")
PY
ln "$r/edge/small.txt" "$r/edge/hardlink-to-small"
ln "$r/edge/multi-chunk.bin" "$r/edge/sub/hardlink-to-multi"
ln -s small.txt "$r/edge/symlink-relative"
ln -s /etc/passwd "$r/edge/symlink-absolute"
ln -s does/not/exist "$r/edge/symlink-dangling"
ln -s ../edge/sub "$r/edge/symlink-to-dir"
long_dir="$r/edge/$(printf 'd%.0s' {1..60})/$(printf 'e%.0s' {1..60})"
mkdir -p "$long_dir"
echo "long path" > "$long_dir/$(printf 'f%.0s' {1..90}).txt"
ln -s "$(printf 'target%.0s' {1..25})" "$r/edge/symlink-long-target"
: > "$r/etc/.wh.motd"
: > "$r/edge/opaque/.wh..wh..opq"
echo kept > "$r/edge/opaque/kept.txt"
echo "ünïcödé" > "$r/edge/ünïcödé-名前.txt"
echo cap > "$r/edge/cap-binary"
chmod 0755 "$r/edge/cap-binary"
setcap cap_net_bind_service+ep "$r/edge/cap-binary"
setfattr -n user.comment -v "an xattr value" "$r/edge/small.txt"
setfattr -n user.binary -v 0x00ff10 "$r/edge/empty"
setfattr -n user.dir -v "on a dir" "$r/edge/sub"
mknod "$r/edge/char-null" c 1 3
mknod "$r/edge/block-loop" b 7 0
mkfifo "$r/edge/fifo"
echo suid > "$r/edge/setuid"
chmod 4755 "$r/edge/setuid"
chmod 1777 "$r/edge/sticky"
chmod 0640 "$r/edge/text.txt"
chmod 0700 "$r/edge/sub/deeper"
chown 1000:1000 "$r/edge/text.txt"
chown 65534:65534 "$r/edge/sub/deeper"
find "$r" -exec touch -h -d '2024-02-03 04:05:06' {} +
tar --format=pax --xattrs --xattrs-include='*' --numeric-owner --sort=name -C "$r" -cf "$out" etc edge
