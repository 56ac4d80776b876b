"""Exports of the service markets: market calendar (CSV, GeoJSON for the département's website), a printable
poster and a calendar feed per market place, the zones' errands in one trip, and the joint plan's truck
rounds and provider sessions in the rounds' and rooms' own files.

Fortnightly visits are written the French way markets are announced: a truck of week 1 of the two-week
horizon comes on the 1st and 3rd weekday of the month, one of week 2 on the 2nd and 4th (a 5th weekday
of a month has no fortnightly visit); weekly sessions come every week.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import icalendar
import pandas as pd

from planner.exports._safe import csv_format_for, file_names, write_csv
from planner.exports.calendar import Event, month_ordinal_dates, plan_end, weekly_calendar
from planner.exports.geo import write_geojson
from planner.exports.rooms import write_rooms
from planner.exports.rounds import holidays_of, write_rounds
from planner.exports.sheets import render
from planner.i18n import attribution, label, number, weekday
from planner.jobs.markets import MarketsRun


@dataclass(frozen=True)
class Line:
    """One line of a place's market calendar: when (text), hours, services present, and its rule."""

    when: str
    services: str
    day: int
    start: str
    end: str
    first: dt.date
    ordinals: tuple[int, ...]  # empty: every week
    half_day: str


def clock(minutes_text: str, lang: str) -> str:
    """``09:00`` as ``9h`` and ``13:30`` as ``13h30`` in French, unchanged in English."""
    hours, minutes = (int(part) for part in minutes_text.split(":"))
    if lang != "fr":
        return minutes_text
    return f"{hours}h{minutes:02d}" if minutes else f"{hours}h"


def recurrence(day: int, ordinals: tuple[int, ...], lang: str) -> str:
    """``tous les mardis`` or ``1er et 3e mardis`` (``every Tuesday``, ``1st and 3rd Tuesdays``)."""
    name = weekday(day, lang)
    if not ordinals:
        return label("markets_every", lang, day=name)
    first, second = (label(f"markets_ord_{n}", lang) for n in ordinals)
    return label("markets_ordinals", lang, first=first, second=second, day=name)


def _ordinals(week: int, weeks: int) -> tuple[int, ...]:
    """The weekdays of the month a visit of ``week`` (of a ``weeks``-week horizon) falls on; () every week."""
    return () if weeks == 1 else (week, week + 2)


def _first(start: dt.date, day: int, ordinals: tuple[int, ...], until: dt.date) -> dt.date:
    """The first date from ``start`` on weekday ``day`` (and one of ``ordinals`` of its month, if given)."""
    first = start + dt.timedelta(days=(day - start.isoweekday()) % 7)
    return month_ordinal_dates(first, until, ordinals)[0] if ordinals else first


def schedule(run: MarketsRun, place_id: str, lang: str = "fr") -> list[Line]:
    """A place's market calendar: per half-day of the week, the services there every week, then those there
    one week in two (on the 1st and 3rd, or 2nd and 4th, weekday of the month)."""
    weeks = run.problem.rounds.horizon_weeks
    until = plan_end(run.start_date, weeks, run.rooms.spec.end_date)
    names = run.spec.service_names
    mine = run.markets[run.markets["place_id"] == place_id]
    lines = []
    for (day, half_day), rows in mine.groupby(["day", "half_day"], sort=True):
        per_week = {int(r.week): set(r.services.split(";")) for r in rows.itertuples()}
        common = set.intersection(*per_week.values()) if len(per_week) == weeks else set()
        groups: list[tuple[tuple[int, ...], set[str]]] = [((), common)] if common else []
        groups += [(_ordinals(w, weeks), found - common) for w, found in sorted(per_week.items()) if found - common]
        for ordinals, services in groups:
            hours = label(
                "markets_hours", lang, start=clock(rows["start"].min(), lang), end=clock(rows["end"].max(), lang)
            )
            lines.append(
                Line(
                    f"{recurrence(int(day), ordinals, lang)}, {hours}",
                    ", ".join(names.get(s, s) for s in sorted(services)),
                    int(day),
                    rows["start"].min(),
                    rows["end"].max(),
                    _first(run.start_date, int(day), ordinals, until),
                    ordinals,
                    str(half_day),
                )
            )
    return lines


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


def poster(run: MarketsRun, place_id: str, lang: str = "fr") -> str:
    """A printable poster of a place's markets: ``Marché de services de X : 1er et 3e mardis, 9h-12h : ...``."""
    lines = schedule(run, place_id, lang)
    fortnightly = sorted({line.day for line in lines if line.ordinals})
    return render(
        "market_poster.html.j2",
        lang=lang,
        title=label("markets_poster_title", lang, place=place_name(run, place_id)),
        intro=label("markets_poster_intro", lang),
        address=_place_row(run, place_id)["address"],
        t_where=label("markets_where", lang),
        t_when=label("markets_when", lang),
        t_who=label("markets_who", lang),
        lines=lines,
        none=label("markets_none", lang),
        notes=[label("markets_fifth", lang, day=weekday(d, lang)) for d in fortnightly],
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
    weeks = run.problem.rounds.horizon_weeks
    name = place_name(run, place_id)
    events = [
        Event(
            f"marche-{place_id}-j{line.day}-{line.half_day}-{'-'.join(map(str, line.ordinals)) or 'hebdo'}@maillage",
            label("markets_event", lang, services=line.services),
            line.first.isoformat(),
            line.start,
            line.end,
            f"{row['name']}, {row['address']}",
            float(row.geometry.y),
            float(row.geometry.x),
            line.when,
            month_ordinals=line.ordinals,
        )
        for line in schedule(run, place_id, lang)
    ]
    return weekly_calendar(
        "markets",
        label("markets_poster_title", lang, place=name),
        run.start_date,
        events,
        until=plan_end(run.start_date, weeks, run.rooms.spec.end_date),
        holidays_off=holidays_of(run.rounds) if holidays_off is None else holidays_off,
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
        (folder / name / "affiche.html").write_text(poster(run, place_id, lang), encoding="utf-8")
        ics = place_calendar(run, place_id, lang, generated=generated, holidays_off=off)
        (folder / name / "calendrier.ics").write_bytes(ics.to_ical())
        written += [f"{name}/affiche.html", f"{name}/calendrier.ics"]
    written += [
        f"tournees/{n}" for n in write_rounds(run.rounds, folder / "tournees", base_map(), lang, csv_format=fmt)
    ]
    written += [
        f"permanences/{n}" for n in write_rooms(run.rooms, folder / "permanences", base_map(), lang, csv_format=fmt)
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
