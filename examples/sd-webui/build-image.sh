#!/usr/bin/env bash
# Builds a Stable-Diffusion-webui-like OCI image from Debian 12 packages only (mmdebstrap, root).
# Usage: build-image.sh OUT_LAYOUT [--small] [--tag TAG]   (tag defaults to "full" or "small")
# Layers, as a Dockerfile would make them (all gzip):
#   1 base system (Essential packages)
#   2 python3 + torch + torchvision + numpy + scipy + PIL + opencv + sklearn + pandas + matplotlib +
#     skimage + sympy + flask
#   3 "CUDA devel"-like bulk: gcc, g++, gfortran, llvm-dev, boost, gdal, qt, gtk, kernel headers,
#     *-dev headers and static libs startup never reads
#   4 the app: /app/webui.py (imports the stack, maps part of a 512 MiB checkpoint, one forward pass,
#     prints SD-WEBUI READY, serves HTTP on :7860) and /app/models/model.bin
# --small: python3 + numpy for layer 2 and a few -dev packages for layer 3 (builds in a minute).
set -euo pipefail
here=$(dirname "$(realpath "$0")")
tools=$(realpath "$here/../../test/support/images")
out=${1:?usage: build-image.sh OUT_LAYOUT [--small] [--tag TAG]}
shift
small=0
tag=
while [ $# -gt 0 ]; do
  case $1 in
    --small) small=1 ;;
    --tag) tag=$2; shift ;;
    *) echo "build-image.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "build-image.sh: run as root (mmdebstrap root mode)" >&2; exit 1; }
if [ $small = 1 ]; then
  tag=${tag:-small}
  runtime=python3,python3-numpy
  bulk=libc6-dev,libssl-dev,libpython3-dev,zlib1g-dev
  model_mib=8
  appargs=--small
else
  tag=${tag:-full}
  runtime=python3,python3-numpy,python3-scipy,python3-pil,python3-opencv,python3-torch,python3-torchvision
  runtime+=,python3-sklearn,python3-pandas,python3-matplotlib,python3-skimage,python3-sympy,python3-flask
  bulk=gcc,g++,gfortran,llvm-dev,libpython3-dev,libssl-dev,libboost-dev,libboost-all-dev,libopenblas-dev
  bulk+=,libopencv-dev,libtorch-dev,libgdal-dev,qtbase5-dev,libgtk-3-dev,linux-headers-amd64
  model_mib=512
  appargs=
fi
# Packages matching this go to the bulk layer; everything else not in the base goes to layer 2.
bulk_re='(-dev$|^gcc|^g\+\+|^cpp|^llvm|^clang|^binutils|^libllvm|^libclang|^libgcc-1.-dev|^libstdc\+\+-1.-dev|^libboost|^linux-headers|^linux-kbuild|^linux-compiler)'
work=$(mktemp -d /var/tmp/sdwebui-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
echo "== mmdebstrap bookworm ($tag): $runtime + $bulk" >&2
mmdebstrap --variant=minbase --mode=root --include="$runtime,$bulk" \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --essential-hook="chroot \"\$1\" dpkg-query -W -f='\${Package}\n' > $work/base.pkgs" \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
  bookworm "$root" >"$work/mmdebstrap.log" 2>&1 || { tail -50 "$work/mmdebstrap.log" >&2; exit 1; }
python3 "$here/split_layers.py" "$root" "$work/base.pkgs" "$bulk_re" "$work"
tarflags=(--format=pax --xattrs --xattrs-include='*' --numeric-owner --no-recursion -C "$root")
for l in 1-base 2-python 3-bulk; do tar "${tarflags[@]}" --null -T "$work/$l.list" -cf "$work/$l.tar"; done
mkdir -p "$work/app/app/models"
install -m 0755 "$here/webui.py" "$work/app/app/webui.py"
# The checkpoint: random bytes compress about as little as fp16 weights do. Startup maps it and reads
# its head and a few scattered pages (webui.py), as a server does that loads weights lazily.
head -c $((model_mib << 20)) /dev/urandom >"$work/app/app/models/model.bin"
tar --format=pax --numeric-owner --owner=0 --group=0 --no-recursion -C "$work/app" -cf "$work/4-app.tar" \
  ./app ./app/webui.py ./app/models ./app/models/model.bin
du -sh "$work"/*.tar >&2
cmd=(--cmd /usr/bin/python3 --cmd /app/webui.py)
[ -n "$appargs" ] && cmd+=("--cmd=$appargs")
python3 "$tools/oci_layout_tool.py" image --out "$out" --tag "$tag" --platform linux/amd64 "${cmd[@]}" \
  --layer "$work/1-base.tar:gzip" --layer "$work/2-python.tar:gzip" --layer "$work/3-bulk.tar:gzip" \
  --layer "$work/4-app.tar:gzip"
echo "== built oci:$out:$tag" >&2
