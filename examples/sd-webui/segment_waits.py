#!/usr/bin/env python3
"""Which part of each shared object a cold start waited on: maps tide-snapshotter's "slow read"
lines (log_level = "trace") on ELF files to the segment of the file they fell in, and counts the
waits on the chunk (512 KiB) holding a constructor (DT_INIT, DT_INIT_ARRAY) apart.

  segment_waits.py TIDE_LOG FILES_ROOT

FILES_ROOT holds copies of the image's files under their paths in the image, at least the shared
objects the log names: e.g. the layers of the bench layout extracted with
  tar xzf BLOB --files-from LIST
where LIST is the "./"-prefixed paths of the .so files in the log. Files missing there count as
"not found".
"""
import collections
import os
import re
import struct
import sys

from slow_reads import slow_reads

SHARED_OBJECT = re.compile(r"\.so(\.|$)")
CHUNK = 512 << 10
PF_X, PF_W = 1, 2
PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_INIT, DT_INIT_ARRAY, DT_INIT_ARRAYSZ = 0, 12, 25, 27


def elf_layout(path):
    """(loads, constructor offsets) of a 64-bit little-endian ELF file, or None."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    phoff, = struct.unpack_from("<Q", data, 32)
    phnum, = struct.unpack_from("<H", data, 56)
    loads, dynamic = [], None
    for i in range(phnum):
        kind, flags, off, vaddr, _, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", data, phoff + 56 * i)
        if kind == PT_LOAD:
            loads.append((off, vaddr, filesz, flags))
        elif kind == PT_DYNAMIC:
            dynamic = (off, filesz)

    def offset_of(vaddr, code_only=False):
        for off, start, size, flags in loads:
            if start <= vaddr < start + size and (not code_only or flags & PF_X):
                return vaddr - start + off
        return None

    init = []
    if dynamic:
        tags = {}
        for at in range(dynamic[0], min(dynamic[0] + dynamic[1], len(data)) - 15, 16):
            tag, value = struct.unpack_from("<qQ", data, at)
            if tag == DT_NULL:
                break
            tags[tag] = value
        if DT_INIT in tags:
            init.append(offset_of(tags[DT_INIT], True))
        array = offset_of(tags.get(DT_INIT_ARRAY, 0)) if DT_INIT_ARRAY in tags else None
        if array is not None:
            for at in range(array, min(array + tags.get(DT_INIT_ARRAYSZ, 0), len(data)) - 7, 8):
                init.append(offset_of(struct.unpack_from("<Q", data, at)[0], True))
    return loads, {o // CHUNK for o in init if o is not None}


def part_of(layout, offset, length):
    if layout is None:
        return "not ELF"
    loads, constructor_chunks = layout
    if offset == 0:
        return "head"
    if any(c in constructor_chunks for c in range(offset // CHUNK, (offset + length - 1) // CHUNK + 1)):
        return "constructor chunk"
    for i, (off, _, size, flags) in enumerate(loads):
        if off <= offset < off + size:
            if i == 0:
                return "first segment (tables)"
            return "code" if flags & PF_X else "writable" if flags & PF_W else "read-only data"
    return "outside segments"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    log, root = sys.argv[1:3]
    layouts = {}
    parts = collections.defaultdict(lambda: [0, 0.0])
    for r in slow_reads(log):
        if not SHARED_OBJECT.search(r["file"].rsplit("/", 1)[-1]):
            continue
        if r["file"] not in layouts:
            path = os.path.join(root, r["file"])
            layouts[r["file"]] = elf_layout(path) if os.path.isfile(path) else "missing"
        layout = layouts[r["file"]]
        part = "not found" if layout == "missing" else part_of(layout, int(r["offset"]), int(r["length"]))
        parts[part][0] += 1
        parts[part][1] += float(r["wait_ms"])
    for part, (n, ms) in sorted(parts.items(), key=lambda kv: -kv[1][1]):
        print(f"  {part:24} {n:5} reads {ms / 1000:6.2f} s")


if __name__ == "__main__":
    main()
