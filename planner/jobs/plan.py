"""The integrated plan: fixed sites opened, truck stops, provider sessions — who is within reach, by which means.

Combines the coverage run (existing services), the siting run (new fixed sites), the rounds (truck
stops, on their visiting days) and any other means given as minutes per zone, into one table and
the before/after figures of ``summary.json`` (``share_within_before``, ``share_within_after``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from planner.jobs.coverage import CoverageResult
from planner.jobs.measures import summarise
from planner.jobs.rooms import RoomsRun
from planner.jobs.rounds import RoundsRun
from planner.jobs.siting import SitingRun

MEANS_FR = {
    "existing": "service existant",
    "new_site": "nouveau site fixe",
    "stop": "arrêt du bus",
    "session": "permanence",
    "none": "aucun",
}


def combined_access(
    coverage: CoverageResult,
    siting: SitingRun | None = None,
    rounds: RoundsRun | None = None,
    rooms: RoomsRun | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, object]]:
    """Per zone, minutes by each means and the best means within the target; and the summary figures.

    The means are the existing services, the new fixed sites, the bus stops and the premises where
    a provider holds at least one session in the week, whichever stages ran. The before/after
    shares are given at each coverage threshold and at the target, even when it is not one of them.
    """
    target = coverage.summary["target_min"]
    thresholds = sorted({*map(float, coverage.summary["population_within"]), float(target)})  # the target too
    zones = coverage.access[["zone_id", "name", "population", "geometry"]].copy()
    means = {"existing": coverage.access["time_min"].to_numpy(dtype=float)}
    if siting is not None:
        means["new_site"] = siting.minutes_new
    if rounds is not None:
        means["stop"] = _minutes_to_stops(coverage, rounds)
        zones["stop_days"] = _stop_days(coverage, rounds)
    if rooms is not None:
        means["session"] = _minutes_to_sessions(coverage, rooms)
    for name, minutes in means.items():
        zones[f"time_{name}_min"] = np.round(minutes, 1)
    stacked = np.column_stack(list(means.values()))
    best = stacked.min(axis=1)
    zones["time_best_min"] = np.round(best, 1)
    names = np.array(list(means))
    zones["means"] = np.where(best <= target, names[np.argmin(stacked, axis=1)], "none")
    zones["means_fr"] = zones["means"].map(MEANS_FR)
    population = zones["population"].to_numpy(dtype=float)
    before = summarise(population, means["existing"], thresholds)
    after = summarise(population, best, thresholds)
    summary: dict[str, object] = {
        "target_min": target,
        "means": list(means),
        "share_within_before": before["share_within"],
        "share_within_after": after["share_within"],
        "population_within_before": before["population_within"],
        "population_within_after": after["population_within"],
        "population_by_means": {m: float(population[zones["means"] == m].sum()) for m in [*means, "none"]},
        "p90_time_min_before": before["p90_time_min"],
        "p90_time_min_after": after["p90_time_min"],
    }
    return gpd.GeoDataFrame(zones, crs="EPSG:4326"), summary


def _minutes_to_stops(coverage: CoverageResult, rounds: RoundsRun) -> np.ndarray:
    stops = rounds.places[rounds.places["site_id"].isin(rounds.result.open_stops)]
    return _minutes_to_nearest(coverage, stops)


def _minutes_to_sessions(coverage: CoverageResult, rooms: RoomsRun) -> np.ndarray:
    return _minutes_to_nearest(coverage, rooms.premises[rooms.premises["half_days_booked"] > 0])


def _minutes_to_nearest(coverage: CoverageResult, places: gpd.GeoDataFrame) -> np.ndarray:
    """Minutes from each zone to the nearest of the places (infinite when there are none)."""
    if places.empty:
        return np.full(len(coverage.access), np.inf)
    return coverage.model.matrix(coverage.territory.demand_points(), places.geometry).min(axis=1).astype(float)


def _stop_days(coverage: CoverageResult, rounds: RoundsRun) -> list[str]:
    """For each zone, the visiting days of the stops within the rounds' serving radius."""
    if rounds.visits.empty:
        return [""] * len(coverage.access)
    stops = rounds.places[rounds.places["site_id"].isin(rounds.result.open_stops)].reset_index(drop=True)
    reach = coverage.model.matrix(
        coverage.territory.demand_points(), stops.geometry, limit_min=rounds.spec.serve_within_min
    )
    days = rounds.visits.groupby("stop_id").apply(
        lambda v: ", ".join(f"{d} (S{w})" for d, w in zip(v["day_name"], v["week"], strict=True)), include_groups=False
    )
    return ["; ".join(days.get(stops.at[j, "site_id"], "") for j in np.nonzero(np.isfinite(row))[0]) for row in reach]
