"""The one iCalendar builder: weekly repeating events in Paris time, for the crews' and providers' calendars."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Event:
    """One visit or session: ``day`` as an ISO date, ``start`` and ``end`` as HH:MM in Paris time."""

    uid: str
    summary: str
    day: str
    start: str
    end: str
    location: str
    lat: float
    lon: float
    description: str
    sequence: int | None = None  # published feeds: grows with each change of the event
    status: str | None = None  # published feeds: CONFIRMED or CANCELLED

    @classmethod
    def at(cls, row: Any, uid: str, summary: str, location: str, description: str) -> Event:
        """The event at a visits or bookings row's ``date``, ``start``, ``end``, ``lat`` and ``lon``."""
        return cls(uid, summary, row.date, row.start, row.end, location, float(row.lat), float(row.lon), description)


def weekly_calendar(
    kind: str,
    name: str,
    start_date: dt.date,
    events: Iterable[Event],
    every_weeks: int | None = None,
    *,
    stamp: dt.datetime | None = None,
    method: str | None = None,
) -> icalendar.Calendar:
    """A calendar ``name`` whose events repeat weekly (every ``every_weeks`` weeks when given).

    ``DTSTAMP`` is ``stamp`` when given (a publication time), else midnight UTC of ``start_date``, so that
    the same plan gives the same file. ``method`` (e.g. ``PUBLISH``) is written when given, and each
    event's ``SEQUENCE`` and ``STATUS`` when set.
    """
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//Maillage//{kind}//FR")
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    cal.add("x-wr-calname", name)
    stamp = stamp or dt.datetime.combine(start_date, dt.time(0, 0), tzinfo=dt.UTC)
    rule: dict[str, object] = {"freq": "weekly"} if every_weeks is None else {"freq": "weekly", "interval": every_weeks}
    for item in events:
        day = dt.date.fromisoformat(item.day)
        event = icalendar.Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("summary", item.summary)
        event.add("dtstart", dt.datetime.combine(day, dt.time.fromisoformat(item.start), tzinfo=PARIS))
        event.add("dtend", dt.datetime.combine(day, dt.time.fromisoformat(item.end), tzinfo=PARIS))
        event.add("location", item.location)
        event.add("geo", (float(item.lat), float(item.lon)))
        event.add("rrule", rule)
        event.add("description", item.description)
        if item.sequence is not None:
            event.add("sequence", item.sequence)
        if item.status:
            event.add("status", item.status)
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal
