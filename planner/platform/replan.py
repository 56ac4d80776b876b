"""Re-planning without upheaval: days off, broken-down vehicles and withdrawn rooms become the next version.

A provider or a crew declares a day they cannot work, a premises owner withdraws their room
(:func:`declare`). :func:`replan` re-optimises the parts of the newest version those declarations touch,
with the project's rooms and rounds models (through their jobs, on the scenario recorded in each part's
``run.json``), and publishes the result as version n+1.

Stability comes first, lexicographically, by the inputs given to the models rather than by a new model.
Three levels are tried in order and the first that has a plan is kept:

1. ``pinned``: only the people concerned (a session or a stop on a day off, a session in a withdrawn room)
   are re-planned. Every session of everyone else is kept as it is: each is solved as a provider of its
   own, restricted to its day, its hours and its premises (and put back in its room when the model chose
   another one of the same premises that is free then). Every other vehicle keeps its days and every stop
   served stays served (``stops.required``): the rounds model has no input to pin a stop to a vehicle and
   a day. The people concerned lose the day (or the premises) and prefer their current premises
   (``preferred``: a session elsewhere costs ``off_preference_eur``).
2. ``preferred``: everyone may move, all prefer their current premises, every served stop stays served.
3. ``free``: the plain re-optimisation with the unavailabilities only.

The plan is a repeating week (a fortnight for rounds): a day given is freed on that weekday in every
repetition of the new version; a withdrawn room is withdrawn for good. Residents' appointments follow
their session: moved to the same time (or slot) of the session's new day or of the provider's new
session replacing it, on a free seat, with a notice; cancelled with a notice when there is none.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner._errors import InfeasibleError, InputError
from planner.exports._safe import file_name, read_csv
from planner.i18n import date_text, label
from planner.platform.appointments import cancel, slot_rule, slot_times
from planner.platform.models import Appointment, AuditEntry, EventRecord, Person, Plan, Run, Territory, Unavailability
from planner.platform.publish import BOOKINGS, VISITS, Publication, latest_plan, plan_events, publish, read_runs
from planner.runs.pipeline import ScenarioRun, run_scenario
from planner.runs.record import write_scenario_run
from planner.scenario import ProviderSpec, RoomsSpec, RoundsSpec, Scenario, validated

LEVELS = ("pinned", "preferred", "free")
PREMISES_TABLE = "rooms/occupation.csv"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Off:
    """What the pending declarations take away: weekdays per provider and per vehicle, premises withdrawn."""

    providers: dict[str, set[int]] = field(default_factory=dict)
    vehicles: dict[str, set[int]] = field(default_factory=dict)
    premises: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.providers or self.vehicles or self.premises)


@dataclass(frozen=True)
class Held:
    """What the newest version gives each person: weekdays and premises per provider, weekdays per vehicle,
    every stop served."""

    provider_days: dict[str, set[int]]
    provider_premises: dict[str, set[str]]
    vehicle_days: dict[str, set[int]]
    stops: set[str]
    sessions: dict[str, dict[int, list[tuple[str, str, str]]]]  # provider -> weekday -> (premises, start, end)


@dataclass(frozen=True)
class AppointmentOutcome:
    """What became of one resident's appointment: ``moved`` (with its new day and time) or ``cancelled``."""

    reference: str
    outcome: str
    before: tuple[dt.date, str]
    after: tuple[dt.date, str] | None
    reachable: bool  # the resident left a phone or an e-mail


@dataclass(frozen=True)
class Replanned:
    """A re-planning: the version published, the level each re-run part was solved at, the appointments
    moved or cancelled, and the declarations it answered."""

    publication: Publication
    levels: dict[str, str]
    appointments: list[AppointmentOutcome]
    answered: int


# ------------------------------------------------------------------------------------------ declaring


