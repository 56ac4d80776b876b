"""Page data of the app's "My week" page: a vehicle's week (last rounds run) or a provider's (last rooms run).

Each week comes as files to download, a timeline (one row per stop or session and per drive before
it, drawn by :func:`week_chart`), a standalone map and a table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING

import folium
import pandas as pd

from planner.app.shared import base_map, localised
from planner.data.hours import clock_min, clock_text
from planner.exports._safe import csv_text, html_text
from planner.exports.maps import point, standalone_html
from planner.i18n import label, number, weekday

if TYPE_CHECKING:
    import altair as alt

    from planner.jobs.rooms import RoomsRun
    from planner.jobs.rounds import RoundsRun
    from planner.runs.pipeline import ScenarioRun

# The download buttons of a week: (label key, file name, MIME type).
TRUCK_FILES = (
    ("download_ics", "itineraire.ics", "text/calendar"),
    ("download_sheet", "feuille-de-route.html", "text/html"),
    ("download_crew_csv", "itineraire.csv", "text/csv"),
)
PROVIDER_FILES = (
    ("download_ics", "planning.ics", "text/calendar"),
    ("download_planning_sheet", "feuille-de-semaine.html", "text/html"),
    ("download_planning_csv", "planning.csv", "text/csv"),
)
DAY_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
Leg = tuple[str, str, float, float]  # (kind label key, what, start, end), minutes from midnight


def _timeline_row(day: str, order: int, leg: Leg, lang: str) -> dict[str, object]:
    kind, what, start, end = leg
    return {
        label("day", lang): day,
        label("kind", lang): label(kind, lang),
        label("what", lang): what,
        "start_min": start,
        "end_min": end,
        label("start", lang): clock_text(start),
        label("end", lang): clock_text(end),
        "order": order,
    }


# --- a vehicle's week ----------------------------------------------------------------------------


def vehicle_ids(rounds: RoundsRun) -> list[str]:
    """The fleet's vehicle ids, in scenario order."""
    return [v.vehicle_id for v in rounds.spec.fleet]


def week_timeline(rounds: RoundsRun, vehicle_id: str, lang: str) -> pd.DataFrame:
    """One row per stop visit and per drive leading to it; times in minutes from midnight and as text."""
    visits = rounds.visits[rounds.visits["vehicle_id"] == vehicle_id] if len(rounds.visits) else rounds.visits
    rows = []
    for v in visits.itertuples():
        day = f"{weekday(int(v.day), lang)} {dt.date.fromisoformat(v.date):%d/%m}"
        arrival = clock_min(v.arrival)
        drive = f"{number(v.leg_drive_min, lang)} min · {number(v.leg_dist_km, lang, 1)} km"
        legs: list[Leg] = [
            ("kind_drive", drive, arrival - float(v.leg_drive_min), arrival),
            ("site_stop", str(v.name), clock_min(v.start), clock_min(v.end)),
        ]
        rows += [_timeline_row(day, v.week * 10 + v.day, leg, lang) for leg in legs]
    return pd.DataFrame(rows)


