"""Residents' appointments in the providers' published sessions.

A session of the newest published version (a provider's permanence in a room) repeats every
``every_weeks`` weeks; each occurrence is cut into slots of the service's length (``service_slots``,
default :data:`DEFAULT_SLOTS`), each slot takes ``capacity`` residents. A booking is one row of
``appointments`` holding a seat number 1..capacity: the unique constraint on (territory, session UID, day,
start, seat) makes a double booking impossible whatever the concurrency, on SQLite and on PostgreSQL; a
lost race is retried on the next free seat, and when none is left the resident is told the slot is full.

What is kept about a resident: the reference shown to them, the SHA-256 of their cancellation link, and
a phone number or an e-mail address only if they give one (for the provider to reach them if the session
moves). Cancelling erases the phone and e-mail at once; :func:`purge` deletes every appointment
:data:`RETENTION_DAYS` days after its day (``maillage appointments purge``, also run when the service starts).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from planner.i18n import date_text, label
from planner.platform.models import Appointment, AuditEntry, EventRecord, Person, Plan, ServiceSlots, utcnow
from planner.platform.publish import latest_plan, plan_events, plan_occurrences

DEFAULT_SLOTS = (30, 1)  # minutes per slot, residents per slot
RETENTION_DAYS = 30  # an appointment is deleted this many days after its day
WEEKS_AHEAD = 4  # occurrences of a session open to booking
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
PHONE = re.compile(r"\+?[0-9][0-9 .-]{5,19}")
EMAIL = re.compile(r"[^@\s<>\"'\\]{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,24}")
CANCEL_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


class BookingError(Exception):
    """A booking or cancellation that cannot be done: the label key of the sentence to show the resident
    (``booking_error_*``; :func:`planner.i18n.label` writes it in the page's language)."""


class SlotFull(BookingError):
    """Every seat of the slot is taken."""


@dataclass(frozen=True)
class Slot:
    """One slot of one occurrence of a session, with how many seats are taken."""

    day: dt.date
    start: str
    end: str
    capacity: int
    taken: int

    @property
    def key(self) -> str:
        return f"{self.day.isoformat()}T{self.start}"

    @property
    def free(self) -> int:
        return max(self.capacity - self.taken, 0)


@dataclass(frozen=True)
class Booking:
    """A booking made: its reference, and the cancellation token (shown once, stored hashed)."""

    reference: str
    cancel_token: str
    day: dt.date
    start: str
    end: str


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def slot_rule(session: Session, territory_id: int, service: str | None) -> tuple[int, int]:
    """``(minutes, capacity)`` of a service's slots in a territory."""
    found = session.scalar(
        select(ServiceSlots).where(ServiceSlots.territory_id == territory_id, ServiceSlots.service == (service or ""))
    )
    return (found.slot_minutes, found.capacity) if found else DEFAULT_SLOTS


def set_slot_rule(session: Session, territory_id: int, service: str, minutes: int, capacity: int) -> None:
    """Set a service's slot length and capacity in a territory (5-480 minutes, 1-100 residents)."""
    if not 5 <= minutes <= 480 or not 1 <= capacity <= 100:
        raise BookingError("a slot lasts 5 to 480 minutes and takes 1 to 100 residents")
    found = session.scalar(
        select(ServiceSlots).where(ServiceSlots.territory_id == territory_id, ServiceSlots.service == service)
    )
    if found is None:
        session.add(ServiceSlots(territory_id=territory_id, service=service, slot_minutes=minutes, capacity=capacity))
    else:
        found.slot_minutes, found.capacity = minutes, capacity
    session.add(
        AuditEntry(
            actor="maillage",
            action="slots_set",
            subject=service,
            detail={"territory_id": territory_id, "minutes": minutes, "capacity": capacity},
        )
    )


def occurrences(event: EventRecord, today: dt.date, weeks: int = WEEKS_AHEAD) -> list[dt.date]:
    """The session's next days from ``today`` on (or from its first day, when later), over ``weeks`` weeks."""
    every = max(event.every_weeks, 1)
    step = dt.timedelta(days=7 * every)
    first = event.day
    if first < today:
        first += step * -(-(today - first).days // step.days)
    return [first + step * k for k in range(max(weeks // every, 1))]


class Hours(Protocol):
    """Anything with a start and an end (HH:MM): a session, one date of it, where an appointment goes."""

    @property
    def start(self) -> str: ...

    @property
    def end(self) -> str: ...


def slot_times(event: Hours, minutes: int) -> list[tuple[str, str]]:
    """The ``(start, end)`` of each whole slot of ``minutes`` in the session."""
    begin, finish = _minutes(event.start), _minutes(event.end)
    return [(_hhmm(t), _hhmm(t + minutes)) for t in range(begin, finish - minutes + 1, minutes)]


def bookable_event(session: Session, event_id: int) -> tuple[EventRecord, Plan]:
    """The session ``event_id`` when it is a confirmed session of its territory's newest version."""
    event = session.get(EventRecord, event_id)
    plan = session.get(Plan, event.plan_id) if event is not None else None
    newest = latest_plan(session, plan.territory) if plan is not None else None
    if event is None or plan is None or newest is None or newest.id != plan.id:
        raise BookingError("booking_error_gone")
    if event.kind != "session" or event.status != "CONFIRMED":
        raise BookingError("booking_error_gone")
    return event, plan


def slots(session: Session, event: EventRecord, plan: Plan, today: dt.date | None = None) -> list[Slot]:
    """Every slot of the session's next occurrences with its seats taken: a date moved alone (a day off
    re-planned) at its new day and hours, a date cancelled alone not at all."""
    minutes, capacity = slot_rule(session, plan.territory_id, event.service)
    today = today or dt.date.today()
    days = occurrences(event, today)
    changed = [o for o in plan_occurrences(session, plan) if o.uid == event.uid]
    gone = {o.occurrence for o in changed}
    when: list[tuple[dt.date, Hours]] = [(day, event) for day in days if day not in gone]
    when += [(o.day, o) for o in changed if o.status == "CONFIRMED" and today <= o.day and o.occurrence in days]
    rows = session.execute(
        select(Appointment.day, Appointment.start, func.count())
        .where(
            Appointment.territory_id == plan.territory_id,
            Appointment.event_uid == event.uid,
            Appointment.day.in_([day for day, _ in when]),
            Appointment.seat.is_not(None),
        )
        .group_by(Appointment.day, Appointment.start)
    )
    taken = {(day, start): int(count) for day, start, count in rows}
    found = [
        Slot(day, start, end, capacity, taken.get((day, start), 0))
        for day, hours in when
        for start, end in slot_times(hours, minutes)
    ]
    return sorted(found, key=lambda slot: slot.key)


def notice(key: str, **values: str) -> str:
    """A re-planning notice as stored on an appointment: its label key and values (a ``date`` in ISO form),
    so that :func:`notice_text` writes it in the language of whoever reads it."""
    return json.dumps({"key": key, **values}, ensure_ascii=False)


def notice_text(stored: str | None, lang: str = "fr") -> str:
    """A stored notice in ``lang`` (a notice stored as plain text, as it is)."""
    if not stored:
        return ""
    try:
        values = json.loads(stored)
        key = str(values.pop("key"))
    except (ValueError, AttributeError, KeyError, TypeError):
        return stored
    return label(key, lang, **{k: date_text(v, lang) if k == "date" else str(v) for k, v in values.items()})


def _clean_contact(phone: str | None, email: str | None) -> tuple[str | None, str | None]:
    phone = (phone or "").strip() or None
    email = (email or "").strip() or None
    if phone is not None and not PHONE.fullmatch(phone):
        raise BookingError("booking_error_phone")
    if email is not None and (len(email) > 254 or not EMAIL.fullmatch(email)):
        raise BookingError("booking_error_email")
    return phone, email


def _reference() -> str:
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"RDV-{code[:4]}-{code[4:]}"


def digest(token: str) -> str:
    """The SHA-256 (hex) under which a cancellation token is stored."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def book(
    sessions: sessionmaker[Session],
    event_id: int,
    slot_key: str,
    *,
    phone: str | None = None,
    email: str | None = None,
    today: dt.date | None = None,
) -> Booking:
    """Book the slot ``slot_key`` (``YYYY-MM-DDTHH:MM``) of session ``event_id``.

    Each attempt is its own short transaction whose only statements are inserts, so that on SQLite it
    waits for the write lock instead of failing, and on PostgreSQL a concurrent insert of the same seat
    waits for the other to commit and then fails on the unique constraint: the loser retries on the next
    free seat, or learns the slot is full (:class:`SlotFull`). Raises :class:`BookingError` for a slot
    that is not one of the session's.
    """
    phone, email = _clean_contact(phone, email)
    with sessions() as session:
        event, plan = bookable_event(session, event_id)
        offered = {s.key: s for s in slots(session, event, plan, today)}
        if slot_key not in offered:
            raise BookingError("booking_error_slot")
        slot = offered[slot_key]
        territory_id, uid = plan.territory_id, event.uid
    for _ in range(slot.capacity + 5):
        with sessions() as session:
            taken = set(
                session.scalars(
                    select(Appointment.seat).where(
                        Appointment.territory_id == territory_id,
                        Appointment.event_uid == uid,
                        Appointment.day == slot.day,
                        Appointment.start == slot.start,
                        Appointment.seat.is_not(None),
                    )
                )
            )
        free = [seat for seat in range(1, slot.capacity + 1) if seat not in taken]
        if not free:
            break
        token, reference = secrets.token_urlsafe(32), _reference()
        try:
            with sessions.begin() as session:
                session.add(
                    Appointment(
                        territory_id=territory_id,
                        event_uid=uid,
                        day=slot.day,
                        start=slot.start,
                        end=slot.end,
                        seat=free[0],
                        status="BOOKED",
                        reference=reference,
                        cancel_sha256=digest(token),
                        phone=phone,
                        email=email,
                    )
                )
                session.add(
                    AuditEntry(
                        actor="resident",
                        action="appointment_booked",
                        subject=reference,
                        detail={"session": uid, "day": slot.day.isoformat(), "start": slot.start},
                    )
                )
        except IntegrityError:
            continue
        return Booking(reference, token, slot.day, slot.start, slot.end)
    raise SlotFull("booking_error_full")


def by_cancel_token(session: Session, token: str) -> Appointment | None:
    """The appointment a cancellation token opens (``None`` when malformed or unknown)."""
    if not CANCEL_SHAPE.fullmatch(token):
        return None
    return session.scalar(select(Appointment).where(Appointment.cancel_sha256 == digest(token)))


def cancel(session: Session, appointment: Appointment, *, actor: str = "resident", notice: str | None = None) -> bool:
    """Cancel an appointment: its seat is freed, the phone and e-mail erased. ``False`` if it already was."""
    if appointment.status == "CANCELLED":
        return False
    appointment.status, appointment.seat, appointment.cancelled_at = "CANCELLED", None, utcnow()
    appointment.phone = appointment.email = None
    if notice:
        appointment.notice = notice
    elif actor == "resident":  # the resident's own choice: no re-planning notice stays on it
        appointment.notice = None
    session.add(AuditEntry(actor=actor, action="appointment_cancelled", subject=appointment.reference, detail={}))
    return True


def purge(session: Session, *, days: int = RETENTION_DAYS, today: dt.date | None = None) -> int:
    """Delete every appointment whose day is more than ``days`` days ago; return how many."""
    cutoff = (today or dt.date.today()) - dt.timedelta(days=days)
    done = session.execute(delete(Appointment).where(Appointment.day < cutoff))
    count = int(getattr(done, "rowcount", 0) or 0)
    if count:
        session.add(
            AuditEntry(
                actor="maillage",
                action="appointments_purged",
                subject="",
                detail={"count": count, "before": str(cutoff)},
            )
        )
    return count


def person_appointments(session: Session, person: Person, plan: Plan | None) -> list[Appointment]:
    """The booked appointments in ``person``'s sessions (a provider's), by day and time."""
    if plan is None or person.kind != "provider":
        return []
    uids = [e.uid for e in plan_events(session, plan, person) if e.kind == "session"]
    if not uids:
        return []
    return list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.territory_id == person.territory_id,
                Appointment.event_uid.in_(uids),
                Appointment.status == "BOOKED",
            )
            .order_by(Appointment.day, Appointment.start, Appointment.reference)
        )
    )


def booked_counts(appointments: list[Appointment]) -> dict[str, list[tuple[dt.date, int]]]:
    """Per session UID, the number of appointments per day (what a feed may say: counts, no one's data)."""
    counts: dict[str, dict[dt.date, int]] = {}
    for item in appointments:
        per_day = counts.setdefault(item.event_uid, {})
        per_day[item.day] = per_day.get(item.day, 0) + 1
    return {uid: sorted(days.items()) for uid, days in counts.items()}


def replan_notices(session: Session, person: Person, plan: Plan | None) -> dict[str, str]:
    """Per session UID of ``person`` (a provider) in ``plan``, what a re-planning did to its appointments, for
    the feed: how many were moved into it and how many cancelled with it (counts only; the residents were
    given a notice on their appointment's page)."""
    if plan is None or person.kind != "provider":
        return {}
    uids = [e.uid for e in plan_events(session, plan, person) if e.kind == "session"]
    rows = session.execute(
        select(Appointment.event_uid, Appointment.status, func.count())
        .where(
            Appointment.territory_id == person.territory_id,
            Appointment.event_uid.in_(uids),
            Appointment.notice.is_not(None),
        )
        .group_by(Appointment.event_uid, Appointment.status)
    )
    found: dict[str, str] = {}
    for uid, status, count in rows:
        what = "déplacé(s) ici" if status == "BOOKED" else "annulé(s)"
        found[uid] = (
            found.get(uid, "") + f" {count} rendez-vous {what} par le changement de planning (habitants prévenus)."
        )
    return found
