#!/usr/bin/env bash
# Installs every Debian 12 package tide needs to build, test and run its examples.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  build-essential cmake ninja-build pkg-config git clang clang-format clang-tidy
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libfuse3-dev fuse3 libzstd-dev zstd libcurl4-openssl-dev libssl-dev openssl
  libabsl-dev catch2 nlohmann-json3-dev libtomlplusplus-dev libcli11-dev
  libsqlite3-dev libspdlog-dev
  libseccomp-dev  # the seccomp filter of tidectl optimize's sandbox (profile/seccomp_policy.cc)
  containerd runc docker-registry apache2-utils
  nginx  # the range-aware caching mirror of examples/cluster/nginx-mirror.conf (mirror_cache_test)
  busybox-static umoci skopeo mmdebstrap
  stargz-snapshotter  # ctr-remote writes the eStargz images of estargz_e2e_tests
  zlib1g-dev libclang-rt-14-dev gnuplot-nox
  iproute2 curl python3 attr libcap2-bin tar e2fsprogs util-linux procps
  golang-go  # Go's archive/tar (containerd's tar reader) for format_tar_differential_test
  golang-github-containerd-containerd-dev  # containerd's snapshots/testsuite: containerd_snapshotter_suite
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Debian starts these services on install; tide's tests and examples run private instances.
for svc in containerd docker-registry nginx; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  fi
done
