"""Page data of the app's rooms page: the bookings' KPIs and the per-service table (a provider's week is in
``planner.app.week``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from planner.app.shared import Metric, RunRecord, display_table, solve_metric
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
    run = rooms_of(record)
    k = run.kpis
    used = run.premises[run.premises["half_days_booked"] > 0]  # the share is over the premises used: so is its detail
    booked, open_ = int(used["half_days_booked"].sum()), int(used["half_days_open"].sum())
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
            label("half_days", lang, booked=booked, open=open_),
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
            label("threshold", lang): [f"{number(k['access_min'][s], lang)} min" for s in k["demand_total"]],
            label("need", lang): [number(v, lang) for v in k["demand_total"].values()],
            label("reached", lang): [number(k["demand_served"][s], lang) for s in k["demand_total"]],
            label("share", lang): [percent(k["share_served"][s], lang) for s in k["demand_total"]],
        }
    )


BOOKING_COLUMNS = ["provider", "service", "day_name", "date", "half_day", "start", "end", "premises", "address", "room"]
BOOKING_COLUMNS += ["hire_eur", "travel_before_min"]
OCCUPANCY_COLUMNS = ["name", "address", "kind", "rooms_count", "half_days_open", "half_days_booked", "occupancy"]
PREMISES_NAMES = {"name": "col_premises", "address": "col_address"}


def bookings_table(rooms: RoomsRun, lang: str, provider_id: str | None = None) -> pd.DataFrame:
    """The bookings (of every provider, or of one), headers and cells in ``lang``."""
    bookings = rooms.bookings
    if provider_id is not None:
        bookings = bookings[bookings["provider_id"] == provider_id]
    columns = BOOKING_COLUMNS[1:] if provider_id is not None else BOOKING_COLUMNS
    return display_table(bookings.reindex(columns=columns), lang, PREMISES_NAMES)


def occupancy_table(rooms: RoomsRun, lang: str) -> pd.DataFrame:
    """The premises, the most booked first: rooms, half-days open and booked, occupancy."""
    table = pd.DataFrame(rooms.premises.drop(columns="geometry")).reindex(columns=[*OCCUPANCY_COLUMNS, "site_id"])
    table = table.sort_values(["half_days_booked", "site_id"], ascending=[False, True]).drop(columns="site_id")
    table["occupancy"] = [percent(float(v), lang) for v in table["occupancy"].fillna(0.0)]
    return display_table(table, lang, PREMISES_NAMES)
