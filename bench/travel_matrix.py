"""Travel-time matrix benchmark: Maillage's bulk matrix against networkx, in one run.

Maillage computes origin x destination driving minutes with ``RoadNetwork.matrix``: snapping,
then ``scipy.sparse.csgraph.dijkstra`` from the distinct source nodes. The baseline is what osmnx
users write: ``networkx.single_source_dijkstra_path_length(G, origin, weight="travel_time")`` on
the osmnx ``MultiDiGraph``, once per distinct origin node, reading off the destination nodes.

Two instances:

* the largest road network in ``../shared/data/osm/`` (by nodes, as loaded by
  ``planner.travel.network.load_network``), origins and destinations uniform random points in its
  bounding box;
* a synthetic road-like graph at département scale (~100,000 nodes): random points in a
  70 km x 70 km square in Lambert-93, Delaunay triangulation, 47 % of the edges kept at random,
  largest connected component, edge time = length x 1.3 at 50 km/h; origins and destinations
  random distinct nodes. networkx runs on a stated subset of sources and is extrapolated per source.

Every networkx distance computed is compared with Maillage's node-to-node minutes (points placed
on the nodes themselves, so no snapping term) and must agree within 1e-4 min.

Usage (from the repository root)::

    .venv/bin/python bench/travel_matrix.py           # full run, a few minutes
    .venv/bin/python bench/travel_matrix.py --quick   # smoke test, under a minute
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import scipy
from pyproj import Transformer
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.travel.network import FRENCH_SPEEDS_KMH, RoadNetwork, _read_graph, load_network  # noqa: E402

OSM_DIR = ROOT.parent / "shared" / "data" / "osm"
OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf")
TOLERANCE_MIN = 1e-4
SEED = 20240611
CAP_MIN = 60.0
PROC_STAT = Path("/proc/stat")
QUIET_BUSY = 0.10
# Synthetic graph: points in a square of SIDE_M around CENTRE (Lambert-93); 4.5 % of the nodes fall
# outside the largest component, so 104,500 points leave ~100,000 nodes.
SIDE_M = 70_000.0
CENTRE_L93 = (700_000.0, 6_350_000.0)
KEEP_EDGES = 0.47
DETOUR = 1.3
SPEED_KMH = 50.0


@dataclass(frozen=True)
class Sizes:
    """Instance sizes for one run mode."""

    osm_points: int
    synthetic_points: int
    synthetic_matrix: int
    networkx_sources: int
    repeats: int
    quiet_wait_s: float


FULL = Sizes(
    osm_points=1_000,
    synthetic_points=104_500,
    synthetic_matrix=1_000,
    networkx_sources=20,
    repeats=3,
    quiet_wait_s=30.0,
)
QUICK = Sizes(
    osm_points=300, synthetic_points=10_500, synthetic_matrix=300, networkx_sources=5, repeats=1, quiet_wait_s=0.0
)


@dataclass(frozen=True)
class Timing:
    """Best wall-clock seconds and best CPU seconds of this process over the repeats."""

    wall: float
    cpu: float

    def __mul__(self, factor: float) -> Timing:
        return Timing(self.wall * factor, self.cpu * factor)


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    instance: str
    nodes: int
    edges: int
    size: str
    maillage: Timing
    networkx: Timing
    networkx_how: str

    def markdown(self) -> str:
        wall, cpu = self.networkx.wall / self.maillage.wall, self.networkx.cpu / self.maillage.cpu
        return (
            f"| {self.instance} | {self.nodes:,} | {self.edges:,} | {self.size} | {self.maillage.wall:.3f} "
            f"({self.maillage.cpu:.3f}) | {self.networkx.wall:.2f} ({self.networkx.cpu:.2f}); {self.networkx_how} | "
            f"{wall:,.0f}x ({cpu:,.0f}x) |"
        )


def machine_info() -> list[str]:
    """CPU, OS and library versions, one item per line."""
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines() if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    return [
        f"CPU: {cpu}, {os.cpu_count()} logical CPUs",
        f"platform: {platform.platform()}",
        f"python: {platform.python_version()}",
        f"numpy {np.__version__}, scipy {scipy.__version__}, networkx {nx.__version__}, osmnx {ox.__version__}",
    ]


def cpu_busy(seconds: float) -> float:
    """Share of all CPUs' time spent busy over the next ``seconds`` (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        ticks = [int(x) for x in PROC_STAT.read_text().split("\n", 1)[0].split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]  # total, idle + iowait

    total, idle = sample()
    time.sleep(seconds)
    total2, idle2 = sample()
    return 1.0 - (idle2 - idle) / max(total2 - total, 1)


