"""Road networks per département: stored as Parquet, clipped with a border buffer, read by Dask workers.

The round trip and the clipping run on the real Andorra extract. The per-département path needs a
network over French départements, which ``../shared/data/osm/`` does not hold: the test draws a
road grid over the Territoire de Belfort and 10 km around it (every 1 km, secondary roads both
ways) and saves it as GraphML, as osmnx would.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import Point, box

from planner._errors import InputError
from planner.data.france import _communes
from planner.exports._safe import read_csv
from planner.runs.fanout import dask_client, departement_scenario, fan_out
from planner.runs.pipeline import run_scenario
from planner.scenario import CoverageSpec, Scenario, TravelSpec
from planner.travel import store as network_store
from planner.travel.network import load_network
from planner.travel.store import clip_network, departement_networks, read_network, save_network


@pytest.fixture(scope="module")
def andorra(shared: Path):
    return load_network(shared / "osm" / "andorra_2013.osm.pbf")


def _random_points(network, n: int, seed: int) -> gpd.GeoSeries:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(network.lon.min(), network.lon.max(), n)
    lat = rng.uniform(network.lat.min(), network.lat.max(), n)
    return gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def test_stored_network_reads_back_the_same(andorra, tmp_path):
    """Save then read: same graph, nodes, shapes and the same matrix to the bit."""
    folder = tmp_path / "andorra"
    save_network(andorra, folder)
    again = read_network(folder)
    assert (again.graph != andorra.graph).nnz == 0 and (again.length_m != andorra.length_m).nnz == 0
    assert np.array_equal(again.node_ids, andorra.node_ids) and np.array_equal(again.lon, andorra.lon)
    assert again.shapes == andorra.shapes and again.crs == andorra.crs
    points = _random_points(andorra, 40, 1)
    assert np.array_equal(again.matrix(points, points), andorra.matrix(points, points))
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["nodes"] == andorra.graph.shape[0] and meta["edges"] == andorra.graph.nnz
    assert sorted(p.name for p in tmp_path.iterdir()) == ["andorra"]  # no partial folder left


def test_clip_keeps_the_buffered_area_strongly_connected(andorra):
    """Clipped nodes lie within the buffer; every node reaches every other; no path gets shorter."""
    middle = box(1.50, 42.50, 1.56, 42.54)
    part = clip_network(andorra, middle, 2_000, label="the middle")
    x, y = (
        gpd.GeoSeries(gpd.points_from_xy(part.lon, part.lat), crs="EPSG:4326")
        .to_crs(part.crs)
        .pipe(lambda s: (s.x, s.y))
    )
    zone = gpd.GeoSeries([middle], crs="EPSG:4326").to_crs(part.crs).buffer(2_000).iloc[0]
    assert all(zone.contains(Point(a, b)) for a, b in zip(x, y, strict=True))
    assert 0 < part.graph.shape[0] < andorra.graph.shape[0]
    from scipy.sparse.csgraph import connected_components

    assert connected_components(part.graph, directed=True, connection="strong")[0] == 1
    inside = gpd.GeoSeries(gpd.points_from_xy(part.lon[::25], part.lat[::25]), crs="EPSG:4326")
    assert (part.matrix(inside, inside) >= andorra.matrix(inside, inside) - 1e-4).all()
    assert any("clipped to the middle and 2 km around it" in note for note in part.notes)


def test_clip_with_a_buffer_over_everything_changes_nothing(andorra):
    """A buffer that holds the whole extract gives back the same network and matrix."""
    whole = clip_network(andorra, box(1.50, 42.50, 1.51, 42.51), 100_000, label="Andorra")
    assert whole.graph.shape == andorra.graph.shape
    points = _random_points(andorra, 30, 2)
    assert np.array_equal(whole.matrix(points, points), andorra.matrix(points, points))


def test_clip_far_from_the_network_is_refused(andorra):
    """An area the extract does not reach: a plain error naming the file and the area."""
    with pytest.raises(InputError, match="has no road within 5 km of département 48"):
        clip_network(andorra, box(3.4, 44.4, 3.6, 44.6), 5_000, label="département 48")


def _grid_graphml(path: Path, area, margin_km: float, step_km: float = 1.0) -> None:
    """A grid of two-way secondary roads over ``area``'s bounds and ``margin_km`` around them."""
    import osmnx as ox

    west, south, east, north = area.bounds
    dlat = margin_km / 111.2
    dlon = margin_km / (111.2 * math.cos(math.radians((south + north) / 2)))
    lats = np.arange(south - dlat, north + dlat, step_km / 111.2)
    lons = np.arange(west - dlon, east + dlon, step_km / (111.2 * math.cos(math.radians((south + north) / 2))))
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for i, lat in enumerate(lats):
        for j, lon in enumerate(lons):
            graph.add_node(i * len(lons) + j + 1, x=float(lon), y=float(lat))
    for i in range(len(lats)):
        for j in range(len(lons)):
            here = i * len(lons) + j + 1
            for there in ([here + 1] if j + 1 < len(lons) else []) + ([here + len(lons)] if i + 1 < len(lats) else []):
                a, b = graph.nodes[here], graph.nodes[there]
                metres = ox.distance.great_circle(a["y"], a["x"], b["y"], b["x"])
                for u, v in ((here, there), (there, here)):
                    graph.add_edge(u, v, highway="secondary", length=float(metres), oneway=False)
    ox.save_graphml(graph, path)


