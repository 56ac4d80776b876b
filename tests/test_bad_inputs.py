"""The bad-input corpus: broken, misnamed, misplaced and hostile files, each made here in ``tmp_path``.

Every case goes through the ``maillage`` command line and must end with exit code 2, one plain
message naming the file (and the row/feature and field where there is one), no traceback, and no
output folder: neither the ``--out`` folder nor a hidden partial sibling of it.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from shapely.geometry import Point
from typer.testing import CliRunner

from planner.cli import app
from planner.data.layers import MAX_PARQUET_ROWS

runner = CliRunner()

ZONES_CSV = "zone_id,population,lon,lat\na,120,3.50,44.52\nb,80,3.62,44.40\n"
SITES_CSV = "site_id,name,capacity,opening_hours,lon,lat\ns1,Mairie,2,Mo-Fr 09:00-12:00,3.49,44.51\n"
SECRET = "maillage-secret-4f1c"  # content of a file that a hostile input tries to read


def _feature_collection(*features: tuple[dict[str, object], dict[str, object] | None]) -> str:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
        }
    )


def _polygon(*ring: tuple[float, float]) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [[list(xy) for xy in ring]]}


ZONE = {"zone_id": "a", "population": 10}
GOOD_GEOJSON = _feature_collection((ZONE, {"type": "Point", "coordinates": [3.5, 44.5]}))

OSM_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
OSM_BODY = """<osm version="0.6">
 <node id="1" lat="44.50" lon="3.50" version="1"/>
 <node id="2" lat="44.52" lon="3.52" version="1"/>
 <way id="10" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/>{name}</way>
</osm>
"""
LOOP_OSM = OSM_HEAD + OSM_BODY.format(name="").replace(
    '<nd ref="2"/>', '<nd ref="2"/><nd ref="3"/><nd ref="1"/>'
).replace(" <way", ' <node id="3" lat="44.52" lon="3.50" version="1"/>\n <way')
LAUGHS = "".join(
    f' <!ENTITY l{i} "{"".join(f"&l{i - 1};" for _ in range(10)) if i else "lol" * 10}">\n' for i in range(10)
)


def _bomb(opener: Callable[..., io.BufferedIOBase], path: Path, mib: int) -> None:
    """An OSM-looking file of ``mib`` MiB of blanks, compressed streaming (a few hundred bytes on disk)."""
    with opener(path, "wb") as stream:
        stream.write(b'<?xml version="1.0"?>\n<osm version="0.6">\n')
        block = b" " * 1024**2
        for _ in range(mib):
            stream.write(block)
        stream.write(b"</osm>\n")


def _bus_scenario(folder: Path, **vehicle: object) -> Path:
    """A one-bus rounds scenario on the embedded Lozère, the vehicle's settings overridden."""
    settings = {"vehicle_id": "bus-1", "depot": "48095", "shift_start": "08:30", "shift_end": "17:30", **vehicle}
    fleet = "\n".join(f"      {k}: {json.dumps(v)}" for k, v in settings.items())
    path = folder / "bus.yaml"
    path.write_text(
        "name: bad-bus\nrounds:\n  horizon_weeks: 2\n  time_limit_s: 5\n  max_stops_per_day: 2\n"
        f"  stops: {{kinds: [town_hall], service_min: 150}}\n  fleet:\n    - lunch: null\n{fleet}\n",
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True)
class Case:
    """One bad input: how to make it, the command that reads it, the message expected."""

    name: str
    make: Callable[[Path], list[str]]
    message: str


def _zones(name: str, content: str | bytes) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        path = folder / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return ["coverage", "--zones", str(path)]

    return make


def _sites(name: str, content: str) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        path = folder / name
        path.write_text(content, encoding="utf-8")
        return ["coverage", "--sites", str(path)]

    return make


def _stops(name: str, content: str) -> Callable[[Path], list[str]]:
    """Candidate stops of a one-bus rounds scenario that keeps to their opening hours (the command reads them)."""

    def make(folder: Path) -> list[str]:
        (folder / name).write_text(content, encoding="utf-8")
        scenario = _bus_scenario(folder).read_text(encoding="utf-8")
        stops = f"stops: {{kinds: [town_hall], files: [{name}], use_opening_hours: true, service_min: 150}}"
        (folder / "bus.yaml").write_text(scenario.replace("stops: {kinds: [town_hall], service_min: 150}", stops))
        return ["rounds", str(folder / "bus.yaml")]

    return make


