"""Road networks: read OSM files (or download once and cache), keep what cars can drive, route in bulk.

Real OSM extracts are messy: ways that are not roads, ways whose nodes lie outside the extract,
missing ``maxspeed``. Reading keeps the drivable ``highway`` ways, cuts ways at missing nodes,
keeps the largest strongly connected component, and reports each step in ``RoadNetwork.notes``.
Speeds come from ``maxspeed`` where tagged, else from the French default per road class.
"""

from __future__ import annotations

import hashlib
import socket
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import pandas as pd
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely.geometry import Point

from planner._errors import InputError
from planner.data._safety import check_network_file
from planner.travel.contraction import shortest_minutes

DRIVABLE = {
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "road",
    "service",
}
NOT_FOR_CARS = {"private", "no"}
SERVICE_EXCLUDED = {"parking_aisle", "driveway", "private", "emergency_access", "drive-through"}
# Typical free-flow speeds (km/h) on French roads by class, used where `maxspeed` is not tagged.
FRENCH_SPEEDS_KMH: dict[str, float] = {
    "motorway": 120,
    "motorway_link": 70,
    "trunk": 100,
    "trunk_link": 60,
    "primary": 80,
    "primary_link": 50,
    "secondary": 70,
    "secondary_link": 50,
    "tertiary": 60,
    "tertiary_link": 40,
    "unclassified": 50,
    "road": 40,
    "residential": 30,
    "living_street": 20,
    "service": 20,
}


