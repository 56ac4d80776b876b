"""Tests for planner.exports.calendar: the one iCalendar builder of the crews' and providers' calendars."""

from __future__ import annotations

import datetime as dt

from planner.exports.calendar import Event, weekly_calendar

VISIT = Event(
    uid="bus-1-1-2-s1@maillage",
    summary="Mairie (bus-1)",
    day="2027-02-02",
    start="09:00",
    end="11:30",
    location="1 place de la Mairie, Mende",
    lat=44.52,
    lon=3.50,
    description="Arrivée 08:50.",
)


def test_weekly_events_in_paris_time():
    """One event per item, in Europe/Paris with its VTIMEZONE, stamped at the week's Monday (same plan, same file)."""
    text = weekly_calendar("rounds", "Tournée bus-1", dt.date(2027, 2, 1), [VISIT], every_weeks=2).to_ical().decode()
    assert "PRODID:-//Maillage//rounds//FR" in text and "X-WR-CALNAME:Tournée bus-1" in text
    assert text.count("BEGIN:VEVENT") == 1 and "BEGIN:VTIMEZONE" in text
    assert "DTSTART;TZID=Europe/Paris:20270202T090000" in text and "DTEND;TZID=Europe/Paris:20270202T113000" in text
    assert "DTSTAMP:20270201T000000Z" in text and "RRULE:FREQ=WEEKLY;INTERVAL=2" in text
    assert "GEO:44.52;3.5" in text and "UID:bus-1-1-2-s1@maillage" in text


def test_every_week_by_default_and_empty_calendars():
    """Without ``every_weeks`` the rule is plain weekly; no item gives a valid calendar with no event."""
    text = weekly_calendar("rooms", "Permanences p", dt.date(2027, 2, 1), [VISIT]).to_ical().decode()
    assert "RRULE:FREQ=WEEKLY\r\n" in text
    empty = weekly_calendar("rooms", "Permanences p", dt.date(2027, 2, 1), []).to_ical().decode()
    assert "BEGIN:VCALENDAR" in empty and "BEGIN:VEVENT" not in empty