def declare(session: Session, person: Person, day: dt.date | None, *, by: str, reason: str = "") -> Unavailability:
    """Record that ``person`` cannot work on ``day`` (a provider, a crew) or withdraws their room (a premises
    owner, ``day`` ``None``); :func:`replan` takes it into account."""
    if person.kind in ("provider", "crew") and day is None:
        raise InputError.one("--day", "", f"a {person.kind} declares a day", "give --day YYYY-MM-DD")
    if person.kind == "premises_owner" and day is not None:
        raise InputError.one("--day", day.isoformat(), "a room is withdrawn for good, not for a day", "leave out --day")
    if person.kind not in ("provider", "crew", "premises_owner"):
        raise InputError.one("PERSON_ID", str(person.id), f"a {person.kind} has no plan to be unavailable for")
    found = Unavailability(person_id=person.id, day=day, reason=reason.strip()[:200], declared_by=by)
    session.add(found)
    session.add(
        AuditEntry(
            actor=by,
            action="unavailability_declared",
            subject=f"{person.kind}:{person.ref}",
            detail={"day": day.isoformat() if day else None, "reason": found.reason},
        )
    )
    return found


def pending(session: Session, territory: Territory) -> list[Unavailability]:
    """The declarations of ``territory``'s people no published version has answered yet."""
    return list(
        session.scalars(
            select(Unavailability)
            .join(Person)
            .where(Person.territory_id == territory.id, Unavailability.replanned_in.is_(None))
            .order_by(Unavailability.id)
        )
    )


def _off(declared: list[Unavailability]) -> Off:
    off = Off()
    for item in declared:
        ref = item.person.ref
        if item.person.kind == "premises_owner":
            off.premises.add(ref)
        elif item.day is not None:
            target = off.providers if item.person.kind == "provider" else off.vehicles
            target.setdefault(ref, set()).add(item.day.isoweekday())
    return off


def _held(events: list[EventRecord], people: dict[int, Person]) -> Held:
    held = Held({}, {}, {}, set(), {})
    for event in events:
        if event.status != "CONFIRMED":
            continue
        refs = {people[link.person_id].kind: people[link.person_id].ref for link in event.people}
        if event.kind == "session" and "provider" in refs:
            held.provider_days.setdefault(refs["provider"], set()).add(event.day.isoweekday())
            if "premises_owner" in refs:
                held.provider_premises.setdefault(refs["provider"], set()).add(refs["premises_owner"])
                day = held.sessions.setdefault(refs["provider"], {}).setdefault(event.day.isoweekday(), [])
                day.append((refs["premises_owner"], event.start, event.end))
        elif event.kind == "stop" and "crew" in refs:
            held.vehicle_days.setdefault(refs["crew"], set()).add(event.day.isoweekday())
            held.stops.add(event.uid.removeprefix(f"stop-{refs['crew']}-").rsplit("-", 1)[0])
    return held


# ------------------------------------------------------------------------------------------- scenarios


def _days_left(days: list[int], off: set[int], who: str) -> list[int]:
    left = [d for d in days if d not in off]
    if not left:
        raise InputError.one(who, "days", "no working day left after the unavailabilities", "declare fewer days")
    return left


PSEUDO = "~"  # a pinned session is solved as a provider of its own: ``<provider>~<weekday>-<n>``
DAYS_TABLE = "rooms/journees.csv"


def _pinned_sessions(p: ProviderSpec, held: Held, premises: list[str]) -> list[ProviderSpec]:
    """One provider per session of ``p``: its day, its hours and its premises only, so it stays as it is."""
    return [
        p.model_copy(
            update={
                "provider_id": f"{p.provider_id}{PSEUDO}{day}-{n}",
                "name": p.name or p.provider_id,
                "days": [day],
                "start": start,
                "end": end,
                "sessions_per_week": 1,
                "forbidden": sorted(set(premises) - {place}),
                "preferred": [],
            }
        )
        for day, sessions in sorted(held.sessions[p.provider_id].items())
        for n, (place, start, end) in enumerate(sorted(sessions, key=lambda s: s[1]), start=1)
    ]


