"""Read and validate user layers: demand zones/points and sites, from the files people bring.

Formats: GeoJSON, GeoPackage, Shapefile, GeoParquet, or CSV with lon/lat columns. Official
open formats are recognised as they are published, without renaming columns:

* the ANCT *France Services* list (data.gouv.fr CSV with ``lib_fs``, ``latitude``,
  ``longitude``, ``h_lundi`` ... ``h_samedi``, ``format_fs``) -> service points;
* the Eurostat/INSEE 1-km census grid (``GRD_ID``/``grd_id`` and ``T``, or ``TOT_P``) ->
  demand points at the cell centres.

Every problem found is collected and reported at once, naming the file, row and field.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner._errors import InputError, Problem
from planner.data import postgis
from planner.data.hours import FRENCH_DAYS, HoursError, parse_opening_hours, to_osm
from planner.data.names import postal_address
from planner.data.territory import SITE_COLUMNS, SITE_KINDS, with_demand_points

READABLE = (".geojson", ".json", ".gpkg", ".shp", ".parquet", ".geoparquet", ".csv")
ARCHIVES = (".zip", ".gz", ".bz2", ".xz", ".7z", ".rar", ".tar", ".tgz", ".kmz")
# Compressed data under a text suffix (a zip renamed .csv): refused before any reader inflates it.
_MAGIC = {b"PK\x03\x04": "zip", b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ": "xz", b"7z\xbc\xaf": "7z"}
# GeoParquet is compressed inside: its declared size is checked before reading (memory bound).
MAX_PARQUET_ROWS = 5_000_000
MAX_PARQUET_BYTES = 2 * 1024**3
# C0 control characters but tab, line feed and carriage return; DEL. NUL cuts strings short in C readers.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Files a GIS reader opens beside the one named: they must be plain files, never links elsewhere.
_SIDECARS = {".shp": "stem", ".gpkg": ("-wal", "-shm", "-journal")}
LON_NAMES = ("lon", "lng", "longitude", "long", "x")
LAT_NAMES = ("lat", "latitude", "y")
# ANCT ``format_fs`` values of the units that move (the others are fixed sites or groups of them).
MOBILE_FORMATS = ("Itinérante", "Bus_équivalent")
_GRID_ID = re.compile(r"CRS3035RES(\d+)mN(\d+)E(\d+)")


def _row(frame: pd.DataFrame, index: object) -> str:
    """How a user finds a record: the CSV line (header is line 1) or the 1-based feature number."""
    if not isinstance(index, (int, np.integer)):
        return f"feature {index}"
    return f"row {int(index) + 2}" if frame.attrs.get("origin") == "csv" else f"feature {int(index) + 1}"


def _read_table(path: Path, layer: str | None) -> gpd.GeoDataFrame | pd.DataFrame:
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError.one(str(path), "", "file not found")
    if suffix in ARCHIVES:
        raise InputError.one(
            str(path),
            "",
            f"is an archive ('{suffix}'): archives are not opened",
            hint="extract the layer and give the file itself (" + ", ".join(READABLE) + ")",
        )
    if suffix not in READABLE:
        raise InputError.one(str(path), "", f"unsupported format '{suffix}'", hint="use one of " + ", ".join(READABLE))
    _check_content(path, suffix)
    _check_sidecars(path, suffix)
    try:
        if suffix == ".csv":
            return _read_csv(path)
        if suffix in (".parquet", ".geoparquet"):
            _check_parquet_size(path)
            return gpd.read_parquet(path)
        if suffix == ".gpkg":
            import pyogrio

            layers = [name for name, _ in pyogrio.list_layers(path)]
            chosen = layer if layer in layers else layers[0]
            return gpd.read_file(path, layer=chosen)
        return gpd.read_file(path)
    except InputError:
        raise
    except Exception as exc:  # the GIS readers raise many types; all mean "cannot read"
        detail = str(exc).split("; It might help", 1)[0]  # GDAL's advice on driver prefixes does not apply here
        raise InputError.one(str(path), "", f"cannot be read ({type(exc).__name__}: {detail})".strip()) from None


def _check_content(path: Path, suffix: str) -> None:
    """Refuse an empty file, or compressed data under a text suffix, with a message saying which."""
    if path.is_dir():
        raise InputError.one(str(path), "", "is a folder, not a file")
    if path.stat().st_size == 0:
        raise InputError.one(str(path), "", "is empty (0 bytes)")
    if suffix in (".csv", ".geojson", ".json"):
        with path.open("rb") as stream:
            head = stream.read(64)
        kind = next((name for magic, name in _MAGIC.items() if head.startswith(magic)), None)
        if kind:
            raise InputError.one(
                str(path),
                "",
                f"is compressed data ({kind}), not a '{suffix}' file: archives are not opened",
                hint="extract the layer and give the file itself",
            )
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head.count(0) > len(head) // 4:
            raise InputError.one(
                str(path),
                "",
                "is UTF-16 text (every other byte is NUL)",
                hint="save it as CSV UTF-8 (or GeoJSON in UTF-8)",
            )


def _check_sidecars(path: Path, suffix: str) -> None:
    """Refuse symbolic links among the files a reader opens beside ``path`` (``.dbf``, ``.prj``, ``-wal``...).

    The file named may itself be a link (the user named it); what it drags in may not.
    """
    rule = _SIDECARS.get(suffix)
    if rule is None:
        return
    if rule == "stem":
        stem = path.name[: -len(suffix)].casefold() + "."
        beside = [p for p in path.parent.iterdir() if p.name.casefold().startswith(stem) and p.name != path.name]
    else:
        beside = [path.with_name(path.name + end) for end in rule]
    links = sorted(p.name for p in beside if p.is_symlink())
    if links:
        raise InputError.one(
            str(path),
            "",
            f"comes with {', '.join(links)}, a symbolic link: the files read beside a layer must be plain files",
            hint="copy the real files next to it (symbolic links are only followed when named on the command line)",
        )


def _control_problems(table: pd.DataFrame) -> list[Problem]:
    """Every text cell (and column name) holding NUL or another control character, by row and field."""
    problems = [
        Problem(f"header, column {str(c)!r}", "contains a control character")
        for c in table.columns
        if isinstance(c, str) and _CONTROL.search(c)
    ]
    geometry = getattr(table, "_geometry_column_name", None)
    for column in table.columns:
        values = table[column]
        if column == geometry or not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        text = values[values.map(lambda v: isinstance(v, str))].astype(str)
        for label, cell in text[text.str.contains(_CONTROL, na=False)].items():
            char = _CONTROL.search(cell).group()  # type: ignore[union-attr]
            name = " (NUL)" if char == "\x00" else ""
            problems.append(
                Problem(
                    f"{_row(table, label)}, field '{column}'", f"contains the control character U+{ord(char):04X}{name}"
                )
            )
    return problems


def _check_parquet_size(path: Path) -> None:
    """Refuse a (Geo)Parquet file whose declared rows or uncompressed size exceed the memory bound."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if meta.num_rows > MAX_PARQUET_ROWS or size > MAX_PARQUET_BYTES:
        raise InputError.one(
            str(path),
            "",
            f"declares {meta.num_rows:,} rows and {size / 1024**2:,.0f} MiB uncompressed, beyond the limit "
            f"of {MAX_PARQUET_ROWS:,} rows and {MAX_PARQUET_BYTES // 1024**2:,} MiB",
            hint="split the layer, or aggregate it (e.g. a 1-km grid instead of buildings)",
        )


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV as text columns: UTF-8 (or Windows-1252, as spreadsheets save it), delimiter sniffed.

    Rows longer than the header are refused rather than silently shifted or cut.
    """
    table = None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                table = pd.read_csv(
                    path,
                    dtype=str,
                    keep_default_na=False,
                    sep=None,
                    engine="python",
                    index_col=False,
                    encoding=encoding,
                )
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserWarning:
            raise InputError.one(
                str(path), "row 2", "has more fields than the header", hint="check the delimiter and quoting"
            ) from None
        except pd.errors.ParserError as exc:
            raise InputError.one(str(path), "", f"is not a well-formed CSV ({exc})") from None
    if table is None:
        raise InputError.one(str(path), "", "is not text in UTF-8 or Windows-1252", hint="save it as CSV UTF-8")
    twice = [c for c in table.columns if re.fullmatch(r".+\.\d+", str(c)) and str(c).rsplit(".", 1)[0] in table]
    if twice:
        raise InputError(
            str(path),
            [Problem(f"column '{str(c).rsplit('.', 1)[0]}'", "appears twice in the header") for c in twice],
        )
    table.attrs["origin"] = "csv"
    return table


def _points_from_csv(table: pd.DataFrame, source: str) -> gpd.GeoDataFrame:
    lower = {c.lower(): c for c in table.columns}
    lon = next((lower[n] for n in LON_NAMES if n in lower), None)
    lat = next((lower[n] for n in LAT_NAMES if n in lower), None)
    if lon is None or lat is None:
        raise InputError.one(
            source,
            "header",
            f"no longitude/latitude columns among {list(table.columns)}",
            hint="name them lon and lat (WGS84 degrees), or use a GIS format with a CRS",
        )
    problems = []
    coords = {}
    for name in (lon, lat):
        values = pd.to_numeric(table[name].str.replace(",", ".", regex=False), errors="coerce")
        for index in table.index[values.isna()]:
            problems.append(
                Problem(f"{_row(table, index)}, field '{name}'", f"expected a number, got '{table.at[index, name]}'")
            )
        coords[name] = values
    if problems:
        raise InputError(source, problems)
    points = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(coords[lon], coords[lat]), crs="EPSG:4326")
    points.attrs["origin"] = "csv"
    return points


def _grid_points(table: pd.DataFrame, source: str) -> gpd.GeoDataFrame:
    """Eurostat census grid cells as demand points at their centres (EPSG:3035 ids)."""
    id_column = next(c for c in table.columns if c.lower() == "grd_id")
    pop_column = next(c for c in table.columns if c in ("T", "TOT_P", "OBS_VALUE_T"))
    parts = table[id_column].str.extract(_GRID_ID)
    bad = parts[0].isna()
    if bad.any():
        raise InputError(
            source,
            [
                Problem(
                    f"{_row(table, i)}, field '{id_column}'",
                    f"'{table.at[i, id_column]}' is not an INSPIRE grid id like CRS3035RES1000mN2342000E3832000",
                )
                for i in table.index[bad]
            ],
        )
    size, north, east = (parts[k].astype(float) for k in (0, 1, 2))
    centres = gpd.points_from_xy(east + size / 2, north + size / 2, crs="EPSG:3035")
    zones = pd.DataFrame({"zone_id": table[id_column], "name": table[id_column], "population": table[pop_column]})
    points = gpd.GeoDataFrame(zones, geometry=centres).to_crs("EPSG:4326")
    points.attrs["origin"] = "csv"
    return points


def _france_services(table: pd.DataFrame) -> gpd.GeoDataFrame:
    """The ANCT France Services list as service points, hours turned into the OSM form.

    Itinerant units and buses (``format_fs`` in ``MOBILE_FORMATS``) are part-week services (kind
    ``mobile``), geolocated at their base: taken to be there one day a week.
    """
    windows = []
    for _, row in table.iterrows():
        spans = []
        for day, name in enumerate(FRENCH_DAYS[:6], start=1):
            for span in filter(None, (s.strip() for s in str(row.get(f"h_{name}", "")).split("/"))):
                start, _, end = span.partition("-")
                if start.strip() == end.strip():  # the list writes "00:00 - 00:00" for a closed day
                    continue
                spans.append(f"{['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa'][day - 1]} {start.strip()}-{end.strip()}")
        windows.append("; ".join(spans))
    mobile = table.get("format_fs", pd.Series("", index=table.index)).isin(MOBILE_FORMATS)
    sites = pd.DataFrame(
        {
            "site_id": "fs-" + table["id_fs"].astype(str),
            "name": table["lib_fs"],
            "kind": np.where(mobile, "mobile", "service_point"),
            # a unit's listed hours are its whole week over all its stops: one day of it at the listed point
            "share_of_week": np.where(mobile, 0.2, np.nan),
            "capacity": 1.0,
            "equipment": "",
            "opening_hours": [_merge_osm(w) for w in windows],
            "address": (table["adresse"] + ", " + table.get("code_postal", "") + " " + table.get("lib_com", "")).map(
                postal_address
            ),
            "format": table.get("format_fs", ""),
            "lon": table["longitude"],
            "lat": table["latitude"],
        }
    )
    return _points_from_csv(sites, "France Services list")


def _merge_osm(rules: str) -> str:
    try:
        return to_osm(parse_opening_hours(rules))
    except HoursError:
        return rules  # left as published; validation reports it with its row


def read_layer(path: str | Path, kind: str, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read ``kind`` (``"zones"`` or ``"sites"``) from a file or a PostGIS table or view
    (``postgresql://…#schema.table``, :mod:`planner.data.postgis`), recognise its format, validate it.

    Returns a GeoDataFrame in EPSG:4326 with the project schema for that layer.
    """
    path = Path(path)
    database = postgis.relation(path)
    source = database.shown if database else str(path)
    table = postgis.read(database) if database else _read_table(path, layer or kind)
    problems = _control_problems(table)
    if problems:
        raise InputError(source, problems, hint="remove the control characters (NUL, escape...) from these cells")
    names = [str(c).lower() for c in table.columns]
    twice = sorted({c for c in names if names.count(c) > 1})
    if twice:  # 'Population' and 'population' would become one column
        raise InputError(source, [Problem(f"column '{c}'", "appears twice (letter case aside)") for c in twice])
    columns = set(table.columns)
    if not isinstance(table, gpd.GeoDataFrame):
        if {"lib_fs", "latitude", "longitude"} <= columns:
            table = _france_services(table)
        elif any(c.lower() == "grd_id" for c in columns) and columns & {"T", "TOT_P", "OBS_VALUE_T"}:
            table = _grid_points(table, source)
        else:
            table = _points_from_csv(table, source)
    if len(table) == 0:
        raise InputError.one(source, "", f"the {kind} layer is empty")
    if table.crs is None:
        raise InputError.one(
            source,
            "",
            "has no coordinate reference system (CRS)",
            hint="add a .prj file or save it again with its CRS (e.g. EPSG:2154 or EPSG:4326)",
        )
    table = table.to_crs("EPSG:4326")
    return validate_zones(table, source) if kind == "zones" else validate_sites(table, source)


