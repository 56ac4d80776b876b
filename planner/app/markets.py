"""Page data of the app's markets page: the synchronised plan against the separate plans, the markets and
their calendar, the Bussoservice's coaches."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from planner.app.shared import Metric, RunRecord, display_table, status_text
from planner.exports.markets import poster_text
from planner.exports.shuttle import left_out_table as reasons_in_words
from planner.i18n import label, number

if TYPE_CHECKING:
    from planner.jobs.markets import MarketsRun, PlanMeasures
    from planner.jobs.shuttle import ShuttleRun


def markets_of(record: RunRecord) -> MarketsRun:
    """The markets stage of a run (the page only keeps runs that have one)."""
    markets = record.run.markets
    assert markets is not None
    return markets


def markets_metrics(record: RunRecord, lang: str) -> list[Metric]:
    """People able to do two errands or more in one trip (joint against separate), markets, cost, riders."""
    run = markets_of(record)
    joint: PlanMeasures = run.measures["joint"]  # type: ignore[assignment]
    separate: PlanMeasures = run.measures["separate"]  # type: ignore[assignment]
    gain = joint["people_one_trip"]["2"] - separate["people_one_trip"]["2"]
    cost = joint["cost_eur_per_week"] - separate["cost_eur_per_week"]
    metrics = [
        Metric(
            label("markets_two_errands", lang),
            number(joint["people_one_trip"]["2"], lang),
            label("markets_against_separate", lang, people=number(separate["people_one_trip"]["2"], lang)),
        ),
        Metric(label("markets_count", lang), number(joint["markets"], lang), f"+{number(gain, lang)}"),
        Metric(
            label("markets_cost", lang),
            f"{'+' if cost >= 0 else ''}{number(cost, lang)} EUR",
            label("markets_cost_detail", lang, cost=number(joint["cost_eur_per_week"], lang)),
        ),
        Metric(
            label("solve", lang),
            status_text(str(run.measures["status"]), lang),
            f"{number(float(run.measures['solve_time_s']), lang, 1)} s",  # type: ignore[arg-type]
        ),
    ]
    shuttle = record.run.shuttle
    if shuttle is not None:
        metrics.append(
            Metric(
                label("markets_riders", lang),
                number(shuttle.kpis["riders_carried_per_week"], lang, 1),
                label("markets_riders_detail", lang, km=number(shuttle.kpis["coach_km_per_week"], lang)),
            )
        )
    return metrics


def comparison_table(run: MarketsRun, lang: str) -> pd.DataFrame:
    """Separate plans and the synchronised plan side by side, one row per measure."""
    rows = [
        ("markets_row_one", lambda m: m["people_one_trip"]["1"]),
        ("markets_row_two", lambda m: m["people_one_trip"]["2"]),
        ("markets_row_three", lambda m: m["people_one_trip"]["3+"]),
        ("page_markets", lambda m: m["markets"]),
        ("markets_row_trips", lambda m: m["trips_saved_per_week"]),
        ("markets_row_co2", lambda m: m["co2_kg_saved_per_week"]),
        ("markets_row_cost", lambda m: m["cost_eur_per_week"]),
    ]
    plans = {key: run.measures[key] for key in ("separate", "joint")}
    return pd.DataFrame(
        {
            label("markets_measure", lang): [label(key, lang) for key, _ in rows],
            **{
                label(f"markets_plan_{key}", lang): [number(get(plan), lang, 1) for _, get in rows]  # type: ignore[arg-type]
                for key, plan in plans.items()
            },
        }
    )


def market_table(run: MarketsRun, lang: str) -> pd.DataFrame:
    """The synchronised plan's markets: place, week, day, half-day, hours, services."""
    shown = run.markets.reindex(columns=["place", "week", "day", "half_day", "start", "end", "services"])
    return display_table(shown, lang)


def calendar_table(run: MarketsRun, lang: str) -> pd.DataFrame:
    """Each market place's calendar in words, as on its poster."""
    places = sorted(set(run.markets["place_id"]))
    return pd.DataFrame({label("markets_calendar_column", lang): [poster_text(run, p, lang) for p in places]})


COACH_COLUMNS = ["coach_id", "date", "day_name", "arrival", "departure", "place", "kind", "riders", "on_board"]


def coach_table(shuttle: ShuttleRun, lang: str) -> pd.DataFrame:
    """The coaches' calls: coach, day, times, place, boarding or alighting, riders, riders on board."""
    shown = shuttle.timetable.reindex(columns=COACH_COLUMNS)
    shown["kind"] = [
        label("shuttle_depot" if kind == "depot" else f"shuttle_kind_{kind}", lang) for kind in shown["kind"]
    ]
    return display_table(shown, lang, {"kind": "shuttle_what"})


def left_out_table(shuttle: ShuttleRun, lang: str) -> pd.DataFrame:
    """The trips the coaches could not make, per commune and market day, with the reason in words."""
    shown = reasons_in_words(shuttle, lang)
    shown["direction"] = [label(f"shuttle_dir_{d}", lang) for d in shown["direction"]]
    return display_table(shown, lang, {"commune": "col_name"})
