"""Exports of the Bussoservice: per coach a timetable (CSV, printable sheet, calendar) and its routes
(GeoJSON); for residents the stops' timetable; a map of the coaches' routes and the market places.

A coach-day serving week 1 of a two-week horizon repeats on the 1st and 3rd weekday of the month, like the
markets it serves (see :mod:`planner.exports.markets`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import folium
import icalendar
import pandas as pd

from planner.exports._safe import csv_format_for, file_names, html_text, write_csv
from planner.exports.calendar import Event, month_ordinal_dates, plan_end, weekly_calendar
from planner.exports.geo import write_geojson
from planner.exports.maps import legend, point, route_line, standalone_html
from planner.exports.rounds import TRUCK_COLOURS, holidays_of
from planner.exports.sheets import render
from planner.i18n import attribution, date_text, label, number
from planner.jobs.markets import MarketsRun
from planner.jobs.shuttle import ShuttleRun


def _ordinals(week: int, weeks: int) -> tuple[int, ...]:
    return () if weeks == 1 else (week, week + 2)


def coach_calendar(
    shuttle: ShuttleRun, markets: MarketsRun, coach_id: str, lang: str = "fr", *, generated: dt.datetime | None = None
) -> icalendar.Calendar:
    """One event per coach-day, from leaving the depot to coming back, its calls in the description."""
    weeks = markets.problem.rounds.horizon_weeks
    until = plan_end(markets.start_date, weeks, markets.rooms.spec.end_date)
    mine = shuttle.timetable[shuttle.timetable["coach_id"] == coach_id]
    events = []
    for (week, day), calls in mine.groupby(["week", "day"]):
        ordinals = _ordinals(int(week), weeks)
        first = dt.date.fromisoformat(calls["date"].iloc[0])
        if ordinals:
            first = month_ordinal_dates(first, until, ordinals)[0]
        lines = [f"{c.departure} {c.place} ({c.kind}, {c.on_board})" for c in calls.itertuples()]
        start = calls.iloc[0]
        events.append(
            Event(
                f"navette-{coach_id}-s{week}-j{day}@maillage",
                label("markets_shuttle_title", lang, coach=coach_id),
                first.isoformat(),
                start["departure"],
                calls.iloc[-1]["arrival"],
                str(start["place"]),
                float(start["lat"]),
                float(start["lon"]),
                "\n".join(lines),
                month_ordinals=ordinals,
            )
        )
    return weekly_calendar(
        "shuttle",
        label("markets_shuttle_title", lang, coach=coach_id),
        markets.start_date,
        events,
        until=until,
        holidays_off=holidays_of(markets.rounds),
        generated=generated,
    )


def coach_sheet(shuttle: ShuttleRun, coach_id: str, lang: str = "fr") -> str:
    """A printable sheet per coach-day: times, places, riders boarding or alighting, riders on board."""
    mine = shuttle.timetable[shuttle.timetable["coach_id"] == coach_id]
    routes = shuttle.routes[shuttle.routes["coach_id"] == coach_id] if len(shuttle.routes) else shuttle.routes
    days = []
    for (week, day), calls in mine.groupby(["week", "day"]):
        route = routes[(routes["week"] == week) & (routes["day"] == day)].iloc[0]
        hours = pd.Timedelta(calls.iloc[-1]["arrival"] + ":00") - pd.Timedelta(calls.iloc[0]["departure"] + ":00")
        days.append(
            {
                "when": date_text(calls["date"].iloc[0], lang),
                "summary": label(
                    "shuttle_day",
                    lang,
                    km=number(route["dist_km"], lang, 1),
                    hours=number(hours.total_seconds() / 3600, lang, 1),
                ),
                "calls": [
                    {
                        "time": c.departure if c.kind != "depot" or c.order == 0 else c.arrival,
                        "place": c.place,
                        "what": label(f"shuttle_{c.kind}", lang, riders=c.riders),
                        "on_board": c.on_board,
                    }
                    for c in calls.itertuples()
                ],
            }
        )
    return render(
        "shuttle.html.j2",
        lang=lang,
        title=label("markets_shuttle_title", lang, coach=coach_id),
        days=days,
        t_time=label("shuttle_time", lang),
        t_place=label("markets_where", lang),
        t_what=label("shuttle_what", lang),
        t_on_board=label("shuttle_on_board", lang),
        none=label("shuttle_none", lang),
        attribution=attribution(lang),
    )


def shuttle_map(shuttle: ShuttleRun, markets: MarketsRun, base: folium.Map, lang: str = "fr") -> folium.Map:
    """The coaches' routes (a colour per coach, in a legend) and the market places."""
    coaches = sorted({c.coach_id for c in shuttle.spec.coaches})
    colours = {c: TRUCK_COLOURS[i % len(TRUCK_COLOURS)] for i, c in enumerate(coaches)}
    base.add_child(legend(label("shuttle_map", lang), [(f"background:{colours[c]}", c) for c in coaches], side="left"))
    layer = folium.FeatureGroup(name=html_text(label("shuttle_map", lang)))
    layer.add_to(base)
    for route in shuttle.routes.itertuples():
        if route.geometry is not None:
            route_line(
                layer, route.geometry, colours[route.coach_id], f"{route.coach_id}, {route.day_name} ({route.week})"
            )
    for place in markets.places.itertuples():
        point(layer, place.geometry.y, place.geometry.x, "#b2182b", str(place.name), radius=8)
    return base


