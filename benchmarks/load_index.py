"""How long ``store.load`` takes and how much resident memory a loaded index adds.

    python benchmarks/load_index.py INDEX_DIR [--repeats 3]

Each repeat runs in a fresh process. numpy, faiss and bm25s are imported before the clock
starts, so the figures are the index's own: load seconds, and the RSS it adds (anonymous
memory and file pages mapped in), in total and per chunk. Nothing is written.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _rss() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0])  # kB
    return out


def measure(index_dir: str) -> dict:
    """One load in this process."""
    import faiss  # noqa: F401  (imported first: their cost is not the index's)
    import numpy  # noqa: F401

    from qa import store

    store.import_bm25s()  # as a load imports it (without numba)

    before = _rss()
    t = time.perf_counter()
    index = store.load(index_dir)
    seconds = time.perf_counter() - t
    after = _rss()
    n = len(index.chunks)
    added = {k: after[k] - before[k] for k in after}
    return {"chunks": n, "seconds": seconds, "rss_kb": added, "bytes_per_chunk": added["VmRSS"] * 1024 / n}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("index_dir")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.index_dir)))
        return 0
    # This checkout's qa, whatever is installed.
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))
    )
    runs = []
    for _ in range(args.repeats):
        out = subprocess.run(
            [sys.executable, __file__, args.index_dir, "--one"],
            capture_output=True, text=True, check=True, env=env,
        )  # fmt: skip
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    median = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
    print(
        f"{runs[0]['chunks']:,} chunks: store.load {median('seconds'):.3f} s, "
        f"+{statistics.median(r['rss_kb']['VmRSS'] for r in runs) / 1024:.0f} MB resident "
        f"({median('bytes_per_chunk'):,.0f} bytes per chunk), median of {len(runs)} fresh processes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
