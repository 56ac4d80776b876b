"""The coverage job: scenario in, computed coverage out. No files are written here."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np

from planner._errors import InputError
from planner.data.territory import Territory
from planner.jobs.inputs import build_territory
from planner.jobs.measures import CoverageSummary, e2sfca, nearest_service, summarise
from planner.scenario import CoverageSpec, Scenario
from planner.travel.build import build_travel_model
from planner.travel.estimate import TravelModel

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


def run_coverage(scenario: Scenario, progress: Progress = lambda _: None) -> CoverageResult:
    """Load the territory, build the travel model, and measure access to the services."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    progress("territory")
    territory = build_territory(scenario)
    services = measured_services(territory)
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


def measured_services(
    territory: Territory, hint: str = "keep services.canton_seats: true or add a services file"
) -> gpd.GeoDataFrame:
    """The territory's services, refused when there is none to measure against (``hint`` says what to do)."""
    services = territory.services()
    if services.empty:
        raise InputError.one("services", "", "no service point to measure against", hint=hint)
    return services


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
