"""Geographic files as French GIS work takes them: GeoPackage layers in the official projection of the
territory, styled for QGIS; GeoJSON as RFC 7946.

* :func:`official_crs`: Lambert-93 (EPSG:2154) in metropolitan France and Corsica, the official local
  projections overseas (RGAF09 / UTM 20N for Guadeloupe and Martinique, RGFG95 / UTM 22N for Guyane,
  RGR92 / UTM 40S for La Réunion, RGM04 / UTM 38S for Mayotte), else the local UTM zone;
* :func:`write_layer`: one GeoPackage layer in that projection, one geometry type (polygons promoted to
  MultiPolygon), written with its schema even when empty, with its QGIS style as the default row of the
  GeoPackage's ``layer_styles`` table (the table QGIS reads when it opens a layer);
* :func:`write_geojson`: EPSG:4326, no ``crs`` member, no degenerate line (RFC 7946).
"""

from __future__ import annotations

import sqlite3
from html import escape
from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from planner.exports.maps import CLASSES, OWN_SITE_COLOUR, SERVICE_COLOUR
from planner.i18n import label

# (EPSG code, west, south, east, north): the official projection of each overseas département.
OVERSEAS_CRS = (
    (5490, -63.7, 14.0, -60.0, 18.4),  # Guadeloupe, Martinique: RGAF09 / UTM zone 20N
    (2972, -54.7, 2.0, -51.0, 6.0),  # Guyane: RGFG95 / UTM zone 22N
    (2975, 54.0, -24.8, 58.3, -18.2),  # La Réunion: RGR92 / UTM zone 40S
    (4471, 43.6, -14.5, 46.7, -11.3),  # Mayotte: RGM04 / UTM zone 38S
)
LAMBERT_93 = 2154
METROPOLE = (-5.5, 41.0, 10.0, 51.5)


def official_crs(frame: gpd.GeoDataFrame) -> str:
    """The official projection of the territory ``frame`` covers (by the centre of its bounds).

    >>> from shapely.geometry import Point
    >>> [official_crs(gpd.GeoDataFrame(geometry=[Point(x, y)], crs="EPSG:4326"))
    ...  for x, y in [(3.5, 44.5), (-61.5, 16.2), (-61.0, 14.6), (-53.0, 4.0), (55.5, -21.1), (45.1, -12.8)]]
    ['EPSG:2154', 'EPSG:5490', 'EPSG:5490', 'EPSG:2972', 'EPSG:2975', 'EPSG:4471']
    """
    shown = frame[frame.geometry.notna() & ~frame.geometry.is_empty] if len(frame) else frame
    if not len(shown):
        return f"EPSG:{LAMBERT_93}"
    west, south, east, north = shown.to_crs(4326).total_bounds
    lon, lat = (west + east) / 2, (south + north) / 2
    for code, w, s, e, n in OVERSEAS_CRS:
        if w <= lon <= e and s <= lat <= n:
            return f"EPSG:{code}"
    if METROPOLE[0] <= lon <= METROPOLE[2] and METROPOLE[1] <= lat <= METROPOLE[3]:
        return f"EPSG:{LAMBERT_93}"
    return str(shown.to_crs(4326).estimate_utm_crs())


# --- QGIS styles ------------------------------------------------------------------------------------


def _rgba(colour: str, alpha: int = 255) -> str:
    colour = colour.lstrip("#")
    return ",".join(str(int(colour[i : i + 2], 16)) for i in (0, 2, 4)) + f",{alpha}"


def _options(values: dict[str, str]) -> str:
    return "".join(f'<Option name="{k}" type="QString" value="{v}"/>' for k, v in values.items())


def _fill(name: str, fill: str, outline: str, width: float, *, alpha: int = 178, hollow: bool = False) -> str:
    options = {
        "color": _rgba(fill, alpha),
        "style": "no" if hollow else "solid",
        "outline_color": _rgba(outline),
        "outline_style": "solid",
        "outline_width": f"{width:g}",
        "outline_width_unit": "MM",
    }
    return (
        f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleFill" enabled="1" locked="0" pass="0"><Option type="Map">{_options(options)}'
        "</Option></layer></symbol>"
    )


def _marker(name: str, colour: str) -> str:
    options = {
        "name": "circle",
        "color": _rgba(colour),
        "outline_color": "255,255,255,255",
        "outline_width": "0.4",
        "size": "3",
        "size_unit": "MM",
    }
    return (
        f'<symbol type="marker" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleMarker" enabled="1" locked="0" pass="0"><Option type="Map">{_options(options)}'
        "</Option></layer></symbol>"
    )


def _qml(renderer: str) -> str:
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        f'<qgis version="3.28.0" styleCategories="Symbology">{renderer}</qgis>'
    )


def zone_geometry(frame: gpd.GeoDataFrame) -> str:
    """The GeoPackage geometry type of a zones layer: ``MultiPoint`` when every zone is a point (a census
    grid or a table of coordinates), else ``MultiPolygon``."""
    points = len(frame) > 0 and bool(frame.geometry.geom_type.isin(["Point", "MultiPoint"]).all())
    return "MultiPoint" if points else "MultiPolygon"


def access_style(minutes_label: str = "min", column: str = "time_min", *, points: bool = False) -> str:
    """Zones coloured by access time, the classes and colours of the HTML maps (graduated on ``column``);
    ``points`` draws point zones as coloured dots."""
    ranges, symbols, lower = [], [], 0.0
    for i, (upper, colour) in enumerate(CLASSES):
        top = upper if np.isfinite(upper) else 1e300
        text = f"{lower:g}–{upper:g} {minutes_label}" if np.isfinite(upper) else f"&gt; {lower:g} {minutes_label}"
        ranges.append(f'<range lower="{lower:g}" upper="{top:g}" symbol="{i}" label="{text}" render="true"/>')
        symbols.append(_marker(str(i), colour) if points else _fill(str(i), colour, "#555555", 0.1))
        lower = upper
    return _qml(
        f'<renderer-v2 type="graduatedSymbol" attr="{column}" graduatedMethod="GraduatedColor" symbollevels="0" '
        f'enableorderby="0" forceraster="0"><ranges>{"".join(ranges)}</ranges>'
        f"<symbols>{''.join(symbols)}</symbols></renderer-v2>"
    )


