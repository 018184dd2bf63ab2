#!/usr/bin/env python3
"""Splits a Debian root filesystem into Dockerfile-like layers by owning package.

  split_layers.py ROOT BASE_PKGS BULK_REGEX OUTDIR
Writes OUTDIR/{1-base,2-python,3-bulk}.list (NUL-separated paths relative to ROOT, parents first):
  1-base   files of the packages listed in BASE_PKGS, and every file no package owns
  2-python files of the remaining packages (python3, torch, numpy, opencv and their libraries)
  3-bulk   files of packages whose name matches BULK_REGEX (compilers, *-dev: never read at startup)
Every layer also lists the parent directories of its files so each tar applies on its own."""
import glob
import os
import re
import sys

root, base_file, bulk_re, outdir = sys.argv[1:5]
base = {l.strip() for l in open(base_file) if l.strip()}
bulk = re.compile(bulk_re)
owner = {}
for lst in glob.glob(os.path.join(root, "var/lib/dpkg/info/*.list")):
    pkg = os.path.basename(lst)[:-5].split(":")[0]
    layer = "1-base" if pkg in base else ("3-bulk" if bulk.search(pkg) else "2-python")
    for line in open(lst, encoding="utf-8", errors="surrogateescape"):
        p = line.rstrip("\n").lstrip("/")
        full = os.path.join(root, p)
        if p and not os.path.isdir(full) or os.path.islink(full):
            owner.setdefault(p, layer)
layers = {"1-base": set(), "2-python": set(), "3-bulk": set()}
for dirpath, dirnames, filenames in os.walk(root):
    rel = os.path.relpath(dirpath, root)
    for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
        p = os.path.normpath(os.path.join(rel, name))
        layers[owner.get(p, "1-base")].add(p)
    if rel != "." and not os.listdir(dirpath):
        layers["1-base"].add(rel)
for name, files in layers.items():
    entries = set(files)
    for f in files:
        d = os.path.dirname(f)
        while d and d not in entries:
            entries.add(d)
            d = os.path.dirname(d)
    with open(os.path.join(outdir, name + ".list"), "wb") as out:
        for e in sorted(entries):
            out.write(os.fsencode("./" + e) + b"\0")
    print(f"{name}: {len(files)} files", file=sys.stderr)