@dataclass
class QuietWait:
    """Before a timed run, wait (up to ``max_s``, ``budget_s`` in all) for CPUs idle for 1 s: machines are shared."""

    max_s: float = 0.0
    budget_s: float = 600.0
    waited_s: float = 0.0
    gave_up: int = 0

    def __call__(self) -> None:
        if self.max_s <= 0 or self.waited_s >= self.budget_s or not PROC_STAT.exists():
            return
        start, calm = time.perf_counter(), 0
        while calm < 2:
            calm = calm + 1 if cpu_busy(0.5) < QUIET_BUSY else 0
            if time.perf_counter() - start > self.max_s:
                self.gave_up += 1
                break
        self.waited_s += time.perf_counter() - start

    def summary(self) -> str:
        if self.max_s <= 0:
            return "no wait for idle CPUs (quick mode)"
        return (
            f"waited {self.waited_s:.0f} s in all for idle CPUs (< {QUIET_BUSY:.0%} busy) before timed runs; "
            f"gave up after {self.max_s:g} s {self.gave_up} time(s)"
            + (f"; stopped waiting after a {self.budget_s:g} s budget" if self.waited_s >= self.budget_s else "")
        )


QUIET = QuietWait()


def best_of_each(repeats: int, runs: Sequence[Callable[[], np.ndarray]]) -> list[tuple[np.ndarray, Timing]]:
    """Result and best wall-clock and CPU times of each callable, run in turn for ``repeats`` rounds.

    Interleaving gives every contender the same share of whatever else the machine is doing.
    """
    results = [np.empty(0) for _ in runs]
    wall, cpu = [np.inf] * len(runs), [np.inf] * len(runs)
    for _ in range(repeats):
        for i, run in enumerate(runs):
            QUIET()
            start, start_cpu = time.perf_counter(), time.process_time()
            results[i] = run()
            wall[i] = min(wall[i], time.perf_counter() - start)
            cpu[i] = min(cpu[i], time.process_time() - start_cpu)
    return [(result, Timing(w, c)) for result, w, c in zip(results, wall, cpu, strict=True)]


def points(lon: np.ndarray, lat: np.ndarray) -> gpd.GeoSeries:
    """WGS84 points."""
    return gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def networkx_minutes(
    graph: nx.MultiDiGraph, sources: Sequence[object], targets: Sequence[object], cutoff_min: float | None
) -> np.ndarray:
    """Minutes source x target, one ``single_source_dijkstra_path_length`` per source (``inf`` if not reached)."""
    cutoff = None if cutoff_min is None else cutoff_min * 60.0
    out = np.full((len(sources), len(targets)), np.inf)
    for i, source in enumerate(sources):
        seconds = nx.single_source_dijkstra_path_length(graph, source, cutoff=cutoff, weight="travel_time")
        out[i] = [seconds.get(t, np.inf) for t in targets]
    return out / 60.0


def node_minutes(net: RoadNetwork, sources: np.ndarray, targets: np.ndarray, limit_min: float | None) -> np.ndarray:
    """Maillage's minutes between node indices: points on the nodes, so the snapping term is zero."""
    src, dst = points(net.lon[sources], net.lat[sources]), points(net.lon[targets], net.lat[targets])
    for nodes, pts in ((sources, src), (targets, dst)):
        snapped, metres = net.snap(pts)
        if not (np.array_equal(snapped, nodes) and np.all(metres == 0)):
            raise AssertionError("points placed on nodes did not snap back to the same nodes")
    return net.matrix(src, dst, limit_min=limit_min)


def check_equal(ours: np.ndarray, theirs: np.ndarray, limit_min: float | None) -> str:
    """Assert both matrices agree within TOLERANCE_MIN (same reachability) and describe the check."""
    ours = ours.astype(np.float64)
    finite = np.isfinite(ours)
    mismatch = finite != np.isfinite(theirs)
    if limit_min is not None:  # a pair right at the cap may fall either side of it
        edge = np.where(finite, ours, theirs)
        mismatch &= np.abs(edge - limit_min) > TOLERANCE_MIN
    if mismatch.any():
        raise AssertionError(f"{mismatch.sum()} pairs reachable by one method only")
    both = finite & np.isfinite(theirs)
    worst = float(np.max(np.abs(ours[both] - theirs[both]), initial=0.0))
    if worst > TOLERANCE_MIN:
        raise AssertionError(f"networkx and Maillage differ by up to {worst:.2e} min")
    return f"{both.sum():,} finite pairs equal (max |diff| {worst:.1e} min), {(~both).sum():,} unreachable in both"


