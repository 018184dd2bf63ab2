#!/usr/bin/env bash
# Builds every libFuzzer target (tide_fuzz_target) in a separate clang build tree and runs each for
# SECONDS on its committed corpus (test/fuzz/<component>/corpus/<target>/) plus seeds made here and
# now: GNU tar archives in ustar, gnu and pax formats of a small tree with long names, links and
# xattrs, and the tide index of one of them. Fails if any target crashes or finds a violated property.
# usage: fuzz_smoke.sh SOURCE_DIR BUILD_DIR SECONDS [TARGET...]   (no TARGET: all of them)
set -euo pipefail
src=$1 build=$(realpath -m "$2") seconds=$3
shift 3
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" -G Ninja -DTIDE_FUZZ=ON -DTIDE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
fi
cmake --build "$build" --target tide_fuzz_all format_make_index_seed -j"$(nproc)"
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
mkdir -p "$work/gzip_index"
"$build/test/fuzz/format/format_make_index_seed" "$work/tar/pax.tar" "$work/index/frame.bin" "$work/index/proto.bin" \
  "$work/gzip_index/layer.tar.gz" "$work/gzip_index/side-index.bin"

# Inputs that crash a target are kept here (crash-<target>-<sha1>) for a unit test of the fix.
crashes=$build/crashes
mkdir -p "$crashes"
# Targets run in a network namespace of their own with only loopback up: registry_fuzz_client
# follows whatever redirects and token realms its input names, and must reach nothing but its own
# loopback server.
netns=()
if unshare --net true 2>/dev/null; then
  netns=(unshare --net sh -c 'ip link set lo up && exec "$@"' fuzz-netns)
fi
status=0
while read -r name binary corpus; do
  [ -n "$name" ] || continue
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
  seeds=$work/seeds-$name
  mkdir -p "$seeds"
  [ -d "$corpus" ] && cp "$corpus"/* "$seeds"/ 2>/dev/null || true
  case $name in
    format_fuzz_tar) cp "$work"/tar/* "$seeds"/ ;;
    format_fuzz_index) cp "$work"/index/* "$seeds"/ ;;
    format_fuzz_gzip_index) cp "$work"/gzip_index/* "$seeds"/ ;;
    # Heads of real shared objects, each behind its file size (8 bytes LE).
    format_fuzz_elf)
      for so in /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libm.so.6 /bin/sh; do
        [ -f "$so" ] || continue
        python3 -c 'import os,struct,sys; p=sys.argv[1]; sys.stdout.buffer.write(struct.pack("<Q", os.path.getsize(p)) + open(p, "rb").read(4096))' \
          "$(realpath "$so")" >"$seeds/$(basename "$so").head"
      done ;;
    # Compiled package __init__ modules of the standard library.
    format_fuzz_pyc_names)
      for mod in json email http logging; do
        python3 -c 'import importlib.util,py_compile,sys; py_compile.compile(importlib.util.find_spec(sys.argv[1]).origin, cfile=sys.argv[2], doraise=True)' \
          "$mod" "$seeds/$mod.pyc" || true
      done ;;
  esac
  echo "== $name: ${seconds}s on $(ls "$seeds" | wc -l) seeds"
  if ! (cd "$work" && "${netns[@]}" "$binary" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
    -artifact_prefix="$crashes/crash-$name-" -print_final_stats=1 "$seeds" >"$work/$name.log" 2>&1); then
    status=1
    echo "!! $name failed:"
  fi
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY)|Test unit written" \
    "$work/$name.log" || true
done <"$build/fuzz_targets.txt"
exit $status