def _network(name: str, content: str | bytes) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        path = folder / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return ["coverage", "--network", str(path)]

    return make


def _scenario(text: str, command: str = "run") -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        path = folder / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        return [command, str(path)]

    return make


def _no_crs_shapefile(folder: Path) -> list[str]:
    path = folder / "zones.shp"
    frame = gpd.GeoDataFrame({"zone_id": ["a"], "population": [10]}, geometry=[Point(3.5, 44.5)], crs="EPSG:4326")
    frame.to_file(path)
    path.with_suffix(".prj").unlink()
    return ["coverage", "--zones", str(path)]


def _wrong_crs_gpkg(folder: Path) -> list[str]:
    """Degrees written into a file that says Lambert-93: the zones land in the Gulf of Guinea."""
    path = folder / "zones.gpkg"
    points = [Point(3.5, 44.5), Point(3.6, 44.4)]
    gpd.GeoDataFrame({"zone_id": ["a", "b"], "population": [10, 20]}, geometry=points, crs="EPSG:2154").to_file(path)
    return ["coverage", "--zones", str(path)]


def _parquet_bomb(folder: Path) -> list[str]:
    """A GeoParquet of a few kB declaring more rows than the loader's memory bound."""
    path = folder / "zones.parquet"
    pq.write_table(pa.table({"population": pa.repeat(pa.scalar(0, pa.int8()), MAX_PARQUET_ROWS + 1)}), path)
    return ["coverage", "--zones", str(path)]


def _zip_bomb(name: str) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("zones.csv", "w") as member:
            for _ in range(200):  # 200 MiB of zeros in a 200 kB archive
                member.write(b"0" * 1024**2)
        path = folder / name
        path.write_bytes(buffer.getvalue())
        return ["coverage", "--zones", str(path)]

    return make


def _symlink_out(folder: Path) -> list[str]:
    secret = folder.parent / "secret.csv"
    secret.write_text(f"{SECRET}\n")
    data = folder / "data"
    data.mkdir()
    (data / "zones.csv").symlink_to(secret)
    path = folder / "scenario.yaml"
    path.write_text("territory: {zones: data/zones.csv}\n")
    return ["run", str(path)]


def _bz2_bomb(folder: Path) -> list[str]:
    path = folder / "roads.osm.bz2"
    _bomb(bz2.open, path, 80)
    return ["coverage", "--network", str(path)]


def _gz_bomb(folder: Path) -> list[str]:
    path = folder / "roads.osm.gz"
    _bomb(gzip.open, path, 80)
    return ["coverage", "--network", str(path)]


def _external_entity(name: str) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        secret = folder / "secret.txt"
        secret.write_text(SECRET)
        doctype = f'<!DOCTYPE osm [ <!ENTITY xxe SYSTEM "file://{secret}"> ]>\n'
        path = folder / name
        path.write_text(OSM_HEAD + doctype + OSM_BODY.format(name='<tag k="name" v="&xxe;"/>'))
        return ["coverage", "--network", str(path)]

    return make


def _rounds_from(extra: str) -> Callable[[Path], list[str]]:
    """The one-bus scenario with ``extra`` lines added to its rounds section."""

    def make(folder: Path) -> list[str]:
        path = _bus_scenario(folder)
        path.write_text(path.read_text(encoding="utf-8").replace("rounds:\n", f"rounds:\n{extra}"), encoding="utf-8")
        return ["rounds", str(path)]

    return make


def _rounds(**vehicle: object) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        return ["rounds", str(_bus_scenario(folder, **vehicle))]

    return make


ROOT = Path(__file__).resolve().parents[1]


def _markets(old: str, new: str) -> Callable[[Path], list[str]]:
    """The Lozère markets scenario with ``old`` replaced by ``new``."""

    def make(folder: Path) -> list[str]:
        text = (ROOT / "scenarios" / "lozere-markets.yaml").read_text(encoding="utf-8")
        assert old in text
        path = folder / "markets.yaml"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return ["markets", str(path)]

    return make


def _without_rounds(folder: Path) -> list[str]:
    """The Lozère markets scenario with its rounds: section taken out."""
    text = (ROOT / "scenarios" / "lozere-markets.yaml").read_text(encoding="utf-8")
    path = folder / "markets.yaml"
    path.write_text(text[: text.index("rounds:")] + text[text.index("rooms:") :], encoding="utf-8")
    return ["markets", str(path)]


