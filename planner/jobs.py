"""The coverage job: scenario in, computed coverage out. No files are written here."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from planner._errors import InputError
from planner.coverage import CoverageSummary, e2sfca, nearest_service, summarise
from planner.france import DEFAULT_TERRITORY, load_france
from planner.layers import outside_territory, read_layer
from planner.network import download_network, load_network
from planner.network_store import is_stored_network, read_network
from planner.scenario import CoverageSpec, Scenario
from planner.territory import Territory, read_territory
from planner.travel import EstimateModel, TravelModel

Progress = Callable[[str], None]


class CoverageReport(CoverageSummary):
    """The summary of a coverage run, as written to ``summary.json``."""

    territory: str
    target_min: float
    travel_model: str
    zones: int
    services: int
    gap_zones: int
    notes: list[str]


@dataclass
class CoverageResult:
    """Per-zone access (GeoDataFrame aligned to the zones), services used, summary, model, timings."""

    territory: Territory
    services: gpd.GeoDataFrame
    access: gpd.GeoDataFrame
    summary: CoverageReport
    travel: dict[str, object]
    model: TravelModel
    timings_s: dict[str, float] = field(default_factory=dict)


def build_territory(scenario: Scenario) -> Territory:
    """The scenario's territory, with its user service files added and checked."""
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
        zones = read_layer(scenario.resolve(spec.zones), "zones")
        _check_zones_place(zones, territory, str(scenario.resolve(spec.zones)), scenario.services.canton_seats)
        territory.notes.append(
            f"demand from {spec.zones.name}: {len(zones)} zones, {zones['population'].sum():,.0f} people"
        )
        territory = Territory(territory.name, zones, territory.sites, territory.notes)
    sites = territory.sites
    if not scenario.services.canton_seats:
        sites = sites[sites["kind"] != "service_point"]
    for path in scenario.services.files:
        extra = read_layer(scenario.resolve(path), "sites")
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


def build_travel_model(scenario: Scenario, territory: Territory) -> TravelModel:
    """The road network when one is given or downloadable, else (or when asked) the stated estimate."""
    spec = scenario.travel
    estimate = EstimateModel(speed_kmh=spec.speed_kmh, detour_factor=spec.detour_factor)
    if spec.model == "estimate":
        return estimate
    if spec.network is not None:
        path = scenario.resolve(spec.network)
        if is_stored_network(path):
            return read_network(path, access_speed_kmh=spec.access_speed_kmh)
        return load_network(path, access_speed_kmh=spec.access_speed_kmh)
    if spec.download:
        polygon = territory.zones.to_crs(territory.metric_crs()).buffer(5_000).to_crs("EPSG:4326").union_all()
        return download_network(polygon, scenario.resolve(spec.cache_dir), access_speed_kmh=spec.access_speed_kmh)
    if spec.model == "road":
        raise InputError.one(
            "travel.model",
            "",
            "is 'road' but no road network was given",
            hint="set travel.network to a .osm.pbf/.graphml file, or travel.download: true",
        )
    return estimate


def run_coverage(scenario: Scenario, progress: Progress = lambda _: None) -> CoverageResult:
    """Load the territory, build the travel model, and measure access to the services."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    progress("territory")
    territory = build_territory(scenario)
    services = territory.services()
    if services.empty:
        raise InputError.one(
            "services",
            "",
            "no service point to measure against",
            hint="keep services.canton_seats: true or add a services file",
        )
    timings["territory"] = time.perf_counter() - start
    progress("travel model")
    model = build_travel_model(scenario, territory)
    timings["travel_model"] = time.perf_counter() - start - sum(timings.values())
    progress("travel times")
    times = model.matrix(territory.demand_points(), services.geometry)
    timings["travel_times"] = time.perf_counter() - start - sum(timings.values())
    progress("coverage")
    result = measure_coverage(territory, services, times, model, scenario.coverage)
    timings["coverage"] = time.perf_counter() - start - sum(timings.values())
    result.timings_s.update(timings)
    return result


def access_and_report(
    territory: Territory,
    services: gpd.GeoDataFrame,
    minutes: np.ndarray,
    column: np.ndarray,
    spec: CoverageSpec,
    model: TravelModel,
    notes: list[str],
) -> tuple[gpd.GeoDataFrame, CoverageReport]:
    """Each zone's nearest service, time and threshold flags, and the territory's headline report."""
    access = territory.zones.copy()
    access["time_min"] = minutes
    access["service_id"] = np.where(column >= 0, services["site_id"].to_numpy()[column], "")
    access["service_name"] = np.where(column >= 0, services["name"].to_numpy()[column], "")
    for t in spec.thresholds_min:
        access[f"within_{t:g}_min"] = minutes <= t
    access["gap"] = minutes > spec.target_min
    summary = CoverageReport(
        **summarise(access["population"].to_numpy(dtype=float), minutes, spec.thresholds_min),
        territory=territory.name,
        target_min=spec.target_min,
        travel_model=model.kind,
        zones=len(access),
        services=len(services),
        gap_zones=int(access["gap"].sum()),
        notes=notes,
    )
    return access, summary


def measure_coverage(
    territory: Territory, services: gpd.GeoDataFrame, times: np.ndarray, model: TravelModel, spec: CoverageSpec
) -> CoverageResult:
    """Coverage from a ready zones x services matrix: cheap, so thresholds can change without re-routing."""
    minutes, column = nearest_service(times)
    population = territory.zones["population"].to_numpy(dtype=float)
    capacity = services["capacity"].fillna(1.0).to_numpy(dtype=float)
    model_notes = model.describe().get("notes", [])
    notes = territory.notes + (list(model_notes) if isinstance(model_notes, list) else [])
    access, summary = access_and_report(territory, services, minutes, column, spec, model, notes)
    access["e2sfca_per_1000"] = e2sfca(population, capacity, times, spec.e2sfca_steps) * 1000
    return CoverageResult(territory, services, access, summary, model.describe(), model)
