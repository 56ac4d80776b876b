"""The one iCalendar builder: weekly repeating events in Paris time, for the crews' and providers' calendars.

Each calendar is published (``METHOD:PUBLISH``) with ``DTSTAMP`` the time it was generated, each event
repeats until the plan's end date (``RRULE`` with ``UNTIL``) and skips the public holidays of France
(those of the territory's overseas département, or of Alsace-Moselle, included) as ``EXDATE``. A UID
names a slot of the plan (vehicle, week, day and order; provider, day and half-day), so a re-planned
calendar imported again replaces the events of the previous one; its ``SEQUENCE`` (minutes since
2026-01-01 at generation) grows with each new plan, so calendar applications take the new version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import icalendar

from planner.scenario import DEFAULT_REPEATS

PARIS = ZoneInfo("Europe/Paris")
SEQUENCE_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# INSEE code prefixes of the territories whose public holidays differ from metropolitan France's,
# with the subdivision name the ``holidays`` package gives them.
HOLIDAY_SUBDIVISIONS = {
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "976": "976",
    "57": "57",
    "67": "6AE",
    "68": "6AE",
}


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
    month_ordinals: tuple[int, ...] = ()  # instead of weekly: on these weekdays of each month (1, 3: 1st and 3rd)
    every_weeks: int | None = None  # this event's own repetition, in weeks (default: the calendar's)
    replaces: str | None = None  # published feeds: one date of series ``uid`` changed alone (its RECURRENCE-ID)
    once: bool = False  # published feeds: that date for someone without the series (no repetition, no RECURRENCE-ID)

    @classmethod
    def at(cls, row: Any, uid: str, summary: str, location: str, description: str) -> Event:
        """The event at a visits or bookings row's ``date``, ``start``, ``end``, ``lat`` and ``lon``."""
        return cls(uid, summary, row.date, row.start, row.end, location, float(row.lat), float(row.lon), description)


