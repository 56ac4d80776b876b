"""The siting job: which candidate premises to open, on the territory and travel model of a run.

Existing services stay open (forced); the candidates are the territory's sites of the chosen kinds
(town halls as stand-ins for vacant premises by default) plus candidate files. No files are written here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from optimize.siting import SitingProblem, SitingResult, Tradeoff, siting_model, solve
from planner._errors import InputError
from planner.data.layers import read_layer
from planner.jobs.coverage import CoverageResult
from planner.jobs.measures import CoverageSummary, summarise
from planner.scenario import Scenario, SitingSpec

Progress = Callable[[str], None]


@dataclass
class SitingRun:
    """The chosen sites, the access after opening them, and the trade-off curve."""

    spec: SitingSpec
    result: SitingResult
    candidates: gpd.GeoDataFrame  # existing services first, then candidate premises
    chosen: gpd.GeoDataFrame  # new sites only
    minutes_after: np.ndarray  # per zone, to the nearest open fixed site (existing or new)
    minutes_new: np.ndarray  # per zone, to the nearest new site
    tradeoff: pd.DataFrame
    summary_after: CoverageSummary
    radius_min: float


def run_siting(
    scenario: Scenario, coverage: CoverageResult, spec: SitingSpec, progress: Progress = lambda _: None
) -> SitingRun:
    """Open the best ``new_sites`` candidates given the existing services, and measure the result."""
    territory, model = coverage.territory, coverage.model
    radius = spec.radius_min or scenario.coverage.target_min
    existing = coverage.services if spec.keep_existing else coverage.services.iloc[0:0]
    premises = territory.sites[territory.sites["kind"].isin(spec.kinds)]
    extra = [read_layer(scenario.resolve(path), "sites") for path in spec.files]
    premises = pd.concat([premises, *extra], ignore_index=True) if extra else premises
    premises = premises[~premises["site_id"].isin(existing["site_id"])]
    if premises.empty:
        raise InputError.one(
            "siting",
            "kinds",
            f"no candidate premises of kind {', '.join(spec.kinds)}",
            hint="add candidate files or kinds (town_hall, vacant_premises, third_place)",
        )
    candidates = gpd.GeoDataFrame(pd.concat([existing, premises], ignore_index=True), crs="EPSG:4326")
    progress(f"travel times to {len(candidates)} candidate sites")
    minutes = model.matrix(territory.demand_points(), candidates.geometry).astype(float)
    population = territory.zones["population"].to_numpy(dtype=float)
    problem = SitingProblem(minutes, population, forced=tuple(range(len(existing))))
    p = len(existing) + spec.new_sites
    if p > len(candidates):
        raise InputError.one(
            "siting",
            "new_sites",
            f"{spec.new_sites} new sites asked for, but only {len(premises)} candidate premises",
            hint="ask for fewer new sites, or add candidate files or kinds",
        )
    progress(f"siting ({spec.model})")
    result = solve(
        siting_model(spec.model, problem, p=p, radius_min=radius), time_limit_s=spec.time_limit_s, seed=spec.seed
    )
    progress("trade-off curve")
    max_sites = min(len(candidates), len(existing) + spec.tradeoff_max_sites)
    curve = solve(Tradeoff(problem, radius, max_sites), time_limit_s=spec.time_limit_s, seed=spec.seed).curve
    table = pd.DataFrame(curve, columns=["sites_open", "population_within"])
    table.insert(1, "new_sites", table["sites_open"] - len(existing))
    table["share_within"] = table["population_within"] / population.sum()
    table["gain"] = table["population_within"].diff().fillna(table["population_within"])
    new = [j for j in result.open_sites if j >= len(existing)]
    chosen = candidates.iloc[new].assign(
        population_within=[float(population[(result.nearest == j) & (result.time_min <= radius)].sum()) for j in new]
    )
    summary = summarise(population, result.time_min, scenario.coverage.thresholds_min)
    to_new = minutes[:, new].min(axis=1) if new else np.full(len(population), np.inf)
    return SitingRun(spec, result, candidates, chosen, result.time_min, to_new, table, summary, radius)
