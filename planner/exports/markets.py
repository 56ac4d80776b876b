"""Exports of the service markets: market calendar (CSV, GeoJSON for the département's website), a printable
poster and a calendar feed per market place, the zones' errands in one trip, and the joint plan's truck
rounds and provider sessions in the rounds' and rooms' own files.

A market's dates follow the plan's own cycle, the one the crews' and providers' calendars follow: a service
there every week comes every week, one there in one week of the two-week horizon comes every other week
from its first date (:func:`planner.exports.calendar.repeat_dates`), until the rounds' plan end, public
holidays left out. The posters print those very dates month by month, and the feeds repeat by the same rule
(``RRULE`` weekly, every one or two weeks, the same holidays as ``EXDATE``), so they never disagree, whatever
the number of a weekday in a month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import folium
import geopandas as gpd
import icalendar
import pandas as pd

from planner.exports._safe import csv_format_for, file_names, write_csv
from planner.exports.calendar import Event, plan_end, repeat_dates, weekly_calendar
from planner.exports.geo import write_geojson
from planner.exports.rooms import write_rooms
from planner.exports.rounds import holidays_of, write_rounds
from planner.exports.sheets import render
from planner.i18n import attribution, date_text, label, number, weekday
from planner.jobs.markets import MarketsRun
from planner.jobs.rooms import RoomsRun


@dataclass(frozen=True)
class Line:
    """One line of a place's market calendar: when (text), hours, services present, its rule and its dates."""

    when: str
    services: str
    day: int
    start: str
    end: str
    first: dt.date
    every_weeks: int  # 1: every week; the horizon's weeks: one week in that many
    half_day: str
    dates: tuple[dt.date, ...]  # every market day of the line until the plan's end, public holidays left out
    off: tuple[tuple[dt.date, str], ...]  # the line's days that are public holidays (no market), with their names


def clock(minutes_text: str, lang: str) -> str:
    """``09:00`` as ``9h`` and ``13:30`` as ``13h30`` in French, unchanged in English."""
    hours, minutes = (int(part) for part in minutes_text.split(":"))
    if lang != "fr":
        return minutes_text
    return f"{hours}h{minutes:02d}" if minutes else f"{hours}h"


def recurrence(day: int, every_weeks: int, first: dt.date, lang: str) -> str:
    """``tous les mardis`` or ``un mardi sur deux, à partir du mardi 5 janvier 2027`` (``every Tuesday``,
    ``every other Tuesday, from Tuesday 5 January 2027``): the rule of :func:`repeat_dates`, in words."""
    name = weekday(day, lang)
    if every_weeks == 1:
        return label("markets_every", lang, day=name)
    return label(f"markets_every_{every_weeks}", lang, day=name, first=date_text(first, lang))


def plan_until(run: MarketsRun) -> dt.date:
    """The markets' last day, the same for the posters, the feeds and the crews' and providers' calendars:
    the rounds' plan end (their horizon repeated, or their ``end_date``)."""
    return plan_end(run.start_date, run.problem.rounds.horizon_weeks, run.rounds.spec.end_date)


def sessions_run(run: MarketsRun) -> RoomsRun:
    """The joint plan's sessions on the markets' calendar: the providers' calendars end with the markets'
    (:func:`plan_until`), not after the rooms' own 26 one-week repetitions."""
    return replace(run.rooms, spec=run.rooms.spec.override(end_date=plan_until(run)))


