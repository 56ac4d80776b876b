"""Re-planning without upheaval: days off, broken-down vehicles and withdrawn rooms become the next version.

A provider or a crew declares a date (or a range of dates) they cannot work, a premises owner withdraws
their room (:func:`declare`). :func:`replan` publishes version n+1 answering them:

- **A date is a date**: only the occurrences of the person's sessions or stops due on that date change,
  as single dates of their series (:class:`planner.platform.models.Occurrence`, ``RECURRENCE-ID`` in the
  feeds); every other date keeps its UID and SEQUENCE, and the appointments on other dates stay as they are.
  A provider's session on a date off is re-placed in the same week by the rooms model at level ``kept``
  below (her other sessions and everyone else's pinned, the lost one on a day she has free, another room
  or premises allowed), and the re-placement is taken only when nothing else moved; else, and for a truck's
  stops (the rounds model has no input to pin the other stops), that date's occurrence is cancelled with a
  notice. The dates already answered are kept as they are while their series is; on a series a withdrawn
  room changed, they are answered again.
- **A withdrawn room is withdrawn for good**: the parts it touches are re-optimised with the project's
  rooms model (through its job, on the scenario recorded in the part's ``run.json``), as follows.

Stability comes first, lexicographically, by the inputs given to the models rather than by a new model.
Four levels are tried in order and the first that has a plan is kept:

0. ``kept``: as ``pinned``, and the people concerned keep their other sessions too: only the sessions on a
   day off or in a withdrawn room move, to days the person has free (a person whose free days cannot take
   them is re-planned as at ``pinned``).
1. ``pinned``: only the people concerned (a session on a day off or in a withdrawn room) are re-planned.
   Every session of everyone else is kept as it is: each is solved as a provider of its own, restricted to
   its day, its hours and its premises (and put back in its room when the model chose another one of the
   same premises that is free then). In a part that also holds rounds, every vehicle keeps its days and
   every stop served stays served (``stops.required``). The people concerned lose the day (or the
   premises) and prefer their current premises (``preferred``: a session elsewhere costs
   ``off_preference_eur``).
2. ``preferred``: everyone may move, all prefer their current premises, every served stop stays served.
3. ``free``: the plain re-optimisation with the unavailabilities only.

The plan is a repeating week (a fortnight for rounds): a date's week is re-solved as the plan's first week
and the result shifted to the date's week. Residents' appointments follow their session (or that date of
it): moved to the same time (or slot) of the session's new day or of the provider's new session replacing
it, on a free seat, with a notice; cancelled with a notice when there is none.
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
from planner.platform.appointments import cancel, notice, slot_rule, slot_times
from planner.platform.models import (
    Appointment,
    AuditEntry,
    EventRecord,
    Person,
    Plan,
    Run,
    Territory,
    Unavailability,
)
from planner.platform.publish import (
    BOOKINGS,
    CHANGES,
    VISITS,
    PlannedEvent,
    PlannedOccurrence,
    Publication,
    RunContent,
    latest_plan,
    plan_dates,
    plan_events,
    plan_occurrences,
    publish,
    read_run,
    read_runs,
    same_date,
)
from planner.runs.pipeline import ScenarioRun, run_scenario
from planner.runs.record import write_scenario_run
from planner.scenario import ProviderSpec, RoomsSpec, RoundsSpec, Scenario, validated

LEVELS = ("kept", "pinned", "preferred", "free")
PREMISES_TABLE = "rooms/occupation.csv"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Off:
    """What the declarations take away: weekdays per provider (in the week of a date off), premises withdrawn."""

    providers: dict[str, set[int]] = field(default_factory=dict)
    premises: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.providers or self.premises)


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
    """A re-planning: the version published, the level each re-run part (or week of a part) was solved at,
    the single dates moved or cancelled, the appointments moved or cancelled, and the declarations it
    answered."""

    publication: Publication
    levels: dict[str, str]
    appointments: list[AppointmentOutcome]
    answered: int
    dates: list[PlannedOccurrence] = field(default_factory=list)


# ------------------------------------------------------------------------------------------ declaring


def declare(
    session: Session,
    person: Person,
    day: dt.date | None,
    *,
    by: str,
    reason: str = "",
    until: dt.date | None = None,
) -> list[Unavailability]:
    """Record that ``person`` cannot work on ``day`` (to ``until`` included; a provider, a crew) or withdraws
    their room (a premises owner, ``day`` ``None``); :func:`replan` takes them into account. The dates must
    be within the published plan of the person's territory."""
    field_name = "--day" if until is None else "--from/--to"
    if person.kind in ("provider", "crew") and day is None:
        raise InputError.one(field_name, "", f"a {person.kind} declares a day", "give --day YYYY-MM-DD")
    if person.kind == "premises_owner" and day is not None:
        raise InputError.one(
            field_name, day.isoformat(), "a room is withdrawn for good, not for a day", "leave out --day"
        )
    if person.kind not in ("provider", "crew", "premises_owner"):
        raise InputError.one("PERSON_ID", str(person.id), f"a {person.kind} has no plan to be unavailable for")
    days: list[dt.date | None] = [None]
    if day is not None:
        last = until or day
        if last < day:
            raise InputError.one("--to", last.isoformat(), "before --from", "give --to on or after --from")
        plan = latest_plan(session, person.territory)
        if plan is None:
            raise InputError.one(
                "PERSON_ID", str(person.id), "no published plan", "publish one with `maillage publish`"
            )
        first, end = plan_dates(session, plan, person)
        outside = next((d for d in (day, last) if not first <= d <= end), None)
        if outside is not None:
            raise InputError.one(
                field_name,
                outside.isoformat(),
                f"outside the published plan ({first.isoformat()} to {end.isoformat()})",
                "give a date of the plan",
            )
        days = [day + dt.timedelta(days=n) for n in range((last - day).days + 1)]
    found = [Unavailability(person_id=person.id, day=d, reason=reason.strip()[:200], declared_by=by) for d in days]
    session.add_all(found)
    session.add(
        AuditEntry(
            actor=by,
            action="unavailability_declared",
            subject=f"{person.kind}:{person.ref}",
            detail={
                "day": day.isoformat() if day else None,
                "until": (until or day).isoformat() if day else None,
                "reason": found[0].reason,
            },
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


def _answered(session: Session, territory: Territory) -> list[Unavailability]:
    """The dates off of ``territory``'s people that a published version already answered."""
    return list(
        session.scalars(
            select(Unavailability)
            .join(Person)
            .where(
                Person.territory_id == territory.id,
                Unavailability.replanned_in.is_not(None),
                Unavailability.day.is_not(None),
            )
            .order_by(Unavailability.id)
        )
    )


def _carried(session: Session, plan: Plan, content: RunContent) -> set[tuple[str, dt.date]]:
    """The single dates of ``plan`` (series UID, date) the next version keeps as they are: their series is
    the same in ``content``."""
    new = {e.uid: e for e in content.events}
    old = {e.uid: e for e in plan_events(session, plan) if e.status == "CONFIRMED"}
    return {
        (o.uid, o.occurrence)
        for o in plan_occurrences(session, plan)
        if o.uid in new and o.uid in old and all(getattr(new[o.uid], f) == getattr(old[o.uid], f) for f in CHANGES)
    }


def _off(declared: list[Unavailability]) -> Off:
    """The premises withdrawn for good (the dates off are answered date by date: :func:`_dated`)."""
    return Off(premises={item.person.ref for item in declared if item.person.kind == "premises_owner"})


def _held(events: list[tuple[EventRecord | PlannedEvent, dict[str, str]]]) -> Held:
    """What the confirmed ``events`` (each with its people's refs by kind) give each person."""
    held = Held({}, {}, {}, set(), {})
    for event, refs in events:
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


HALF_DAYS = 2  # sessions a provider can hold in a day (a morning and an afternoon)
PSEUDO = "~"  # a pinned session is solved as a provider of its own: ``<provider>~<weekday>-<n>``
DAYS_TABLE = "rooms/journees.csv"


def _pinned_sessions(p: ProviderSpec, held: Held, premises: list[str], off: Off | None = None) -> list[ProviderSpec]:
    """One provider per session of ``p`` (but those on a day off or in a withdrawn room, with ``off``): its day,
    its hours and its premises only, so it stays as it is."""
    lost_days = off.providers.get(p.provider_id, set()) if off else set()
    lost_places = off.premises if off else set()
    return [
        p.override(
            **{
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
        if day not in lost_days and place not in lost_places
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
        if level in ("kept", "pinned") and not concerned and p.provider_id in held.sessions:
            providers += _pinned_sessions(p, held, premises)
            continue
        kept = _pinned_sessions(p, held, premises, off) if level == "kept" and concerned else []
        free = [d for d in days if d not in {k.days[0] for k in kept}]
        moving = p.sessions_per_week - len(kept)
        if kept and moving <= HALF_DAYS * len(free):  # her other sessions stay; the lost ones go to free days
            providers += kept
            if moving <= 0:
                continue
            days, p = free, p.override(**{"sessions_per_week": moving})
        providers.append(p.override(**{"days": days, "forbidden": sorted(forbidden), "preferred": sorted(preferred)}))
    return spec.override(**{"providers": providers})


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
    pseudo = [i.split(PSEUDO, 1) for i in ids if PSEUDO in i]
    kept_days = {(real, int(rest.split("-", 1)[0])) for real, rest in pseudo}  # unchanged provider-days
    before = read_csv(folder / DAYS_TABLE, dtype={"provider_id": str})
    unchanged = [(r, int(d)) in kept_days for r, d in zip(before["provider_id"], before["day"], strict=True)]
    days = pd.concat(
        [
            rooms.provider_days[~rooms.provider_days["provider_id"].astype(str).str.contains(PSEUDO, regex=False)],
            before[unchanged].reindex(columns=rooms.provider_days.columns),
        ],
        ignore_index=True,
    ).sort_values(["provider_id", "day"], ignore_index=True)
    kpis = rooms.kpis.copy()
    kpis["provider_km_per_week"] = float(days["drive_km"].sum())
    kpis["provider_hours_per_week"] = float(days["duty_hours"].sum())
    kpis["provider_drive_hours_per_week"] = float(days["drive_min"].sum() / 60)
    run.rooms = replace(rooms, spec=plain.rooms, bookings=bookings, provider_days=days, kpis=kpis)
    return run


def _rounds_spec(spec: RoundsSpec, held: Held, level: str) -> RoundsSpec:
    """``spec`` at ``level``'s stability inputs (a part holding rooms and rounds re-run for a withdrawn room):
    each vehicle keeps its days, every stop served stays served."""
    fleet = []
    for v in spec.fleet:
        mine = held.vehicle_days.get(v.vehicle_id, set())
        days = sorted(mine) if level in ("kept", "pinned") and mine else list(v.days)
        fleet.append(v.override(**{"days": days}))
    required = set(spec.stops.required) | (held.stops if level != "free" else set())
    stops = spec.stops.override(**{"required": sorted(required)})
    return spec.override(**{"fleet": fleet, "stops": stops})


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
        update["rooms"] = rooms.override(**extra | ({"time_limit_s": limit} if limit else {}))
    if scenario.rounds is not None and (folder / VISITS).is_file():
        rounds = _rounds_spec(scenario.rounds, held, level)
        extra = {"start_date": _monday(folder, VISITS) or rounds.start_date}
        update["rounds"] = rounds.override(**extra | ({"time_limit_s": limit} if limit else {}))
    return scenario.override(**update)


def _touched(folder: Path, off: Off, held: Held) -> bool:
    """Whether a part holds sessions in a withdrawn room."""
    return (folder / BOOKINGS).is_file() and any(
        off.premises & premises for premises in held.provider_premises.values()
    )


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


# ------------------------------------------------------------------------------------------- dates off

Lost = tuple[PlannedEvent, dict[str, str], dt.date]  # a series, its people's refs by kind, the date it is lost on


@dataclass(frozen=True)
class Dated:
    """The single dates the dates off move or cancel, and how each week of a part (or date) was answered."""

    occurrences: list[PlannedOccurrence]
    levels: dict[str, str]


def _refs(event: PlannedEvent) -> dict[str, str]:
    return {kind: ref for kind, ref, _ in event.people}


def _falls_on(event: PlannedEvent, day: dt.date) -> bool:
    """Whether ``event``'s series has an occurrence on ``day``."""
    return event.day <= day and (day - event.day).days % (7 * max(event.every_weeks, 1)) == 0


def _lost(content: RunContent, declared: list[Unavailability], keep: set[tuple[str, dt.date]]) -> list[Lost]:
    """Every occurrence of ``content``'s series due on a date its provider or crew declared off, but those
    already answered and kept as they are (``keep``)."""
    off: dict[tuple[str, str], set[dt.date]] = {}
    for item in declared:
        if item.day is not None:
            off.setdefault((item.person.kind, item.person.ref), set()).add(item.day)
    found = []
    for event in content.events:
        refs = _refs(event)
        for (kind, ref), days in off.items():
            if refs.get(kind) == ref:
                found += [
                    (event, refs, day) for day in sorted(days) if _falls_on(event, day) and (event.uid, day) not in keep
                ]
    return found


def _cancelled(event: PlannedEvent, day: dt.date, lang: str) -> PlannedOccurrence:
    notice = label("occurrence_cancelled", lang, date=date_text(day, lang))
    return PlannedOccurrence(
        event.uid,
        day,
        "CANCELLED",
        day,
        event.start,
        event.end,
        event.summary,
        event.location,
        f"{event.description} {notice}",
        event.lat,
        event.lon,
    )


def _moved(event: PlannedEvent, refs: dict[str, str], day: dt.date, to: PlannedEvent, lang: str) -> PlannedOccurrence:
    notice = label("occurrence_moved", lang, date=date_text(day, lang))
    owner = tuple(p for p in to.people if p[0] == "premises_owner" and p[1] != refs.get("premises_owner"))
    return PlannedOccurrence(
        event.uid,
        day,
        "CONFIRMED",
        to.day,
        to.start,
        to.end,
        to.summary,
        to.location,
        f"{to.description} {notice}",
        to.lat,
        to.lon,
        owner,
    )


def _session_key(event: PlannedEvent) -> tuple[str, int, str, str]:
    refs = _refs(event)
    return refs.get("provider", ""), event.day.isoweekday(), event.start, refs.get("premises_owner", "")


def _same_room(a: PlannedEvent, b: PlannedEvent) -> bool:
    """Whether two sessions of the plan's week overlap in the same room (their location names the room)."""
    return a.location == b.location and a.day.isoweekday() == b.day.isoweekday() and a.start < b.end and b.start < a.end


def _week(
    folder: Path,
    content: RunContent,
    lost: list[Lost],
    monday: dt.date,
    out: Path,
    limit: float | None,
    progress: Progress,
) -> dict[tuple[str, dt.date], PlannedEvent]:
    """Where the rooms model re-places each session of ``lost`` (all in the week of ``monday``): the plan's
    first week solved at level ``kept`` with those weekdays off, shifted to ``monday``'s week. Nothing when
    it finds no plan or moves any other session (then those dates are cancelled)."""
    sessions = [e for e in content.events if e.kind == "session"]
    held = _held([(e, _refs(e)) for e in sessions])
    off = Off()
    for _, refs, day in lost:
        off.providers.setdefault(refs["provider"], set()).add(day.isoweekday())
    scenario = _scenario(folder)
    progress(f"{folder.name} {monday.isoformat()}: kept")
    try:
        edited = _edited(scenario, folder, off, held, "kept", limit)
        run = _unpinned(run_scenario(edited, progress), _edited(scenario, folder, off, held, "free", limit), folder)
    except InfeasibleError:
        return {}
    target = out / file_name(f"{folder.name}-{monday.isoformat()}")
    command = ["maillage", "replan", str(folder)]
    write_scenario_run(run, target, edited.language, started=datetime.now(UTC), command=command)
    try:
        placed = [e for e in read_run(target).events if e.kind == "session"]
    except InputError:  # the model placed no session at all
        return {}
    kept = {_session_key(e) for e in sessions} - {_session_key(e) for e, _, _ in lost}
    if not kept <= {_session_key(e) for e in placed}:
        return {}
    staying = [e for e in sessions if _session_key(e) in kept]
    shift = monday - (_monday(folder, BOOKINGS) or monday)
    new = [
        replace(e, day=e.day + shift)
        for e in placed
        if _session_key(e) not in kept and not any(_same_room(e, other) for other in staying)
    ]  # a room the published plan gives someone else then (the model may have put them elsewhere) is not free
    found = {}
    for event, refs, day in sorted(lost, key=lambda item: (item[2], item[0].start)):
        mine = next((e for e in new if _refs(e).get("provider") == refs["provider"]), None)
        if mine is not None:
            new.remove(mine)
            found[event.uid, day] = mine
    return found


def _dated(
    content: RunContent,
    folders: list[Path],
    declared: list[Unavailability],
    keep: set[tuple[str, dt.date]],
    out: Path,
    limit: float | None,
    progress: Progress,
    lang: str,
) -> Dated:
    """The occurrences on the dates off: sessions re-placed in their week (:func:`_week`) or cancelled, stops
    cancelled, each under its series' UID and its date."""
    rooms = next((f for f in folders if (f / BOOKINGS).is_file()), None)
    rounds = next((f.name for f in folders if (f / VISITS).is_file()), "rounds")
    occurrences, levels = [], {}
    weeks: dict[dt.date, list[Lost]] = {}
    for event, refs, day in _lost(content, declared, keep):
        if event.kind == "session":
            weeks.setdefault(day - dt.timedelta(days=day.weekday()), []).append((event, refs, day))
        else:
            occurrences.append(_cancelled(event, day, lang))
            levels[f"{rounds} {day.isoformat()}"] = "cancelled"
    for monday, items in sorted(weeks.items()):
        placed = _week(rooms, content, items, monday, out, limit, progress) if rooms is not None else {}
        for event, refs, day in items:
            to = placed.get((event.uid, day))
            occurrences.append(_cancelled(event, day, lang) if to is None else _moved(event, refs, day, to, lang))
        done = "kept" if len(placed) == len(items) else "cancelled" if not placed else "kept, partly cancelled"
        levels[f"{rooms.name if rooms else 'rooms'} {monday.isoformat()}"] = done
    return Dated(occurrences, levels)


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


@dataclass(frozen=True)
class Target:
    """Where an appointment goes: a session (or one date of it) by UID, its day, hours, service and place."""

    uid: str
    day: dt.date
    start: str
    end: str
    service: str | None
    location: str


def follow_appointments(session: Session, before: Plan, after: Plan) -> list[AppointmentOutcome]:
    """Move the booked appointments of sessions that moved (or were replaced) between two versions, and of
    single dates moved alone, and cancel those that cannot follow, each with a notice the resident reads on
    their appointment's page. Appointments on the other dates stay as they are."""
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
        found = now if now is not None and now.status == "CONFIRMED" else _replacement(was, added, owner)
        target = None
        if found is not None:
            day = _occurrence(item.day, was, found)
            target = Target(found.uid, day, found.start, found.end, found.service, found.location)
        outcomes.append(_follow(session, item, was, target, after.territory_id))
        session.flush()
    return outcomes + _follow_dates(session, before, after, new)


def _follow_dates(
    session: Session, before: Plan, after: Plan, series: dict[str, EventRecord]
) -> list[AppointmentOutcome]:
    """The appointments on single dates that ``after`` moves or cancels (new, or changed since ``before``)."""
    earlier = {(o.uid, o.occurrence): o for o in plan_occurrences(session, before)}
    outcomes = []
    for date in plan_occurrences(session, after):
        was = series.get(date.uid)
        previous = earlier.get((date.uid, date.occurrence))
        if was is None or (previous is not None and same_date(previous, date)):
            continue
        days = {date.occurrence} | ({previous.day} if previous is not None else set())
        booked = session.scalars(
            select(Appointment)
            .where(
                Appointment.territory_id == after.territory_id,
                Appointment.event_uid == date.uid,
                Appointment.day.in_(days),
                Appointment.status == "BOOKED",
            )
            .order_by(Appointment.day, Appointment.start, Appointment.id)
        )
        target = Target(date.uid, date.day, date.start, date.end, was.service, date.location)
        for item in list(booked):
            outcomes.append(
                _follow(session, item, was, target if date.status == "CONFIRMED" else None, after.territory_id)
            )
            session.flush()
    return outcomes


def _follow(
    session: Session, item: Appointment, was: EventRecord, target: Target | None, territory_id: int
) -> AppointmentOutcome:
    before = (item.day, item.start)
    reachable = bool(item.phone or item.email)
    if target is not None:
        minutes, capacity = slot_rule(session, territory_id, target.service)
        times = slot_times(target, minutes)
        index = next((k for k, (start, _) in enumerate(slot_times(was, minutes)) if start == item.start), 0)
        chosen = next((t for t in times if t[0] == item.start), times[min(index, len(times) - 1)] if times else None)
        day = target.day
        seat = _free_seat(session, territory_id, target.uid, day, chosen[0], capacity) if chosen else None
        if chosen is not None and seat is not None:
            item.seat = None  # frees the old seat before taking the new one
            session.flush()
            item.event_uid, item.day, item.start, item.end, item.seat = target.uid, day, chosen[0], chosen[1], seat
            item.notice = notice("appointment_moved", date=day.isoformat(), start=chosen[0], place=target.location)
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
        notice=notice("appointment_cancelled_replan", date=before[0].isoformat()),
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
    lang: str = "fr",
) -> Replanned:
    """Answer the pending declarations of ``territory``: re-optimise the parts a withdrawn room touches, move
    or cancel the occurrences on the dates off, write the new runs under ``out``, publish version n+1 and
    make the appointments follow their sessions."""
    place = session.scalar(select(Territory).where(Territory.name == territory))
    plan = latest_plan(session, place) if place is not None else None
    if place is None or plan is None:
        raise InputError.one("--territory", territory, "no published plan", "publish one with `maillage publish`")
    declared = pending(session, place)
    if not declared:
        raise InputError.one("--territory", territory, "no pending unavailability", "declare one first")
    people = {p.id: p for p in session.scalars(select(Person).where(Person.territory_id == place.id))}
    held = _held(
        [
            (e, {people[link.person_id].kind: people[link.person_id].ref for link in e.people})
            for e in plan_events(session, plan)
            if e.status == "CONFIRMED"
        ]
    )
    unknown = sorted(
        {
            f"{item.person.kind} {item.person.ref}"
            for item in declared
            if item.day is not None
            and item.person.ref not in (held.provider_days if item.person.kind == "provider" else held.vehicle_days)
        }
    )
    if unknown:
        raise InputError.one("unavailabilities", ", ".join(unknown), "not in the newest version", "nothing to re-plan")
    off = _off(declared)
    run = session.get(Run, plan.run_id)
    assert run is not None
    folders, levels = [], {}
    for folder in _parts(run):
        if not (folder / "run.json").is_file():
            raise InputError.one(str(folder), "run.json", "the published run folder is gone", "re-run and publish")
        if off and _touched(folder, off, held):
            new_folder, levels[folder.name] = _rerun(folder, off, held, out, time_limit_s, progress)
            folders.append(new_folder)
        else:
            folders.append(folder)
    content = read_runs(folders)
    answered = _answered(session, place)  # their dates again, where a re-run changed the series they moved
    keep = _carried(session, plan, content)
    dated = _dated(content, folders, declared + answered, keep, out, time_limit_s, progress, lang)
    levels |= dated.levels
    done = publish(session, content, territory=territory, by=by, occurrences=dated.occurrences)
    session.flush()
    moved = follow_appointments(session, plan, done.plan)
    for item in declared:
        item.replanned_in = done.plan.version
    session.add(
        AuditEntry(
            actor=by,
            action="plan_replanned",
            subject=f"{territory} v{done.plan.version}",
            detail={
                "levels": levels,
                "declarations": [d.id for d in declared],
                "dates": len(dated.occurrences),
                "appointments": len(moved),
            },
        )
    )
    return Replanned(done, levels, moved, len(declared), dated.occurrences)
