"""A run folder becomes the next published version of a territory's plan; what changed, person by person.

A run folder (``maillage rounds``, ``rooms`` or ``run``) holds ``run.json`` and, per part, the table of
events: ``rounds/visits.csv`` (one row per stop visit of a truck) and ``rooms/reservations.csv`` (one row
per provider's session). Each event gets a UID that stays the same from one version to the next when it
is "the same" appointment for the people concerned:

- a stop: ``stop-<vehicle>-<stop>-<n>@maillage``, the n-th visit of that stop by that truck in the horizon;
- a session: ``session-<provider>-<premises>-<n>@maillage``, the n-th session of that provider there.

So a stop moved to another day or hour keeps its UID (its ``SEQUENCE`` grows), and an event that is no
longer in the plan stays in the new version as ``CANCELLED``, for calendars to remove it.

One date of a series may change alone (a day off re-planned for that date only): an :class:`Occurrence` of
the version, under the series' UID and the date it replaces (iCalendar ``RECURRENCE-ID``), moved or
cancelled, with its own ``SEQUENCE``; the series and its other dates keep theirs. The next version keeps
the occurrences of the previous one whose series it keeps unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from planner._errors import InputError
from planner.exports._safe import read_csv
from planner.exports.calendar import plan_end
from planner.platform import tokens
from planner.platform.models import (
    AuditEntry,
    EventPerson,
    EventRecord,
    Occurrence,
    Person,
    Plan,
    Run,
    ScenarioRecord,
    Territory,
    utcnow,
)

VISITS = "rounds/visits.csv"
BOOKINGS = "rooms/reservations.csv"
VISIT_COLUMNS = {"vehicle_id", "week", "day", "date", "order", "stop_id", "name", "address", "start", "end"}
BOOKING_COLUMNS = {"provider_id", "provider", "service", "date", "start", "end", "premises_id", "premises", "room"}
CHANGES = ("day", "start", "end", "location", "summary")  # an event whose one of these differs has "moved"


@dataclass(frozen=True)
class PlannedEvent:
    """One event read from a run folder, with the people it belongs to as ``(kind, ref, name)``."""

    uid: str
    kind: str
    day: dt.date
    start: str
    end: str
    every_weeks: int
    summary: str
    location: str
    description: str
    lat: float
    lon: float
    people: tuple[tuple[str, str, str], ...]
    service: str | None = None


@dataclass(frozen=True)
class PlannedOccurrence:
    """One date of series ``uid`` changed alone: the occurrence due on ``occurrence`` moved to ``day``,
    ``start``, ``end``, ``summary`` and ``location`` (``CONFIRMED``) or ``CANCELLED``; ``people`` (kind, ref, name) it
    concerns besides the series' own (the owner of premises it moves to)."""

    uid: str
    occurrence: dt.date
    status: str
    day: dt.date
    start: str
    end: str
    summary: str
    location: str
    description: str
    lat: float
    lon: float
    people: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class RunContent:
    """What a run folder brings to a publication."""

    folder: Path
    record: dict[str, Any]
    record_sha256: str
    summary: dict[str, Any]
    events: list[PlannedEvent]


@dataclass
class PersonChanges:
    """What changed for one person between two versions: events (as ``(before, after)`` when moved), and
    single dates of a series moved or cancelled alone (``dates``)."""

    added: list[EventRecord] = field(default_factory=list)
    moved: list[tuple[EventRecord, EventRecord]] = field(default_factory=list)
    cancelled: list[EventRecord] = field(default_factory=list)
    dates: list[Occurrence] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.moved or self.cancelled or self.dates)


@dataclass(frozen=True)
class Publication:
    """A published version: its plan, each person concerned with their new link (``None`` when they keep the
    one they have) and what changed for them since the previous version."""

    plan: Plan
    people: list[tuple[Person, str | None, PersonChanges]]


def _rows(folder: Path, name: str, needed: set[str]) -> list[dict[str, str]]:
    """The rows of a run's CSV table as text (numbers with a decimal point), in either CSV form Maillage writes."""
    path = folder / name
    if not path.is_file() or path.stat().st_size <= len(b"\xef\xbb\xbf"):  # absent, or empty (no plan found)
        return []
    table = read_csv(path, keep_default_na=False)
    missing = sorted(needed - set(table.columns))
    if missing:
        raise InputError.one(str(path), "header", f"missing columns: {', '.join(missing)}", "is it a Maillage run?")
    return [{column: str(value) for column, value in row.items()} for row in table.to_dict(orient="records")]