def schedule(
    run: MarketsRun, place_id: str, lang: str = "fr", holidays_off: dict[dt.date, str] | None = None
) -> list[Line]:
    """A place's market calendar: per half-day of the week, the services there every week, then those there
    in one week of the horizon only (every other week from that week's date), each with its dates."""
    weeks = run.problem.rounds.horizon_weeks
    until = plan_until(run)
    off = holidays_of(run.rounds) if holidays_off is None else holidays_off
    names = run.spec.service_names
    mine = run.markets[run.markets["place_id"] == place_id]
    lines = []
    for (day, half_day), rows in mine.groupby(["day", "half_day"], sort=True):
        per_week = {int(r.week): set(r.services.split(";")) for r in rows.itertuples()}
        common = set.intersection(*per_week.values()) if len(per_week) == weeks else set()
        groups: list[tuple[int, int, set[str]]] = [(1, min(per_week), common)] if common else []
        groups += [(weeks, w, found - common) for w, found in sorted(per_week.items()) if found - common]
        hours = label("markets_hours", lang, start=clock(rows["start"].min(), lang), end=clock(rows["end"].max(), lang))
        for every_weeks, week, services in groups:
            first = run.start_date + dt.timedelta(weeks=week - 1, days=int(day) - 1)
            days = repeat_dates(first, every_weeks, until)
            lines.append(
                Line(
                    f"{recurrence(int(day), every_weeks, first, lang)}, {hours}",
                    ", ".join(names.get(s, s) for s in sorted(services)),
                    int(day),
                    rows["start"].min(),
                    rows["end"].max(),
                    first,
                    every_weeks,
                    str(half_day),
                    tuple(d for d in days if d not in off),
                    tuple((d, off[d]) for d in days if d in off),
                )
            )
    return lines


def months(dates: tuple[dt.date, ...], lang: str = "fr") -> list[str]:
    """Dates grouped by month as a poster prints them: ``janvier 2027 : 5, 19``."""
    by_month: dict[tuple[int, int], list[dt.date]] = {}
    for d in dates:
        by_month.setdefault((d.year, d.month), []).append(d)
    return [
        label(
            "markets_month_days",
            lang,
            month=date_text(days[0], lang, "month"),
            days=", ".join(str(d.day) for d in days),
        )
        for days in by_month.values()
    ]


def _place_row(run: MarketsRun, place_id: str) -> pd.Series:
    return run.places[run.places["site_id"] == place_id].iloc[0]


def place_name(run: MarketsRun, place_id: str) -> str:
    """The commune of a town hall's market (``Saint-Chély-d'Apcher``), else the premises' name."""
    zones = run.rounds.territory.zones.set_index("zone_id")["name"]
    code = place_id.removeprefix("mairie-")
    return (
        str(zones[code])
        if place_id.startswith("mairie-") and code in zones.index
        else str(_place_row(run, place_id)["name"])
    )


def poster(run: MarketsRun, place_id: str, lang: str = "fr", holidays_off: dict[dt.date, str] | None = None) -> str:
    """A printable poster of a place's markets: ``Marché de services de X : un mardi sur deux, à partir du
    mardi 5 janvier 2027, 9h-12h : ...``, each line's dates month by month, the public holidays without one."""
    lines = schedule(run, place_id, lang, holidays_off)
    off = sorted({item for line in lines for item in line.off})
    return render(
        "market_poster.html.j2",
        lang=lang,
        title=label("markets_poster_title", lang, place=place_name(run, place_id)),
        intro=label("markets_poster_intro", lang),
        address=_place_row(run, place_id)["address"],
        t_where=label("markets_where", lang),
        t_when=label("markets_when", lang),
        t_who=label("markets_who", lang),
        t_dates=label("markets_dates", lang),
        lines=[(line, months(line.dates, lang)) for line in lines],
        none=label("markets_none", lang),
        notes=[label("markets_holiday", lang, date=date_text(d, lang), name=name) for d, name in off],
        attribution=attribution(lang, road=run.rounds.travel.get("model") == "road"),
    )


def poster_text(run: MarketsRun, place_id: str, lang: str = "fr") -> str:
    """The poster in one sentence, for the README and the markets' GeoJSON."""
    head = label("markets_poster_title", lang, place=place_name(run, place_id))
    lines = schedule(run, place_id, lang)
    return f"{head} : " + " ; ".join(f"{line.when} : {line.services}" for line in lines) if lines else head


