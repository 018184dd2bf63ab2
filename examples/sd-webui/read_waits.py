#!/usr/bin/env python3
"""Where a cold start's read waits went: sums tide-snapshotter's "slow read" lines (log_level =
"trace") by kind of file and by the read-ahead each read carried, and lists the files waited on most.

  read_waits.py TIDE_LOG [TOP]

Run a case with --tide-config 'log_level = "trace"' and KEEP=1, then point this at its tide.log.
"""
import collections
import re
import sys

from slow_reads import slow_reads

SHARED_OBJECT = re.compile(r"\.so(\.|$)")  # libfoo.so, libfoo.so.6, mod.cpython-311-x86_64-linux-gnu.so


def kind_of(file, offset):
    name = file.rsplit("/", 1)[-1]
    if SHARED_OBJECT.search(name):
        return "shared object, head" if offset == 0 else "shared object, body"
    if name.endswith(".pyc"):
        return "pyc"
    if name.endswith(".py"):
        return "py"
    return "other"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    by_kind = collections.defaultdict(lambda: [0, 0.0])
    by_file = collections.defaultdict(lambda: [0, 0.0])
    total = [0, 0.0]
    for r in slow_reads(sys.argv[1]):
        ms = float(r["wait_ms"])
        key = (kind_of(r["file"], int(r["offset"])), r["read_ahead"])
        for acc in (by_kind[key], by_file[r["file"]], total):
            acc[0] += 1
            acc[1] += ms
    if total[0] == 0:
        sys.exit(f"{sys.argv[1]}: no slow read lines (was log_level trace?)")
    print(f"{total[0]} reads waited {total[1] / 1000:.2f} s in all (summed over threads)")
    print("by file kind and read-ahead carried:")
    for (kind, ahead), (n, ms) in sorted(by_kind.items(), key=lambda kv: -kv[1][1]):
        print(f"  {kind:22} {ahead:10} {n:5} reads {ms / 1000:6.2f} s")
    print(f"top {top} files:")
    for file, (n, ms) in sorted(by_file.items(), key=lambda kv: -kv[1][1])[:top]:
        print(f"  {ms / 1000:6.2f} s {n:5} reads  {file}")


if __name__ == "__main__":
    main()