@pytest.fixture(scope="module")
def belfort_grid(tmp_path_factory) -> Path:
    communes = _communes()
    area = communes.loc[communes["departement"] == "90"].geometry.union_all()
    path = tmp_path_factory.mktemp("grid") / "belfort-grid.graphml"
    _grid_graphml(path, area, margin_km=10)
    return path


def test_departement_networks_are_clipped_once_and_reused(belfort_grid, tmp_path, monkeypatch):
    """Belfort gets a stored network grown by its buffer; Lozère, far away, an error; the second call reads nothing."""
    cache = tmp_path / "cache"
    found = departement_networks(belfort_grid, ["90", "48"], buffer_km=5, cache_dir=cache)
    assert isinstance(found["48"], InputError) and "has no road within 5 km of département 48" in str(found["48"])
    folder = found["90"]
    assert isinstance(folder, Path) and folder.parent == cache and folder.name.startswith("90-5km-")
    narrow = departement_networks(belfort_grid, ["90"], buffer_km=0, cache_dir=cache)["90"]
    assert isinstance(narrow, Path)
    assert read_network(folder).graph.shape[0] > read_network(narrow).graph.shape[0]  # the border buffer

    def no_parsing(*_args, **_kwargs):
        raise AssertionError("the source network was parsed again")

    monkeypatch.setattr(network_store, "load_network", no_parsing)
    assert departement_networks(belfort_grid, ["90"], buffer_km=5, cache_dir=cache)["90"] == folder


def test_fan_out_with_a_road_network(belfort_grid, tmp_path):
    """Workers read their département's stored network: same result as this process; a rerun skips it."""
    scenario = Scenario(
        name="road",
        base_dir=tmp_path,
        travel=TravelSpec(model="road", network=belfort_grid, cache_dir=tmp_path / "cache", border_buffer_km=5),
        coverage=CoverageSpec(thresholds_min=[10, 20]),
    )
    out = tmp_path / "out"
    with dask_client(workers=1, dashboard_address=":0") as client:
        outcomes = fan_out(scenario, ["90", "48"], out, client)
        assert [(o.code, o.status) for o in outcomes] == [("90", "done"), ("48", "error")], outcomes
        assert "has no road within 5 km of département 48" in outcomes[1].error
        again = fan_out(scenario, ["90"], out, client)
        assert [(o.code, o.status) for o in again] == [("90", "skipped")]
    record = json.loads((out / "90" / "run.json").read_text())
    assert record["travel"]["model"] == "road" and any("stored network" in n for n in record["travel"]["notes"])
    (folder,) = (tmp_path / "cache" / "departements").iterdir()
    single = run_scenario(departement_scenario(scenario, "90", folder)).coverage.access.set_index("zone_id")
    mine = read_csv(out / "90" / "access_by_zone.csv", dtype={"zone_id": str}).set_index("zone_id")
    assert list(mine.index) == list(single.index)
    assert np.allclose(mine["time_min"], single["time_min"], atol=0.051)