def prepare_osmnx_graph(path: Path) -> nx.MultiDiGraph:
    """The osmnx graph a user would route on: same reading, component and speeds as ``network_from_graph``."""
    graph, _ = _read_graph(path)
    graph = ox.truncate.largest_component(graph, strongly=True)
    graph = ox.add_edge_speeds(graph, hwy_speeds=FRENCH_SPEEDS_KMH, fallback=40)
    return ox.add_edge_travel_times(graph)


def largest_osm_network() -> tuple[Path, RoadNetwork, list[str]]:
    """Load every OSM extract with ``load_network`` and keep the one with the most nodes."""
    files = sorted(p for p in OSM_DIR.iterdir() if p.name.lower().endswith(OSM_SUFFIXES))
    if not files:
        raise SystemExit(f"no OSM extract in {OSM_DIR}")
    loaded = [(path, load_network(path)) for path in files]
    sizes = [f"{path.name}: {net.graph.shape[0]:,} nodes" for path, net in loaded]
    path, net = max(loaded, key=lambda item: item[1].graph.shape[0])
    return path, net, sizes


def bench_osm(sizes: Sizes) -> Row:
    """Largest real extract: random points in its bounding box, networkx on every distinct origin node."""
    rng = np.random.default_rng(SEED)
    path, net, found = largest_osm_network()
    print("OSM extracts (nodes after load_network): " + "; ".join(found))
    print(f"largest: {path.name}")
    graph = prepare_osmnx_graph(path)
    if set(graph.nodes) != set(net.node_ids.tolist()):
        raise AssertionError("osmnx graph and RoadNetwork have different nodes")
    n = sizes.osm_points
    origins = points(rng.uniform(net.lon.min(), net.lon.max(), n), rng.uniform(net.lat.min(), net.lat.max(), n))
    destinations = points(rng.uniform(net.lon.min(), net.lon.max(), n), rng.uniform(net.lat.min(), net.lat.max(), n))
    o_node = np.unique(net.snap(origins)[0])
    d_node = net.snap(destinations)[0]
    o_ids, d_ids = net.node_ids[o_node].tolist(), net.node_ids[d_node].tolist()
    every = net.node_ids[net.snap(origins)[0]].tolist()
    (_, maillage), (theirs, networkx), (_, per_point) = best_of_each(
        sizes.repeats,
        [
            lambda: net.matrix(origins, destinations),
            lambda: networkx_minutes(graph, o_ids, d_ids, None),
            lambda: networkx_minutes(graph, every, d_ids, None),
        ],
    )
    print(
        f"  {len(o_node)} distinct origin nodes: " + check_equal(node_minutes(net, o_node, d_node, None), theirs, None)
    )
    print(
        f"  networkx once per origin point ({n:,} calls, no deduplication): {per_point.wall:.2f} s "
        f"(CPU {per_point.cpu:.2f} s), {per_point.wall / maillage.wall:,.0f}x Maillage (not in the table)"
    )
    return Row(
        f"{path.name} (real OSM)",
        net.graph.shape[0],
        net.graph.nnz,
        f"{n:,} x {n:,}",
        maillage,
        networkx,
        f"measured, {len(o_node)} distinct origins",
    )


def synthetic_network(n_points: int, rng: np.random.Generator) -> RoadNetwork:
    """Road-like graph: Delaunay edges kept with probability KEEP_EDGES, largest connected component."""
    xy = rng.uniform(0.0, SIDE_M, (n_points, 2)) + np.array(CENTRE_L93) - SIDE_M / 2
    triangles = Delaunay(xy).simplices
    pairs = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [0, 2]]])
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    pairs = pairs[rng.random(len(pairs)) < KEEP_EDGES]
    u, v = pairs[:, 0], pairs[:, 1]
    metres = np.hypot(*(xy[u] - xy[v]).T) * DETOUR
    arcs = (np.r_[u, v], np.r_[v, u])
    both = coo_matrix((np.tile(metres / (SPEED_KMH * 1000.0 / 60.0), 2), arcs), shape=(n_points, n_points)).tocsr()
    length = coo_matrix((np.tile(metres, 2), arcs), shape=(n_points, n_points)).tocsr()
    _, label = connected_components(both, directed=False)
    keep = np.flatnonzero(label == np.bincount(label).argmax())
    graph, length_m = csr_matrix(both[keep][:, keep]), csr_matrix(length[keep][:, keep])
    lon, lat = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True).transform(xy[keep, 0], xy[keep, 1])
    source = f"synthetic Delaunay, {n_points:,} points, {KEEP_EDGES:.0%} edges kept, seed {SEED}"
    return RoadNetwork(
        graph=graph,
        length_m=length_m,
        node_ids=np.arange(len(keep)),
        lon=np.asarray(lon),
        lat=np.asarray(lat),
        crs="EPSG:2154",
        source=source,
    )


