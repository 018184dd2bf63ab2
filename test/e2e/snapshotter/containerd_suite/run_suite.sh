#!/usr/bin/env bash
# Runs containerd's snapshotter suite (suite.test, built from suite_test.go) against tide-snapshotter.
# The suite mounts overlays in its work directories: it runs in a private mount namespace, so a
# failing subtest cannot leave a mount behind on the host.
# usage: run_suite.sh SUITE_BINARY TIDE_SNAPSHOTTER_BINARY
set -euo pipefail
suite=$1 tide=$2
if [ "$(id -u)" != 0 ]; then
  echo "containerd's snapshotter suite mounts overlays: it needs root" >&2
  [ "${TIDE_ROOT_TESTS_MUST_RUN:-}" = 1 ] && exit 1
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
TIDE_SNAPSHOTTER=$tide TMPDIR=$work exec unshare --mount --propagation private \
  "$suite" -test.v -test.timeout 10m