def write_access_layer(
    zones: gpd.GeoDataFrame, gpkg: Path, layer: str, *, crs: str, minutes_label: str = "min", column: str = "time_min"
) -> str:
    """Write ``zones`` as ``layer`` of ``gpkg`` in ``crs``, points or polygons as they are, styled by access
    time on ``column`` (unstyled when the zones have no such column); return the geometry type written."""
    kind = zone_geometry(zones)
    style = access_style(minutes_label, column, points=kind == "MultiPoint") if column in zones else None
    write_layer(zones, gpkg, layer, crs=crs, geometry_type=kind, style=style)
    return kind


def outline_style(colour: str = "#b2182b", *, points: bool = False) -> str:
    """An outline without fill: the gap zones (dots of ``colour`` when the zones are points)."""
    symbol = _marker("0", colour) if points else _fill("0", colour, colour, 0.8, hollow=True)
    return _qml(
        '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0"><symbols>'
        f"{symbol}</symbols></renderer-v2>"
    )


def points_style(colour: str = "#2166ac") -> str:
    """Dots with a white ring, the markers of the HTML maps: the services."""
    return _qml(
        '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0"><symbols>'
        f"{_marker('0', colour)}</symbols></renderer-v2>"
    )


def services_style(lang: str = "fr", *, own_sites: bool = False) -> str:
    """The services' dots; with ``own_sites``, a rule per origin so the sites of the user's files (their
    ``source_file`` set) show apart from the packaged ones, in the colours and words of the HTML maps."""
    if not own_sites:
        return points_style()
    packaged, own = (escape(label(key, lang), quote=True) for key in ("services_packaged", "services_own"))
    return _qml(
        '<renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0"><rules key="root">'
        f'<rule key="packaged" symbol="0" filter="&quot;source_file&quot; IS NULL" label="{packaged}"/>'
        f'<rule key="own" symbol="1" filter="ELSE" label="{own}"/></rules>'
        f"<symbols>{_marker('0', SERVICE_COLOUR)}{_marker('1', OWN_SITE_COLOUR)}</symbols></renderer-v2>"
    )


_STYLES_TABLE = """CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
  useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME)"""


def _save_style(gpkg: Path, layer: str, qml: str, description: str) -> None:
    """The layer's default QGIS style, in the ``layer_styles`` table (registered as an attribute table)."""
    with sqlite3.connect(gpkg) as db:
        db.execute(_STYLES_TABLE)
        db.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, last_change) "
            "VALUES ('layer_styles', 'attributes', 'layer_styles', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
        )
        column = db.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)).fetchone()
        db.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (layer,))
        db.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
            "styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
            "VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', '', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            (layer, column[0] if column else "geom", layer, qml, description),
        )
    db.close()


def write_layer(
    frame: gpd.GeoDataFrame,
    gpkg: Path,
    layer: str,
    *,
    crs: str,
    geometry_type: str,
    style: str | None = None,
    description: str = "",
) -> None:
    """Write ``frame`` as ``layer`` of ``gpkg`` in ``crs``, every geometry of ``geometry_type`` (a polygon
    becomes a one-part MultiPolygon), with its columns even when it has no row; ``style`` (QML) becomes
    the layer's default style in ``layer_styles``."""
    out = gpd.GeoDataFrame(frame, geometry=frame.geometry.name, crs=frame.crs or "EPSG:4326").to_crs(crs)
    multi = geometry_type.startswith("Multi")
    out.to_file(gpkg, layer=layer, driver="GPKG", geometry_type=geometry_type, promote_to_multi=multi)
    if style is not None:
        _save_style(gpkg, layer, style, description)


def _line(geometry: BaseGeometry | None) -> BaseGeometry | None:
    """A line without repeated consecutive points; None when fewer than two points are left."""
    if geometry is None or geometry.geom_type != "LineString":
        return geometry
    coords = [c for i, c in enumerate(geometry.coords) if i == 0 or c != geometry.coords[i - 1]]
    return LineString(coords) if len(coords) >= 2 else None


def write_geojson(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write ``frame`` as RFC 7946 GeoJSON: EPSG:4326 coordinates, no ``crs`` member, valid geometries
    (a line that does not move, such as the route of a day a truck stays at its depot, is written
    without geometry)."""
    out = gpd.GeoDataFrame(frame, geometry=frame.geometry.name, crs=frame.crs or "EPSG:4326").to_crs(4326)
    out[out.geometry.name] = [_line(g) for g in out.geometry]
    out.to_file(path, driver="GeoJSON", RFC7946="YES")


def write_geoparquet(gpkg: Path) -> list[Path]:
    """Each layer of ``gpkg`` also as GeoParquet beside it (``<gpkg stem>-<layer>.parquet``), in the same
    projection and with its columns even when empty: the files written."""
    import pyogrio

    written = []
    for layer, _ in pyogrio.list_layers(gpkg):
        if layer == "layer_styles":  # QGIS styles: an attribute table, not a layer
            continue
        frame = pyogrio.read_dataframe(gpkg, layer=layer)
        path = gpkg.with_name(f"{gpkg.stem}-{layer}.parquet")
        frame.to_parquet(path, index=False, schema_version="1.0.0")
        written.append(path)
    return written