def _rooms_spec(spec: RoomsSpec, off: Off, held: Held, level: str, premises: list[str]) -> RoomsSpec:
    """``spec`` with the unavailabilities, and at ``level`` the stability inputs (see the module's docstring)."""
    providers = []
    for p in spec.providers:
        days = _days_left(list(p.days), off.providers.get(p.provider_id, set()), f"provider {p.provider_id}")
        mine = held.provider_premises.get(p.provider_id, set())
        forbidden = set(p.forbidden) | off.premises
        preferred = set(p.preferred) if level == "free" else (mine - off.premises) or set(p.preferred)
        concerned = bool(held.provider_days.get(p.provider_id, set()) & off.providers.get(p.provider_id, set()))
        concerned |= bool(mine & off.premises)  # only a session on a day off or in a withdrawn room moves her
        if level == "pinned" and not concerned and p.provider_id in held.sessions:
            providers += _pinned_sessions(p, held, premises)
            continue
        providers.append(
            p.model_copy(update={"days": days, "forbidden": sorted(forbidden), "preferred": sorted(preferred)})
        )
    return spec.model_copy(update={"providers": providers})


def _same_rooms(bookings: pd.DataFrame, before: pd.DataFrame, pinned: set[str]) -> pd.DataFrame:
    """``bookings`` with each pinned session back in the room it had, when the model put it in another room of
    the same premises and that room is still free then (the room fitted it before; nothing about it changed)."""
    rooms = {
        (r.provider_id, r.date, r.start, r.premises_id): (r.room_id, r.room, r.hire_eur)
        for r in before.itertuples()
        if r.provider_id in pinned
    }
    fixed = bookings.copy()
    for index, row in bookings.iterrows():
        old = rooms.get((row["provider_id"], str(row["date"]), str(row["start"]), row["premises_id"]))
        if old is None or old[0] == row["room_id"]:
            continue
        taken = fixed[
            (fixed["premises_id"] == row["premises_id"])
            & (fixed["date"] == row["date"])
            & (fixed["room_id"] == old[0])
            & (fixed["start"] < row["end"])
            & (fixed["end"] > row["start"])
        ]
        if taken.empty:
            fixed.loc[index, ["room_id", "room", "hire_eur"]] = [old[0], old[1], float(str(old[2]).replace(",", "."))]
    return fixed


def _unpinned(run: ScenarioRun, plain: Scenario, folder: Path) -> ScenarioRun:
    """``run`` with the pinned sessions named back as their provider, whose days (unchanged) are those of the
    published part in ``folder``, and the scenario without them (``plain``), as ``run.json`` records it."""
    if run.rooms is None or plain.rooms is None:
        return run
    rooms = run.rooms
    run.scenario = plain
    ids = rooms.bookings["provider_id"].astype(str)
    bookings = rooms.bookings.assign(provider_id=ids.str.split(PSEUDO, n=1, regex=False).str[0])
    pinned = set(bookings.loc[ids.str.contains(PSEUDO, regex=False), "provider_id"])
    bookings = _same_rooms(bookings, read_csv(folder / BOOKINGS, dtype=str), pinned)
    before = read_csv(folder / DAYS_TABLE, dtype={"provider_id": str})
    days = pd.concat(
        [
            rooms.provider_days[~rooms.provider_days["provider_id"].astype(str).str.contains(PSEUDO, regex=False)],
            before[before["provider_id"].isin(pinned)].reindex(columns=rooms.provider_days.columns),
        ],
        ignore_index=True,
    ).sort_values(["provider_id", "day"], ignore_index=True)
    kpis = rooms.kpis.copy()
    kpis["provider_km_per_week"] = float(days["drive_km"].sum())
    kpis["provider_hours_per_week"] = float(days["duty_hours"].sum())
    kpis["provider_drive_hours_per_week"] = float(days["drive_min"].sum() / 60)
    run.rooms = replace(rooms, spec=plain.rooms, bookings=bookings, provider_days=days, kpis=kpis)
    return run


