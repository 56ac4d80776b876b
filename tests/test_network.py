"""Tests for planner.travel.network: reading real OSM extracts and routing in bulk."""

from __future__ import annotations

import bz2

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pytest
from pyproj import Geod

from planner._errors import InputError
from planner.travel import contraction
from planner.travel import network as network_module
from planner.travel.estimate import haversine_m
from planner.travel.network import DRIVABLE, download_network, load_network

# A tiny network on the equator, hand-checkable:
#   D (0.01, 0.01)
#   /  \        A-B-C primary at 50 km/h, one way from A to C;
#  A--B--C      A-D-C residential at 30 km/h, both ways;
#               B-E footway (not drivable); C-F ends at node 99 missing from the file.
NODES = {1: (0.0, 0.0), 2: (0.01, 0.0), 3: (0.02, 0.0), 4: (0.01, 0.01), 5: (0.01, -0.01), 6: (0.03, 0.0)}
WAYS = [
    (10, [1, 2, 3], {"highway": "primary", "maxspeed": "50", "oneway": "yes"}),
    (11, [1, 4, 3], {"highway": "residential", "maxspeed": "30"}),
    (12, [2, 5], {"highway": "footway"}),
    (13, [3, 6, 99], {"highway": "residential", "maxspeed": "30"}),
]


def _osm_xml(nodes=NODES, ways=WAYS) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    lines += [f'<node id="{i}" version="1" lat="{lat}" lon="{lon}"/>' for i, (lon, lat) in nodes.items()]
    for way_id, refs, tags in ways:
        lines.append(f'<way id="{way_id}" version="1">')
        lines += [f'<nd ref="{r}"/>' for r in refs]
        lines += [f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("</way>")
    return "\n".join([*lines, "</osm>"])


@pytest.fixture
def tiny(tmp_path):
    """The hand-checkable network as a .osm.bz2 file."""
    path = tmp_path / "tiny.osm.bz2"
    path.write_bytes(bz2.compress(_osm_xml().encode()))
    return load_network(path)


def _points(*lonlat):
    return gpd.GeoSeries(gpd.points_from_xy(*zip(*lonlat, strict=True)), crs="EPSG:4326")


def _leg(a, b, kmh):
    return haversine_m(*NODES[a], *NODES[b]) / (kmh / 3.6) / 60


def test_shortest_paths_by_hand(tiny):
    """A->C takes the one-way primary road; C->A must go back through D on the residential road."""
    a, c = _points(NODES[1], NODES[3]), _points(NODES[1], NODES[3])
    minutes = tiny.matrix(a, c)
    a_to_c = _leg(1, 2, 50) + _leg(2, 3, 50)  # 2 x 1112 m at 50 km/h = 2.67 min
    c_to_a = _leg(3, 4, 30) + _leg(4, 1, 30)  # 2 x 1573 m at 30 km/h = 6.29 min
    assert minutes[0, 1] == pytest.approx(a_to_c, rel=1e-3)
    assert minutes[1, 0] == pytest.approx(c_to_a, rel=1e-3)
    assert minutes[0, 0] == 0 and minutes[1, 1] == 0


def test_messy_ways_are_dropped_and_said(tiny):
    """The footway is left out, the way with a missing node is cut, and the notes say both."""
    notes = " ".join(tiny.notes)
    assert "1 other highway ways" in notes and "1 ways referenced nodes missing from the extract" in notes
    assert 5 not in set(tiny.node_ids)  # only reachable by footway
    assert 6 in set(tiny.node_ids)  # the cut way keeps C-F


def test_snapping_distance_is_added(tiny):
    """A point 500 m north of A starts at A plus 500 m at the access speed (30 km/h = 1 min)."""
    _, lat, _ = Geod(ellps="WGS84").fwd(0, 0, 0, 500)  # 500 m due north on the ellipsoid
    minutes = tiny.matrix(_points((0.0, lat)), _points(NODES[1]))
    assert minutes[0, 0] == pytest.approx(1.0, rel=2e-3)  # the metric CRS (UTM) scales by < 0.1 %


def test_limit_gives_inf_beyond(tiny):
    """Pairs beyond limit_min are inf, pairs within keep their time."""
    minutes = tiny.matrix(_points(NODES[1], NODES[3]), _points(NODES[1], NODES[3]), limit_min=3)
    assert np.isfinite(minutes[0, 1]) and np.isinf(minutes[1, 0])


@pytest.mark.parametrize("contracted", [False, True], ids=["plain", "contracted"])
@pytest.mark.parametrize(
    "name", ["andorra_2013.osm.pbf", "north_bayreuth_DE_2014.osm.bz2", "saint_barthelemy_FR_2014.osm.bz2"]
)
def test_real_extracts_match_networkx(shared, name, contracted, monkeypatch):
    """On real OSM extracts the bulk matrix equals networkx Dijkstra on the same osmnx graph.

    ``contracted`` lowers the size thresholds so the graph is contracted around the points first,
    as it is for département-scale graphs.
    """
    if contracted:
        monkeypatch.setattr(contraction, "CONTRACT_MIN_NODES", 0)
        monkeypatch.setattr(contraction, "CONTRACT_MIN_SOURCES", 0)
    network = load_network(shared / "osm" / name)
    assert network.graph.shape[0] > 700
    rng = np.random.default_rng(0)
    pick = rng.choice(network.graph.shape[0], 30, replace=False)
    points = _points(*zip(network.lon[pick], network.lat[pick], strict=True))
    ours = network.matrix(points, points)
    graph = nx.DiGraph()
    rows, cols = network.graph.nonzero()
    graph.add_weighted_edges_from(zip(rows, cols, np.asarray(network.graph[rows, cols]).ravel(), strict=True))
    for i, source in enumerate(pick):
        lengths = nx.single_source_dijkstra_path_length(graph, int(source))
        expected = [lengths.get(int(t), np.inf) for t in pick]
        assert ours[i] == pytest.approx(expected, rel=1e-5, abs=1e-4)


def test_pbf_and_xml_of_the_same_extract_agree(shared):
    """Saint-Barthélemy as PBF and as XML gives the same drivable network."""
    pbf = load_network(shared / "osm" / "saint_barthelemy_FR_2014.osm.pbf")
    xml = load_network(shared / "osm" / "saint_barthelemy_FR_2014.osm.bz2")
    assert pbf.graph.shape == xml.graph.shape and pbf.graph.nnz == xml.graph.nnz


def test_graphml_round_trip(tmp_path, shared):
    """A GraphML saved by osmnx is read back with the same nodes."""
    graph = ox.graph_from_xml(shared / "osm" / "andorra_2013.osm.bz2", retain_all=True)  # every way, paths too
    path = tmp_path / "andorra.graphml"
    ox.save_graphml(graph, path)
    network = load_network(path)
    classes = [h if isinstance(h, list) else [h] for *_, h in graph.edges(data="highway")]
    foreign = sum(1 for c in classes if not set(c) & DRIVABLE)  # footways, tracks, paths, steps ...
    assert foreign > 100 and f"{foreign} edges that are not drivable roads removed" in network.notes
    assert network.graph.shape[0] > 1000


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_osm_xml(ways=[(12, [2, 5], {"highway": "footway"})]), "contains no drivable road"),
        ("<osm><node id='1' lat='x'", "cannot be read as OpenStreetMap data"),
    ],
)
def test_unusable_osm_files(tmp_path, content, message):
    """A file without roads, or a truncated one, is refused with a reason."""
    path = tmp_path / "bad.osm"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_network(path)