@dataclass
class RoadNetwork:
    """A drivable road graph as a CSR matrix of minutes, with node positions for snapping."""

    graph: csr_matrix
    length_m: csr_matrix
    node_ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    crs: str
    source: str
    access_speed_kmh: float = 30.0
    notes: list[str] = field(default_factory=list)
    shapes: dict[tuple[int, int], list[tuple[float, float]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._to_metric = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        self._tree = cKDTree(np.column_stack(self._to_metric.transform(self.lon, self.lat)))

    @property
    def kind(self) -> str:
        return "road"

    def snap(self, points: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node index of each point and the crow-fly snapping distance in metres."""
        x, y = self._to_metric.transform(points.x.to_numpy(), points.y.to_numpy())
        dist_m, index = self._tree.query(np.column_stack([x, y]))
        return index, dist_m

    def matrix(
        self, origins: gpd.GeoSeries, destinations: gpd.GeoSeries, *, limit_min: float | None = None
    ) -> np.ndarray:
        """Driving minutes origin x destination (float32, ``inf`` when unreachable or beyond the limit).

        Each point is snapped to its nearest node; the snapping distance is added at
        ``access_speed_kmh`` on both ends. Shortest paths run as Dijkstra from the smaller set of
        distinct nodes, on the graph contracted around the terminals when it is large.
        """
        o_node, o_m = self.snap(origins)
        d_node, d_m = self.snap(destinations)
        o_unique, o_inv = np.unique(o_node, return_inverse=True)
        d_unique, d_inv = np.unique(d_node, return_inverse=True)
        forward = len(o_unique) <= len(d_unique)
        graph, sources, targets = (
            (self.graph, o_unique, d_unique) if forward else (self.graph.T.tocsr(), d_unique, o_unique)
        )
        limit = np.inf if limit_min is None else float(limit_min)
        block = shortest_minutes(graph, sources, targets, limit)
        node_minutes = block if forward else block.T
        access = 60.0 / (self.access_speed_kmh * 1000.0)
        minutes = node_minutes[np.ix_(o_inv, d_inv)] + (o_m[:, None] + d_m[None, :]).astype(np.float32) * access
        if limit_min is not None:
            minutes[minutes > limit_min] = np.inf
        return minutes

    def distance_m(self, origins: gpd.GeoSeries, destinations: gpd.GeoSeries) -> np.ndarray:
        """Metres along the fastest path, origin x destination, snapping distances included.

        One Dijkstra per distinct origin node gives the fastest-path tree; a second pass over that
        tree sums the edge lengths. Meant for stop-to-stop matrices (hundreds of points).
        """
        o_node, o_m = self.snap(origins)
        d_node, d_m = self.snap(destinations)
        sources, o_inv = np.unique(o_node, return_inverse=True)
        n = self.graph.shape[0]
        metres = np.empty((len(sources), len(d_node)))
        for i, source in enumerate(sources):
            _, pred = dijkstra(self.graph, directed=True, indices=source, return_predecessors=True)
            child = np.nonzero(pred >= 0)[0]
            parent = pred[child]
            edge = np.asarray(self.length_m[parent, child]).ravel()
            tree = csr_matrix((edge + 1e-9, (parent, child)), shape=(n, n))  # 1e-9 keeps zero-length edges
            metres[i] = dijkstra(tree, directed=True, indices=source)[d_node]
        return metres[o_inv] + o_m[:, None] + d_m[None, :]

    def path(self, origin: Point, destination: Point) -> list[tuple[float, float]]:
        """(lon, lat) vertices of the fastest path between two points, for maps."""
        (a,), _ = self.snap(gpd.GeoSeries([origin], crs="EPSG:4326"))
        (b,), _ = self.snap(gpd.GeoSeries([destination], crs="EPSG:4326"))
        _, pred = dijkstra(self.graph, directed=True, indices=a, return_predecessors=True)
        nodes = [b]
        while nodes[-1] != a and pred[nodes[-1]] >= 0:
            nodes.append(pred[nodes[-1]])
        if nodes[-1] != a:
            return [(origin.x, origin.y), (destination.x, destination.y)]
        nodes.reverse()
        vertices = [(origin.x, origin.y), (float(self.lon[a]), float(self.lat[a]))]
        for u, v in pairwise(nodes):
            vertices += [*self.shapes.get((int(u), int(v)), [])[1:-1], (float(self.lon[v]), float(self.lat[v]))]
        return [*vertices, (destination.x, destination.y)]

    def describe(self) -> dict[str, object]:
        return {
            "model": "road",
            "source": self.source,
            "nodes": int(self.graph.shape[0]),
            "edges": int(self.graph.nnz),
            "access_speed_kmh": self.access_speed_kmh,
            "default_speeds_kmh": FRENCH_SPEEDS_KMH,
            "notes": self.notes,
        }


def _drivable(tags: osmium.osm.TagList) -> bool:
    if tags.get("highway") not in DRIVABLE or tags.get("area") == "yes":
        return False
    if tags.get("access") in NOT_FOR_CARS or tags.get("motor_vehicle") in NOT_FOR_CARS:
        return False
    return not (tags.get("highway") == "service" and tags.get("service") in SERVICE_EXCLUDED)


def _drivable_class(highway: str | list[str] | None) -> bool:
    """True when an osmnx edge's ``highway`` value (or any of a merged list) is a drivable class."""
    values = highway if isinstance(highway, list) else [highway]
    return any(v in DRIVABLE for v in values)


def _clean_osm(path: Path, out: Path) -> list[str]:
    """Write the drivable ways of an OSM file (XML, .bz2/.gz or PBF) as plain OSM XML."""
    kept = cut = dropped = other = 0
    nodes: dict[int, tuple[float, float]] = {}
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations():
        if not isinstance(obj, osmium.osm.Way):
            continue
        if not _drivable(obj.tags):
            other += "highway" in obj.tags
            continue
        tags = {t.k: t.v for t in obj.tags}
        run: list[int] = []
        runs = []
        for ref in obj.nodes:
            if ref.location.valid():
                nodes[ref.ref] = (ref.location.lon, ref.location.lat)
                run.append(ref.ref)
            else:
                runs.append(run)
                run = []
        runs.append(run)
        pieces = [r for r in runs if len(r) >= 2]
        if len(pieces) != 1 or len(pieces[0]) != len(obj.nodes):
            cut += 1
        if not pieces:
            dropped += 1
        kept += bool(pieces)
        ways.extend((obj.id * 1000 + k if len(pieces) > 1 else obj.id, piece, tags) for k, piece in enumerate(pieces))
    if not ways:
        raise InputError.one(
            str(path),
            "",
            "contains no drivable road (no way tagged highway=primary, residential, ...)",
            hint="give an OpenStreetMap extract that covers the territory's roads",
        )
    writer = osmium.SimpleWriter(str(out))
    try:
        for node_id in sorted(nodes):
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=nodes[node_id], version=1))
        for way_id, refs, tags in ways:
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags, version=1))
    finally:
        writer.close()
    notes = [f"{kept} drivable ways kept; {other} other highway ways (paths, tracks, private) left out"]
    if cut or dropped:
        notes.append(f"{cut} ways referenced nodes missing from the extract: cut there ({dropped} dropped entirely)")
    return notes