def left_out_table(shuttle: ShuttleRun, lang: str = "fr") -> pd.DataFrame:
    """The trips left unserved, per commune and market day, with the reason in words."""
    table = shuttle.left_out.copy()
    table["reason"] = [label(f"shuttle_why_{code}", lang) for code in table["reason"]]
    return table


def shuttle_tables(shuttle: ShuttleRun, lang: str = "fr") -> dict[str, pd.DataFrame]:
    """The Bussoservice's tables by file name: every coach call, the stops' timetable for residents, and
    the trips left unserved with the reason."""
    return {
        "horaires_cars.csv": shuttle.timetable,
        "arrets_navette.csv": shuttle.stops,
        "arrets_non_desservis.csv": left_out_table(shuttle, lang),
    }


def write_shuttle(
    shuttle: ShuttleRun,
    markets: MarketsRun,
    folder: Path,
    base_map: folium.Map,
    lang: str = "fr",
    *,
    csv_format: str | None = None,
) -> list[str]:
    """Write the Bussoservice outputs into ``folder``; return the paths written, relative to it."""
    fmt = csv_format_for(lang, csv_format)
    folder.mkdir(parents=True, exist_ok=True)
    generated = dt.datetime.now(dt.UTC)
    written = []
    names = file_names(c.coach_id for c in shuttle.spec.coaches)
    for coach in shuttle.spec.coaches:
        name = f"cars/{names[coach.coach_id]}"
        (folder / name).mkdir(parents=True, exist_ok=True)
        mine = shuttle.timetable[shuttle.timetable["coach_id"] == coach.coach_id]
        write_csv(mine, folder / name / "horaires.csv", fmt)
        ics = coach_calendar(shuttle, markets, coach.coach_id, lang, generated=generated)
        (folder / name / "horaires.ics").write_bytes(ics.to_ical())
        (folder / name / "feuille.html").write_text(coach_sheet(shuttle, coach.coach_id, lang), encoding="utf-8")
        written += [f"{name}/horaires.csv", f"{name}/horaires.ics", f"{name}/feuille.html"]
        routes = shuttle.routes[shuttle.routes["coach_id"] == coach.coach_id] if len(shuttle.routes) else shuttle.routes
        if len(routes):
            write_geojson(routes, folder / name / "trajets.geojson")
            written.append(f"{name}/trajets.geojson")
    for file, table in shuttle_tables(shuttle, lang).items():
        write_csv(table, folder / file, fmt)
        written.append(file)
    (folder / "carte.html").write_text(standalone_html(shuttle_map(shuttle, markets, base_map, lang)), encoding="utf-8")
    return [*written, "carte.html"]


def shuttle_headline(shuttle: ShuttleRun, lang: str = "fr") -> list[str]:
    """The lines printed after a Bussoservice run: riders and coach work, people within reach of a market
    by car or by shuttle, and the riders left at home with why."""
    k = shuttle.kpis
    lines = [
        label(
            "markets_shuttle",
            lang,
            riders=number(k["riders_expected_per_week"], lang, 1),
            served=number(k["riders_carried_per_week"], lang, 1),
            km=number(k["coach_km_per_week"], lang),
            hours=number(k["coach_hours_per_week"], lang, 1),
        ),
        label(
            "markets_shuttle_reach",
            lang,
            car=number(k["people_within_reach_by_car"], lang),
            shuttle=number(k["people_reached_by_shuttle"], lang),
            total=number(k["people_within_reach_car_or_shuttle"], lang),
        ),
    ]
    left = sorted(k["riders_left_per_week_by_reason"].items(), key=lambda item: -item[1])
    if left:
        reasons = "; ".join(
            label("shuttle_left_item", lang, riders=number(n, lang, 1), why=label(f"shuttle_why_{code}", lang))
            for code, n in left
        )
        lines.append(label("markets_shuttle_left", lang, reasons=reasons))
    return lines
