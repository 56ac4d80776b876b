"""A whole scenario, in order: coverage, siting, rounds, then the combined report; and its outputs.

The CLI and the app both call :func:`run_scenario` then :func:`write_scenario`; each stage reuses
the territory and travel model of the coverage stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd

from planner.exports._safe import csv_format_for
from planner.exports.coverage import coverage_tables, headline, result_map, write_coverage
from planner.exports.formats import write_formats
from planner.exports.geo import official_crs
from planner.exports.maps import standalone_html
from planner.exports.markets import markets_headline, markets_tables, write_markets
from planner.exports.plan import siting_layer, siting_tables, write_plan, write_siting
from planner.exports.readme import write_readme, write_workbook_of
from planner.exports.rooms import rooms_headline, rooms_tables, write_rooms
from planner.exports.rounds import rounds_headline, rounds_map, rounds_tables, write_rounds
from planner.exports.shuttle import shuttle_headline, shuttle_tables, write_shuttle
from planner.i18n import attribution, percent
from planner.jobs.coverage import CoverageResult, run_coverage
from planner.jobs.markets import MarketsRun, check_markets, run_markets
from planner.jobs.plan import combined_access
from planner.jobs.rooms import RoomsRun, run_rooms
from planner.jobs.rounds import RoundsRun, run_rounds
from planner.jobs.shuttle import ShuttleRun, run_shuttle
from planner.jobs.siting import SitingRun, run_siting
from planner.scenario import Scenario

Progress = Callable[[str], None]


@dataclass
class ScenarioRun:
    """Every stage's result; ``plan`` and ``plan_summary`` only when siting, rounds or rooms ran."""

    scenario: Scenario
    coverage: CoverageResult
    siting: SitingRun | None = None
    rounds: RoundsRun | None = None
    rooms: RoomsRun | None = None
    markets: MarketsRun | None = None
    shuttle: ShuttleRun | None = None
    plan: gpd.GeoDataFrame | None = None
    plan_summary: dict[str, object] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)


def run_scenario(scenario: Scenario, progress: Progress = lambda _: None) -> ScenarioRun:
    """Run the scenario's stages; siting's new sites count as fixed services for the rounds."""
    started = time.perf_counter()
    run = ScenarioRun(scenario, run_coverage(scenario, progress=progress))
    run.timings_s.update(run.coverage.timings_s)
    if scenario.markets is not None:  # refuse a markets section that cannot work before solving anything
        check_markets(scenario, run.coverage)
    if scenario.siting is not None:
        mark = time.perf_counter()
        run.siting = run_siting(scenario, run.coverage, scenario.siting, progress)
        run.timings_s["siting"] = time.perf_counter() - mark
    if scenario.rounds is not None:
        mark = time.perf_counter()
        fixed = run.siting.minutes_after if run.siting else None
        run.rounds = run_rounds(scenario, run.coverage, progress, fixed_minutes=fixed)
        run.timings_s["rounds"] = time.perf_counter() - mark
    if scenario.rooms is not None:
        mark = time.perf_counter()
        run.rooms = run_rooms(scenario, run.coverage, scenario.rooms, progress)
        run.timings_s["rooms"] = time.perf_counter() - mark
    if scenario.markets is not None and run.rounds is not None and run.rooms is not None:
        mark = time.perf_counter()
        run.markets = run_markets(scenario, run.coverage, run.rounds, run.rooms, progress)
        run.timings_s["markets"] = time.perf_counter() - mark
        if scenario.markets.shuttle is not None:
            mark = time.perf_counter()
            run.shuttle = run_shuttle(run.coverage, run.markets, progress)
            run.timings_s["shuttle"] = time.perf_counter() - mark
    if run.siting or run.rounds or run.rooms:
        run.plan, run.plan_summary = combined_access(run.coverage, run.siting, run.rounds, run.rooms)
    run.timings_s["total"] = time.perf_counter() - started
    return run


def run_tables(run: ScenarioRun, lang: str) -> dict[str, pd.DataFrame]:
    """Every table of a run by its CSV file's path in the run folder: the sheets of the workbook."""
    tables: dict[str, pd.DataFrame] = dict(coverage_tables(run.coverage, lang))
    if run.siting is not None:
        tables.update({f"siting/{n}": t for n, t in siting_tables(run.siting).items()})
    if run.rounds is not None:
        tables.update({f"rounds/{n}": t for n, t in rounds_tables(run.rounds).items()})
    if run.rooms is not None:
        tables.update({f"rooms/{n}": t for n, t in rooms_tables(run.rooms).items()})
    if run.markets is not None:
        tables.update({f"markets/{n}": t for n, t in markets_tables(run.markets).items()})
    if run.shuttle is not None:
        tables.update({f"markets/bussoservice/{n}": t for n, t in shuttle_tables(run.shuttle, lang).items()})
    if run.plan is not None:
        tables["plan/combined_access.csv"] = run.plan
    return tables


