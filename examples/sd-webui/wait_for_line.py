#!/usr/bin/env python3
"""Waits until FILE contains TEXT and prints the wall-clock time (seconds since the epoch, as
`date +%s.%N`) at which it was seen. Exits 1 after LIMIT seconds without it.
Usage: wait_for_line.py FILE TEXT LIMIT

One process polling every 5 ms costs far less CPU than a shell loop forking grep and date, and the
benchmark runs on the same cores as the startup it times."""
import sys
import time


def main() -> int:
    path, text, limit = sys.argv[1], sys.argv[2].encode(), float(sys.argv[3])
    deadline = time.monotonic() + limit
    seen, tail = 0, b""
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                f.seek(seen)
                data = f.read()
        except FileNotFoundError:
            data = b""
        if data:
            seen += len(data)
            tail = (tail + data)[-(len(text) + 65536):]
            if text in tail:
                print(f"{time.time():.6f}")
                return 0
        time.sleep(0.005)
    return 1


if __name__ == "__main__":
    sys.exit(main())
