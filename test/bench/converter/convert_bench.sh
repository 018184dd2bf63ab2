#!/usr/bin/env bash
# End-to-end conversion benchmark: `tidectl convert` against `zstd -T0 -3` on the same tars, in the
# same run. The image is re-assembled with uncompressed layers first, so both sides start from
# plain tar and the ratio measures conversion, not gzip decoding.
# Usage: convert_bench.sh BUILD_DIR [OCI_LAYOUT TAG]   (default: BUILD_DIR/test-images/debian bookworm)
# TIDE_CONVERT_ARGS adds options to `tidectl convert`, e.g. TIDE_CONVERT_ARGS="--file-chunk-size 2M".
set -euo pipefail
here=$(dirname "$(realpath "$0")")
build=$(realpath "$1")
layout=${2:-$build/test-images/debian}
tag=${3:-bookworm}
tidectl=$build/tidectl/tidectl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Decompress every layer of the source image to a plain tar.
mapfile -t layers < <(python3 - "$layout" "$tag" <<'PY'
import json, sys
layout, tag = sys.argv[1], sys.argv[2]
index = json.load(open(f"{layout}/index.json"))
desc = next(m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
manifest = json.load(open(f"{layout}/blobs/sha256/{desc['digest'][7:]}"))
for l in manifest["layers"]:
    kind = "gzip" if "gzip" in l["mediaType"] else "zstd" if "zstd" in l["mediaType"] else "none"
    print(f"{layout}/blobs/sha256/{l['digest'][7:]} {kind}")
PY
)
args=()
i=0
for entry in "${layers[@]}"; do
  read -r blob kind <<<"$entry"
  i=$((i + 1))
  case $kind in
    gzip) gzip -dc <"$blob" >"$work/$i.tar" ;;
    zstd) zstd -q -dc <"$blob" >"$work/$i.tar" ;;
    none) cp "$blob" "$work/$i.tar" ;;
  esac
  args+=(--layer "$work/$i.tar:none")
done
python3 "$here/../../support/images/oci_layout_tool.py" image --out "$work/plain" --tag plain "${args[@]}"
tar_bytes=$(cat "$work"/*.tar | wc -c)
sync

# Wall time and CPU time (user + sys) of each side; CPU time stays meaningful on a loaded machine.
/usr/bin/time -f "%e %U %S" -o "$work/zstd.time" sh -c 'for t in "$1"/*.tar; do zstd -q -T0 -3 -c "$t" > "$t.zst"; done' sh "$work"
zstd_bytes=$(cat "$work"/*.tar.zst | wc -c)
/usr/bin/time -f "%e %U %S" -o "$work/tide.time" \
  "$tidectl" convert -q --zstd-level 3 ${TIDE_CONVERT_ARGS:-} "oci:$work/plain:plain" "oci:$work/out:tide" >"$work/convert.log"
tide_bytes=$(python3 - "$work/out" <<'PY'
import json, sys
out = sys.argv[1]
index = json.load(open(f"{out}/index.json"))
m = json.load(open(f"{out}/blobs/sha256/{index['manifests'][0]['digest'][7:]}"))
print(sum(l["size"] for l in m["layers"]))
PY
)
python3 - "$tar_bytes" "$zstd_bytes" "$tide_bytes" "$work/zstd.time" "$work/tide.time" "$(nproc)" "${#layers[@]}" <<'PY'
import sys
tar, zb, tb = map(int, sys.argv[1:4])
zw, zu, zs = map(float, open(sys.argv[4]).read().split()[-3:])
tw, tu, ts = map(float, open(sys.argv[5]).read().split()[-3:])
mb = tar / 1e6
print(f"cores: {sys.argv[6]}, input: {mb:.1f} MB of tar in {sys.argv[7]} layers")
print(f"zstd -T0 -3 : {mb / zw:7.1f} MB/s wall, {mb / (zu + zs):7.1f} MB/s per CPU-second, {zb / 1e6:7.1f} MB")
print(f"tidectl     : {mb / tw:7.1f} MB/s wall, {mb / (tu + ts):7.1f} MB/s per CPU-second, {tb / 1e6:7.1f} MB")
print(f"throughput ratio (tidectl / zstd): wall {zw / tw:.2f}, CPU {(zu + zs) / (tu + ts):.2f}")
print(f"size ratio       (tidectl / zstd): {tb / zb:.3f}")
PY
