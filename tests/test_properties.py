"""Property-based tests (hypothesis): mutated good files never raise anything but the project's errors.

Each good file is first checked to load; then bytes are flipped, inserted or cut, columns renamed
and values changed. The loaders and the scenario parser must either accept the result or raise
:class:`InputError` (or :class:`InfeasibleError`): never a ``KeyError``, a GDAL exception, a
``RecursionError``... Examples are bounded (``max_examples``) so the suite stays fast; the seed is
fixed (``derandomize``) so CI is reproducible.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import geopandas as gpd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon

from planner._errors import InfeasibleError, InputError
from planner.data.layers import read_layer
from planner.scenario import load_scenario
from planner.travel.network import load_network

BOUNDED = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OURS = (InputError, InfeasibleError)

ZONES_CSV = (
    "zone_id,name,population,lon,lat\n48095,Mende,12000,3.4989,44.5181\n"
    "48092,Marvejols,4900,3.2917,44.5533\n48061,Florac,1900,3.5936,44.3244\n"
)
SITES_CSV = (
    "site_id,name,kind,capacity,equipment,opening_hours,lon,lat\n"
    "fs1,France Services Mende,service_point,2,wifi;printer,Mo-Fr 09:00-12:00,3.50,44.52\n"
    'tp1,Tiers-lieu,third_place,,,"[[""lundi"",""vendredi"",[[""09:00"",""12:00""]]]]",3.29,44.55\n'
)
ZONES_GEOJSON = json.dumps(
    {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"zone_id": "a", "population": 10, "name": "A"},
                "geometry": {"type": "Polygon", "coordinates": [[[3.4, 44.4], [3.6, 44.4], [3.6, 44.6], [3.4, 44.4]]]},
            },
            {
                "type": "Feature",
                "properties": {"zone_id": "b", "population": 20.5},
                "geometry": {"type": "Point", "coordinates": [3.3, 44.5]},
            },
        ],
    }
)
SCENARIO = """name: mutated
language: fr
territory: {}
services: {canton_seats: true, files: [sites.csv]}
travel: {model: auto, speed_kmh: 50, detour_factor: 1.3}
coverage: {thresholds_min: [10, 20, 30], target_min: 30, e2sfca_steps: [[10, 1.0], [20, 0.68], [30, 0.22]]}
siting: {model: mclp, new_sites: 2, kinds: [town_hall], time_limit_s: 10}
rounds:
  horizon_weeks: 2
  start_date: 2027-01-04
  max_stops_per_day: 2
  stops: {kinds: [town_hall], service_min: 150, frequency: fortnightly, required: []}
  fleet:
    - vehicle_id: bus-mende
      depot: "48095"
      days: [1, 2, 3, 4, 5]
      shift_start: "08:30"
      shift_end: "17:30"
      lunch: {earliest: "11:30", latest_end: "14:00", duration_min: 60}
"""
OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <node id="1" lat="44.50" lon="3.50" version="1"/>
 <node id="2" lat="44.51" lon="3.51" version="1"/>
 <node id="3" lat="44.52" lon="3.50" version="1"/>
 <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/><tag k="highway" v="primary"/></way>
 <way id="11" version="1"><nd ref="3"/><nd ref="2"/><tag k="highway" v="residential"/></way>
</osm>
"""


@st.composite
def byte_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with 1 to 4 random edits: a byte flipped, bytes inserted or deleted, or the end cut off."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not out:
            break
        at = draw(st.integers(0, len(out) - 1))
        edit = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if edit == "flip":
            out[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del out[at : at + draw(st.integers(1, 16))]
        else:
            del out[at:]
    return bytes(out)


@st.composite
def csv_mutations(draw: st.DrawFn, text: str) -> str:
    """A CSV with a column renamed and/or a cell changed to arbitrary text."""
    rows = [line.split(",") for line in text.splitlines()]
    for _ in range(draw(st.integers(1, 3))):
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, len(rows[r]) - 1))
        value = draw(
            st.one_of(
                st.text(max_size=12),
                st.sampled_from(["", "-1", "nan", "inf", "1e400", "NULL", "44,5", "Mo-Fr", "[]", '"', "24/7"]),
                st.floats(allow_nan=True, allow_infinity=True).map(str),
            )
        )
        rows[r][c] = value.replace("\n", " ").replace("\r", " ")
    return "\n".join(",".join(row) for row in rows) + "\n"


LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["../../etc/passwd", "/etc/passwd", "25:00", "weekly", "7/week", "mclp", "2027-02-30"]),
    st.lists(st.integers(-3, 9), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every key path of a parsed YAML document, leaves and branches alike."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def scenario_mutations(draw: st.DrawFn) -> str:
    """The good scenario with 1 to 3 values (or whole sections) replaced, removed, or keys renamed."""
    document = yaml.safe_load(SCENARIO)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(document)
        path = draw(st.sampled_from(paths))
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        edit = draw(st.sampled_from(["replace", "remove", "rename"]))
        if edit == "replace":
            parent[path[-1]] = draw(LEAVES)
        elif edit == "remove":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = parent.pop(path[-1])
    return yaml.safe_dump(document, allow_unicode=True)


def _read(path: Path, content: bytes | str, kind: str) -> None:
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    with contextlib.suppress(*OURS):  # any other exception fails the property
        read_layer(path, kind)


def _scenario(folder: Path, text: bytes | str) -> None:
    (folder / "sites.csv").write_text(SITES_CSV, encoding="utf-8")
    path = folder / "scenario.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    with contextlib.suppress(*OURS):  # any other exception fails the property
        load_scenario(path)


def test_the_good_files_load(tmp_path: Path) -> None:
    """The files the properties mutate are good to start with (else every mutation would trivially fail)."""
    (tmp_path / "zones.csv").write_text(ZONES_CSV)
    (tmp_path / "sites.csv").write_text(SITES_CSV)
    (tmp_path / "zones.geojson").write_text(ZONES_GEOJSON)
    (tmp_path / "scenario.yaml").write_text(SCENARIO)
    (tmp_path / "roads.osm").write_text(OSM)
    assert len(read_layer(tmp_path / "zones.csv", "zones")) == 3
    assert len(read_layer(tmp_path / "sites.csv", "sites")) == 2
    assert len(read_layer(tmp_path / "zones.geojson", "zones")) == 2
    assert load_scenario(tmp_path / "scenario.yaml").rounds is not None
    assert load_network(tmp_path / "roads.osm").graph.shape[0] >= 2


@BOUNDED
@given(data=byte_mutations(ZONES_CSV.encode()))
def test_zones_csv_bytes(tmp_path: Path, data: bytes) -> None:
    """Zones CSV with flipped, inserted, deleted or cut bytes."""
    _read(tmp_path / "zones.csv", data, "zones")


@BOUNDED
@given(text=csv_mutations(ZONES_CSV))
def test_zones_csv_values(tmp_path: Path, text: str) -> None:
    """Zones CSV with columns renamed and cells changed to any text or number."""
    _read(tmp_path / "zones.csv", text, "zones")


@BOUNDED
@given(text=csv_mutations(SITES_CSV))
def test_sites_csv_values(tmp_path: Path, text: str) -> None:
    """Sites CSV with columns renamed and cells (capacity, hours, kind, coordinates) changed."""
    _read(tmp_path / "sites.csv", text, "sites")


@BOUNDED
@given(data=byte_mutations(SITES_CSV.encode()))
def test_sites_csv_bytes(tmp_path: Path, data: bytes) -> None:
    """Sites CSV with flipped, inserted, deleted or cut bytes."""
    _read(tmp_path / "sites.csv", data, "sites")


@BOUNDED
@given(data=byte_mutations(ZONES_GEOJSON.encode()))
def test_zones_geojson_bytes(tmp_path: Path, data: bytes) -> None:
    """GeoJSON with flipped, inserted, deleted or cut bytes (read by GDAL)."""
    _read(tmp_path / "zones.geojson", data, "zones")


@pytest.fixture(scope="module")
def gpkg_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A small valid GeoPackage of zones, as bytes."""
    path = tmp_path_factory.mktemp("gpkg") / "zones.gpkg"
    polygon = Polygon([(3.4, 44.4), (3.6, 44.4), (3.6, 44.6)])
    frame = gpd.GeoDataFrame({"zone_id": ["a", "b"], "population": [1, 2]}, geometry=[polygon, Point(3.3, 44.5)])
    frame.set_crs("EPSG:4326").to_file(path, layer="zones")
    return path.read_bytes()


@settings(BOUNDED, max_examples=30)
@given(data=st.data())
def test_zones_gpkg_bytes(tmp_path: Path, gpkg_bytes: bytes, data: st.DataObject) -> None:
    """A GeoPackage (SQLite) with flipped, inserted, deleted or cut bytes."""
    _read(tmp_path / "zones.gpkg", data.draw(byte_mutations(gpkg_bytes)), "zones")


@settings(BOUNDED, max_examples=30)
@given(data=byte_mutations(OSM.encode()))
def test_osm_xml_bytes(tmp_path: Path, data: bytes) -> None:
    """An OSM XML road network with flipped, inserted, deleted or cut bytes (safety checks, then libosmium)."""
    path = tmp_path / "roads.osm"
    path.write_bytes(data)
    with contextlib.suppress(*OURS):  # any other exception fails the property
        load_network(path)


@BOUNDED
@given(data=byte_mutations(SCENARIO.encode()))
def test_scenario_bytes(tmp_path: Path, data: bytes) -> None:
    """A scenario YAML with flipped, inserted, deleted or cut bytes."""
    _scenario(tmp_path, data)


@settings(BOUNDED, max_examples=100)
@given(text=scenario_mutations())
def test_scenario_values(tmp_path: Path, text: str) -> None:
    """A scenario with values replaced by any type, sections removed, keys renamed."""
    _scenario(tmp_path, text)