def test_wrong_extension_and_missing_file(tmp_path):
    """Only OSM and GraphML files are road networks; a missing file is named."""
    with pytest.raises(InputError, match="not found"):
        load_network(tmp_path / "none.osm.pbf")
    (tmp_path / "roads.shp").write_text("x")
    with pytest.raises(InputError, match="is not a road network file"):
        load_network(tmp_path / "roads.shp")


def test_download_is_cached(tmp_path, shared, monkeypatch):
    """The osmnx download runs once per territory; later runs read the cache (network mocked)."""
    calls = []

    def fake_download(polygon, **kwargs):
        calls.append(kwargs)
        return ox.graph_from_xml(shared / "osm" / "north_bayreuth_DE_2014.osm.bz2", retain_all=True)

    monkeypatch.setattr(ox, "graph_from_polygon", fake_download)
    monkeypatch.setattr(network_module, "check_online", lambda _url: None)  # no connection attempt either
    polygon = ox.utils_geo.bbox_to_poly((11.48, 49.97, 11.61, 50.05))
    first = download_network(polygon, tmp_path)
    second = download_network(polygon, tmp_path)
    assert len(calls) == 1 and calls[0]["network_type"] == "drive"
    assert first.graph.shape == second.graph.shape and "cached" in second.notes[0]


def test_distance_along_the_fastest_path(tiny):
    """Metres follow the fastest path: A->C on the primary road (2 x 1112 m), C->A round by D (2 x 1573 m)."""
    points = _points(NODES[1], NODES[3])
    metres = tiny.distance_m(points, points)
    assert metres[0, 1] == pytest.approx(2 * haversine_m(*NODES[1], *NODES[2]), rel=1e-3)
    assert metres[1, 0] == pytest.approx(2 * haversine_m(*NODES[1], *NODES[4]), rel=1e-3)
    assert metres[0, 0] == pytest.approx(0, abs=1e-6)


def test_path_geometry_follows_the_roads(tiny):
    """The drawn path from C to A passes through D, the way the truck drives."""
    from shapely.geometry import Point

    vertices = tiny.path(Point(NODES[3]), Point(NODES[1]))
    assert vertices[0] == NODES[3] and vertices[-1] == NODES[1]
    assert NODES[4] in [(round(x, 6), round(y, 6)) for x, y in vertices]
