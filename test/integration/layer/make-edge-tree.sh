#!/usr/bin/env bash
# Builds a directory tree with the entry kinds a layer filesystem must get right.
# Usage: make-edge-tree.sh OUT_DIR
set -euo pipefail
out=$1
mkdir -p "$out"
cd "$out"
mkdir -p dir/sub/deeper empty-dir private sticky "with space" "ünïcödé-目录"
chmod 0700 private
chmod 1777 sticky
: > empty-file
printf x > one-byte
printf 'hello tide\n' > dir/hello.txt
head -c 1048576 /dev/urandom > dir/exactly-1mib.bin
head -c 3333333 /dev/urandom > dir/sub/multi-chunk.bin
head -c 70000 /dev/urandom > "with space/file with space.bin"
seq 1 200000 > dir/sub/deeper/numbers.txt
printf 'unicode\n' > "ünïcödé-目录/файл.txt"
long=$(printf 'n%.0s' $(seq 1 200))
printf 'long name\n' > "dir/$long"
deep="p$(printf '/segment-of-a-long-path%.0s' $(seq 1 12))"
mkdir -p "$deep" && printf 'deep\n' > "$deep/leaf.txt"
# Sparse: holes around a little data.
truncate -s 20M sparse.bin
printf 'middle' | dd of=sparse.bin bs=1 seek=10485760 conv=notrunc status=none
printf 'end' | dd of=sparse.bin bs=1 seek=$((20*1048576-3)) conv=notrunc status=none
# Hard links: three names, one inode.
printf 'linked content\n' > dir/hard-a
ln dir/hard-a dir/hard-b
ln dir/hard-a sticky/hard-c
# Symlinks: relative, absolute, dangling, to a directory.
ln -s hello.txt dir/rel-link
ln -s /etc/passwd abs-link
ln -s does/not/exist dangling-link
ln -s dir/sub dir-link
# Special files.
mknod chr-dev c 1 3
mknod blk-dev b 7 0
mkfifo fifo
# Modes and owners.
printf '#!/bin/sh\necho hi\n' > setuid-prog && chmod 4755 setuid-prog
printf 'g\n' > setgid-file && chmod 2640 setgid-file
printf 'ro\n' > read-only && chmod 0444 read-only
printf 'owned\n' > owned && chown 1234:5678 owned
chown 4321:8765 dir/sub
# Extended attributes.
printf 'xattrs\n' > xattr-file
setfattr -n user.tide.color -v blue xattr-file
setfattr -n user.tide.empty xattr-file
setfattr -n trusted.tide.secret -v s3cr3t xattr-file
setfattr -n user.tide.dir -v yes dir
# Fixed timestamps with nanoseconds.
touch -h -d '2001-02-03 04:05:06.123456789' one-byte abs-link
touch -d '1999-12-31 23:59:59.5' dir/sub/deeper
