"""Page data of the app's rooms page: the bookings' KPIs and the per-service table (a provider's week is in
``planner.app.week``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from planner.app.shared import Metric, RunRecord, solve_metric
from planner.i18n import label, number, percent

if TYPE_CHECKING:
    from planner.jobs.rooms import RoomsRun


def rooms_of(record: RunRecord) -> RoomsRun:
    """The rooms stage of a run (the page only keeps runs that have one)."""
    rooms = record.run.rooms
    assert rooms is not None
    return rooms


def rooms_metrics(record: RunRecord, lang: str) -> list[Metric]:
    """Sessions, people reached, occupancy, providers' driving and the solve status."""
    k = rooms_of(record).kpis
    served, total = sum(k["demand_served"].values()), sum(k["demand_total"].values())
    return [
        Metric(
            label("sessions", lang), number(k["sessions"], lang), label("premises_used", lang, n=k["premises_used"])
        ),
        Metric(
            label("demand_served", lang),
            percent(served / total if total else 0.0, lang),
            label("people", lang, people=number(served, lang)),
        ),
        Metric(
            label("occupancy", lang),
            percent(k["occupancy_used_premises"], lang),
            label("half_days", lang, booked=k["half_days_booked"], open=k["half_days_open"]),
        ),
        Metric(
            label("provider_km", lang),
            f"{number(k['provider_km_per_week'], lang)} km",
            label("provider_hours", lang, hours=number(k["provider_drive_hours_per_week"], lang, 1)),
        ),
        solve_metric(k, lang),
    ]


def services_table(rooms: RoomsRun, lang: str) -> pd.DataFrame:
    """Per service: people who need it, people with a session within its threshold, share."""
    k = rooms.kpis
    return pd.DataFrame(
        {
            label("service", lang): list(k["demand_total"]),
            label("threshold", lang): [f"{k['access_min'][s]:g} min" for s in k["demand_total"]],
            label("need", lang): [round(v) for v in k["demand_total"].values()],
            label("reached", lang): [round(k["demand_served"][s]) for s in k["demand_total"]],
            label("share", lang): [percent(k["share_served"][s], lang) for s in k["demand_total"]],
        }
    )
