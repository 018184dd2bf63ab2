#!/usr/bin/env python3
"""How many of a cold start's waits on Python modules its packages' compiled __init__ foretold: for
each "slow read" (log_level = "trace") of a pyc's head or an extension module's head, whether the
module is named in its package's __init__ pyc, or its package in the parent package's __init__ pyc
(as a marshalled short ASCII string: the names a module imports). An import walk could fetch those
one import ahead (docs/bench-sdwebui.md, session 32).

  import_names.py TIDE_LOG FILES_ROOT

FILES_ROOT holds the image's files under their paths in the image (e.g. its layers extracted), at
least the packages' __pycache__/__init__.*.pyc files; missing ones name nothing.
"""
import collections
import os
import functools
import re
import sys

from slow_reads import slow_reads

# Marshal's short ASCII string codes ('z', 'Z'), with and without the reference flag, then a length.
SHORT_ASCII = re.compile(rb"[\x5a\xda\x7a\xfa]([\x01-\x40])")
IDENTIFIER = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


def waits(path):
    for r in slow_reads(path):
        yield r["file"], int(r["offset"]), float(r["wait_ms"])


@functools.lru_cache(maxsize=None)
def names_in(root, pyc):
    try:
        with open(os.path.join(root, pyc.lstrip("/")), "rb") as f:
            data = f.read()
    except OSError:
        data = b""
    names = set()
    for m in SHORT_ASCII.finditer(data):
        s = data[m.end():m.end() + m.group(1)[0]]
        if len(s) == m.group(1)[0] and IDENTIFIER.fullmatch(s):
            names.add(s.decode())
    return names


def module_of(path):
    """(package directory, module name) of a pyc or extension module, else None."""
    d, base = os.path.split(path)
    if d.endswith("/__pycache__") and base.endswith(".pyc"):
        d, mod = d[: -len("/__pycache__")], base.split(".")[0]
        return (os.path.dirname(d), os.path.basename(d)) if mod == "__init__" else (d, mod)
    if base.endswith(".so") and (".cpython-" in base or base.endswith(".abi3.so")):
        return d, base.split(".")[0]
    return None


def init_pyc(package_dir, tag):
    return f"{package_dir}/__pycache__/__init__.{tag}.pyc"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    log, root = sys.argv[1:]
    tag = "cpython-311"
    total, named = collections.defaultdict(lambda: [0, 0.0]), collections.defaultdict(lambda: [0, 0.0])
    for file, offset, ms in waits(log):
        found = module_of(file)
        if offset != 0 or found is None:
            continue
        if file.endswith(".pyc"):
            tag = file.rsplit(".", 2)[-2]
        kind = "pyc" if file.endswith(".pyc") else "extension module"
        package, mod = found
        foretold = mod in names_in(root, init_pyc(package, tag)) or (
            os.path.dirname(package)
            and os.path.basename(package) in names_in(root, init_pyc(os.path.dirname(package), tag)))
        for acc in [total[kind]] + ([named[kind]] if foretold else []):
            acc[0] += 1
            acc[1] += ms
    for kind, (n, ms) in total.items():
        k, kms = named[kind]
        print(f"{kind:17} heads waited: {n:4} reads {ms / 1000:5.2f} s; named by the package's or its parent's "
              f"__init__: {k:4} reads {kms / 1000:5.2f} s")


if __name__ == "__main__":
    main()
