"""A person's part of the newest published plan: their week for the page, their calendar feed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from planner.exports.calendar import Event, plan_end, weekly_calendar
from planner.platform.appointments import booked_counts, person_appointments, replan_notices
from planner.platform.models import EventRecord, Occurrence, Person, Plan
from planner.platform.publish import latest_plan, plan_events, plan_occurrences

KIND_LABELS = {
    "crew": "Équipage",
    "provider": "Intervenant·e",
    "premises_owner": "Lieu d'accueil",
    "planner": "Planificateur·rice",
}


@dataclass(frozen=True)
class Week:
    """What a person's page shows: who, which version, their events by day (cancelled ones apart), and the
    single dates changed alone (a session moved or cancelled on one date only)."""

    person: Person
    plan: Plan | None
    days: list[tuple[dt.date, list[EventRecord]]]
    cancelled: list[EventRecord]
    dates: list[Occurrence]


def person_week(session: Session, person: Person) -> Week:
    """``person``'s events in the newest published version of their territory's plan, by day."""
    plan = latest_plan(session, person.territory)
    events = plan_events(session, plan, person) if plan else []
    days: dict[dt.date, list[EventRecord]] = {}
    for event in events:
        if event.status == "CONFIRMED":
            days.setdefault(event.day, []).append(event)
    named = [(day, days[day]) for day in sorted(days)]
    dates = plan_occurrences(session, plan, person) if plan else []
    return Week(person, plan, named, [e for e in events if e.status == "CANCELLED"], dates)


def person_calendar(session: Session, person: Person) -> bytes:
    """``person``'s iCalendar feed (METHOD:PUBLISH): every event of the newest version with its stable UID,
    SEQUENCE and STATUS (removed events as CANCELLED); DTSTAMP is the publication time. A provider's
    sessions say how many appointments each day has, and nothing about who booked them."""
    week = person_week(session, person)
    plan = week.plan
    counts = booked_counts(person_appointments(session, person, plan))
    notices = replan_notices(session, person, plan)
    events = [e for _, day in week.days for e in day] + week.cancelled
    every = max((e.every_weeks for e in events), default=1)
    label = KIND_LABELS.get(person.kind, person.kind)
    first = min((e.day for e in events), default=dt.date(2000, 1, 3))
    series = {e.uid: e for e in plan_events(session, plan)} if plan and week.dates else {}
    held = {e.uid for e in events}
    calendar = weekly_calendar(
        person.kind,
        f"{person.name} ({label}) — Maillage" if person.kind == "provider" else f"{person.name} — Maillage",
        first,
        [
            *(
                Event(
                    e.uid,
                    e.summary,
                    e.day.isoformat(),
                    e.start,
                    e.end,
                    e.location,
                    e.lat,
                    e.lon,
                    e.description + _bookings(counts.get(e.uid, [])) + notices.get(e.uid, ""),
                    sequence=e.sequence,
                    status=e.status,
                )
                for e in events
            ),
            *(_date_event(o, series[o.uid], counts.get(o.uid, []), o.uid in held) for o in week.dates),
        ],
        every if every > 1 else None,
        until=plan_end(first, every),
        generated=plan.published_at if plan else None,
    )
    return bytes(calendar.to_ical())


def _date_event(date: Occurrence, series: EventRecord, counts: list[tuple[dt.date, int]], holder: bool) -> Event:
    """The calendar event of one date of ``series`` changed alone: for whoever holds the series, an instance
    of it (``RECURRENCE-ID``: the date and time the series had it at); for someone else (the owner of the
    premises it moved to), an event of its own on that date, under a UID of its own. The appointments it
    holds are counted on its new day."""
    return Event(
        date.uid if holder else f"{date.occurrence.isoformat()}-{date.uid}",
        date.summary,
        date.day.isoformat(),
        date.start,
        date.end,
        date.location,
        date.lat,
        date.lon,
        date.description + _bookings([(day, n) for day, n in counts if day == date.day]),
        sequence=date.sequence,
        status=date.status,
        replaces=f"{date.occurrence.isoformat()}T{series.start}" if holder else None,
        once=not holder,
    )


def _bookings(days: list[tuple[dt.date, int]]) -> str:
    if not days:
        return ""
    return " Rendez-vous réservés : " + ", ".join(f"{day.strftime('%d/%m/%Y')} : {n}" for day, n in days) + "."
