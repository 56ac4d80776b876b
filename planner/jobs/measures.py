"""Coverage and accessibility: who is how many minutes from a service, and where the gaps are.

Every function takes plain arrays or tables (zones x services minutes, populations) and returns
plain tables aligned to the zones, so the same code serves the CLI, the app and the optimisers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

import numpy as np
import pandas as pd

from planner.data.hours import HoursError, parse_opening_hours

# A part-week service's presence is its weekly opening hours over a 35-hour week (5 days of 7 hours).
FULL_WEEK_H = 35.0
# A part-week service with no schedule of its own is taken to be at its point one day a week.
ONE_DAY_SHARE = 0.2

# Luo & Qi (2009) E2SFCA: weights of the 0-10, 10-20 and 20-30 minute sub-zones of a catchment.
LUO_QI_STEPS: tuple[tuple[float, float], ...] = ((10.0, 1.0), (20.0, 0.68), (30.0, 0.22))


def nearest_service(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minutes to the nearest service and its column, per zone (``inf`` and -1 when none is reachable).

    >>> nearest_service(np.array([[5.0, 3.0], [np.inf, np.inf]]))
    (array([ 3., inf]), array([ 1, -1]))
    """
    if times.shape[1] == 0:
        return np.full(times.shape[0], np.inf), np.full(times.shape[0], -1)
    column = np.argmin(times, axis=1)
    minutes = times[np.arange(times.shape[0]), column].astype(float)
    return minutes, np.where(np.isfinite(minutes), column, -1)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The value below which a share ``q`` of the weight lies (inverted CDF; ``inf`` counts as largest).

    >>> weighted_quantile(np.array([10.0, 40.0]), np.array([9.0, 1.0]), 0.9)
    10.0
    >>> weighted_quantile(np.array([10.0, 40.0]), np.array([9.0, 1.0]), 0.95)
    40.0
    """
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    if len(cumulative) == 0 or cumulative[-1] <= 0:
        return float("nan")
    position = np.searchsorted(cumulative, q * cumulative[-1] - 1e-9 * cumulative[-1])
    return float(values[order][min(position, len(values) - 1)])


class CoverageSummary(TypedDict):
    """Population-weighted access figures; threshold keys are minutes as text (``"30"``)."""

    population_total: float
    population_within: dict[str, float]
    share_within: dict[str, float]
    population_unreachable: float
    mean_time_min: float
    median_time_min: float
    p90_time_min: float


def summarise(population: np.ndarray, minutes: np.ndarray, thresholds: Sequence[float]) -> CoverageSummary:
    """Population-weighted access statistics and the population within each threshold.

    Keys of ``population_within``/``share_within`` are thresholds in minutes as text (``"30"``).
    """
    population = np.asarray(population, dtype=float)
    total = float(population.sum())
    reachable = np.isfinite(minutes)
    within = {_key(t): float(population[minutes <= t].sum()) for t in thresholds}
    mean = (
        float(np.average(minutes[reachable], weights=population[reachable]))
        if population[reachable].sum()
        else float("nan")
    )
    return {
        "population_total": total,
        "population_within": within,
        "share_within": {k: (v / total if total else float("nan")) for k, v in within.items()},
        "population_unreachable": float(population[~reachable].sum()),
        "mean_time_min": mean,
        "median_time_min": weighted_quantile(minutes, population, 0.5),
        "p90_time_min": weighted_quantile(minutes, population, 0.9),
    }


def _key(threshold: float) -> str:
    return f"{threshold:g}"


def gap_zones(access: pd.DataFrame, threshold_min: float) -> pd.DataFrame:
    """Zones farther than the threshold from any service, largest population first."""
    gaps = access[access["time_min"] > threshold_min]
    return gaps.sort_values(["population", "time_min"], ascending=[False, False])


def step_weights(minutes: np.ndarray, steps: Sequence[tuple[float, float]] = LUO_QI_STEPS) -> np.ndarray:
    """Distance-decay weight of each travel time: the weight of the first step it falls under, else 0."""
    weights = np.zeros_like(minutes, dtype=float)
    assigned = np.zeros_like(minutes, dtype=bool)
    for upper, weight in steps:
        band = (minutes <= upper) & ~assigned
        weights[band] = weight
        assigned |= band
    return weights


def e2sfca(
    population: np.ndarray,
    capacity: np.ndarray,
    times: np.ndarray,
    steps: Sequence[tuple[float, float]] = LUO_QI_STEPS,
) -> np.ndarray:
    """Enhanced two-step floating catchment accessibility (Luo & Qi 2009), per zone.

    Step 1 gives each service a supply-to-demand ratio ``R_j = S_j / sum_i P_i W(t_ij)``;
    step 2 sums ``R_j W(t_ij)`` over the services each zone reaches. The catchment is the last
    step's upper bound. Units: capacity per inhabitant.
    """
    weights = step_weights(times, steps)
    demand = np.asarray(population, dtype=float) @ weights
    ratio = np.divide(np.asarray(capacity, dtype=float), demand, out=np.zeros(len(capacity)), where=demand > 0)
    return weights @ ratio


def share_of_week(sites: pd.DataFrame) -> np.ndarray:
    """The share of the week each part-week service is present at its point, in [0, 1].

    A ``share_of_week`` column wins; else the site's weekly opening hours over ``FULL_WEEK_H``;
    else (no schedule, or one that cannot be read) one day a week.

    >>> share_of_week(pd.DataFrame({"opening_hours": ["We 09:00-12:00,13:00-17:00", "", "Mo-Fr 08:00-18:00"]}))
    array([0.2, 0.2, 1. ])
    """
    given = pd.to_numeric(sites.get("share_of_week", pd.Series(np.nan, index=sites.index)), errors="coerce")
    shares = []
    for stated, text in zip(given, sites.get("opening_hours", pd.Series("", index=sites.index)), strict=True):
        if np.isfinite(stated):
            shares.append(float(np.clip(stated, 0, 1)))
            continue
        try:
            hours = sum(end - start for _, start, end in parse_opening_hours(str(text or ""))) / 60
        except HoursError:
            hours = 0.0
        shares.append(min(hours / FULL_WEEK_H, 1.0) if hours > 0 else ONE_DAY_SHARE)
    return np.array(shares, dtype=float)
