"""Tests for planner.exports.calendar: the one iCalendar builder of the crews' and providers' calendars."""

from __future__ import annotations

import datetime as dt

import icalendar
from dateutil.rrule import rruleset, rrulestr

from planner.exports.calendar import Event, holiday_subdivision, plan_end, public_holidays, weekly_calendar

VISIT = Event(
    uid="bus-1-s1-j2-1@maillage",
    summary="Mairie (bus-1)",
    day="2027-02-02",
    start="09:00",
    end="11:30",
    location="1 place de la Mairie, Mende",
    lat=44.52,
    lon=3.50,
    description="Arrivée 08:50.",
)
GENERATED = dt.datetime(2026, 12, 20, 10, 0, tzinfo=dt.UTC)


def test_weekly_events_in_paris_time():
    """One event per item, in Europe/Paris with its VTIMEZONE, stamped when generated, published,
    repeating every two weeks until the end date (end of that day in Paris, as UTC)."""
    cal = weekly_calendar(
        "rounds", "Tournée bus-1", dt.date(2027, 2, 1), [VISIT], 2, until=dt.date(2027, 6, 30), generated=GENERATED
    )
    text = cal.to_ical().decode()
    assert "PRODID:-//Maillage//rounds//FR" in text and "X-WR-CALNAME:Tournée bus-1" in text
    assert "METHOD:PUBLISH" in text
    assert text.count("BEGIN:VEVENT") == 1 and "BEGIN:VTIMEZONE" in text
    assert "DTSTART;TZID=Europe/Paris:20270202T090000" in text and "DTEND;TZID=Europe/Paris:20270202T113000" in text
    assert "DTSTAMP:20261220T100000Z" in text
    assert "RRULE:FREQ=WEEKLY;UNTIL=20270630T215959Z;INTERVAL=2" in text
    assert "SEQUENCE:" in text and "GEO:44.52;3.5" in text and "UID:bus-1-s1-j2-1@maillage" in text


def occurrences(event: icalendar.Event) -> list[dt.datetime]:
    """Every start of a repeating event, its EXDATEs left out (as a calendar application expands it)."""
    rules = rruleset()
    rule = event["rrule"].to_ical()
    rules.rrule(rrulestr(rule.decode() if isinstance(rule, bytes) else rule, dtstart=event.decoded("dtstart")))
    found = event.get("exdate")
    for group in found if isinstance(found, list) else [found] if found else []:
        for day in group.dts:
            rules.exdate(day.dt)
    return list(rules)


def test_public_holidays_are_left_out():
    """A Thursday event every week from 29 April 2027 to 31 July skips Ascension (6 May), the only
    Thursday holiday then; the rest of its 14 Thursdays remain."""
    thursday = Event(**{**VISIT.__dict__, "day": "2027-04-29"})
    until = dt.date(2027, 7, 31)
    off = public_holidays(dt.date(2027, 4, 26), until)
    cal = weekly_calendar("rooms", "p", dt.date(2027, 4, 26), [thursday], until=until, holidays_off=off)
    days = [d.date() for d in occurrences(next(iter(cal.walk("VEVENT"))))]
    assert dt.date(2027, 5, 6) not in days and len(days) == 13
    assert days[0] == dt.date(2027, 4, 29) and days[-1] == dt.date(2027, 7, 29)
    assert not set(days) & set(off)


def test_overseas_holidays():
    """Réunion's own holiday (abolition of slavery, 20 December) is known; metropolitan France has none that day."""
    assert dt.date(2027, 12, 20) in public_holidays(dt.date(2027, 12, 1), dt.date(2027, 12, 31), "974")
    assert dt.date(2027, 12, 20) not in public_holidays(dt.date(2027, 12, 1), dt.date(2027, 12, 31))
    assert holiday_subdivision(["97101", "97102", "48095"]) == "971"


def test_empty_calendar_and_default_end():
    """No item gives a valid calendar with no event; without an end date the horizon repeats 26 times."""
    empty = weekly_calendar("rooms", "Permanences p", dt.date(2027, 2, 1), [], until=dt.date(2027, 3, 1))
    assert "BEGIN:VCALENDAR" in empty.to_ical().decode() and not list(empty.walk("VEVENT"))
    assert icalendar.Calendar.from_ical(empty.to_ical())
    assert plan_end(dt.date(2027, 2, 1), 1) == dt.date(2027, 8, 1)
    assert plan_end(dt.date(2027, 2, 1), 1, dt.date(2027, 3, 1)) == dt.date(2027, 3, 1)