def _rounds_spec(spec: RoundsSpec, off: Off, held: Held, level: str) -> RoundsSpec:
    """``spec`` with the vehicles' days off, and at ``level`` the stability inputs."""
    fleet = []
    for v in spec.fleet:
        days = _days_left(list(v.days), off.vehicles.get(v.vehicle_id, set()), f"vehicle {v.vehicle_id}")
        mine = held.vehicle_days.get(v.vehicle_id, set())
        if level == "pinned" and mine and not mine & off.vehicles.get(v.vehicle_id, set()):
            days = sorted(mine)
        fleet.append(v.model_copy(update={"days": days}))
    required = set(spec.stops.required) | (held.stops if level != "free" else set())
    stops = spec.stops.model_copy(update={"required": sorted(required)})
    return spec.model_copy(update={"fleet": fleet, "stops": stops})


def _monday(folder: Path, table: str) -> dt.date | None:
    """The Monday of a part's first event: the re-run keeps the dates of the published version."""
    path = folder / table
    if not path.is_file():
        return None
    dates = read_csv(path, usecols=["date"], dtype=str)["date"]
    if dates.empty:
        return None
    first = min(dt.date.fromisoformat(d) for d in dates)
    return first - dt.timedelta(days=first.weekday())


def _premises_ids(folder: Path) -> list[str]:
    path = folder / PREMISES_TABLE
    if not path.is_file():
        raise InputError.one(str(folder), PREMISES_TABLE, "missing: the part's premises are unknown", "re-run rooms")
    table = read_csv(path, dtype=str)
    column = next((c for c in ("lieu_id", "premises_id", "site_id") if c in table.columns), None)
    if column is None:
        raise InputError.one(str(path), "header", "no premises id column (lieu_id)", "re-run rooms")
    return sorted(table[column])


