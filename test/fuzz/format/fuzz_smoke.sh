#!/usr/bin/env bash
# Builds the given libFuzzer targets in a separate clang build tree and runs each for SECONDS on a
# scratch copy of its seed corpus (corpus/<name without the format_fuzz_ prefix>).
# usage: fuzz_smoke.sh SOURCE_DIR BUILD_DIR CORPUS_DIR SECONDS TARGET...
set -euo pipefail
src=$1 build=$2 corpus=$3 seconds=$4
shift 4
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" -G Ninja -DTIDE_FUZZ=ON -DTIDE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
fi
cmake --build "$build" --target "$@" -j2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in "$@"; do
  name=${target##*_}
  mkdir -p "$work/$name"
  cp "$corpus/$name"/* "$work/$name"/ 2>/dev/null || true
  echo "== $target: ${seconds}s"
  (cd "$work" && "$build/test/fuzz/format/$target" -max_total_time="$seconds" -max_len=65536 \
    -rss_limit_mb=2048 -print_final_stats=1 "$work/$name" 2>&1 | tail -n 15)
done