def week_chart(timeline: pd.DataFrame, lang: str) -> alt.Chart:
    """The week as a Gantt chart: one row per day (7:00 to 19:00), stops in blue, drives in grey."""
    import altair as alt

    day, kind, what, start, end = (label(k, lang) for k in ("day", "kind", "what", "start", "end"))
    days = list(dict.fromkeys(timeline.sort_values("order", kind="stable")[day]))
    low = min(420.0, 60 * (timeline["start_min"].min() // 60))
    high = max(1140.0, 60 * -(-timeline["end_min"].max() // 60))
    colour = alt.Color(
        f"{kind}:N",
        scale=alt.Scale(
            domain=[label(k, lang) for k in ("site_stop", "kind_session", "kind_drive")],  # a truck's or a provider's
            range=["#2166ac", "#2166ac", "#bdbdbd"],
        ),
        legend=alt.Legend(title=None, orient="top"),
    )
    hours = list(range(int(low), int(high) + 1, 60))
    chart = (
        alt.Chart(timeline.drop(columns="order"))
        .mark_bar(cornerRadius=2)
        .encode(
            x=alt.X(
                "start_min:Q",
                scale=alt.Scale(domain=[low, high], nice=False),
                axis=alt.Axis(values=hours, labelExpr="floor(datum.value / 60) + ':00'", title=None, grid=True),
            ),
            x2="end_min:Q",
            y=alt.Y(
                f"{day}:N",
                sort=days,
                title=None,
                scale=alt.Scale(paddingInner=0.3),
                axis=alt.Axis(labelOverlap=False, labelLimit=200),
            ),
            color=colour,
            tooltip=[f"{day}:N", f"{what}:N", f"{start}:N", f"{end}:N"],
        )
        .properties(height={"step": 34})  # a row per day, whatever the number of days
    )
    return localised(chart, lang)  # type: ignore[return-value]


def truck_map(run: ScenarioRun, vehicle_id: str, lang: str) -> str:
    """One vehicle's rounds over the coverage map, as one offline HTML page."""
    from planner.exports.rounds import rounds_map

    rounds = run.rounds
    assert rounds is not None
    mine = replace(
        rounds,
        visits=rounds.visits[rounds.visits["vehicle_id"] == vehicle_id] if len(rounds.visits) else rounds.visits,
        routes=rounds.routes[rounds.routes["vehicle_id"] == vehicle_id] if len(rounds.routes) else rounds.routes,
    )
    return standalone_html(rounds_map(mine, base_map(run.coverage, lang), lang))


def truck_files(rounds: RoundsRun, vehicle_id: str, lang: str) -> dict[str, bytes]:
    """The crew's files of one vehicle: ``itineraire.csv``, ``itineraire.ics``, ``feuille-de-route.html``."""
    from planner.exports.rounds import calendar, crew_table, weekly_sheet

    return {
        "itineraire.csv": csv_text(crew_table(rounds, vehicle_id)).encode("utf-8"),
        "itineraire.ics": calendar(rounds, vehicle_id).to_ical(),
        "feuille-de-route.html": weekly_sheet(rounds, vehicle_id, lang).encode("utf-8"),
    }


# --- a provider's week ---------------------------------------------------------------------------


def provider_labels(rooms: RoomsRun) -> dict[str, str]:
    """Provider id -> its label (name, else id), in the scenario's order."""
    return {p.provider_id: p.name or p.provider_id for p in rooms.spec.providers}


def provider_timeline(rooms: RoomsRun, provider_id: str, lang: str) -> pd.DataFrame:
    """A provider's week in the rows :func:`week_chart` draws: each session and the drive before it."""
    mine = rooms.bookings[rooms.bookings["provider_id"] == provider_id]
    rows = []
    for b in mine.itertuples():
        start, end = clock_min(b.start), clock_min(b.end)
        day = f"{weekday(int(b.day), lang)} {pd.Timestamp(b.date):%d/%m}"
        legs: list[Leg] = [("kind_session", f"{b.premises} · {b.room}", start, end)]
        if b.travel_before_min > 0:
            drive = f"{number(b.travel_before_min, lang)} min"
            legs.insert(0, ("kind_drive", drive, start - float(b.travel_before_min), start))
        rows += [_timeline_row(day, int(b.day), leg, lang) for leg in legs]
    return pd.DataFrame(rows)


def provider_files(rooms: RoomsRun, provider_id: str, lang: str) -> dict[str, bytes]:
    """The provider's files: ``planning.csv``, ``planning.ics``, ``feuille-de-semaine.html``."""
    from planner.exports.rooms import calendar, provider_sheet, provider_table

    return {
        "planning.csv": csv_text(provider_table(rooms, provider_id)).encode("utf-8"),
        "planning.ics": calendar(rooms, provider_id).to_ical(),
        "feuille-de-semaine.html": provider_sheet(rooms, provider_id, lang).encode("utf-8"),
    }


def provider_map(rooms: RoomsRun, provider_id: str, lang: str) -> str:
    """A standalone map of the provider's week: one dot per premises used, the day's sessions joined in order."""
    mine = rooms.bookings[rooms.bookings["provider_id"] == provider_id]
    if mine.empty:
        centre = rooms.territory.zones.geometry.union_all().centroid
        return standalone_html(folium.Map([centre.y, centre.x], zoom_start=9, tiles="OpenStreetMap"))
    fmap = folium.Map([mine["lat"].mean(), mine["lon"].mean()], zoom_start=10, tiles="OpenStreetMap")
    for i, (_, sessions) in enumerate(mine.groupby("day", sort=True)):
        colour = DAY_COLOURS[i % len(DAY_COLOURS)]
        layer = folium.FeatureGroup(name=weekday(int(sessions["day"].iloc[0]), lang))
        if len(sessions) > 1:
            folium.PolyLine(sessions[["lat", "lon"]].to_numpy().tolist(), color=colour, weight=3).add_to(layer)
        for b in sessions.itertuples():
            sep = " : " if lang == "fr" else ": "
            text = f"{weekday(int(b.day), lang)} {b.start}–{b.end}{sep}{b.premises} ({b.room})"
            point(layer, b.lat, b.lon, colour, text, popup=html_text(f"{text}, {b.address}"))
        layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return standalone_html(fmap)
