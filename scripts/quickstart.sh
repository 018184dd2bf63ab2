#!/usr/bin/env bash
# tide quickstart: on a fresh Debian 12 machine, as root. Installs packages, builds tide, starts a
# local registry, a private containerd with tide as proxy plugin and tide-snapshotter, builds a
# sample image locally, converts it, then runs it twice from a cold node: an ordinary pull on
# overlayfs, and a lazy pull through tide. Prints time to first output and bytes fetched.
# Everything runs under $TIDE_QUICKSTART_DIR (default /var/tmp/tide-quickstart) and is stopped and
# removed on exit; KEEP=1 leaves the directory (not the processes) for a look.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
[ "$(id -u)" = 0 ] || { echo "quickstart: run as root (FUSE, overlayfs, containerd)" >&2; exit 1; }
weights_mib=${WEIGHTS_MIB:-256}

bash scripts/install-deps.sh
build=${TIDE_PREBUILT:-$src/build-release}
if [ -z "${TIDE_PREBUILT:-}" ]; then
  echo "== building tide (Release) in $build"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTIDE_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" --parallel "$(nproc)" --target tidectl tide-snapshotter
fi
tidectl=$build/tidectl/tidectl
snapshotter=$build/snapshotter/tide-snapshotter

work=${TIDE_QUICKSTART_DIR:-/var/tmp/tide-quickstart}
rm -rf "$work"
mkdir -p "$work"
pids=()
cleanup() {
  set +e
  if [ -S "$work/containerd.sock" ]; then
    for id in $(ctr --address "$work/containerd.sock" tasks ls -q 2>/dev/null); do
      ctr --address "$work/containerd.sock" tasks kill -s SIGKILL "$id" >/dev/null 2>&1
    done
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null; wait "${pids[$i]}" 2>/dev/null; done
  grep -F " $work/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 1 200); do [ -e "$1" ] && return 0; sleep 0.05; done; echo "timed out waiting for $1" >&2; return 1; }
# Bytes the registry sent for blob requests, from its access log (Apache combined format).
registry_bytes() { awk '/GET \/v2\/.*\/blobs\// && $9 ~ /^20/ {sum += $10} END {print sum + 0}' "$work/registry.log"; }
now() { date +%s.%N; }

echo "== starting a local registry, tide-snapshotter and containerd under $work"
port=$(free_port)
registry=127.0.0.1:$port
cat > "$work/registry.yml" <<EOT
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: $registry}
EOT
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
cat > "$work/tide.toml" <<EOT
root = "$work/tide"
address = "$work/tide.sock"
prefetch = "none"
EOT
"$snapshotter" --config "$work/tide.toml" 2>"$work/tide.log" &
pids+=($!)
cat > "$work/containerd.toml" <<EOT
version = 2
root = "$work/containerd-root"
state = "$work/containerd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$work/containerd.sock"
[ttrpc]
  address = "$work/containerd.sock.ttrpc"
[proxy_plugins.tide]
  type = "snapshot"
  address = "$work/tide.sock"
EOT
containerd --config "$work/containerd.toml" >"$work/containerd.log" 2>&1 &
pids+=($!)
wait_for "$work/tide.sock"
wait_for "$work/containerd.sock"
ctr() { command ctr --address "$work/containerd.sock" "$@"; }

echo "== building the sample image (busybox + ${weights_mib} MiB of model weights the app never reads)"
examples/quickstart/build-sample-image.sh "$work/layout" v1 "$weights_mib"
skopeo copy -q --dest-tls-verify=false "oci:$work/layout:v1" "docker://$registry/sample:gzip"
echo "== converting it to tide layers"
"$tidectl" convert --plain-http "oci:$work/layout:v1" "docker://$registry/sample:tide"

echo "== ordinary pull on overlayfs, then run"
before=$(registry_bytes)
t0=$(now)
ctr images pull --plain-http "$registry/sample:gzip" >/dev/null
# sed reads all of the output: `head -1` would leave ctr to die of SIGPIPE (and pipefail with it).
first=$(ctr run --rm "$registry/sample:gzip" "qs-overlay-$$" | sed -n 1p)
t1=$(now)
overlay_bytes=$(($(registry_bytes) - before))
echo "   container said: $first"

echo "== lazy pull through tide, then run"
before=$(registry_bytes)
t2=$(now)
"$tidectl" pull --address "$work/containerd.sock" --snapshotter tide --plain-http "$registry/sample:tide"
first=$(ctr run --rm --snapshotter tide "$registry/sample:tide" "qs-tide-$$" | sed -n 1p)
t3=$(now)
tide_bytes=$(($(registry_bytes) - before))
echo "   container said: $first"

python3 - "$t0" "$t1" "$t2" "$t3" "$overlay_bytes" "$tide_bytes" <<'PY'
import sys
t0, t1, t2, t3 = map(float, sys.argv[1:5])
ob, tb = int(sys.argv[5]), int(sys.argv[6])
mib = lambda b: b / (1 << 20)
print()
print("                         time to first output   bytes fetched from the registry")
print(f"  overlayfs full pull    {t1 - t0:8.2f} s             {mib(ob):9.1f} MiB")
print(f"  tide lazy pull         {t3 - t2:8.2f} s             {mib(tb):9.1f} MiB")
if t3 > t2 and tb > 0:
    print(f"  tide vs overlayfs      {(t1 - t0) / (t3 - t2):8.1f}x faster        {ob / tb:9.1f}x fewer bytes")
PY
echo
echo "quickstart done; everything under $work is cleaned up on exit."