def _coordinate_problems(frame: gpd.GeoDataFrame) -> list[Problem]:
    problems = []
    geometry = frame.geometry
    if geometry.isna().any():
        problems += [Problem(_row(frame, i), "has no geometry") for i in frame.index[geometry.isna()]]
    bounds = geometry.dropna().bounds
    outside = bounds[(bounds["minx"] < -180) | (bounds["maxx"] > 180) | (bounds["miny"] < -90) | (bounds["maxy"] > 90)]
    problems += [
        Problem(
            _row(frame, i),
            "coordinates outside the globe (latitude beyond ±90°): "
            "are longitude and latitude swapped, or is the CRS wrong?",
        )
        for i in outside.index
    ]
    return problems


def _id_problems(frame: pd.DataFrame, column: str) -> list[Problem]:
    if column not in frame:
        return []
    ids = frame[column].astype(str).str.strip()
    problems = [Problem(f"{_row(frame, i)}, field '{column}'", "is empty") for i in frame.index[ids == ""]]
    duplicated = frame.index[ids.duplicated(keep="first") & (ids != "")]
    problems += [Problem(f"{_row(frame, i)}, field '{column}'", f"duplicate id '{ids[i]}'") for i in duplicated]
    return problems


def _missing(frame: pd.DataFrame, required: list[str]) -> list[Problem]:
    present = {c.lower(): c for c in frame.columns}
    problems = []
    for name in required:
        if name not in frame.columns:
            close = [present[c] for c in present if c.replace("_", "") == name.replace("_", "") or c == name]
            hint = f" (found '{close[0]}': rename it '{name}')" if close else ""
            problems.append(Problem(f"column '{name}'", f"is missing{hint}"))
    return problems


