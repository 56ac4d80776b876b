"""Experiments behind ``planner/contraction.py``: can a 1,000 x 1,000 matrix at département scale run in 2 s?

Same synthetic instance as ``bench/travel_matrix.py`` (~100,000 nodes, seeded), same contract as
``RoadNetwork.matrix`` (snapping, access term, ``inf`` beyond ``limit_min``), different ways to
run the shortest paths. The winner (contract <= 6 + pruning) is what ``RoadNetwork.matrix`` now does
on large graphs. Every variant is checked against ``RoadNetwork.matrix`` (within 1e-4 min,
same unreachable pairs) on the synthetic instance and on the largest real OSM extract, which has
one-way streets.

Variants:

* ``threads x2``: chunks of sources in a ``ThreadPoolExecutor`` (scipy's Dijkstra holds the GIL);
* ``processes x2``: chunks of sources in a persistent ``ProcessPoolExecutor`` (one task per worker);
* ``RCM order``: nodes renumbered by reverse Cuthill-McKee (cache locality), computed once per network;
* ``contract <= d``: per call, exact graph reduction that keeps every origin and destination node:
  non-terminal nodes with at most ``d`` distinct neighbours are contracted (removed, with a shortcut
  u->w of weight w(u,v)+w(v,w) for each pair of neighbours; dead-end trees vanish since leaves get no
  shortcut). Distances between kept nodes are unchanged. Combined with the above.

Usage: ``.venv/bin/python bench/matrix_speedups.py [--quick]``
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

import geopandas as gpd
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import reverse_cuthill_mckee
from travel_matrix import CAP_MIN, QUIET, SEED, best_of_each, largest_osm_network, points, synthetic_instance

from planner.travel.contraction import contract, dijkstra_rows, prune_shortcuts
from planner.travel.network import RoadNetwork

TOLERANCE_MIN = 1e-4
NodeBlock = Callable[[csr_matrix, np.ndarray, np.ndarray, float], np.ndarray]


rows_serial: NodeBlock = dijkstra_rows


def rows_pooled(pool: Executor, workers: int) -> NodeBlock:
    """``rows_serial`` split into one task per worker."""

    def run(graph: csr_matrix, sources: np.ndarray, targets: np.ndarray, limit: float) -> np.ndarray:
        parts = np.array_split(sources, workers)
        return np.vstack(list(pool.map(rows_serial, [graph] * workers, parts, [targets] * workers, [limit] * workers)))

    return run


def contracted(max_degree: int, inner: NodeBlock, *, prune: bool = False) -> NodeBlock:
    """Run ``inner`` on the graph contracted around this call's source and target nodes."""

    def run(graph: csr_matrix, sources: np.ndarray, targets: np.ndarray, limit: float) -> np.ndarray:
        small, index = contract(graph, np.r_[sources, targets], max_degree)
        if prune:
            small = prune_shortcuts(small)
        return inner(small, index[sources], index[targets], limit)

    return run


def reordered(graph: csr_matrix) -> Callable[[NodeBlock], NodeBlock]:
    """Wrap a NodeBlock to run on ``graph`` renumbered by reverse Cuthill-McKee (computed once here)."""
    order = reverse_cuthill_mckee(graph, symmetric_mode=False)
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    renumbered = csr_matrix(graph[order][:, order])
    transposed = renumbered.T.tocsr()

    def wrap(inner: NodeBlock) -> NodeBlock:
        def run(g: csr_matrix, sources: np.ndarray, targets: np.ndarray, limit: float) -> np.ndarray:
            same = renumbered if g is graph else transposed
            return inner(same, position[sources], position[targets], limit)

        return run

    return wrap


def matrix_with(
    net: RoadNetwork, origins: gpd.GeoSeries, destinations: gpd.GeoSeries, limit_min: float | None, block: NodeBlock
) -> np.ndarray:
    """``RoadNetwork.matrix`` with the shortest-path step replaced by ``block``."""
    o_node, o_m = net.snap(origins)
    d_node, d_m = net.snap(destinations)
    o_unique, o_inv = np.unique(o_node, return_inverse=True)
    d_unique, d_inv = np.unique(d_node, return_inverse=True)
    forward = len(o_unique) <= len(d_unique)
    graph, sources, targets = (net.graph, o_unique, d_unique) if forward else (net.graph.T.tocsr(), d_unique, o_unique)
    limit = np.inf if limit_min is None else float(limit_min)
    node_minutes = block(graph, sources, targets, limit)
    node_minutes = node_minutes if forward else node_minutes.T
    access = 60.0 / (net.access_speed_kmh * 1000.0)
    minutes = node_minutes[np.ix_(o_inv, d_inv)] + (o_m[:, None] + d_m[None, :]).astype(np.float32) * access
    if limit_min is not None:
        minutes[minutes > limit_min] = np.inf
    return minutes


def same(ours: np.ndarray, reference: np.ndarray) -> float:
    """Max |difference| between two matrices; raise if it exceeds the tolerance or reachability differs."""
    if not np.array_equal(np.isfinite(ours), np.isfinite(reference)):
        raise AssertionError("reachability differs from RoadNetwork.matrix")
    finite = np.isfinite(reference)
    worst = float(np.max(np.abs(ours[finite].astype(np.float64) - reference[finite]), initial=0.0))
    if worst > TOLERANCE_MIN:
        raise AssertionError(f"differs from RoadNetwork.matrix by {worst:.2e} min")
    return worst


