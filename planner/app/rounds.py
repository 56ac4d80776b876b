"""Page data of the app's rounds page: KPIs, the plan's tables, and two runs compared."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from planner.app.shared import Metric, RunRecord, display_table, solve_metric, status_text, target_of
from planner.i18n import label, number, percent

if TYPE_CHECKING:
    from planner.jobs.rounds import RoundsRun


def rounds_of(record: RunRecord) -> RoundsRun:
    """The rounds stage of a run (the page only keeps runs that have one)."""
    rounds = record.run.rounds
    assert rounds is not None
    return rounds


def _share_with_stops(record: RunRecord) -> float | None:
    """The share of people within the target once the stops count as services."""
    return rounds_of(record).coverage_with_stops["share_within"].get(f"{target_of(record.run):g}")


def _share_metric(record: RunRecord, lang: str) -> Metric:
    share = _share_with_stops(record)
    name = label("coverage_with_stops", lang, t=target_of(record.run))
    return Metric(name, percent(share, lang) if share is not None else "–")


def rounds_metrics(record: RunRecord, lang: str) -> list[Metric]:
    """The rounds' KPIs: stops, people near a stop, coverage with stops, km, CO2, cost, solve status."""
    k = rounds_of(record).kpis
    return [
        Metric(label("stops", lang), number(k["stops_open"], lang), f"{label('truck_days', lang)} : {k['truck_days']}"),
        Metric(
            label("near_stop", lang, t=k["serve_within_min"]),
            percent(k["share_near_a_stop"], lang),
            label("people", lang, people=number(k["population_near_a_stop"], lang)),
        ),
        _share_metric(record, lang),
        solve_metric(k, lang),
        *_weekly_metrics(record, lang),
        Metric(label("cost_week", lang), f"{number(k['cost_eur_per_week'], lang)} €"),
    ]


def _weekly_metrics(record: RunRecord, lang: str) -> list[Metric]:
    k = rounds_of(record).kpis
    return [
        Metric(label("km_week", lang), f"{number(k['km_per_week'], lang)} km"),
        Metric(label("co2_week", lang), f"{number(k['co2_kg_per_week'], lang)} kg"),
    ]


def key_figures(record: RunRecord, lang: str) -> list[Metric]:
    """The figures two runs are compared on: coverage with the stops, km and CO2 per week."""
    return [_share_metric(record, lang), *_weekly_metrics(record, lang)]


def compare_runs(a: RunRecord, b: RunRecord, lang: str) -> pd.DataFrame:
    """Two rounds runs side by side (coverage, people served, km, CO2, cost, stops, solve) and B − A."""

    def figures(record: RunRecord) -> dict[str, object]:
        k = rounds_of(record).kpis
        share = _share_with_stops(record)
        return {
            label("ind_share_target", lang, t=target_of(record.run)): 100
            * (share if share is not None else float("nan")),
            label("ind_people_near", lang, t=k["serve_within_min"]): k["population_near_a_stop"],
            label("ind_stops", lang): k["stops_open"],
            label("ind_truck_days", lang): k["truck_days"],
            label("km_week", lang): k["km_per_week"],
            label("ind_co2", lang): k["co2_kg_per_week"],
            label("ind_cost", lang): k["cost_eur_per_week"],
            label("ind_gap", lang): 100 * k["gap"],
            label("ind_status", lang): status_text(k["status"], lang),
        }

    left, right = figures(a), figures(b)
    rows = []
    for name in dict.fromkeys([*left, *right]):
        x, y = left.get(name), right.get(name)
        difference = float(y) - float(x) if isinstance(x, (int, float)) and isinstance(y, (int, float)) else None
        rows.append(
            {
                label("indicator", lang): name,
                f"A: #{a.number}": _cell(x, lang),
                f"B: #{b.number}": _cell(y, lang),
                label("difference", lang): "" if difference is None else _cell(difference, lang, signed=True),
            }
        )
    return pd.DataFrame(rows)


def _cell(value: object, lang: str, *, signed: bool = False) -> str:
    if isinstance(value, (int, float)):
        text = number(float(value), lang, 1 if abs(float(value)) < 100 and not float(value).is_integer() else 0)
        return ("+" if signed and float(value) > 0 else "") + text
    return "" if value is None else str(value)


VISIT_COLUMNS = ["vehicle_id", "week", "day_name", "date", "order", "name", "address", "arrival", "start", "end"]
VISIT_COLUMNS += ["leg_drive_min", "leg_dist_km"]
STOP_NAMES = {"name": "site_stop", "address": "col_address"}


def visits_table(rounds: RoundsRun, lang: str, vehicle_id: str | None = None) -> pd.DataFrame:
    """Every stop visit of the plan (or of one vehicle), in order, headers and cells in ``lang``."""
    visits = rounds.visits
    if vehicle_id is not None and len(visits):
        visits = visits[visits["vehicle_id"] == vehicle_id]
    columns = VISIT_COLUMNS[1:] if vehicle_id is not None else VISIT_COLUMNS
    return display_table(visits.reindex(columns=columns), lang, STOP_NAMES)


def routes_table(rounds: RoundsRun, lang: str) -> pd.DataFrame:
    """One row per truck-day: departure, return, lunch, driving, km, cost."""
    if rounds.routes.empty:
        return pd.DataFrame()
    return display_table(pd.DataFrame(rounds.routes.drop(columns=["geometry", "day"], errors="ignore")), lang)


def left_out_table(rounds: RoundsRun, lang: str) -> pd.DataFrame:
    """The candidate stops not chosen, with why (in ``lang``)."""
    names = dict(zip(rounds.places["site_id"], rounds.places["name"], strict=False))
    rows = [(sid, names.get(sid, ""), why) for sid, why in sorted(rounds.result.left_out.items())]
    return display_table(pd.DataFrame(rows, columns=["stop_id", "name", "reason"]), lang, STOP_NAMES)
