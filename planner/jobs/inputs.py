"""A scenario's territory: packaged French data or the default, with the user's zone and service files checked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner._errors import InputError, Problem
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
    own_place = False
    if spec.zones is not None:
        zones = read(scenario.resolve(spec.zones), "zones")
        _check_zones_place(zones, territory, str(scenario.resolve(spec.zones)), scenario.services.canton_seats)
        inside = zones_inside(zones, territory.zones)
        chosen = bool(spec.departement or spec.epci or spec.insee)
        if chosen or inside.any():
            territory = _clipped(territory, zones, inside, spec.zones.name)
        else:  # the files describe another place: it is the territory, named after them
            own_place = True
            territory.notes.append(
                f"demand from {spec.zones.name}: {len(zones)} zones, {zones['population'].sum():,.0f} people, "
                f"none inside the default territory ({territory.name}): the territory is the files' own"
            )
            territory = Territory(spec.zones.stem, zones, territory.sites.iloc[0:0], territory.notes)
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
        extra = extra[~where["far"]].assign(source_file=path.name)  # maps draw the user's own sites apart
        beyond = _beyond_boundary(extra, territory.zones)
        if beyond and not own_place:
            territory.notes.append(
                f"{path.name}: {beyond} of {len(extra)} sites lie outside the territory but within 20 km of it: "
                "counted, as people cross borders to reach them"
            )
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


def zones_inside(zones: gpd.GeoDataFrame, base: gpd.GeoDataFrame) -> pd.Series:
    """Per zone: its centre (its demand point: the point itself, or a point inside the polygon)
    lies in the territory's communes. The centre decides, so a border cell counts whole or not at all."""
    shapes = base.geometry[base.geometry.notna() & base.geom_type.isin(["Polygon", "MultiPolygon"])]
    if shapes.empty:
        return pd.Series(True, index=zones.index)
    area = shapes.union_all()
    points = gpd.GeoSeries(gpd.points_from_xy(zones["demand_lon"], zones["demand_lat"]), index=zones.index)
    return pd.Series(points.within(area).to_numpy(), index=zones.index)


def _clipped(territory: Territory, zones: gpd.GeoDataFrame, inside: pd.Series, source: str) -> Territory:
    """The territory with the user's zones whose centre lies in it; the dropped ones counted in the notes."""
    kept, dropped = zones[inside], zones[~inside]
    note = f"demand from {source}: {len(kept)} zones, {kept['population'].sum():,.0f} people inside {territory.name}"
    if len(dropped):
        note += (
            f"; {len(dropped)} zones outside it dropped ({dropped['population'].sum():,.0f} people; "
            "a zone counts when its centre lies in the territory)"
        )
    return Territory(territory.name, kept.reset_index(drop=True), territory.sites, [*territory.notes, note])


def _beyond_boundary(sites: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> int:
    """How many sites lie outside the zones' polygons (0 when the zones are points)."""
    shapes = zones.geometry[zones.geom_type.isin(["Polygon", "MultiPolygon"])]
    if shapes.empty or sites.empty:
        return 0
    return int((~sites.geometry.within(shapes.union_all())).sum())


def depot_sites(territory: Territory, depots: list[tuple[str, str]], section: str) -> list[pd.Series]:
    """The site of each depot given as ``(where, depot)``: a site id, or an INSEE code meaning that commune's town
    hall. Raises one :class:`InputError` (source ``section``) naming every depot that is neither."""
    sites = territory.sites.set_index("site_id")
    found, problems = [], []
    for where, depot in depots:
        key = depot if depot in sites.index else f"mairie-{depot}"
        if key not in sites.index:
            problems.append(
                Problem(
                    f"{where}, field 'depot'",
                    f"'{depot}' is neither a site id nor the INSEE code of a commune with a town hall in the territory",
                )
            )
            continue
        found.append(sites.loc[key])
    if problems:
        raise InputError(section, problems, hint="e.g. depot: '48095' for Mende")
    return found