def _occurrences(keys: Iterable[str]) -> list[int]:
    seen: Counter[str] = Counter()
    found = []
    for key in keys:
        seen[key] += 1
        found.append(seen[key])
    return found


def _when_where(row: dict[str, str]) -> dict[str, Any]:
    """The fields an event takes from its row as written: date, start and end, position."""
    return {
        "day": dt.date.fromisoformat(row["date"]),
        "start": row["start"],
        "end": row["end"],
        "lat": float(row.get("lat") or 0),
        "lon": float(row.get("lon") or 0),
    }


def _stop(row: dict[str, str], n: int, horizon: int) -> PlannedEvent:
    """The ``n``-th visit of a truck to a stop (visits.csv row), repeating every ``horizon`` weeks."""
    vehicle = row["vehicle_id"]
    leg = f"trajet {row.get('leg_drive_min', '?')} min ({row.get('leg_dist_km', '?')} km) depuis l'étape précédente"
    return PlannedEvent(
        uid=f"stop-{vehicle}-{row['stop_id']}-{n}@maillage",
        kind="stop",
        every_weeks=horizon,
        summary=f"{row['name']} ({vehicle})",
        location=row["address"],
        description=f"Arrivée {row.get('arrival') or row['start']}, {leg}.",
        people=(("crew", vehicle, f"Équipage {vehicle}"),),
        **_when_where(row),
    )


def _session(row: dict[str, str], n: int) -> PlannedEvent:
    """The ``n``-th weekly session of a provider at a premises (reservations.csv row)."""
    provider, premises = row["provider_id"], row["premises_id"]
    people = (
        ("provider", provider, row["provider"] or provider),
        ("premises_owner", premises, row["premises"] or premises),
    )
    return PlannedEvent(
        uid=f"session-{provider}-{premises}-{n}@maillage",
        kind="session",
        every_weeks=1,
        summary=f"Permanence {row['service']} — {row['premises']}",
        location=f"{row['premises']}, {row['room']}, {row.get('address', '')}",
        description=f"{row['provider']} — salle : {row['room']}.",
        service=row["service"],
        people=people,
        **_when_where(row),
    )


def read_run(folder: Path) -> RunContent:
    """Read a run folder's ``run.json``, ``summary.json`` and events; bad or empty folders raise InputError."""
    record_path = folder / "run.json"
    if not record_path.is_file():
        raise InputError.one(
            str(folder), "run.json", "not a run folder (no run.json)", "give a folder `maillage run` wrote"
        )
    raw = record_path.read_bytes()
    try:
        record = json.loads(raw)
    except ValueError as exc:
        raise InputError.one(str(record_path), "", f"not JSON ({exc})") from None
    summary_path = folder / "summary.json"
    summary = _finite(json.loads(summary_path.read_text(encoding="utf-8"))) if summary_path.is_file() else {}
    record = _finite(record)
    parameters = record.get("parameters") or {}
    horizon = int(((parameters.get("rounds") or {}).get("horizon_weeks")) or 1)
    visits = sorted(
        _rows(folder, VISITS, VISIT_COLUMNS),
        key=lambda r: (r["vehicle_id"], int(r["week"]), int(r["day"]), int(r["order"])),
    )
    bookings = sorted(_rows(folder, BOOKINGS, BOOKING_COLUMNS), key=lambda r: (r["provider_id"], r["date"], r["start"]))
    stops = zip(visits, _occurrences(f"{r['vehicle_id']}\0{r['stop_id']}" for r in visits), strict=True)
    sessions = zip(bookings, _occurrences(f"{r['provider_id']}\0{r['premises_id']}" for r in bookings), strict=True)
    events = [_stop(row, n, horizon) for row, n in stops] + [_session(row, n) for row, n in sessions]
    if not events:
        raise InputError.one(
            str(folder), "", f"nothing to publish: neither {VISITS} nor {BOOKINGS} has a row", "run rounds or rooms"
        )
    return RunContent(folder, record, hashlib.sha256(raw).hexdigest(), summary, events)


