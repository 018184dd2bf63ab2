#!/usr/bin/env python3
"""What the chunks a cold start cached before ready were for: sums, per case, the /metrics that
bench.sh saves at ready (TIDE_BENCH_METRICS=1): blob bytes fetched by kind of request, blob bytes of
the chunks in the cache, and of those the bytes a container's read was answered from. The rest came
by read-ahead, a walk or a prefetch and was not read by then.

  cached_bytes.py WORK_DIR

Run bench.sh with KEEP=1 and TIDE_BENCH_METRICS=1, then point this at its work directory.
"""
import collections
import pathlib
import re
import sys

SAMPLE = re.compile(r'^(tide_layer_[a-z_]+)\{([^}]*)\} ([0-9.e+]+)$')
KIND = re.compile(r'kind="([a-z_]+)"')


def totals(metrics_txt):
    sums = collections.Counter()
    for line in metrics_txt.read_text().splitlines():
        m = SAMPLE.match(line)
        if not m:
            continue
        name, labels, value = m.group(1), m.group(2), float(m.group(3))
        if name == "tide_layer_fetch_bytes_total":
            kind = KIND.search(labels)
            name = f"fetched {kind.group(1) if kind else '?'}"
        sums[name] += value
    return sums


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(f"{'run':<8} {'fetched MB':>10} {'on demand':>10} {'startup':>9} {'background':>10} "
          f"{'cached MB':>9} {'served MB':>9} {'served %':>8}")
    for metrics_txt in sorted(pathlib.Path(sys.argv[1]).glob("*/metrics.txt")):
        s = totals(metrics_txt)
        fetched = [s[f"fetched {k}"] / 1e6 for k in ("on_demand", "startup", "background")]
        cached = s["tide_layer_cached_blob_bytes"] / 1e6
        served = s["tide_layer_served_blob_bytes"] / 1e6
        share = 100 * served / cached if cached else 0
        print(f"{metrics_txt.parent.name:<8} {sum(fetched):>10.1f} {fetched[0]:>10.1f} {fetched[1]:>9.1f} "
              f"{fetched[2]:>10.1f} {cached:>9.1f} {served:>9.1f} {share:>7.0f}%")


if __name__ == "__main__":
    main()
