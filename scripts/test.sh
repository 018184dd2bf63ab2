#!/usr/bin/env bash
# Installs dependencies, builds tide with warnings as errors, and runs the whole ctest suite.
# Usage: scripts/test.sh [ctest args...]   (BUILD_DIR overrides the build directory)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "scripts/test.sh: run as root (tests mount FUSE/overlay and run containerd)" >&2; exit 1; }
bash scripts/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIDE_WERROR=ON -DTIDE_BUILD_TESTS=ON
cmake --build "$build" --parallel "$(nproc)"
cd "$build"
# A root-only test that cannot run here fails instead of reporting itself skipped.
export TIDE_ROOT_TESTS_MUST_RUN=1
# One test at a time: the end-to-end tests each run containerd, registries and FUSE daemons, and
# on a 2-core CI machine running them side by side only adds timing noise.
ctest --output-on-failure --timeout 900 "$@"
