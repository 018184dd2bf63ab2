"""The "slow read" lines tide-snapshotter writes at log_level = "trace" (fuse/layer_fs.cc
TraceSlowRead): one per container read that waited for a fetch. Shared by read_waits.py,
segment_waits.py and import_names.py."""
import re

FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def slow_reads(path):
    """Each slow read of the log at `path` as a dict of its fields (file, offset, length, size,
    wait_ms, read_ahead), strings as logged."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if 'msg="slow read"' in line:
                yield {k: v.strip('"') for k, v in FIELD.findall(line)}
