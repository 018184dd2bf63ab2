#!/usr/bin/env bash
# Time from Prepare to a mounted remote snapshot for one layer with many entries (default 100k
# small files), against an ordinary pull of the same layer onto overlayfs in the same run.
# Usage (root, from the source tree): test/bench/snapshotter/remote_mount_bench.sh BUILD_DIR [ENTRIES]
# Prints: tide's mount_time for the layer (read from the daemon's log), `tidectl pull` wall time,
# and `ctr images pull` (download + unpack on overlayfs) wall time.
set -euo pipefail
build=$(realpath "$1")
entries=${2:-100000}
src=$(cd "$(dirname "$0")/../../.." && pwd)
work=$(mktemp -d /tmp/tide-remote-mount-bench-XXXXXX)
pids=()
cleanup() {
  set +e
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null; wait "${pids[$i]}" 2>/dev/null; done
  grep -F " $work/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }

python3 - "$work/tree" "$entries" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
per_dir = 1000
for i in range(n):
    d = os.path.join(root, "data", f"d{i // per_dir:04d}")
    if i % per_dir == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:06d}"), "w") as f:
        f.write(f"entry {i}\n")
PY
tar -C "$work/tree" -cf "$work/layer.tar" data
python3 "$src/test/support/images/oci_layout_tool.py" image --out "$work/layout" --tag v1 \
  --layer "$work/layer.tar:gzip" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
registry=127.0.0.1:$port
cat >"$work/registry.yml" <<EOT
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: $registry}
EOT
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
printf 'root = "%s"\naddress = "%s"\nprefetch = "none"\n' "$work/tide" "$work/tide.sock" >"$work/tide.toml"
"$build/snapshotter/tide-snapshotter" --config "$work/tide.toml" 2>"$work/tide.log" &
pids+=($!)
cat >"$work/containerd.toml" <<EOT
version = 2
root = "$work/croot"
state = "$work/cstate"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$work/containerd.sock"
[proxy_plugins.tide]
  type = "snapshot"
  address = "$work/tide.sock"
EOT
containerd --config "$work/containerd.toml" >"$work/containerd.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do [ -S "$work/containerd.sock" ] && [ -S "$work/tide.sock" ] && break; sleep 0.05; done
sleep 1
skopeo copy -q --dest-tls-verify=false "oci:$work/layout:v1" "docker://$registry/many:gzip"
"$build/tidectl/tidectl" convert -q --plain-http "oci:$work/layout:v1" "docker://$registry/many:tide"

t0=$(now)
"$build/tidectl/tidectl" pull --address "$work/containerd.sock" --plain-http "$registry/many:tide" >/dev/null
t1=$(now)
mount_time=$(grep -o 'mount_time=[^ ]*' "$work/tide.log" | tail -1 | cut -d= -f2)
t2=$(now)
ctr --address "$work/containerd.sock" images pull --plain-http "$registry/many:gzip" >/dev/null
t3=$(now)
python3 - "$entries" "$mount_time" "$t0" "$t1" "$t2" "$t3" <<'PY'
import sys
n, mt = int(sys.argv[1]), sys.argv[2]
t0, t1, t2, t3 = map(float, sys.argv[3:7])
print(f"layer with {n} entries")
print(f"  tide: Prepare -> mounted remote snapshot (daemon mount_time)  {mt}")
print(f"  tide: tidectl pull, whole image                               {t1 - t0:.2f} s")
print(f"  overlayfs: ctr images pull (download + unpack)               {t3 - t2:.2f} s")
print(f"  ratio tidectl pull / overlayfs pull                          {(t1 - t0) / (t3 - t2):.2f}x")
PY
