"""Page data of the app's before/after page: two states of access compared commune by commune.

A state is the access time of every zone at one moment: a coverage measured on the coverage page, or a
run of the rounds, rooms or plan pages before it (the existing services) or with it (its best means:
new sites, bus stops, sessions; ``plan/combined_access``). Two states are compared over the zones they
share: the shares within each threshold side by side, the people who gain or lose time, and a map of
the minutes gained or lost.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.app.shared import Metric, RunRecord, display_table
from planner.i18n import label, number, percent
from planner.jobs.measures import summarise

if TYPE_CHECKING:
    from planner.jobs.coverage import CoverageResult

SAME_MIN = 1.0  # a change under a minute is no change (the estimate's times are not that precise)
SHOWN_ZONES = 20  # communes listed under the map: the largest changes, people weighted


@dataclass(frozen=True)
class AccessState:
    """Access time per zone at one moment, named for the page; ``thresholds`` are those it was measured at."""

    label: str
    zones: gpd.GeoDataFrame  # zone_id, name, population, geometry, time_min
    thresholds: tuple[float, ...]
    target_min: float


def _zones(access: gpd.GeoDataFrame, minutes: object) -> gpd.GeoDataFrame:
    frame = access[["zone_id", "name", "population", "geometry"]].copy()
    frame["time_min"] = np.asarray(minutes, dtype=float)
    return gpd.GeoDataFrame(frame, crs=access.crs)


def _measured(coverage: CoverageResult) -> tuple[tuple[float, ...], float]:
    s = coverage.summary
    return tuple(float(t) for t in s["population_within"]), float(s["target_min"])


def coverage_state(coverage: CoverageResult, number_: int, lang: str) -> AccessState:
    """The access a coverage page measurement found (``number_`` tells the page's measurements apart)."""
    thresholds, target = _measured(coverage)
    name = label("state_coverage", lang, n=number_, territory=coverage.summary["territory"], target=target)
    return AccessState(name, _zones(coverage.access, coverage.access["time_min"]), thresholds, target)


def run_states(record: RunRecord, lang: str) -> list[AccessState]:
    """A run's states: before it (the existing services) and, when it planned something, with its plan."""
    coverage = record.run.coverage
    thresholds, target = _measured(coverage)
    states = [
        AccessState(
            label("state_run_before", lang, run=record.label),
            _zones(coverage.access, coverage.access["time_min"]),
            thresholds,
            target,
        )
    ]
    if record.run.plan is not None:
        after = record.run.plan.set_index("zone_id")["time_best_min"].reindex(coverage.access["zone_id"])
        name = label("state_run_after", lang, run=record.label)
        states.append(AccessState(name, _zones(coverage.access, after), thresholds, target))
    return states


def changes(before: AccessState, after: AccessState) -> gpd.GeoDataFrame:
    """The zones both states hold, with ``time_before_min``, ``time_after_min`` and ``change_min`` (after
    minus before: negative is time gained; -inf when a zone out of reach is reached, +inf the reverse)."""
    joined = before.zones.merge(
        after.zones[["zone_id", "time_min"]], on="zone_id", suffixes=("_before", "_after"), how="inner"
    )
    first, then = joined["time_min_before"].to_numpy(float), joined["time_min_after"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        change = np.where(np.isinf(first) & np.isinf(then), 0.0, then - first)
    frame = joined.rename(columns={"time_min_before": "time_before_min", "time_min_after": "time_after_min"})
    return gpd.GeoDataFrame(frame.assign(change_min=change), geometry="geometry", crs=before.zones.crs)


class Share(NamedTuple):
    """One threshold's share of people within it, in both states, and the change in percentage points."""

    label: str
    before: str
    after: str
    delta: str


def shares(before: AccessState, after: AccessState, lang: str) -> list[Share]:
    """The shares within each threshold of both states (over the zones they share), for side by side."""
    zones = changes(before, after)
    population = zones["population"].to_numpy(float)
    thresholds = sorted({*before.thresholds, *after.thresholds, after.target_min})
    first = summarise(population, zones["time_before_min"].to_numpy(float), thresholds)["share_within"]
    then = summarise(population, zones["time_after_min"].to_numpy(float), thresholds)["share_within"]
    found = []
    for key, share in then.items():
        delta = 100 * (share - first[key])
        sign = "+" if delta >= 0 else "-"  # the sign Streamlit colours a delta by
        found.append(
            Share(
                label("within_metric", lang, t=key),
                percent(first[key], lang),
                percent(share, lang),
                f"{sign}{number(abs(delta), lang, 1)} {label('points', lang)}",
            )
        )
    return found


def people_metrics(before: AccessState, after: AccessState, lang: str) -> list[Metric]:
    """The people who gain, and who lose, at least a minute between the two states."""
    zones = changes(before, after)
    population = zones["population"].to_numpy(float)
    gained = float(population[zones["change_min"] <= -SAME_MIN].sum())
    lost = float(population[zones["change_min"] >= SAME_MIN].sum())
    return [
        Metric(label("people_gain", lang), number(gained, lang), label("people_gain_help", lang)),
        Metric(label("people_lose", lang), number(lost, lang), label("people_lose_help", lang)),
    ]


def common_note(before: AccessState, after: AccessState, lang: str) -> str:
    """What the comparison leaves out when the states cover different zones ("" when they cover the same)."""
    shared = len(changes(before, after))
    if shared == len(before.zones) == len(after.zones):
        return ""
    return label("compare_common", lang, n=shared, a=len(before.zones), b=len(after.zones))


def changed_table(zones: gpd.GeoDataFrame, lang: str) -> pd.DataFrame:
    """The communes whose time changes most (minutes times people), gains and losses, as shown."""
    moved = zones[np.abs(zones["change_min"]) >= SAME_MIN].copy()
    weight = np.minimum(np.abs(moved["change_min"].to_numpy(float)), 120) * moved["population"].to_numpy(float)
    moved = moved.iloc[np.argsort(-weight, kind="stable")[:SHOWN_ZONES]]
    table = pd.DataFrame(moved[["name", "population", "time_before_min", "time_after_min", "change_min"]])
    for column in ("time_before_min", "time_after_min", "change_min"):
        table[column] = [round(v, 1) if np.isfinite(v) else None for v in table[column]]
    names = {"time_before_min": "time_before", "time_after_min": "time_after", "change_min": "time_change"}
    return display_table(table.reset_index(drop=True), lang, names)


def digest(zones: gpd.GeoDataFrame) -> str:
    """A key of what the change map draws: the zones (ids, names, extent) and their times."""
    rows = pd.util.hash_pandas_object(zones[["zone_id", "name", "time_before_min", "time_after_min"]], index=False)
    return hashlib.sha256(rows.to_numpy().tobytes() + zones.total_bounds.tobytes()).hexdigest()


def change_map_html(zones: gpd.GeoDataFrame, lang: str) -> str:
    """The map of minutes gained or lost per zone, as one offline HTML page."""
    from planner.exports.maps import change_map, standalone_html

    return standalone_html(change_map(zones, lang))