def holiday_subdivision(zone_ids: Iterable[object]) -> str | None:
    """The ``holidays`` subdivision of a territory from its communes' INSEE codes (the most common one),
    None for the rest of metropolitan France.

    >>> holiday_subdivision(["97411", "97415"]), holiday_subdivision(["48095"]), holiday_subdivision(["67482"])
    ('974', None, '6AE')
    """
    counts: dict[str | None, int] = {}
    for code in (str(z) for z in zone_ids):
        sub = HOLIDAY_SUBDIVISIONS.get(code[:3]) or HOLIDAY_SUBDIVISIONS.get(code[:2])
        counts[sub] = counts.get(sub, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else None


def public_holidays(first: dt.date, last: dt.date, subdivision: str | None = None) -> dict[dt.date, str]:
    """The public holidays of France (with ``subdivision``'s own) from ``first`` to ``last``, in French.

    >>> public_holidays(dt.date(2027, 5, 1), dt.date(2027, 5, 10))
    {datetime.date(2027, 5, 1): 'Fête du Travail', datetime.date(2027, 5, 6): 'Ascension', \
datetime.date(2027, 5, 8): 'Fête de la Victoire'}
    """
    years = range(first.year, last.year + 1)
    table = holidays.country_holidays("FR", subdiv=subdivision, years=years, language="fr")
    return {day: str(name) for day, name in sorted(table.items()) if first <= day <= last}


def sequence(generated: dt.datetime) -> int:
    """The ``SEQUENCE`` of events generated at ``generated``: whole minutes since 2026-01-01 UTC."""
    return max(0, int((generated - SEQUENCE_EPOCH).total_seconds() // 60))


def weekly_calendar(
    kind: str,
    name: str,
    start_date: dt.date,
    events: Iterable[Event],
    every_weeks: int | None = None,
    *,
    until: dt.date,
    holidays_off: dict[dt.date, str] | None = None,
    generated: dt.datetime | None = None,
) -> icalendar.Calendar:
    """A calendar ``name`` whose events repeat weekly (every ``every_weeks`` weeks when given) until ``until``.

    ``holidays_off`` (date -> name) are left out of every event's repetitions (``EXDATE``);
    ``generated`` (default: now; a publication time for published feeds) is the ``DTSTAMP`` and sets the
    ``SEQUENCE`` of events that carry none of their own (published events carry theirs, and a ``STATUS``).
    """
    generated = generated or dt.datetime.now(dt.UTC)
    if generated.tzinfo is None:  # a time stored by the database without its zone is UTC
        generated = generated.replace(tzinfo=dt.UTC)
    generated = generated.astimezone(dt.UTC).replace(microsecond=0)
    off = holidays_off or {}
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//Maillage//{kind}//FR")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    end_utc = dt.datetime.combine(until, dt.time(23, 59, 59), tzinfo=PARIS).astimezone(dt.UTC)
    for item in events:
        day = dt.date.fromisoformat(item.day)
        start = dt.datetime.combine(day, dt.time.fromisoformat(item.start), tzinfo=PARIS)
        rule: dict[str, object] = {"freq": "weekly", "until": end_utc}
        interval = item.every_weeks or every_weeks
        if interval is not None:
            rule["interval"] = interval
        repeats = repeat_dates(day, interval or 1, until)
        if item.month_ordinals:
            code = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[day.weekday()]
            rule = {"freq": "monthly", "byday": [f"{n}{code}" for n in item.month_ordinals], "until": end_utc}
            repeats = month_ordinal_dates(day, until, item.month_ordinals)
        event = icalendar.Event()
        event.add("uid", item.uid)
        event.add("dtstamp", generated)
        event.add("sequence", sequence(generated) if item.sequence is None else item.sequence)
        event.add("summary", item.summary)
        event.add("dtstart", start)
        event.add("dtend", dt.datetime.combine(day, dt.time.fromisoformat(item.end), tzinfo=PARIS))
        event.add("location", item.location)
        event.add("geo", (float(item.lat), float(item.lon)))
        if item.replaces:  # ISO date and time (Paris) the series had this occurrence at: no repetition of its own
            event.add("recurrence-id", dt.datetime.fromisoformat(item.replaces).replace(tzinfo=PARIS))
        elif not item.once:
            event.add("rrule", rule)
            skipped = [dt.datetime.combine(d, start.timetz()) for d in repeats if d in off]
            if skipped:
                event.add("exdate", skipped)
        event.add("description", item.description)
        if item.status:
            event.add("status", item.status)
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal


def plan_end(start: dt.date, horizon_weeks: int, end_date: dt.date | None = None) -> dt.date:
    """The last day a plan's calendars repeat: ``end_date``, else the horizon repeated ``DEFAULT_REPEATS`` times.

    >>> plan_end(dt.date(2027, 1, 4), 2)
    datetime.date(2028, 1, 2)
    """
    return end_date or start + dt.timedelta(weeks=horizon_weeks * DEFAULT_REPEATS) - dt.timedelta(days=1)


def repeat_dates(first: dt.date, every_weeks: int, until: dt.date) -> list[dt.date]:
    """The dates of an event on ``first`` repeating every ``every_weeks`` weeks until ``until`` (its ``RRULE``):
    the one rule the calendars, the posters and their date lists follow.

    >>> repeat_dates(dt.date(2027, 3, 2), 2, dt.date(2027, 4, 13))
    [datetime.date(2027, 3, 2), datetime.date(2027, 3, 16), datetime.date(2027, 3, 30), datetime.date(2027, 4, 13)]
    """
    step = dt.timedelta(weeks=every_weeks)
    return [first + step * i for i in range((until - first) // step + 1)]


def month_ordinal_dates(first: dt.date, until: dt.date, ordinals: tuple[int, ...]) -> list[dt.date]:
    """The dates from ``first`` to ``until`` that are the ``ordinals``-th of ``first``'s weekday in their month.

    >>> month_ordinal_dates(dt.date(2027, 1, 5), dt.date(2027, 2, 28), (1, 3))
    [datetime.date(2027, 1, 5), datetime.date(2027, 1, 19), datetime.date(2027, 2, 2), datetime.date(2027, 2, 16)]
    """
    days = []
    day = first
    while day <= until:
        if (day.day - 1) // 7 + 1 in ordinals:
            days.append(day)
        day += dt.timedelta(weeks=1)
    return days