SOLVING_COMMANDS = {  # every command that may solve, with a scenario it accepts
    "run": "lozere-plan.yaml",
    "rounds": "lozere-bus.yaml",
    "rooms": "lozere-rooms.yaml",
    "site": "lozere-plan.yaml",
    "markets": "lozere-markets.yaml",
}


def _options(command: str, *options: str) -> Callable[[Path], list[str]]:
    """A packaged scenario (none for ``coverage``) run by ``command`` with bad ``options``."""

    def make(folder: Path) -> list[str]:
        scenario = [str(ROOT / "scenarios" / SOLVING_COMMANDS[command])] if command in SOLVING_COMMANDS else []
        return [command, *scenario, *options]

    return make


def _option_cases() -> list[Case]:
    """Every bad time limit, seed and language on every solving command: refused before any work."""
    limits = {
        "-1": "Input should be greater than 0 (got -1 s)",
        "0": "Input should be greater than 0 (got 0 s)",
        "nan": "Input should be a finite number (got nan)",
        "inf": "Input should be a finite number (got inf)",
    }
    cases = [
        Case(f"{command} --time-limit {value}", _options(command, "--time-limit", value), f"--time-limit, {message}")
        for command in SOLVING_COMMANDS
        for value, message in limits.items()
    ]
    cases += [
        Case(
            f"{command} --seed 99999999999999999999",
            _options(command, "--seed", "99999999999999999999"),
            "--seed, Input should be less than or equal to 2147483647 (got 99999999999999999999)",
        )
        for command in SOLVING_COMMANDS
    ]
    cases += [
        Case(
            f"{command} --lang de", _options(command, "--lang", "de"), "--lang, Input should be 'fr' or 'en' (got 'de')"
        )
        for command in [*SOLVING_COMMANDS, "coverage"]
    ]
    coverage = {
        ("--speed", "0"): "--speed, Input should be greater than 0 (got 0 km/h)",
        ("--speed", "nan"): "--speed, Input should be a finite number (got nan)",
        ("--detour", "0.5"): "--detour, Input should be greater than or equal to 1 (got 0.5)",
        ("--target", "-1"): "--target, Input should be greater than 0 (got -1 min)",
        ("--thresholds", ","): "--thresholds, ',' is not a comma-separated list of minutes, e.g. 10,20,30",
        ("--thresholds", "nan,inf,-0"): "--thresholds: 2 problems\n  - value 1: Input should be a finite number "
        "(got nan)\n  - value 2: Input should be a finite number (got inf)",
        ("--thresholds", "-0"): "--thresholds, Value error, thresholds must be > 0 minutes",
        ("--departement", "48", "--epci", "200069144"): "--departement/--epci/--insee, Value error, choose one of",
    }
    cases += [Case(f"coverage {' '.join(args)}", _options("coverage", *args), text) for args, text in coverage.items()]
    return cases


UNSAFE_YAML = "name: !!python/object/apply:os.system ['touch {marker}']\n"