MAX_ZONE_POPULATION = 50_000_000  # more than any region of France: a larger figure is a unit or typing error


def validate_zones(frame: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    """Check and normalise a demand layer: ids, non-negative population, usable geometry."""
    frame = frame.rename(columns={c: c.lower() for c in frame.columns if c.lower() in ("population", "name")})
    if "zone_id" not in frame and "name" in frame:
        frame = frame.assign(zone_id=frame.index.astype(str))
    problems = _missing(frame, ["zone_id", "population"])
    if problems:
        raise InputError(source, problems, hint="a zones layer needs zone_id and population (people)")
    problems = _id_problems(frame, "zone_id") + _coordinate_problems(frame)
    population = pd.to_numeric(frame["population"], errors="coerce")
    for i in frame.index[population.isna() | (population < 0) | ~(population <= MAX_ZONE_POPULATION)]:
        problems.append(
            Problem(
                f"{_row(frame, i)}, field 'population'",
                f"expected a number of people from 0 to {MAX_ZONE_POPULATION:,}, got '{frame.at[i, 'population']}'",
            )
        )
    other = frame.geometry.notna() & ~frame.geom_type.isin(["Polygon", "MultiPolygon", "Point"])
    problems += [
        Problem(_row(frame, i), f"geometry is a {frame.geom_type[i]}, expected a Polygon or a Point")
        for i in frame.index[other]
    ]
    polygons = frame.geometry.notna() & frame.geom_type.isin(["Polygon", "MultiPolygon"])
    invalid = polygons & ~frame.geometry.is_valid
    if invalid.any():  # self-intersections and the like are repaired; a polygon with no area cannot be
        frame.loc[invalid, "geometry"] = shapely.make_valid(frame.loc[invalid].geometry.values)
    problems += [
        Problem(_row(frame, i), "polygon has no area (its points are on a line or a point), even once repaired")
        for i in frame.index[polygons & (shapely.area(frame.geometry.values) == 0)]
    ]
    if problems:
        raise InputError(source, problems)
    zones = frame.assign(zone_id=frame["zone_id"].astype(str).str.strip(), population=population)
    if "name" not in zones:
        zones["name"] = zones["zone_id"]
    zones = with_demand_points(zones)
    zones.attrs["repaired_geometries"] = int(invalid.sum())
    return zones


def validate_sites(frame: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    """Check and normalise a sites layer: ids, kind, capacity, equipment, hours, points."""
    frame = frame.rename(columns={"opening_ho": "opening_hours"})  # shapefiles cut names at 10 characters
    if "kind" not in frame:
        frame = frame.assign(kind="service_point")
    if "name" not in frame and "site_id" in frame:
        frame = frame.assign(name=frame["site_id"])
    problems = _missing(frame, ["site_id", "name"])
    if problems:
        raise InputError(source, problems, hint="a sites layer needs site_id and name (kind defaults to service_point)")
    problems = _id_problems(frame, "site_id") + _coordinate_problems(frame)
    not_points = frame.geometry.notna() & (frame.geom_type != "Point")
    problems += [
        Problem(_row(frame, i), f"geometry is a {frame.geom_type[i]}, expected a Point")
        for i in frame.index[not_points]
    ]
    bad_kind = ~frame["kind"].isin(SITE_KINDS)
    problems += [
        Problem(f"{_row(frame, i)}, field 'kind'", f"'{frame.at[i, 'kind']}' is not one of {', '.join(SITE_KINDS)}")
        for i in frame.index[bad_kind]
    ]
    capacity = pd.to_numeric(
        frame.get("capacity", pd.Series(np.nan, index=frame.index)).replace("", np.nan), errors="coerce"
    )
    raw_capacity = frame.get("capacity", pd.Series("", index=frame.index)).astype(str).str.strip()
    blank = raw_capacity.isin(["", "nan", "None", "<NA>"])
    bad_capacity = (capacity < 0) | np.isinf(capacity) | (capacity.isna() & ~blank)
    problems += [
        Problem(f"{_row(frame, i)}, field 'capacity'", f"expected a number >= 0, got '{raw_capacity[i]}'")
        for i in frame.index[bad_capacity]
    ]
    hours = frame.get("opening_hours", pd.Series("", index=frame.index)).fillna("").astype(str)
    if problems:
        raise InputError(source, problems)
    sites = frame.assign(
        site_id=frame["site_id"].astype(str).str.strip(),
        capacity=capacity,
        opening_hours=hours,
        equipment=frame.get("equipment", "").fillna("") if "equipment" in frame else "",
        address=frame["address"].map(postal_address) if "address" in frame else "",
    )
    return sites[[*SITE_COLUMNS, *[c for c in sites.columns if c not in SITE_COLUMNS]]]


def check_opening_hours(sites: pd.DataFrame, source: str) -> None:
    """Refuse the sites whose ``opening_hours`` cannot be read, all at once, each by row and field.

    ``sites`` is a layer as :func:`read_layer` returned it (rows named as in its file). Called by the
    commands that use the hours (rounds visiting within them, rooms), not on reading: a sites file with
    odd hours still serves coverage and siting, which do not use them.
    """
    problems = []
    for i, text in sites["opening_hours"].fillna("").items():
        try:
            parse_opening_hours(str(text))
        except HoursError as exc:
            where = _row(sites, i)
            problems.append(
                Problem(f"{where}, field 'opening_hours'", f"{exc} (expected e.g. 'Mo-Fr 09:00-12:00,14:00-17:00')")
            )
    if problems:
        raise InputError(source, problems)


def outside_territory(points: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, *, buffer_m: float = 20_000) -> pd.DataFrame:
    """Per point: ``far`` (beyond ``buffer_m`` of the zones) and ``swapped`` (inside once lon/lat are swapped)."""
    crs = "EPSG:2154" if zones.total_bounds[0] > -6 else zones.estimate_utm_crs()
    area = zones.to_crs(crs).geometry.union_all().buffer(buffer_m)
    far = ~points.to_crs(crs).within(area)
    flipped = gpd.GeoSeries(
        gpd.points_from_xy(points.geometry.y, points.geometry.x), index=points.index, crs="EPSG:4326"
    )
    swapped = far & flipped.to_crs(crs).within(area)
    return pd.DataFrame({"far": far, "swapped": swapped})
