#!/usr/bin/env python3
"""Writes the soak test's image content: four layer trees in the shape of an AI inference image, and a
manifest of the sha256 of every regular file as the container sees it.

  soak_tree.py --out DIR --scale N
      DIR/1-base     busybox and its applets (the OS)
      DIR/2-runtime  /opt/runtime: many small text modules and some large binary libraries; the
                     startup "import walk" reads all of it
      DIR/3-devel    /opt/devel: bulk that startup never reads
      DIR/4-app      /app: the service and a model file
      DIR/files.sha256  "<hex>  <absolute path>" lines, sorted by path
Scale 1 is about 70 MB in 2,100 files; sizes and counts grow linearly with N.
"""
import argparse
import hashlib
import os
import random
import shutil

WORDS = ("import torch numpy def class return self tensor forward module layer weight bias config "
         "lambda yield async await try except raise with open path model pipeline scheduler latent "
         "vae unet clip token embed attention softmax norm dropout float half device cuda cpu").split()


def text(rng, size):
    out = []
    n = 0
    while n < size:
        line = " ".join(rng.choices(WORDS, k=rng.randint(3, 12))) + "\n"
        out.append(line)
        n += len(line)
    return "".join(out)[:size].encode()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--busybox", default="/bin/busybox")
    a = ap.parse_args()
    rng = random.Random(20261204)
    base = os.path.join(a.out, "1-base")
    os.makedirs(os.path.join(base, "bin"), exist_ok=True)
    os.makedirs(os.path.join(base, "etc"), exist_ok=True)
    os.makedirs(os.path.join(base, "tmp"), exist_ok=True)
    shutil.copy(a.busybox, os.path.join(base, "bin", "busybox"))
    for applet in ("sh", "ls", "cat", "sleep", "sha256sum", "find"):
        os.symlink("busybox", os.path.join(base, "bin", applet))
    write(os.path.join(base, "etc", "passwd"), b"root:x:0:0:root:/root:/bin/sh\n")

    runtime = os.path.join(a.out, "2-runtime", "opt", "runtime")
    for p in range(60 * a.scale):
        pkg = os.path.join(runtime, "site-packages", "pkg%04d" % p)
        for m in range(25):
            write(os.path.join(pkg, "mod%02d.py" % m), text(rng, rng.randint(1024, 30000)))
        if p % 3 == 0:
            write(os.path.join(pkg, "_native.so"), os.urandom(rng.randint(64 << 10, 768 << 10)))
    devel = os.path.join(a.out, "3-devel", "opt", "devel")
    for i in range(500 * a.scale):
        write(os.path.join(devel, "include", "d%03d" % (i % 50), "h%05d.h" % i),
              text(rng, rng.randint(2048, 16000)) if i % 2 else os.urandom(rng.randint(2048, 40000)))
    app = os.path.join(a.out, "4-app", "app")
    write(os.path.join(app, "server.py"), text(rng, 20000))
    for i in range(40):
        write(os.path.join(app, "static", "s%02d.js" % i), text(rng, rng.randint(500, 8000)))
    write(os.path.join(app, "models", "model.safetensors"), os.urandom(16 << 20))
    for s in range(1, a.scale):
        write(os.path.join(app, "models", "shard%02d.bin" % s), os.urandom(16 << 20))

    lines = []
    for layer in sorted(os.listdir(a.out)):
        top = os.path.join(a.out, layer)
        if not os.path.isdir(top):
            continue
        for root, _, files in os.walk(top):
            for name in files:
                path = os.path.join(root, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                lines.append((path[len(top):], digest))
    lines.sort()
    with open(os.path.join(a.out, "files.sha256"), "w") as f:
        for path, digest in lines:
            f.write("%s  %s\n" % (digest, path))


if __name__ == "__main__":
    main()