CASES = [
    # --- demand zones: broken files
    Case(
        "truncated GeoJSON",
        _zones("zones.geojson", GOOD_GEOJSON[: len(GOOD_GEOJSON) // 2]),
        "zones.geojson, cannot be read (DataSourceError: Failed to read GeoJSON data",
    ),
    Case(
        "text that is not JSON",
        _zones("zones.geojson", "zone_id;population\n"),
        "zones.geojson, cannot be read (DataSourceError:",
    ),
    Case(
        "JSON that is not GeoJSON",
        _zones("zones.json", '{"type": "Topology", "arcs": []}'),
        "zones.json, cannot be read (DataSourceError:",
    ),
    Case("empty file", _zones("zones.csv", b""), "zones.csv, is empty (0 bytes)"),
    Case(
        "empty GeoJSON layer",
        _zones("zones.geojson", _feature_collection()),
        "zones.geojson, the zones layer is empty",
    ),
    Case("CSV with a header only", _zones("zones.csv", "zone_id,population,lon,lat\n"), "the zones layer is empty"),
    Case(
        "corrupt GeoPackage",
        _zones("zones.gpkg", b"SQLite format 3\x00" + bytes(range(256)) * 4),
        "zones.gpkg, cannot be read (",
    ),
    Case("unsupported format", _zones("zones.xlsx", b"PK\x03\x04"), "zones.xlsx, unsupported format '.xlsx'"),
    Case(
        "not UTF-8 nor Windows-1252",
        _zones("zones.csv", b"zone_id,population,lon,lat\n\x81\x8d,1,3.5,44.5\n"),
        "zones.csv, is not text in UTF-8 or Windows-1252",
    ),
    Case(
        "row longer than the header",
        _zones("zones.csv", "zone_id,population,lon,lat\na,1,3.5,44.5,extra\n"),
        "zones.csv, row 2: has more fields than the header",
    ),
    Case(
        "column named twice",
        _zones("zones.csv", "zone_id,population,population,lon,lat\na,1,2,3.5,44.5\n"),
        "zones.csv, column 'population': appears twice in the header",
    ),
    Case(
        "column named twice in different case",
        _zones(
            "zones.geojson",
            _feature_collection(({**ZONE, "Population": 3}, {"type": "Point", "coordinates": [3.5, 44.5]})),
        ),
        "zones.geojson, column 'population': appears twice (letter case aside)",
    ),
    # --- demand zones: CRS and places
    Case("shapefile without .prj", _no_crs_shapefile, "zones.shp, has no coordinate reference system (CRS)"),
    Case(
        "Lambert-93 metres in a WGS84 file",
        _zones("zones.geojson", _feature_collection((ZONE, {"type": "Point", "coordinates": [720000, 6380000]}))),
        "zones.geojson, feature 1: coordinates outside the globe (latitude beyond ±90°): are longitude and "
        "latitude swapped, or is the CRS wrong?",
    ),
    Case(
        "degrees in a Lambert-93 file",
        _wrong_crs_gpkg,
        "zones.gpkg, none of its 2 zones lies within 20 km of Lozère (48), whose canton seats are the services",
    ),
    Case(
        "longitude and latitude swapped",
        _zones("zones.csv", "zone_id,population,lon,lat\na,120,44.52,3.50\nb,80,44.40,3.62\n"),
        "and inside it once longitude and latitude are swapped: are they swapped?",
    ),
    # --- demand zones: columns and values
    Case(
        "missing population column",
        _zones("zones.csv", "zone_id,people,lon,lat\na,1,3.5,44.5\n"),
        "zones.csv, column 'population': is missing",
    ),
    Case(
        "misspelt zone_id column",
        _zones("zones.csv", "zoneid,population,lon,lat\na,1,3.5,44.5\n"),
        "column 'zone_id': is missing (found 'zoneid': rename it 'zone_id')",
    ),
    Case(
        "no coordinate columns",
        _zones("zones.csv", "zone_id,population,x_l93,y_l93\na,1,720000,6380000\n"),
        "zones.csv, header: no longitude/latitude columns among ['zone_id', 'population', 'x_l93', 'y_l93']",
    ),
    Case(
        "population as text",
        _zones("zones.csv", "zone_id,population,lon,lat\na,beaucoup,3.5,44.5\n"),
        "zones.csv, row 2, field 'population': expected a number of people from 0 to 50,000,000, got 'beaucoup'",
    ),
    Case(
        "negative population",
        _zones("zones.csv", "zone_id,population,lon,lat\na,10,3.5,44.5\nb,-5,3.6,44.5\n"),
        "zones.csv, row 3, field 'population': expected a number of people from 0 to 50,000,000, got '-5'",
    ),
    Case(
        "population overflowing to infinity",
        _zones("zones.csv", "zone_id,population,lon,lat\na,1e400,3.5,44.5\n"),
        "row 2, field 'population': expected a number of people from 0 to 50,000,000, got '1e400'",
    ),
    Case(
        "population beyond any territory (1e308 made infinite sums)",
        _zones("zones.csv", "zone_id,population,lon,lat\na,1e308,3.5,44.5\nb,1e308,3.6,44.5\n"),
        "row 2, field 'population': expected a number of people from 0 to 50,000,000, got '1e308'",
    ),
    Case(
        "latitude as text",
        _zones("zones.csv", "zone_id,population,lon,lat\na,1,3.5,oops\n"),
        "zones.csv, row 2, field 'lat': expected a number, got 'oops'",
    ),
    Case(
        "duplicate zone ids",
        _zones("zones.csv", "zone_id,population,lon,lat\na,1,3.5,44.5\na,2,3.6,44.5\n"),
        "zones.csv, row 3, field 'zone_id': duplicate id 'a'",
    ),
    Case(
        "empty zone id",
        _zones("zones.csv", "zone_id,population,lon,lat\n ,1,3.5,44.5\n"),
        "zones.csv, row 2, field 'zone_id': is empty",
    ),
    # --- demand zones: geometry
    Case(
        "feature without geometry",
        _zones("zones.geojson", _feature_collection((ZONE, None))),
        "zones.geojson, feature 1: has no geometry",
    ),
    Case(
        "unclosed polygon ring",
        _zones("zones.geojson", _feature_collection((ZONE, _polygon((3.5, 44.5), (3.6, 44.5), (3.6, 44.6))))),
        "Points of LinearRing do not form a closed linestring",
    ),
    Case(
        "polygon with no area",
        _zones(
            "zones.geojson",
            _feature_collection((ZONE, _polygon((3.5, 44.5), (3.6, 44.5), (3.7, 44.5), (3.5, 44.5)))),
        ),
        "zones.geojson, feature 1: polygon has no area (its points are on a line or a point), even once repaired",
    ),
    Case(
        "line instead of a zone",
        _zones(
            "zones.geojson",
            _feature_collection((ZONE, {"type": "LineString", "coordinates": [[3.5, 44.5], [3.6, 44.6]]})),
        ),
        "zones.geojson, feature 1: geometry is a LineString, expected a Polygon or a Point",
    ),
    # --- archives
    Case(
        "zip archive", _zones("zones.zip", b"PK\x03\x04"), "zones.zip, is an archive ('.zip'): archives are not opened"
    ),
    Case(
        "zip bomb renamed .csv",
        _zip_bomb("zones.csv"),
        "zones.csv, is compressed data (zip), not a '.csv' file: archives are not opened",
    ),
    Case(
        "gzip under a .geojson name",
        _zones("zones.geojson", gzip.compress(GOOD_GEOJSON.encode())),
        "zones.geojson, is compressed data (gzip), not a '.geojson' file",
    ),
    Case(
        "GeoParquet declaring too many rows",
        _parquet_bomb,
        f"zones.parquet, declares {MAX_PARQUET_ROWS + 1:,} rows",
    ),
    # --- service sites
    Case(
        "negative capacity",
        _sites("sites.csv", SITES_CSV.replace(",2,", ",-1,")),
        "sites.csv, row 2, field 'capacity': expected a number >= 0, got '-1'",
    ),
    Case(
        "capacity as text",
        _sites("sites.csv", SITES_CSV.replace(",2,", ",beaucoup,")),
        "sites.csv, row 2, field 'capacity': expected a number >= 0, got 'beaucoup'",
    ),
    Case(
        "opening hours in French words",
        _stops("sites.csv", SITES_CSV.replace("Mo-Fr 09:00-12:00", "lundi 9h-12h")),
        "sites.csv, row 2, field 'opening_hours': 'lundi' is not a day or day range like Mo-Fr",
    ),
    Case(
        "opening hours past midnight",
        _stops("sites.csv", SITES_CSV.replace("09:00-12:00", "25:00-12:00")),
        "sites.csv, row 2, field 'opening_hours': '25:00' is not a valid time of day",
    ),
    Case(
        "unknown site kind",
        _sites("sites.csv", "site_id,name,kind,lon,lat\ns1,Arrêt,bus_stop,3.5,44.5\n"),
        "sites.csv, row 2, field 'kind': 'bus_stop' is not one of third_place, service_point",
    ),
    Case(
        "duplicate site ids that look like markup",
        _sites("sites.csv", "site_id,name,lon,lat\n[/x],A,3.5,44.5\n[/x],B,3.6,44.5\n"),
        "sites.csv, row 3, field 'site_id': duplicate id '[/x]'",
    ),
    Case(
        "every site outside the territory",
        _sites("sites.csv", "site_id,name,lon,lat\nparis,Paris,2.35,48.85\nlyon,Lyon,4.83,45.76\n"),
        "sites.csv, none of its 2 sites lies within 20 km of the territory (Lozère (48))",
    ),
    Case(
        "sites with longitude and latitude swapped",
        _sites("sites.csv", "site_id,name,lon,lat\ns1,A,44.5,3.5\ns2,B,44.4,3.6\n"),
        "within 20 km of the territory (Lozère (48)): are longitude and latitude swapped?",
    ),
    # --- road networks
    Case(
        "OSM XML with entity expansion (billion laughs)",
        _network(
            "roads.osm", OSM_HEAD + f"<!DOCTYPE osm [\n{LAUGHS}]>\n" + OSM_BODY.format(name='<tag k="n" v="&l9;"/>')
        ),
        "roads.osm, declares a document type (<!DOCTYPE ...>): XML entities are refused",
    ),
    Case(
        "OSM XML with an external entity",
        _external_entity("roads.osm"),
        "roads.osm, declares a document type (<!DOCTYPE ...>): XML entities are refused",
    ),
    Case(
        "GraphML with an external entity",
        _external_entity("roads.graphml"),
        "roads.graphml, declares a document type (<!DOCTYPE ...>): XML entities are refused",
    ),
    Case("bzip2 bomb", _bz2_bomb, "roads.osm.bz2, expands beyond 64 MiB from 0.0 MiB compressed"),
    Case("gzip bomb", _gz_bomb, "refused as a decompression bomb"),
    Case(
        "corrupt PBF",
        _network("roads.osm.pbf", bytes(range(256)) * 8),
        "roads.osm.pbf, cannot be read as OpenStreetMap data",
    ),
    Case(
        "OSM file without a drivable road",
        _network("roads.osm", OSM_HEAD + OSM_BODY.format(name="").replace('v="primary"', 'v="footway"')),
        "roads.osm, contains no drivable road",
    ),
    Case(
        "OSM file whose only road is a loop",
        _network("roads.osm", LOOP_OSM),
        "roads.osm, has no road left to route on once simplified",
    ),
    Case("network as a text file", _network("roads.txt", "roads"), "roads.txt, is not a road network file"),
    # --- scenarios
    Case(
        "scenario reading ../../etc/passwd",
        _scenario("services:\n  files: [../../etc/passwd]\n"),
        "../../etc/passwd: points outside the scenario's folder",
    ),
    Case(
        "scenario with an absolute path",
        _scenario("territory: {zones: /etc/passwd}\n"),
        "/etc/passwd: points outside the scenario's folder",
    ),
    Case("scenario whose data is a symlink out of its folder", _symlink_out, "points outside the scenario's folder"),
    Case(
        "YAML with a python tag",
        _scenario(UNSAFE_YAML),
        "line 1: is not valid YAML (could not determine a constructor for the tag",
    ),
    Case(
        "YAML alias bomb",
        _scenario(
            "x:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"  {b}: &{b} [{', '.join([f'*{a}'] * 10)}]\n" for a, b in zip("abcde", "bcdef", strict=True))
            + "territory: {insee: *f}\n"
        ),
        "territory.insee.0: Input should be a valid string",
    ),
    Case("YAML that is a list", _scenario("- name: a\n"), "scenario.yaml, must be a YAML mapping (key: value)"),
    Case("misspelt scenario key", _scenario("coverrage: {}\n"), "coverrage: Extra inputs are not permitted"),
    Case(
        "thresholds as words",
        _scenario("coverage: {thresholds_min: [ten]}\n"),
        "coverage.thresholds_min.0: Input should be a valid number",
    ),
    Case("YAML nested 50,000 levels deep", _scenario("[" * 50_000), "scenario.yaml, line 1: is nested more than 64"),
    Case(
        "a date that does not exist",
        _scenario("rounds: {start_date: 2027-02-30}\n", "rounds"),
        "scenario.yaml, line 1: '2027-02-30' is not a date (day is out of range for month)",
    ),
    Case("a key given twice", _scenario("name: a\nname: b\n"), "scenario.yaml, line 2: repeats the key 'name'"),
    Case(
        "a 300-character name",
        _scenario(f"name: {'n' * 300}\n"),
        "scenario.yaml, name: String should have at most 100 characters",
    ),
    Case(
        "a threshold that is not a number",
        _scenario("coverage: {thresholds_min: [10, .nan]}\n"),
        "coverage.thresholds_min.1: Input should be a finite number (got nan)",
    ),
    Case(
        "an infinite threshold",
        _scenario("coverage: {thresholds_min: [.inf]}\n"),
        "coverage.thresholds_min.0: Input should be a finite number (got inf)",
    ),
    Case(
        "a week that starts on a Wednesday",
        _rounds_from("  start_date: 2027-02-03\n"),
        "rounds.start_date: Value error, 2027-02-03 is a Wednesday: weeks start on a Monday",
    ),
    Case(
        "a negative seed in the scenario",
        _rounds_from("  seed: -1\n"),
        "rounds.seed: Input should be greater than or equal to 0 (got -1)",
    ),
    # --- command-line options
    Case(
        "two options wrong at once",
        _options("rounds", "--time-limit", "-1", "--seed", "-1"),
        "options: 2 problems\n  - --time-limit: Input should be greater than 0 (got -1 s)\n"
        "  - --seed: Input should be greater than or equal to 0 (got -1)",
    ),
    *_option_cases(),
    # --- rounds
    Case(
        "a fleet that cannot reach any stop",
        _rounds(shift_start="08:30", shift_end="09:30"),
        "no truck of the fleet (bus-1) can reach any of the 152 candidate stops, stay 150 min",
    ),
    Case(
        "a shift that ends before it starts",
        _rounds(shift_start="17:00", shift_end="08:00"),
        "rounds.fleet.0: Value error, shift_end 08:00 must come after shift_start 17:00",
    ),
    Case(
        "a clock time that is not one",
        _rounds(shift_start="8h30"),
        "rounds.fleet.0.shift_start: String should match pattern",
    ),
    Case(
        "a depot that does not exist",
        _rounds(depot="99999"),
        "rounds, fleet[0] (bus-1), field 'depot': '99999' is neither a site id nor the INSEE code of a commune",
    ),
    # --- markets
    Case(
        "a coach with no free hours",
        _markets('{days: [3], start: "08:30", end: "17:30"}', '{days: [3], start: "17:30", end: "08:30"}'),
        "markets.shuttle.coaches.0.free.1: Value error, end 08:30 must come after start 17:30: "
        "the coach has no free hours",
    ),
    Case(
        "a shuttle usage rate above 1",
        _markets("    usage_rate: 0.05 ", "    usage_rate: 1.5 "),
        "markets.shuttle.usage_rate: Input should be less than or equal to 1 (got 1.5)",
    ),
    Case(
        "a market place with one room but three providers at once",
        _markets(
            '    - {site: "48140"}\n', '    - {site: "48140"}\n    - {site: "48010", must_gather: [caf, msa, banque]}\n'
        ),
        "markets, markets.places[1] (48010), field 'must_gather': 3 providers required at once (caf, msa, banque) "
        "but the premises has 1 room(s)",
    ),
    Case(
        "a market place that is no premises",
        _markets('    - {site: "48140"}\n', '    - {site: "48140"}\n    - {site: "99999"}\n'),
        "markets, markets.places[1] (99999), field 'site': not a premises of the rooms",
    ),
    Case(
        "a market bus that carries no service",
        _markets("      services: [france_services]\n", ""),
        "markets, rounds.fleet[0] (bus-mende), field 'services': a markets scenario needs each vehicle to carry "
        "one service with a rooms.usage_rate",
    ),
    Case(
        "a market whose providers and buses start on different weeks",
        _markets("  start_date: 2027-01-04       # Monday of the week", "  start_date: 2027-01-11       # Monday"),
        "markets, rooms, field 'start_date': 2027-01-11 but rounds.start_date is 2027-01-04: the markets' posters "
        "and the crews' and providers' calendars follow one calendar, give both the same date",
    ),
    Case(
        "markets without rounds",
        _without_rounds,
        "a markets: section plans the rounds and the rooms together: add both sections",
    ),
]


def test_the_corpus_is_large_and_named_uniquely():
    """At least 30 bad inputs, each named once."""
    names = [case.name for case in CASES]
    assert len(names) >= 30 and len(set(names)) == len(names)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_exits_2_with_a_clear_message(tmp_path: Path, case: Case) -> None:
    """Exit code 2, the exact message, no traceback, nothing read that should not be, no output folder."""
    work = tmp_path / "work"
    work.mkdir()
    args = case.make(work)
    out = tmp_path / "out"
    marker = tmp_path / "pwned"
    if case.name == "YAML with a python tag":
        Path(args[1]).write_text(UNSAFE_YAML.format(marker=marker), encoding="utf-8")
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert case.message in result.output, result.output
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
    assert "Unexpected error" not in result.output
    assert SECRET not in result.output and not marker.exists()
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["work", *(["secret.csv"] if "symlink" in case.name else [])]
    )
