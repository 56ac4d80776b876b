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
from planner.jobs.measures import CoverageSummary, e2sfca, nearest_service, share_of_week, summarise
from planner.scenario import CoverageSpec, Scenario
from planner.travel.build import build_travel_model
from planner.travel.estimate import ESTIMATE_HIGH, ESTIMATE_LOW, TravelModel

Progress = Callable[[str], None]


class CoverageReport(CoverageSummary):
    """The summary of a coverage run, as written to ``summary.json``."""

    territory: str
    target_min: float
    travel_model: str
    zones: int
    services: int
    gap_zones: int
    share_within_low: dict[str, float] | None
    share_within_high: dict[str, float] | None
    estimate_range: dict[str, list[float]] | None
    zones_without_population: int
    part_week_services: int
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


def estimate_range(
    population: np.ndarray, minutes: np.ndarray, thresholds: list[float], model: TravelModel
) -> tuple[dict[str, float], dict[str, float]] | None:
    """Shares within each threshold at the stated slow and fast (speed, detour) pairs, for the estimate.

    Estimated times are proportional to ``detour / speed`` and the nearest service by crow-fly
    distance stays the nearest, so the times of another pair are the same times rescaled. The
    range always holds the share itself (a user's own speed may lie outside the stated pairs).
    ``None`` for routed times.
    """
    if model.kind != "estimate":
        return None
    described = model.describe()
    per_km = float(described["detour_factor"]) / float(described["speed_kmh"])  # type: ignore[arg-type]
    share = summarise(population, minutes, thresholds)["share_within"]
    low = summarise(population, minutes * (ESTIMATE_LOW[1] / ESTIMATE_LOW[0]) / per_km, thresholds)["share_within"]
    high = summarise(population, minutes * (ESTIMATE_HIGH[1] / ESTIMATE_HIGH[0]) / per_km, thresholds)["share_within"]
    return (
        {k: min(v, share[k]) for k, v in low.items()},
        {k: max(v, share[k]) for k, v in high.items()},
    )


def access_and_report(
    territory: Territory,
    services: gpd.GeoDataFrame,
    minutes: np.ndarray,
    column: np.ndarray,
    spec: CoverageSpec,
    model: TravelModel,
    notes: list[str],
    part_week_services: int = 0,
) -> tuple[gpd.GeoDataFrame, CoverageReport]:
    """Each zone's nearest service, time and threshold flags, and the territory's headline report.

    Every count (gap zones, layers, headline) comes from these unrounded minutes.
    """
    access = territory.zones.copy()
    access["time_min"] = minutes
    access["service_id"] = np.where(column >= 0, services["site_id"].to_numpy()[column], "")
    access["service_name"] = np.where(column >= 0, services["name"].to_numpy()[column], "")
    for t in spec.thresholds_min:
        access[f"within_{t:g}_min"] = minutes <= t
    access["gap"] = minutes > spec.target_min
    population = access["population"].to_numpy(dtype=float)
    bounds = estimate_range(population, minutes, spec.thresholds_min, model)
    missing = int(access["population_missing"].sum()) if "population_missing" in access else 0
    summary = CoverageReport(
        **summarise(population, minutes, spec.thresholds_min),
        territory=territory.name,
        target_min=spec.target_min,
        travel_model=model.kind,
        zones=len(access),
        services=len(services),
        gap_zones=int(access["gap"].sum()),
        share_within_low=bounds[0] if bounds else None,
        share_within_high=bounds[1] if bounds else None,
        estimate_range={
            "speed_kmh": [ESTIMATE_LOW[0], ESTIMATE_HIGH[0]],
            "detour_factor": [ESTIMATE_HIGH[1], ESTIMATE_LOW[1]],
        }
        if bounds
        else None,
        zones_without_population=missing,
        part_week_services=part_week_services,
        notes=notes,
    )
    return access, summary


def measure_coverage(
    territory: Territory, services: gpd.GeoDataFrame, times: np.ndarray, model: TravelModel, spec: CoverageSpec
) -> CoverageResult:
    """Coverage from a ready zones x services matrix: cheap, so thresholds can change without re-routing.

    Part-week services (``kind`` ``mobile``: itinerant units, buses) are not in the access times;
    they add to E2SFCA with their capacity times the share of the week they are present.
    """
    minutes, column = nearest_service(times)
    population = territory.zones["population"].to_numpy(dtype=float)
    capacity = services["capacity"].fillna(1.0).to_numpy(dtype=float)
    model_notes = model.describe().get("notes", [])
    notes = territory.notes + (list(model_notes) if isinstance(model_notes, list) else [])
    part = territory.part_week()
    if len(part):
        notes = [*notes, _part_week_note(part)]
    access, summary = access_and_report(territory, services, minutes, column, spec, model, notes, len(part))
    if len(part):
        part_times = model.matrix(territory.demand_points(), part.geometry)
        access["part_week_min"] = nearest_service(part_times)[0]
        times = np.hstack([times, part_times])
        capacity = np.concatenate([capacity, part["capacity"].fillna(1.0).to_numpy(dtype=float) * share_of_week(part)])
    access["e2sfca_per_1000"] = e2sfca(population, capacity, times, spec.e2sfca_steps) * 1000
    return CoverageResult(territory, services, access, summary, model.describe(), model)


def _part_week_note(part: gpd.GeoDataFrame) -> str:
    shares = share_of_week(part)
    return (
        f"{len(part)} part-week service(s) (itinerant units, buses: kind 'mobile') are not counted as fixed "
        f"points in the access times; E2SFCA counts each at its share of the week "
        f"({', '.join(f'{n} {s:.0%}' for n, s in zip(part['name'].head(5), shares[:5], strict=False))}"
        f"{' …' if len(part) > 5 else ''})"
    )
