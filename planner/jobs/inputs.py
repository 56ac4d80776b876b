"""A scenario's territory: packaged French data or the default, with the user's zone and service files checked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner._errors import InputError
from planner.data.france import DEFAULT_TERRITORY, load_france
from planner.data.layers import outside_territory, read_layer
from planner.data.territory import Territory, read_territory
from planner.scenario import Scenario

LayerReader = Callable[[Path, str], gpd.GeoDataFrame]


def build_territory(scenario: Scenario, *, read: LayerReader = read_layer) -> Territory:
    """The scenario's territory, with its user service files added and checked.

    ``read(path, kind)`` reads the user's zones and sites files (the app passes one that caches them).
    """
    spec = scenario.territory
    if spec.departement or spec.epci or spec.insee:
        territory = load_france(
            departements=[spec.departement] if spec.departement else None,
            epci=[spec.epci] if spec.epci else None,
            insee=spec.insee,
        )
    else:
        territory = read_territory(DEFAULT_TERRITORY)
    if spec.zones is not None:
        zones = read(scenario.resolve(spec.zones), "zones")
        _check_zones_place(zones, territory, str(scenario.resolve(spec.zones)), scenario.services.canton_seats)
        territory.notes.append(
            f"demand from {spec.zones.name}: {len(zones)} zones, {zones['population'].sum():,.0f} people"
        )
        territory = Territory(territory.name, zones, territory.sites, territory.notes)
    sites = territory.sites
    if not scenario.services.canton_seats:
        sites = sites[sites["kind"] != "service_point"]
    for path in scenario.services.files:
        extra = read(scenario.resolve(path), "sites")
        where = outside_territory(extra, territory.zones)
        if where["far"].all():
            swapped = ": are longitude and latitude swapped?" if where["swapped"].mean() > 0.5 else ""
            raise InputError.one(
                str(scenario.resolve(path)),
                "",
                f"none of its {len(extra)} sites lies within 20 km of the territory ({territory.name}){swapped}",
                hint="lon is the east-west coordinate (about 3.5 in Lozère), lat the north-south one (about 44.5)",
            )
        if where["far"].any():
            ids = extra.loc[where["far"], "site_id"].tolist()
            swapped = " (longitude and latitude look swapped)" if where["swapped"].any() else ""
            territory.notes.append(
                f"{path.name}: {len(ids)} of {len(extra)} sites more than 20 km outside the "
                f"territory ignored{swapped}: {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}"
            )
        extra = extra[~where["far"]]
        sites = pd.concat([sites, extra], ignore_index=True)
    duplicated = sites["site_id"].duplicated()
    if duplicated.any():
        raise InputError.one(
            "services", "", f"site ids used twice across files: {', '.join(sites.loc[duplicated, 'site_id'])}"
        )
    return Territory(territory.name, territory.zones, gpd.GeoDataFrame(sites, crs="EPSG:4326"), territory.notes)


def _check_zones_place(zones: gpd.GeoDataFrame, base: Territory, source: str, canton_seats: bool) -> None:
    """Refuse demand zones that all lie far from the territory whose services measure them.

    All of them inside the territory once longitude and latitude are swapped names the swap; all far
    while the territory's canton seats are the services (a wrong CRS, another place) says so.
    """
    points = gpd.GeoDataFrame(geometry=zones.geometry.representative_point(), crs=zones.crs)
    where = outside_territory(points, base.zones)
    if not where["far"].all():
        return
    if where["swapped"].mean() > 0.5:
        raise InputError.one(
            source,
            "",
            f"every zone lies more than 20 km outside {base.name}, and inside it once longitude and "
            "latitude are swapped: are they swapped?",
            hint="lon is the east-west coordinate (about 3.5 in Lozère), lat the north-south one (about 44.5)",
        )
    if canton_seats:
        raise InputError.one(
            source,
            "",
            f"none of its {len(zones)} zones lies within 20 km of {base.name}, whose canton seats are the services",
            hint="choose the territory that holds them (--departement), check the file's CRS, "
            "or give your own services with --no-canton-seats",
        )