def osmnx_like(net: RoadNetwork) -> nx.MultiDiGraph:
    """The synthetic network as an osmnx-style MultiDiGraph (x, y; ``travel_time`` in seconds)."""
    graph = nx.MultiDiGraph(crs="EPSG:4326")
    graph.add_nodes_from((i, {"x": x, "y": y}) for i, (x, y) in enumerate(zip(net.lon, net.lat, strict=True)))
    coo = net.graph.tocoo()
    graph.add_edges_from(
        (int(u), int(v), {"travel_time": float(m) * 60.0}) for u, v, m in zip(coo.row, coo.col, coo.data, strict=True)
    )
    return graph


def synthetic_instance(n_points: int, m: int) -> tuple[RoadNetwork, np.ndarray, np.ndarray]:
    """The seeded synthetic network and ``m`` distinct random origin and destination nodes."""
    rng = np.random.default_rng(SEED)
    net = synthetic_network(n_points, rng)
    nodes = net.graph.shape[0]
    return net, rng.choice(nodes, m, replace=False), rng.choice(nodes, m, replace=False)


def bench_synthetic(sizes: Sizes) -> list[Row]:
    """Département-scale synthetic graph, uncapped and capped at CAP_MIN; networkx extrapolated per source."""
    start = time.perf_counter()
    m, k = sizes.synthetic_matrix, sizes.networkx_sources
    net, o_node, d_node = synthetic_instance(sizes.synthetic_points, m)
    graph = osmnx_like(net)
    nodes = net.graph.shape[0]
    print(f"synthetic graph: {nodes:,} nodes (largest component), built in {time.perf_counter() - start:.1f} s")
    origins, destinations = points(net.lon[o_node], net.lat[o_node]), points(net.lon[d_node], net.lat[d_node])
    sample = o_node[:k]
    rows = []
    for cap in (None, CAP_MIN):
        (_, maillage), (theirs, subset) = best_of_each(
            sizes.repeats,
            [
                partial(net.matrix, origins, destinations, limit_min=cap),
                partial(networkx_minutes, graph, sample.tolist(), d_node.tolist(), cap),
            ],
        )
        label = "uncapped" if cap is None else f"limit_min={cap:g}"
        print(
            f"  {label}: networkx on {k} sources: " + check_equal(node_minutes(net, sample, d_node, cap), theirs, cap)
        )
        name = "synthetic département" + ("" if cap is None else f", capped at {cap:g} min (limit_min / cutoff)")
        how = f"extrapolated: {subset.wall:.2f} s for {k} sources x {m / k:g}"
        rows.append(Row(name, nodes, net.graph.nnz, f"{m:,} x {m:,}", maillage, subset * (m / k), how))
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    """Run both instances and print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one repeat: a smoke test under 60 s")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    QUIET.max_s = sizes.quiet_wait_s
    print(f"# Travel-time matrix benchmark ({'quick' if args.quick else 'full'})")
    print(f"date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    for line in machine_info():
        print(line)
    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min; other work on the machine skews times)")
    print(
        f"seed {SEED}; times are the best of {sizes.repeats} interleaved run(s): wall clock, "
        "and CPU time of this process\n"
    )
    rows = [bench_osm(sizes), *bench_synthetic(sizes)]
    print(
        "\nMaillage: RoadNetwork.matrix end to end (snapping included). networkx: shortest paths only, per "
        "distinct origin node, snapping not timed.\n"
    )
    print("| instance | nodes | directed edges | matrix | Maillage s (CPU s) | networkx s (CPU s) | speed-up (CPU) |")
    print("| --- | ---: | ---: | --- | ---: | --- | ---: |")
    for row in rows:
        print(row.markdown())
    print(f"\nload average after: {os.getloadavg()[0]:.2f} (1 min); {QUIET.summary()}")


if __name__ == "__main__":
    main()