def _scenario(folder: Path) -> Scenario:
    """The scenario a part was run with, from its ``run.json`` (relative paths from the current folder)."""
    path = folder / "run.json"
    try:
        parameters = json.loads(path.read_text(encoding="utf-8"))["parameters"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError.one(str(path), "parameters", f"cannot be read ({exc})", "re-run the part") from None
    return validated(Scenario, {**parameters, "base_dir": Path.cwd()}, source=str(path), hint="re-run the part")


def _edited(scenario: Scenario, folder: Path, off: Off, held: Held, level: str, limit: float | None) -> Scenario:
    update: dict[str, Any] = {}
    if scenario.rooms is not None and (folder / BOOKINGS).is_file():
        rooms = _rooms_spec(scenario.rooms, off, held, level, _premises_ids(folder))
        extra = {"start_date": _monday(folder, BOOKINGS) or rooms.start_date}
        update["rooms"] = rooms.model_copy(update=extra | ({"time_limit_s": limit} if limit else {}))
    if scenario.rounds is not None and (folder / VISITS).is_file():
        rounds = _rounds_spec(scenario.rounds, off, held, level)
        extra = {"start_date": _monday(folder, VISITS) or rounds.start_date}
        update["rounds"] = rounds.model_copy(update=extra | ({"time_limit_s": limit} if limit else {}))
    return scenario.model_copy(update=update)


def _touched(folder: Path, off: Off, held: Held) -> bool:
    """Whether a part's events belong to someone the declarations concern."""
    rooms = (folder / BOOKINGS).is_file() and (
        any(p in held.provider_days for p in off.providers)
        or any(off.premises & premises for premises in held.provider_premises.values())
    )
    return rooms or ((folder / VISITS).is_file() and any(v in held.vehicle_days for v in off.vehicles))


def _rerun(folder: Path, off: Off, held: Held, out: Path, limit: float | None, progress: Progress) -> tuple[Path, str]:
    """Re-run one part at the first level that has a plan; write it under ``out``; return it and the level."""
    scenario = _scenario(folder)
    plain = _edited(scenario, folder, off, held, "free", limit)  # what run.json records: no pinned days
    reasons: list[str] = []
    for level in LEVELS:
        try:
            edited = _edited(scenario, folder, off, held, level, limit)
        except InfeasibleError as exc:
            reasons += [f"{level}: {c}" for c in exc.conflicts]
            continue
        progress(f"{folder.name}: {level}")
        try:
            run = _unpinned(run_scenario(edited, progress), plain, folder)
        except InfeasibleError as exc:
            reasons += [f"{level}: {c}" for c in exc.conflicts]
            continue
        target = out / file_name(folder.name)
        write_scenario_run(
            run, target, edited.language, started=datetime.now(UTC), command=["maillage", "replan", str(folder)]
        )
        return target, level
    raise InfeasibleError(reasons)


# ---------------------------------------------------------------------------------------- appointments


def _occurrence(appointment_day: dt.date, old: EventRecord, new: EventRecord) -> dt.date:
    """The day of ``new`` in the same repetition as ``appointment_day`` is of ``old``."""
    period = 7 * max(old.every_weeks, 1)
    return new.day + dt.timedelta(days=((appointment_day - old.day).days // period) * period)


def _free_seat(session: Session, territory_id: int, uid: str, day: dt.date, start: str, capacity: int) -> int | None:
    taken = set(
        session.scalars(
            select(Appointment.seat).where(
                Appointment.territory_id == territory_id,
                Appointment.event_uid == uid,
                Appointment.day == day,
                Appointment.start == start,
                Appointment.seat.is_not(None),
            )
        )
    )
    return next((seat for seat in range(1, capacity + 1) if seat not in taken), None)


def _replacement(old: EventRecord, added: dict[str, list[EventRecord]], owner: dict[str, str]) -> EventRecord | None:
    """A session of the same provider added in the new version, to take the appointments of ``old``."""
    found = added.get(owner.get(old.uid, ""), [])
    same = [e for e in found if e.service == old.service]
    return same[0] if same else None


def follow_appointments(session: Session, before: Plan, after: Plan, lang: str = "fr") -> list[AppointmentOutcome]:
    """Move the booked appointments of sessions that moved (or were replaced) between two versions, and
    cancel those that cannot follow, each with a notice the resident reads on their appointment's page."""
    old = {e.uid: e for e in plan_events(session, before) if e.kind == "session" and e.status == "CONFIRMED"}
    new = {e.uid: e for e in plan_events(session, after) if e.kind == "session"}
    providers = {p.id: p.ref for p in session.scalars(select(Person).where(Person.kind == "provider"))}
    owner = {
        e.uid: providers[link.person_id]
        for e in [*old.values(), *new.values()]
        for link in e.people
        if link.person_id in providers
    }
    added: dict[str, list[EventRecord]] = {}
    for uid, event in new.items():
        if uid not in old and event.status == "CONFIRMED":
            added.setdefault(owner.get(uid, ""), []).append(event)
    booked = session.scalars(
        select(Appointment)
        .where(
            Appointment.territory_id == after.territory_id,
            Appointment.event_uid.in_(list(old)),
            Appointment.status == "BOOKED",
        )
        .order_by(Appointment.day, Appointment.start, Appointment.id)
    )
    outcomes = []
    for item in list(booked):
        was = old[item.event_uid]
        now = new.get(item.event_uid)
        if (
            now is not None
            and now.status == "CONFIRMED"
            and all(getattr(was, name) == getattr(now, name) for name in ("day", "start", "end", "location"))
        ):
            continue
        target = now if now is not None and now.status == "CONFIRMED" else _replacement(was, added, owner)
        outcomes.append(_follow(session, item, was, target, after.territory_id, lang))
        session.flush()
    return outcomes


def _follow(
    session: Session, item: Appointment, was: EventRecord, target: EventRecord | None, territory_id: int, lang: str
) -> AppointmentOutcome:
    before = (item.day, item.start)
    reachable = bool(item.phone or item.email)
    if target is not None:
        minutes, capacity = slot_rule(session, territory_id, target.service)
        times = slot_times(target, minutes)
        index = next((k for k, (start, _) in enumerate(slot_times(was, minutes)) if start == item.start), 0)
        chosen = next((t for t in times if t[0] == item.start), times[min(index, len(times) - 1)] if times else None)
        day = _occurrence(item.day, was, target)
        seat = _free_seat(session, territory_id, target.uid, day, chosen[0], capacity) if chosen else None
        if chosen is not None and seat is not None:
            item.seat = None  # frees the old seat before taking the new one
            session.flush()
            item.event_uid, item.day, item.start, item.end, item.seat = target.uid, day, chosen[0], chosen[1], seat
            item.notice = label(
                "appointment_moved", lang, date=date_text(day, lang), start=chosen[0], place=target.location
            )
            session.add(
                AuditEntry(
                    actor="maillage",
                    action="appointment_moved",
                    subject=item.reference,
                    detail={"day": day.isoformat(), "start": chosen[0], "session": target.uid},
                )
            )
            return AppointmentOutcome(item.reference, "moved", before, (day, chosen[0]), reachable)
    cancel(
        session,
        item,
        actor="maillage",
        notice=label("appointment_cancelled_replan", lang, date=date_text(before[0], lang)),
    )
    return AppointmentOutcome(item.reference, "cancelled", before, None, reachable)


# ------------------------------------------------------------------------------------------- replanning


def _parts(run: Run) -> list[Path]:
    parts = (run.inputs or {}).get("parts") or [{"folder": run.folder}]
    return [Path(str(part["folder"])) for part in parts]


def replan(
    session: Session,
    territory: str,
    *,
    out: Path,
    by: str,
    time_limit_s: float | None = None,
    progress: Progress = lambda _: None,
) -> Replanned:
    """Re-optimise the parts of ``territory``'s newest version that the pending declarations touch, write
    the new runs under ``out``, publish version n+1 and make the appointments follow their sessions."""
    place = session.scalar(select(Territory).where(Territory.name == territory))
    plan = latest_plan(session, place) if place is not None else None
    if place is None or plan is None:
        raise InputError.one("--territory", territory, "no published plan", "publish one with `maillage publish`")
    declared = pending(session, place)
    off = _off(declared)
    if not off:
        raise InputError.one("--territory", territory, "no pending unavailability", "declare one first")
    people = {p.id: p for p in session.scalars(select(Person).where(Person.territory_id == place.id))}
    held = _held(plan_events(session, plan), people)
    unknown = sorted(
        [f"provider {p}" for p in off.providers if p not in held.provider_days]
        + [f"vehicle {v}" for v in off.vehicles if v not in held.vehicle_days]
    )
    if unknown:
        raise InputError.one("unavailabilities", ", ".join(unknown), "not in the newest version", "nothing to re-plan")
    run = session.get(Run, plan.run_id)
    assert run is not None
    folders, levels = [], {}
    for folder in _parts(run):
        if not (folder / "run.json").is_file():
            raise InputError.one(str(folder), "run.json", "the published run folder is gone", "re-run and publish")
        if _touched(folder, off, held):
            new_folder, levels[folder.name] = _rerun(folder, off, held, out, time_limit_s, progress)
            folders.append(new_folder)
        else:
            folders.append(folder)
    done = publish(session, read_runs(folders), territory=territory, by=by)
    session.flush()
    moved = follow_appointments(session, plan, done.plan)
    for item in declared:
        item.replanned_in = done.plan.version
    session.add(
        AuditEntry(
            actor=by,
            action="plan_replanned",
            subject=f"{territory} v{done.plan.version}",
            detail={"levels": levels, "declarations": [d.id for d in declared], "appointments": len(moved)},
        )
    )
    return Replanned(done, levels, moved, len(declared))
