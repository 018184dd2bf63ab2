#!/usr/bin/env bash
# Builds the given libFuzzer targets in a separate clang build tree and runs each for SECONDS on a
# seed corpus made here and now: GNU tar archives in ustar, gnu and pax formats of a small tree with
# long names, links and xattrs, and the tide index of one of them (made by format_make_index_seed).
# usage: fuzz_smoke.sh SOURCE_DIR BUILD_DIR SECONDS TARGET...
set -euo pipefail
src=$1 build=$(realpath -m "$2") seconds=$3
shift 3
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" -G Ninja -DTIDE_FUZZ=ON -DTIDE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
fi
cmake --build "$build" --target "$@" format_make_index_seed -j2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tree=$work/tree
mkdir -p "$tree/dir/sub" "$work/tar" "$work/index"
echo "hello" >"$tree/dir/file.txt"
head -c 3000 /dev/zero >"$tree/dir/zeros"
ln -s file.txt "$tree/dir/link"
ln "$tree/dir/file.txt" "$tree/dir/hardlink"
touch "$tree/dir/sub/$(printf 'n%.0s' $(seq 1 150))"
touch "$tree/dir/.wh.gone" "$tree/dir/sub/.wh..wh..opq"
setfattr -n user.seed -v value "$tree/dir/file.txt" 2>/dev/null || true
for fmt in ustar gnu pax; do
  tar --format="$fmt" --xattrs -C "$tree" -cf "$work/tar/$fmt.tar" dir 2>/dev/null ||
    tar --format="$fmt" -C "$tree" -cf "$work/tar/$fmt.tar" dir
done
"$build/test/fuzz/format/format_make_index_seed" "$work/tar/pax.tar" "$work/index/frame.bin" "$work/index/proto.bin"

for target in "$@"; do
  name=${target##*_}
  echo "== $target: ${seconds}s on $(ls "$work/$name" | wc -l) seeds"
  (cd "$work" && "$build/test/fuzz/format/$target" -max_total_time="$seconds" -max_len=65536 \
    -rss_limit_mb=2048 -print_final_stats=1 "$work/$name" 2>&1 | tail -n 15)
done
