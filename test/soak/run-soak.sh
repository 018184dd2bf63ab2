#!/usr/bin/env bash
# The soak test at full length: the same test as ctest's soak_short_e2e_tests, with a longer fault
# schedule and a bigger image. Run as root from the repository after scripts/test.sh (or a build).
# Usage: test/soak/run-soak.sh [SECONDS=600] [SCALE=4] [BUILD_DIR=build]
# Prints the report and writes it to $BUILD_DIR/soak-report.txt.
set -euo pipefail
seconds=${1:-600}
scale=${2:-4}
build=$(realpath "${3:-build}")
source=$(realpath "$(dirname "$0")/../..")
cmake --build "$build" --target soak_short_e2e_tests soak_reader tidectl tide-snapshotter tide-fuse-keeper
export TIDE_BINARY_DIR="$build" TIDE_SOURCE_DIR="$source" TIDE_ROOT_TESTS_MUST_RUN=1
export TIDE_SOAK_SECONDS="$seconds" TIDE_SOAK_SCALE="$scale" TIDE_SOAK_REPORT="$build/soak-report.txt"
"$build/test/soak/soak_short_e2e_tests" --reporter compact
cat "$TIDE_SOAK_REPORT"