def experiment(
    name: str,
    net: RoadNetwork,
    od: tuple[gpd.GeoSeries, gpd.GeoSeries],
    variants: dict[str, NodeBlock],
    repeats: int,
) -> None:
    """Time every variant uncapped and capped, check it, print a markdown table."""
    print(
        f"\n### {name}: {net.graph.shape[0]:,} nodes, {len(od[0]):,} x {len(od[1]):,}, "
        f"best of {repeats} interleaved rounds\n"
    )
    print("Wall-clock seconds (CPU seconds of the main process; the pool's work is not in it).\n")
    print("| variant | uncapped s (CPU) | capped 60 min s (CPU) | max abs diff (min) |")
    print("| --- | ---: | ---: | ---: |")
    reference = {cap: net.matrix(*od, limit_min=cap) for cap in (None, CAP_MIN)}
    measured = {
        cap: best_of_each(
            repeats, [lambda cap=cap, block=block: matrix_with(net, *od, cap, block) for block in variants.values()]
        )
        for cap in (None, CAP_MIN)
    }
    for i, label in enumerate(variants):
        cells, worst = [], 0.0
        for cap in (None, CAP_MIN):
            out, t = measured[cap][i]
            worst = max(worst, same(out, reference[cap]))
            cells.append(f"{t.wall:.3f} ({t.cpu:.3f})")
        print(f"| {label} | {cells[0]} | {cells[1]} | {worst:.1e} |")


def reduction_sizes(name: str, net: RoadNetwork, terminals: np.ndarray) -> None:
    """Nodes and arcs left after contraction (and shortcut pruning) around ``terminals``, with timings."""
    print(f"\n{name}: {net.graph.shape[0]:,} nodes, {len(terminals):,} terminal nodes kept\n")
    print("| contraction | nodes | arcs | contraction s | arcs after pruning | pruning s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print(f"| none | {net.graph.shape[0]:,} | {net.graph.nnz:,} | - | - | - |")
    for d in (1, 2, 3, 4, 6, 8, 12):
        start = time.perf_counter()
        small, _ = contract(net.graph, terminals, d)
        middle = time.perf_counter()
        pruned = prune_shortcuts(small)
        end = time.perf_counter()
        print(
            f"| degree <= {d} | {small.shape[0]:,} | {small.nnz:,} | {middle - start:.3f} | {pruned.nnz:,} | "
            f"{end - middle:.3f} |"
        )


def terminal_nodes(net: RoadNetwork, od: tuple[gpd.GeoSeries, gpd.GeoSeries]) -> np.ndarray:
    """Distinct nodes the origins and destinations snap to."""
    return np.unique(np.r_[net.snap(od[0])[0], net.snap(od[1])[0]])


def main() -> None:
    """Run the experiments on the real extract and the synthetic département."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000-node synthetic graph, 300 x 300")
    args = parser.parse_args()
    points_n, m, repeats = (10_500, 300, 1) if args.quick else (104_500, 1_000, 3)
    QUIET.max_s = 0.0 if args.quick else 30.0
    workers = os.cpu_count() or 1
    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min), {workers} CPUs")
    start = time.perf_counter()
    with ProcessPoolExecutor(workers) as processes, ThreadPoolExecutor(workers) as threads:
        list(processes.map(abs, range(workers)))  # start the workers before timing
        print(f"process pool of {workers} started in {time.perf_counter() - start:.2f} s (not in the times below)")
        pooled = rows_pooled(processes, workers)

        path, real, _ = largest_osm_network()
        rng = np.random.default_rng(SEED)
        box = (real.lon.min(), real.lon.max(), real.lat.min(), real.lat.max())
        od_real = tuple(points(rng.uniform(*box[:2], 1_000), rng.uniform(*box[2:], 1_000)) for _ in range(2))
        reduction_sizes(f"{path.name}, 1,000 x 1,000 random points", real, terminal_nodes(real, od_real))
        few = rng.choice(real.graph.shape[0], 50, replace=False)
        reduction_sizes(f"{path.name}, 50 random nodes (structure only)", real, few)
        experiment(
            f"{path.name} (one-way streets)",
            real,
            od_real,
            {
                "plain Dijkstra": rows_serial,
                "contract <= 6 + pruning": contracted(6, rows_serial, prune=True),
                f"contract <= 6 + pruning + processes x{workers}": contracted(6, pooled, prune=True),
            },
            repeats,
        )

        net, o_node, d_node = synthetic_instance(points_n, m)
        od = (points(net.lon[o_node], net.lat[o_node]), points(net.lon[d_node], net.lat[d_node]))
        start = time.perf_counter()
        rcm = reordered(net.graph)
        print(f"\nRCM renumbering of the synthetic graph: {time.perf_counter() - start:.3f} s, once per network")
        reduction_sizes(f"synthetic département, {m:,} x {m:,} random nodes", net, terminal_nodes(net, od))
        variants: dict[str, NodeBlock] = {
            "plain Dijkstra": rows_serial,
            f"threads x{workers}": rows_pooled(threads, workers),
            f"processes x{workers}": pooled,
            "RCM order": rcm(rows_serial),
            "contract <= 1 (dead-end trees)": contracted(1, rows_serial),
            "contract <= 2 (+ chains)": contracted(2, rows_serial),
            "contract <= 6": contracted(6, rows_serial),
            "contract <= 6 + pruning": contracted(6, rows_serial, prune=True),
            f"contract <= 6 + pruning + processes x{workers}": contracted(6, pooled, prune=True),
            f"contract <= 8 + pruning + processes x{workers}": contracted(8, pooled, prune=True),
        }
        experiment("synthetic département", net, od, variants, repeats)
    print(f"\nload average after: {os.getloadavg()[0]:.2f} (1 min); {QUIET.summary()}")


if __name__ == "__main__":
    main()
