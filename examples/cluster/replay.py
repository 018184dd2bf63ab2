#!/usr/bin/env python3
"""Replays the reads of a tide startup profile (docs/profiles.md) inside a container.

Each `read <layer> <offset> <length> <path>` line becomes a pread of that range of /<path>, in the
profile's order. A path the merged root does not have (a file a later layer deleted) is skipped.
Prints "REPLAY DONE <reads> <bytes>" at the end: the node's "ready" line.
"""
import os
import sys


def unescape(path):
    out, i = [], 0
    while i < len(path):
        if path[i] == "\\" and i + 1 < len(path):
            out.append("\n" if path[i + 1] == "n" else path[i + 1])
            i += 2
        else:
            out.append(path[i])
            i += 1
    return "".join(out)


def main():
    reads = done = 0
    with open(sys.argv[1], encoding="utf-8", errors="surrogateescape") as profile:
        for line in profile:
            if not line.startswith("read "):
                continue
            _, _, offset, length, path = line.rstrip("\n").split(" ", 4)
            try:
                fd = os.open("/" + unescape(path), os.O_RDONLY)
            except OSError:
                continue
            try:
                # The recorded ranges already hold what kernel read-ahead read while the app ran;
                # read-ahead on top of them would read past what the app read.
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
                want, at = int(length), int(offset)
                while want > 0:
                    got = os.pread(fd, min(want, 1 << 20), at)
                    if not got:
                        break
                    want -= len(got)
                    at += len(got)
                    done += len(got)
            finally:
                os.close(fd)
            reads += 1
    print(f"REPLAY DONE {reads} {done}", flush=True)


if __name__ == "__main__":
    main()