def _read_graph(path: Path) -> tuple[nx.MultiDiGraph, list[str]]:
    import osmnx as ox  # imported on use: saves seconds at app start-up

    name = path.name.lower()
    if name.endswith(".graphml"):
        return ox.load_graphml(path), []
    if not name.endswith((".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf")):
        raise InputError.one(
            str(path), "", "is not a road network file", hint="use .osm, .osm.bz2, .osm.pbf or .graphml"
        )
    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "drive.osm"
        try:
            notes = _clean_osm(path, clean)
            graph = ox.graph_from_xml(clean, simplify=True, retain_all=True)  # fails on degenerate networks
        except InputError:
            raise
        except Exception as exc:  # libosmium reports corrupt input with RuntimeError and others
            raise InputError.one(str(path), "", f"cannot be read as OpenStreetMap data ({exc})") from None
        return graph, notes


def network_from_graph(
    graph: nx.MultiDiGraph, *, source: str, access_speed_kmh: float = 30.0, notes: list[str] | None = None
) -> RoadNetwork:
    """Largest strongly connected part of an osmnx graph, with travel times, as a RoadNetwork."""
    import osmnx as ox  # imported on use: saves seconds at app start-up

    notes = list(notes or [])
    foreign = [(u, v, k) for u, v, k, hwy in graph.edges(keys=True, data="highway") if not _drivable_class(hwy)]
    if foreign:
        graph = graph.copy()
        graph.remove_edges_from(foreign)
        notes.append(f"{len(foreign)} edges that are not drivable roads removed")
    before = graph.number_of_nodes()
    graph = ox.truncate.largest_component(graph, strongly=True)
    if graph.number_of_nodes() < before:
        notes.append(
            f"{before - graph.number_of_nodes()} of {before} nodes outside the largest strongly "
            "connected part dropped (one-way dead ends, islands)"
        )
    untagged = sum(1 for *_, d in graph.edges(data=True) if "maxspeed" not in d)
    graph = ox.add_edge_speeds(graph, hwy_speeds=FRENCH_SPEEDS_KMH, fallback=40)
    graph = ox.add_edge_travel_times(graph)
    notes.append(f"{untagged} of {graph.number_of_edges()} edges without maxspeed: speed from road class")
    node_ids = np.array(list(graph.nodes))
    position = {n: i for i, n in enumerate(node_ids)}
    edges = (
        pd.DataFrame(
            [
                (position[u], position[v], d["travel_time"] / 60.0, d["length"], d.get("geometry"))
                for u, v, d in graph.edges(data=True)
            ],
            columns=["u", "v", "time_min", "length_m", "shape"],
        )
        .sort_values("time_min", kind="stable")
        .drop_duplicates(["u", "v"])  # parallel edges: keep the fastest
    )
    n = len(node_ids)
    csr = csr_matrix((edges["time_min"].to_numpy(), (edges["u"], edges["v"])), shape=(n, n))
    length = csr_matrix((edges["length_m"].to_numpy(), (edges["u"], edges["v"])), shape=(n, n))
    lon = np.array([graph.nodes[i]["x"] for i in node_ids])
    lat = np.array([graph.nodes[i]["y"] for i in node_ids])
    crs = str(gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").estimate_utm_crs())
    if -5.5 <= lon.mean() <= 10 and 41 <= lat.mean() <= 51.5:
        crs = "EPSG:2154"
    shapes = {(int(u), int(v)): list(g.coords) for u, v, g in edges[["u", "v", "shape"]].itertuples(index=False) if g}
    return RoadNetwork(csr, length, node_ids, lon, lat, crs, source, access_speed_kmh, notes, shapes)


def load_network(path: str | Path, *, access_speed_kmh: float = 30.0) -> RoadNetwork:
    """A RoadNetwork from a local ``.osm``/``.osm.bz2``/``.osm.pbf``/``.graphml`` file."""
    path = Path(path)
    if not path.exists():
        raise InputError.one(str(path), "", "road network file not found")
    check_network_file(path)  # no XML entities, no decompression bomb
    graph, notes = _read_graph(path)
    if graph.number_of_edges() == 0:
        raise InputError.one(str(path), "", "has no road left to route on once simplified (a lone loop or way)")
    return network_from_graph(graph, source=str(path), access_speed_kmh=access_speed_kmh, notes=notes)


NO_NETWORK = "no network: give a road network file with --network or run with the network available"
ONLINE_CHECK_S = 5.0


def _no_network(reason: object) -> InputError:
    return InputError.one("--download", "", f"{NO_NETWORK} ({reason})")


def check_online(url: str, *, timeout_s: float = ONLINE_CHECK_S) -> None:
    """Raise :class:`InputError` within ``timeout_s`` when ``url``'s server (or the proxy to it) cannot be reached.

    Without it a download with no network would wait for osmnx's retries and pauses (over a minute).
    """
    target = urllib.parse.urlsplit(url)
    proxy = urllib.request.getproxies().get(target.scheme)
    if proxy and not urllib.request.proxy_bypass(target.hostname or ""):
        target = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    host = target.hostname or ""
    try:
        socket.create_connection((host, target.port or (443 if target.scheme == "https" else 80)), timeout_s).close()
    except OSError as exc:
        raise _no_network(f"cannot reach {host}: {exc.strerror or exc}") from None


def download_network(polygon: object, cache_dir: str | Path, *, access_speed_kmh: float = 30.0) -> RoadNetwork:
    """Download the drive network inside ``polygon`` (WGS84) once, then reuse the cached GraphML.

    This is the only function in Maillage that goes online. Without a network it fails within
    seconds with :data:`NO_NETWORK`, and leaves nothing behind (the cache folder is made only to
    store a complete download; osmnx's own HTTP cache is not used).
    """
    import osmnx as ox  # imported on use: saves seconds at app start-up
    import requests

    cache = Path(cache_dir)
    key = hashlib.sha256(polygon.wkb).hexdigest()[:16]  # type: ignore[attr-defined]
    path = cache / f"drive-{key}.graphml"
    notes = [f"cached download {path.name}"]
    if not path.exists():
        check_online(ox.settings.overpass_url)
        use_cache, ox.settings.use_cache = ox.settings.use_cache, False  # no ./cache folder of HTTP answers
        try:
            graph = ox.graph_from_polygon(polygon, network_type="drive", retain_all=True)
        except (requests.RequestException, OSError) as exc:
            raise _no_network(f"{type(exc).__name__}: {exc}") from None
        finally:
            ox.settings.use_cache = use_cache
        cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        try:
            ox.save_graphml(graph, tmp)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
        notes = [f"downloaded from OpenStreetMap and cached as {path}"]
    return network_from_graph(ox.load_graphml(path), source=str(path), access_speed_kmh=access_speed_kmh, notes=notes)