def write_scenario(run: ScenarioRun, folder: Path, lang: str) -> tuple[list[str], dict[str, object]]:
    """Write every stage's outputs into ``folder``, then the workbook of all its tables and ``LISEZMOI.txt``;
    return the files and the summary document. CSV files are in the scenario's ``csv_format`` (default:
    ``excel-fr`` in French, ``rfc4180`` in English)."""
    coverage = run.coverage
    fmt = csv_format_for(lang, run.scenario.csv_format)
    files = write_coverage(coverage, folder, lang, csv_format=fmt)
    summary: dict[str, object] = {**coverage.summary, "travel": coverage.travel}

    def base_map() -> folium.Map:  # a fresh map per output: folium maps are rendered once
        fmap = result_map(coverage, lang)
        return siting_layer(run.siting, fmap, lang) if run.siting else fmap

    if run.siting is not None:
        files += [f"siting/{name}" for name in write_siting(run.siting, folder / "siting", fmt)]
        (folder / "siting" / "map.html").write_text(standalone_html(base_map()), encoding="utf-8")
        files.append("siting/map.html")
        summary["siting"] = {
            "model": run.siting.spec.model,
            "radius_min": run.siting.radius_min,
            "new_sites": run.siting.chosen["site_id"].tolist(),
            "status": str(run.siting.result.info.status),
            "objective": run.siting.result.info.objective,
            "bound": run.siting.result.info.bound,
            "solve_time_s": run.siting.result.info.time_s,
            "share_within_after_sites": run.siting.summary_after["share_within"],
        }
    if run.rounds is not None:
        files += [
            f"rounds/{name}" for name in write_rounds(run.rounds, folder / "rounds", base_map(), lang, csv_format=fmt)
        ]
        summary["rounds"] = run.rounds.kpis
        summary["coverage_with_stops"] = run.rounds.coverage_with_stops
    if run.rooms is not None:
        files += [
            f"rooms/{name}" for name in write_rooms(run.rooms, folder / "rooms", base_map(), lang, csv_format=fmt)
        ]
        summary["rooms"] = run.rooms.kpis
    if run.markets is not None:
        files += [
            f"markets/{name}" for name in write_markets(run.markets, folder / "markets", base_map, lang, csv_format=fmt)
        ]
        summary["markets"] = run.markets.measures
    if run.markets is not None and run.shuttle is not None:
        files += [
            f"markets/bussoservice/{name}"
            for name in write_shuttle(
                run.shuttle, run.markets, folder / "markets" / "bussoservice", base_map(), lang, csv_format=fmt
            )
        ]
        summary["bussoservice"] = run.shuttle.kpis
    if run.plan is not None:
        files += [f"plan/{name}" for name in write_plan(run.plan, folder / "plan", fmt)]
        if run.rounds is not None:
            (folder / "plan" / "map.html").write_text(
                standalone_html(rounds_map(run.rounds, base_map())), encoding="utf-8"
            )
            files.append("plan/map.html")
        summary.update(run.plan_summary)
    files += write_formats(folder, files, run.scenario.formats)
    road = coverage.travel.get("model") == "road"
    files.append(write_workbook_of(run_tables(run, lang), folder, lang, road=road))
    crs = official_crs(coverage.access)
    files.append(write_readme(folder, files, lang, road=road, csv_format=fmt, crs=crs))
    summary["attribution"] = attribution(lang, road=road)
    return files, summary


def report(run: ScenarioRun, lang: str) -> list[str]:
    """The lines printed at the end of a run."""
    lines = headline(run.coverage, lang)
    if run.siting is not None:
        names = ", ".join(run.siting.chosen["name"])
        lines.append(("Nouveaux sites : " if lang == "fr" else "New sites: ") + (names or "-"))
    if run.rounds is not None:
        lines += rounds_headline(run.rounds, lang)
    if run.rooms is not None:
        lines += rooms_headline(run.rooms, lang)
    if run.markets is not None:
        lines += markets_headline(run.markets, lang)
    if run.shuttle is not None:
        lines += shuttle_headline(run.shuttle, lang)
    if run.plan is not None:
        target = f"{run.plan_summary['target_min']:g}"
        before = run.plan_summary["share_within_before"][target]  # type: ignore[index]
        after = run.plan_summary["share_within_after"][target]  # type: ignore[index]
        lines.append(
            f"Plan : à moins de {target} min, {percent(before, lang)} avant, {percent(after, lang)} après"
            if lang == "fr"
            else f"Plan: within {target} min, {percent(before, lang)} before, {percent(after, lang)} after"
        )
    notes = [*run.coverage.summary["notes"], *(run.rounds.result.notes if run.rounds else ())]
    return lines + [f"note: {note}" for note in notes]