def place_calendar(
    run: MarketsRun,
    place_id: str,
    lang: str = "fr",
    *,
    generated: dt.datetime | None = None,
    holidays_off: dict[dt.date, str] | None = None,
) -> icalendar.Calendar:
    """The residents' calendar feed of a place's markets: one repeating event per line of its calendar."""
    row = _place_row(run, place_id)
    name = place_name(run, place_id)
    off = holidays_of(run.rounds) if holidays_off is None else holidays_off
    events = [
        Event(
            f"marche-{place_id}-j{line.day}-{line.half_day}-{line.first.isoformat()}-{line.every_weeks}@maillage",
            label("markets_event", lang, services=line.services),
            line.first.isoformat(),
            line.start,
            line.end,
            f"{row['name']}, {row['address']}",
            float(row.geometry.y),
            float(row.geometry.x),
            line.when,
            every_weeks=line.every_weeks,
        )
        for line in schedule(run, place_id, lang, off)
    ]
    return weekly_calendar(
        "markets",
        label("markets_poster_title", lang, place=name),
        run.start_date,
        events,
        until=plan_until(run),
        holidays_off=off,
        generated=generated,
    )


def market_places(run: MarketsRun, lang: str = "fr") -> gpd.GeoDataFrame:
    """The places holding markets, with their calendar in words: the département website's layer."""
    used = sorted(set(run.markets["place_id"]))
    table = run.places[run.places["site_id"].isin(used)][["site_id", "name", "address", "geometry"]].copy()
    table["commune"] = [place_name(run, p) for p in table["site_id"]]
    table["calendar"] = [poster_text(run, p, lang) for p in table["site_id"]]
    table["markets_per_horizon"] = [int((run.markets["place_id"] == p).sum()) for p in table["site_id"]]
    return table


def markets_tables(run: MarketsRun) -> dict[str, pd.DataFrame]:
    """The markets' tables by file name: the joint plan's markets, the separate plans', the zones."""
    return {
        "marches.csv": run.markets,
        "marches_plans_separes.csv": run.separate_markets,
        "zones_un_deplacement.csv": pd.DataFrame(run.zones.drop(columns="geometry")),
    }


def write_markets(
    run: MarketsRun,
    folder: Path,
    base_map: Callable[[], folium.Map],
    lang: str = "fr",
    *,
    csv_format: str | None = None,
) -> list[str]:
    """Write the markets outputs into ``folder``; return the paths written, relative to it."""
    fmt = csv_format_for(lang, csv_format)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for file, table in markets_tables(run).items():
        write_csv(table, folder / file, fmt)
        written.append(file)
    places = market_places(run, lang)
    write_geojson(places, folder / "marches.geojson")
    written.append("marches.geojson")
    generated, off = dt.datetime.now(dt.UTC), holidays_of(run.rounds)
    names = file_names(places["site_id"])
    for place_id in places["site_id"]:
        name = f"lieux/{names[place_id]}"
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / "affiche.html").write_text(poster(run, place_id, lang, off), encoding="utf-8")
        ics = place_calendar(run, place_id, lang, generated=generated, holidays_off=off)
        (folder / name / "calendrier.ics").write_bytes(ics.to_ical())
        written += [f"{name}/affiche.html", f"{name}/calendrier.ics"]
    written += [
        f"tournees/{n}" for n in write_rounds(run.rounds, folder / "tournees", base_map(), lang, csv_format=fmt)
    ]
    rooms = sessions_run(run)
    written += [
        f"permanences/{n}" for n in write_rooms(rooms, folder / "permanences", base_map(), lang, csv_format=fmt)
    ]
    return written


def markets_headline(run: MarketsRun, lang: str = "fr") -> list[str]:
    """The lines printed after a markets run: markets, errands in one trip against separate plans, cost, trips."""
    joint, separate = run.measures["joint"], run.measures["separate"]
    return [
        label(
            "markets_headline",
            lang,
            markets=joint["markets"],  # type: ignore[index]
            joint2=number(joint["people_one_trip"]["2"], lang),  # type: ignore[index]
            sep2=number(separate["people_one_trip"]["2"], lang),  # type: ignore[index]
            cost_joint=number(joint["cost_eur_per_week"], lang),  # type: ignore[index]
            cost_sep=number(separate["cost_eur_per_week"], lang),  # type: ignore[index]
        ),
        label(
            "markets_trips",
            lang,
            trips=number(joint["trips_saved_per_week"], lang, 1),  # type: ignore[index]
            co2=number(joint["co2_kg_saved_per_week"], lang, 1),  # type: ignore[index]
        ),
    ]
