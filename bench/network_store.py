"""Stored road networks: parse once, read per département in a fraction of a second, in bounded memory.

Measures, in one run:

* the largest real extract of ``../shared/data/osm/``: parsing it (``load_network``) against reading
  its stored folder (``read_network``), and the folder's size;
* the département-scale synthetic graph of ``bench/travel_matrix.py`` (about 100,000 nodes): saving,
  reading, the folder's size, the memory the read network takes (process RSS growth, in a fresh
  child process), and clipping a 20 km disc with a 10 km buffer out of it.

Usage (from the repository root)::

    .venv/bin/python bench/network_store.py
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from shapely.geometry import Point

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from travel_matrix import SEED, synthetic_network  # noqa: E402

from planner.travel.network import load_network  # noqa: E402
from planner.travel.store import clip_network, read_network, save_network  # noqa: E402

OSM = ROOT.parent / "shared" / "data" / "osm"
CHILD = r"""
import gc, json, sys
from pathlib import Path
import pandas as pd, psutil, shapely
from planner.travel.store import read_network
folder = Path(sys.argv[1])
pd.read_parquet(folder / "nodes.parquet", columns=["lon"])  # the Parquet engine loaded before measuring
before = psutil.Process().memory_info().rss
net = read_network(folder)
gc.collect()
after = psutil.Process().memory_info().rss
print(json.dumps({"rss_growth_mb": (after - before) / 2**20, "nodes": net.graph.shape[0], "arcs": net.graph.nnz}))
"""


T = TypeVar("T")


def timed(work: Callable[[], T], repeats: int = 3) -> tuple[T, float]:
    """The result of ``work`` and its best wall time over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return result, min(times)


def rss_growth_mb(folder: Path) -> float:
    """How much a fresh process grows (resident memory) when it reads the stored network in ``folder``."""
    child = subprocess.run([sys.executable, "-c", CHILD, str(folder)], capture_output=True, text=True, check=True)
    return float(json.loads(child.stdout.strip().splitlines()[-1])["rss_growth_mb"])


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir()) / 2**20


def main() -> None:
    """Print the measurements as a Markdown table."""
    print(f"# Stored road networks ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})")
    print(f"python {platform.python_version()}, {platform.platform()}")
    rows: list[tuple[str, int, int, float | None, float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        largest = max(OSM.glob("*.osm.bz2"), key=lambda p: load_network(p).graph.shape[0])
        real, parse_s = timed(lambda: load_network(largest))
        folder = Path(tmp) / "real"
        save_network(real, folder)
        _, read_s = timed(lambda: read_network(folder))
        rss = rss_growth_mb(folder)
        rows.append((largest.name, real.graph.shape[0], real.graph.nnz, parse_s, read_s, folder_mb(folder), rss))

        net = synthetic_network(104_500, np.random.default_rng(SEED))
        big = Path(tmp) / "synthetic"
        _, save_s = timed(lambda: save_network(net, big), repeats=1)
        again, read_s = timed(lambda: read_network(big))
        assert (again.graph != net.graph).nnz == 0
        rows.append(
            (
                f"synthetic département (save {save_s:.2f} s)",
                net.graph.shape[0],
                net.graph.nnz,
                None,
                read_s,
                folder_mb(big),
                rss_growth_mb(big),
            )
        )
        centre = Point(float(np.median(net.lon)), float(np.median(net.lat))).buffer(0.25)  # about 20 km
        part, clip_s = timed(lambda: clip_network(net, centre, 10_000, label="a disc"))
    print()
    print("| network | nodes | arcs | parse OSM s | read stored s | stored MB | RSS growth on read MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, nodes, arcs, parse, read, size, rss in rows:
        parse_text = f"{parse:.2f}" if parse is not None else "-"
        rss_text = f"{rss:.1f}"
        print(f"| {name} | {nodes:,} | {arcs:,} | {parse_text} | {read:.3f} | {size:.1f} | {rss_text} |")
    print()
    print(f"clip of the synthetic graph to a ~20 km disc + 10 km: {part.graph.shape[0]:,} nodes in {clip_s:.2f} s")


if __name__ == "__main__":
    main()