def read_runs(folders: list[Path]) -> RunContent:
    """Several run folders published together as one version (e.g. a territory's bus rounds and its
    providers' rooms): their events side by side; the run recorded is the first folder's, with every
    folder and its ``run.json`` SHA-256 in its inputs' ``parts``. Two folders bringing the same event refuse."""
    contents = [read_run(folder) for folder in folders]
    if len(contents) == 1:
        return contents[0]
    seen: Counter[str] = Counter(e.uid for c in contents for e in c.events)
    if twice := sorted(uid for uid, n in seen.items() if n > 1):
        raise InputError.one(
            str(folders[1]), "", f"{len(twice)} event(s) also in another folder, e.g. {twice[0]}", "give each part once"
        )
    first = contents[0]
    parts = [{"folder": str(c.folder.resolve()), "run_json_sha256": c.record_sha256} for c in contents]
    joined = hashlib.sha256("".join(c.record_sha256 for c in contents).encode("ascii")).hexdigest()
    summary = {str(c.folder.name): c.summary for c in contents}
    return RunContent(
        first.folder,
        {**first.record, "inputs": {**(first.record.get("inputs") or {}), "parts": parts}},
        joined,
        summary,
        [e for c in contents for e in c.events],
    )


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None`` (JSON columns refuse them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _when(text: object) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def latest_plan(session: Session, territory: Territory) -> Plan | None:
    """The newest published version of ``territory``'s plan."""
    return session.scalar(select(Plan).where(Plan.territory_id == territory.id).order_by(Plan.version.desc()).limit(1))


def plan_events(session: Session, plan: Plan, person: Person | None = None) -> list[EventRecord]:
    """The events of a version (those of ``person`` only when given), in time order."""
    query = select(EventRecord).where(EventRecord.plan_id == plan.id).options(selectinload(EventRecord.people))
    if person is not None:
        query = query.join(EventPerson).where(EventPerson.person_id == person.id)
    return list(session.scalars(query.order_by(EventRecord.day, EventRecord.start, EventRecord.uid)))


def plan_occurrences(session: Session, plan: Plan, person: Person | None = None) -> list[Occurrence]:
    """The single dates of a version's series changed alone (those concerning ``person`` when given), in
    time order."""
    found = session.scalars(
        select(Occurrence)
        .where(Occurrence.plan_id == plan.id)
        .order_by(Occurrence.day, Occurrence.start, Occurrence.uid, Occurrence.occurrence)
    )
    return [o for o in found if person is None or person.id in o.people]


def plan_dates(session: Session, plan: Plan, person: Person | None = None) -> tuple[dt.date, dt.date]:
    """The first and last day of a version's calendars: its first event's day to the end its feeds repeat
    to (``person``'s feed, when given)."""
    events = plan_events(session, plan)
    first = min((e.day for e in events), default=dt.date.today())
    mine = plan_events(session, plan, person) if person is not None else events
    start = min((e.day for e in mine), default=first)
    return first, plan_end(start, max((e.every_weeks for e in mine), default=1))


def _same(a: EventRecord, b: EventRecord) -> bool:
    return all(getattr(a, name) == getattr(b, name) for name in CHANGES)


OCCURRENCE_FIELDS = ("status", "day", "start", "end", "summary", "location", "description", "lat", "lon")


def same_date(a: Occurrence | PlannedOccurrence, b: Occurrence | PlannedOccurrence) -> bool:
    """Whether two single dates of a series say the same (status, day, hours, place, text)."""
    return all(getattr(a, name) == getattr(b, name) for name in OCCURRENCE_FIELDS)


def changes(
    before: Iterable[EventRecord],
    after: Iterable[EventRecord],
    dates_before: Iterable[Occurrence] = (),
    dates_after: Iterable[Occurrence] = (),
) -> PersonChanges:
    """Added, moved and cancelled events from one version's events of a person to the next's, and the
    single dates changed alone in the next one (new, or changed again)."""
    old = {e.uid: e for e in before if e.status == "CONFIRMED"}
    new = {e.uid: e for e in after if e.status == "CONFIRMED"}
    found = PersonChanges()
    found.added = [e for uid, e in new.items() if uid not in old]
    found.moved = [(old[uid], e) for uid, e in new.items() if uid in old and not _same(old[uid], e)]
    found.cancelled = [e for uid, e in old.items() if uid not in new]
    earlier = {(o.uid, o.occurrence): o for o in dates_before}
    found.dates = [
        o for o in dates_after if (o.uid, o.occurrence) not in earlier or not same_date(earlier[o.uid, o.occurrence], o)
    ]
    return found


def person_changes(session: Session, person: Person, version: int, since: int | None = None) -> PersonChanges:
    """What changed for ``person`` in ``version`` since ``since`` (default: the version before)."""
    plans = {
        p.version: p
        for p in session.scalars(
            select(Plan).where(
                Plan.territory_id == person.territory_id, Plan.version.in_([version, since or version - 1])
            )
        )
    }
    if version not in plans:
        raise InputError.one("version", str(version), "no such published version")
    previous = plans.get(since or version - 1)
    before = plan_events(session, previous, person) if previous else []
    dates_before = plan_occurrences(session, previous, person) if previous else []
    after = plans[version]
    return changes(before, plan_events(session, after, person), dates_before, plan_occurrences(session, after, person))


def _person(session: Session, territory: Territory, kind: str, ref: str, name: str) -> Person:
    person = session.scalar(
        select(Person).where(Person.territory_id == territory.id, Person.kind == kind, Person.ref == ref)
    )
    if person is None:
        person = Person(territory_id=territory.id, kind=kind, ref=ref, name=name, password_hash=None)
        session.add(person)
        session.flush()
        session.add(AuditEntry(actor="maillage", action="person_added", subject=f"{kind}:{ref}", detail={"name": name}))
    elif person.name != name:
        person.name = name
    return person


# The fields an event record takes from the planned event (or, when cancelled, from its previous record).
_EVENT_FIELDS = ("kind", "day", "start", "end", "every_weeks", "summary", "service", "location", "description")


def _record(plan_id: int, uid: str, source: PlannedEvent | EventRecord, **fields: Any) -> EventRecord:
    """The record of event ``uid`` in plan ``plan_id``, its details and position those of ``source``."""
    details = {name: getattr(source, name) for name in _EVENT_FIELDS}
    position = {"lat": source.lat, "lon": source.lon, "geom": f"POINT ({source.lon} {source.lat})"}
    return EventRecord(plan_id=plan_id, uid=uid, **details, **position, **fields)


def publish(
    session: Session,
    content: RunContent,
    *,
    territory: str | None = None,
    by: str,
    link_days: int = tokens.LINK_DAYS,
    new_links: bool = False,
    occurrences: Iterable[PlannedOccurrence] = (),
) -> Publication:
    """Publish ``content`` as the next version of ``territory``'s plan (default: the scenario's name).

    People are created or renamed; those without a valid link (all with ``new_links``) get one. The
    events of the previous version that are not in this one are kept, cancelled, with a higher SEQUENCE.
    ``occurrences`` change single dates of this version's series; those of the previous version whose
    series is unchanged are kept (with their SEQUENCE) unless one of ``occurrences`` replaces them.
    """
    parameters = content.record.get("parameters") or {}
    name = (territory or str(parameters.get("name") or "")).strip()
    if not name:
        raise InputError.one("--territory", "", "no territory name", "give --territory NAME")
    place = session.scalar(select(Territory).where(Territory.name == name).with_for_update())
    if place is None:
        place = Territory(name=name)
        session.add(place)
        session.flush()
    previous = latest_plan(session, place)
    version = session.scalar(select(func.max(Plan.version)).where(Plan.territory_id == place.id)) or 0
    scenario = ScenarioRecord(territory_id=place.id, name=str(parameters.get("name") or name), parameters=parameters)
    session.add(scenario)
    session.flush()
    run = Run(
        territory_id=place.id,
        scenario_id=scenario.id,
        folder=str(content.folder.resolve()),
        record_sha256=content.record_sha256,
        command=list(content.record.get("command") or []),
        inputs=dict(content.record.get("inputs") or {}),
        parameters=parameters,
        summary=content.summary,
        started_at=_when(content.record.get("started_utc")),
        finished_at=_when(content.record.get("finished_utc")),
    )
    session.add(run)
    session.flush()
    plan = Plan(territory_id=place.id, version=version + 1, run_id=run.id, published_by=by, published_at=utcnow())
    session.add(plan)
    session.flush()

    before = {e.uid: e for e in plan_events(session, previous)} if previous else {}
    people: dict[tuple[str, str], Person] = {}
    for item in content.events:
        old = before.get(item.uid)
        record = _record(plan.id, item.uid, item, status="CONFIRMED")
        unchanged = old is not None and old.status == "CONFIRMED" and _same(old, record)
        record.sequence = 0 if old is None else old.sequence + (0 if unchanged else 1)
        for kind, ref, label in item.people:
            if (kind, ref) not in people:
                people[kind, ref] = _person(session, place, kind, ref, label)
            record.people.append(EventPerson(person_id=people[kind, ref].id))
        session.add(record)
    planned = {item.uid for item in content.events}
    for uid, old in before.items():
        if uid in planned:
            continue
        sequence = old.sequence + (0 if old.status == "CANCELLED" else 1)
        gone = _record(plan.id, uid, old, status="CANCELLED", sequence=sequence)
        gone.people = [EventPerson(person_id=link.person_id) for link in old.people]
        session.add(gone)
    session.flush()
    dated = _dates(session, place, plan, previous, list(occurrences))

    concerned = {link.person_id for e in before.values() if e.status == "CONFIRMED" for link in e.people}
    concerned |= {p.id for p in people.values()} | {i for o in dated for i in o.people}
    everyone = session.scalars(select(Person).where(Person.id.in_(concerned)).order_by(Person.kind, Person.ref))
    result = []
    for person in everyone:
        link = (
            tokens.issue(session, person, days=link_days, actor=by)
            if new_links or not tokens.has_valid_link(session, person)
            else None
        )
        result.append((person, link, person_changes(session, person, plan.version)))
    session.add(
        AuditEntry(
            actor=by,
            action="plan_published",
            subject=f"{name} v{plan.version}",
            detail={
                "run_folder": run.folder,
                "run_json_sha256": run.record_sha256,
                "events": len(content.events),
                "dates": len(dated),
            },
        )
    )
    return Publication(plan, result)


def _dates(
    session: Session, place: Territory, plan: Plan, previous: Plan | None, given: list[PlannedOccurrence]
) -> list[Occurrence]:
    """Record ``plan``'s single dates changed alone: ``given``, and those of ``previous`` whose series is
    unchanged (same SEQUENCE, confirmed) and that ``given`` does not replace."""
    series = {e.uid: e for e in plan_events(session, plan)}
    earlier = {(o.uid, o.occurrence): o for o in plan_occurrences(session, previous)} if previous else {}
    old_series = {e.uid: e for e in plan_events(session, previous)} if previous else {}
    wanted = {(o.uid, o.occurrence): o for o in given}
    unknown = sorted(o.uid for o in given if o.uid not in series or series[o.uid].status != "CONFIRMED")
    if unknown:
        raise InputError.one("occurrences", unknown[0], "no such confirmed event in this version", "re-plan again")
    found = []
    for key, before in earlier.items():
        kept = series.get(before.uid)
        was = old_series.get(before.uid)
        if key in wanted or kept is None or was is None or kept.status != "CONFIRMED" or kept.sequence != was.sequence:
            continue
        found.append(_occurrence_record(plan.id, before, before.people, before.sequence))
    for key, item in wanted.items():
        owner = series[item.uid]
        extra = [_person(session, place, kind, ref, name).id for kind, ref, name in item.people]
        ids = sorted({link.person_id for link in owner.people} | set(extra))
        old = earlier.get(key)
        if old is not None and same_date(old, item):
            sequence = old.sequence
        else:
            sequence = max(owner.sequence, old.sequence if old is not None else 0) + 1
        found.append(_occurrence_record(plan.id, item, ids, sequence))
    session.add_all(found)
    session.flush()
    return found


def _occurrence_record(
    plan_id: int, source: Occurrence | PlannedOccurrence, people: list[int], sequence: int
) -> Occurrence:
    details = {name: getattr(source, name) for name in ("uid", "occurrence", *OCCURRENCE_FIELDS)}
    return Occurrence(plan_id=plan_id, sequence=sequence, people=list(people), **details)
