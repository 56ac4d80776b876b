"""A run's layers written into a PostgreSQL + PostGIS schema, as tables QGIS lists and opens directly.

``postgresql://user@host/base#schema`` names the target. Every layer of the run folder's GeoPackages
(``coverage.gpkg``: zones and their access times, gap zones, services; ``plan/combined_access.gpkg``…) and
its GeoJSON layers (bus stops, routes, rounds) becomes one table ``<file>_<layer>`` with a typed geometry
column (``geometry(MultiPolygon, 2154)``…: PostGIS lists it in ``geometry_columns``, which is what QGIS reads)
and a GiST index. All tables are written in one transaction: the schema has every layer of the run or, on
an error, is left as it was.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pyogrio
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from planner._errors import InputError
from planner.exports._safe import file_name

NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
SCHEMES = ("postgresql://", "postgresql+psycopg://", "postgres://")
STYLES = "layer_styles"  # the GeoPackage's QGIS styles table: no geometry, not a layer


def parse_target(target: str) -> tuple[str, str]:
    """``postgresql://…#schema`` as the SQLAlchemy URL (psycopg driver) and the schema's name."""
    url, _, schema = target.partition("#")
    if not url.startswith(SCHEMES):
        raise InputError.one("--to", "", "not a PostgreSQL address", "give postgresql://user@host/base#schema")
    if not NAME.fullmatch(schema):
        raise InputError.one(
            "--to", schema, "the schema must be lower-case letters, digits and _ (63 at most)", "end with #schema"
        )
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme != "postgresql+psycopg" else url, schema


def table_name(path: Path, layer: str) -> str:
    """``coverage.gpkg`` layer ``gap_zones`` -> ``coverage_gap_zones``; a valid, lower-case PostgreSQL name."""
    raw = f"{path.stem}_{layer}" if layer != path.stem else path.stem
    cleaned = re.sub(r"[^a-z0-9_]+", "_", file_name(raw).lower()).strip("_") or "layer"
    return (cleaned if cleaned[0].isalpha() else f"l_{cleaned}")[:63]


def run_layers(folder: Path) -> dict[str, gpd.GeoDataFrame]:
    """Every geographic layer of a run folder, by table name (GeoPackage layers, then GeoJSON files)."""
    if not (folder / "run.json").is_file():
        raise InputError.one(str(folder), "run.json", "not a run folder", "give a folder `maillage run` wrote")
    found: dict[str, gpd.GeoDataFrame] = {}
    for path in sorted(folder.rglob("*.gpkg")):
        for layer, kind in pyogrio.list_layers(path):
            if kind is not None and layer != STYLES:
                found[table_name(path.relative_to(folder).with_suffix(""), str(layer))] = gpd.read_file(
                    path, layer=str(layer)
                )
    for path in sorted(folder.rglob("*.geojson")):
        relative = path.relative_to(folder).with_suffix("")
        found[table_name(Path("_".join(relative.parts)), "_".join(relative.parts))] = gpd.read_file(path)
    return {name: layer for name, layer in found.items() if len(layer) and layer.crs is not None}


def write_layers(folder: Path, target: str) -> list[str]:
    """Write every layer of the run ``folder`` into the schema of ``target`` (created when missing, tables
    replaced); return the tables written, as ``schema.table``."""
    url, schema = parse_target(target)
    layers = run_layers(folder)
    if not layers:
        raise InputError.one(str(folder), "", "no geographic layer to write", "run coverage, rounds or rooms")
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            for name, layer in layers.items():
                layer.to_postgis(name, connection, schema=schema, if_exists="replace", index=False)
    except InputError:
        raise
    except Exception as exc:  # the driver's errors all mean "cannot write there"
        raise InputError.one("--to", url.split("@")[-1], f"cannot write ({type(exc).__name__}: {exc})") from None
    finally:
        engine.dispose()
    return [f"{schema}.{name}" for name in layers]
