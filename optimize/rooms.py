"""Weekly room bookings for itinerant providers: who holds which session, in which room, on which half-day.

Formulation (CP-SAT):

* **Slot grid.** The week is a grid of half-day slots, at most one morning and one afternoon per
  day (default: Monday to Friday, 08:30-12:30 and 13:30-17:30, ten slots), the unit rooms are lent
  or hired in. A provider's session fits a room in a slot when the slot, the room's opening windows
  and the provider's hours share ``session_min`` consecutive minutes. A morning session starts as
  early as they allow; an afternoon session after a morning one starts once the morning session is
  over, the provider has driven to the second place and had ``lunch_min`` for lunch.
* **Decisions.** ``x[p, r, k]``: provider ``p`` holds a session in room ``r`` in slot ``k``, created
  only where the room has the provider's equipment and seats, is not forbidden to it, is open long
  enough when the provider works, and the return trip from home fits the provider's day (travel
  within ``max_travel_min``, session plus travel within ``max_daily_hours``).
* **Days.** A morning place A and an afternoon place B of the same provider and day are
  incompatible when the afternoon session could not start in time after the morning one, the drive
  and lunch, or when home -> A -> B -> home exceeds ``max_travel_min`` or, with both sessions,
  ``max_daily_hours``. For each morning place, one at-most-one constraint over it and its
  incompatible afternoon places rules them out.
* **Hard constraints.** One session per room and slot; one session per provider and slot; exactly
  ``sessions_per_week`` sessions per provider.
* **Objective**, lexicographic, solved in two stages. Stage 1 maximises the value, in tenths of a
  person: over services ``s`` and zones ``z`` within ``s``'s access threshold of a premises holding
  a session of ``s``, ``demand[s][z]`` (each person counted once per service) plus
  ``balance_bonus`` when ``demand[s][z] >= real_demand``. That balance term makes every zone with
  real demand worth that many people more, so the plan reaches as many such zones as it can
  instead of piling sessions where most people already are. Stage 2 keeps that value and minimises
  the cost in cents: travel at ``travel_eur_per_hour``, room hire, and ``off_preference_eur`` per
  session outside a provider's preferred premises. Each session is costed as a return trip from
  home, and a pair variable credits the saving of going straight from a morning place to an
  afternoon place for each morning place's ``SAVING_PAIRS`` largest savings (so a day's travel may
  be overstated in the objective, never understated; reported travel is always exact).

Why two stages rather than one weighted objective: with weights making a tenth of a person outweigh
any cost, proving optimality of a 10-provider instance took 20 s, almost all of it spent on the last
cents; the coverage stage alone proves in about a second. Objective and bound are reported in people
(stage 1); stage 2's outcome is in the notes. The search starts from a greedy plan (lazy greedy on
people newly reached, every hard constraint kept, every variable hinted); when the solver finds no
plan in time (very large instances), that greedy plan is returned with the solver's bound.
"""

from __future__ import annotations

import heapq
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np
from ortools.sat.python import cp_model

from optimize._cancel import cancel_scope, stopping
from optimize._errors import InfeasibleError, ProblemError
from optimize._solver import SolveInfo, Status, check_limit, cp_sat, stopped_by_wall_clock, to_cents

Window = tuple[int, int, int]  # (iso weekday, start minute, end minute)
Span = tuple[int, int]  # (start minute, end minute) within a day
TENTHS = 10  # demand is counted in tenths of a person in the integer model
SAVING_PAIRS = 8  # per morning place, afternoon places whose chaining saving the cost stage credits
STAGE_ONE_SHARE = 0.75  # of the work and of the time limit, at most, for the coverage stage
# CP-SAT deterministic seconds of work per second of the time limit: the work ends the search while the
# machine runs at least 1 / 0.2 = 5 times slower than CP-SAT's reference (measured: Lozère's rooms ran at
# 0.2-0.25 deterministic s per wall s on a 2-core machine under a load of 8), the wall clock beyond that.
WORK_PER_SECOND = 0.2
WORKERS = ("default_lp", "max_lp")  # CP-SAT's full-model workers (see _solver)


@dataclass(frozen=True)
class Slot:
    """A half-day of the week grid: ISO weekday and its span in minutes from midnight."""

    day: int
    start_min: int
    end_min: int


def half_days(
    days: tuple[int, ...] = (1, 2, 3, 4, 5), morning: Span = (510, 750), afternoon: Span = (810, 1050)
) -> tuple[Slot, ...]:
    """The default grid: a morning and an afternoon slot on each of ``days`` (10 slots Mon-Fri)."""
    return tuple(Slot(d, *span) for d in days for span in (morning, afternoon))


@dataclass(frozen=True)
class Room:
    """A bookable room. ``windows`` overrides its premises' opening windows when given."""

    room_id: str
    name: str = ""
    capacity: int = 1
    equipment: frozenset[str] = frozenset()
    hire_eur: float = 0.0  # per half-day session
    windows: tuple[Window, ...] | None = None


@dataclass(frozen=True)
class Premises:
    """A building with rooms at a location of the travel matrix; ``windows`` empty means always open."""

    premises_id: str
    name: str
    location: int
    rooms: tuple[Room, ...]
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class Provider:
    """An itinerant provider of a service, based at ``home`` (a location of the travel matrix).

    ``windows`` are the days and hours the provider works (empty: every slot); ``max_daily_hours``
    counts sessions plus travel; ``preferred``/``forbidden`` hold premises ids.
    """

    provider_id: str
    service: str
    home: int
    sessions_per_week: int
    session_min: int = 180
    windows: tuple[Window, ...] = ()
    needs: frozenset[str] = frozenset()
    seats: int = 1
    max_travel_min: float = 120.0
    max_daily_hours: float = 8.0
    preferred: frozenset[str] = frozenset()
    forbidden: frozenset[str] = frozenset()
    name: str = ""

    @property
    def label(self) -> str:
        """The provider's name, or its id."""
        return self.name or self.provider_id


@dataclass(frozen=True)
class RoomsProblem:
    """Everything the rooms model needs, as plain data (no geometry, no OR-Tools).

    ``time_min`` is a square matrix over locations (premises and homes); ``demand[s]`` gives the
    people needing service ``s`` per zone; ``covers[s][q]`` lists the zones premises ``q`` serves
    within service ``s``'s access threshold.
    """

    premises: tuple[Premises, ...]
    providers: tuple[Provider, ...]
    time_min: np.ndarray
    demand: Mapping[str, np.ndarray]
    covers: Mapping[str, tuple[tuple[int, ...], ...]]
    slots: tuple[Slot, ...] = field(default_factory=half_days)
    lunch_min: int = 45
    travel_eur_per_hour: float = 30.0
    off_preference_eur: float = 20.0
    real_demand: float = 10.0
    balance_bonus: float = 25.0

    def __post_init__(self) -> None:
        problems = _validate(self)
        if problems:
            raise ProblemError(problems)

    def rooms(self) -> list[tuple[int, Room]]:
        """Every room with its premises index, in a fixed order (the model's room numbering)."""
        return [(q, room) for q, premises in enumerate(self.premises) for room in premises.rooms]


def _validate(problem: RoomsProblem) -> list[str]:
    """Every problem of the instance: matrix and places, ids, services, slots, providers' counts."""
    return [*_place_problems(problem), *_id_problems(problem), *_service_problems(problem), *_slot_problems(problem)]


def _place_problems(problem: RoomsProblem) -> list[str]:
    n = problem.time_min.shape[0]
    problems = [] if problem.time_min.shape == (n, n) else ["time_min must be a square matrix"]
    places = [q.location for q in problem.premises] + [p.home for p in problem.providers]
    if any(not 0 <= loc < n for loc in places):
        problems.append(f"a premises location or provider home is outside the {n} locations of time_min")
    if any(p.sessions_per_week < 0 or p.session_min <= 0 for p in problem.providers):
        problems.append("sessions_per_week must be >= 0 and session_min > 0")
    return problems


def _id_problems(problem: RoomsProblem) -> list[str]:
    ids = {
        "premises": [q.premises_id for q in problem.premises],
        "provider": [p.provider_id for p in problem.providers],
        "room": [f"{q.premises_id}/{r.room_id}" for q in problem.premises for r in q.rooms],
    }
    return [f"{kind} ids must be unique" for kind, values in ids.items() if len(values) != len(set(values))]


def _service_problems(problem: RoomsProblem) -> list[str]:
    problems = []
    for service in sorted({p.service for p in problem.providers}):
        if service not in problem.demand or service not in problem.covers:
            problems.append(f"service '{service}' needs demand and covers")
        elif len(problem.covers[service]) != len(problem.premises):
            problems.append(f"covers['{service}'] needs one entry per premises")
    if len({len(d) for d in problem.demand.values()}) > 1:
        problems.append("demand arrays must all have one value per zone")
    return problems


def _slot_problems(problem: RoomsProblem) -> list[str]:
    problems = [
        f"slot {slot} is not a span within one weekday"
        for slot in problem.slots
        if not (1 <= slot.day <= 7 and 0 <= slot.start_min < slot.end_min <= 24 * 60)
    ]
    per_day: dict[int, list[Slot]] = {}
    for slot in problem.slots:
        per_day.setdefault(slot.day, []).append(slot)
    for day, slots in per_day.items():
        ordered = sorted(slots, key=lambda s: s.start_min)
        if len(slots) > 2 or any(a.end_min > b.start_min for a, b in pairwise(ordered)):
            problems.append(f"day {day}: at most a morning and an afternoon slot, not overlapping")
    return problems


@dataclass(frozen=True)
class Booking:
    """One session: provider, room, slot (index into ``problem.slots``) and times."""

    provider_id: str
    service: str
    premises_id: str
    room_id: str
    slot: int
    day: int
    start_min: int
    end_min: int
    travel_before_min: float  # from home or from the morning session


@dataclass(frozen=True)
class ProviderDay:
    """A provider's working day: places visited (locations, home first and last), travel and duty."""

    provider_id: str
    day: int
    path: tuple[int, ...]
    travel_min: float
    duty_min: float


@dataclass(frozen=True)
class RoomsResult:
    """The week's bookings, the provider days, who is served per service, and the solve info."""

    info: SolveInfo
    bookings: tuple[Booking, ...]
    days: tuple[ProviderDay, ...]
    served: Mapping[str, np.ndarray]  # per service: True for zones within reach of a session of it
    demand_served: Mapping[str, float]
    travel_min: float
    hire_eur: float
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line: status, objective, bound, sessions, travel."""
        return (
            f"{self.info.status}: {self.info.objective:.1f} people-equivalents (bound {self.info.bound:.1f}), "
            f"{len(self.bookings)} sessions, {self.travel_min:.0f} min of travel, {self.info.time_s:.1f} s"
        )


# ----------------------------------------------------------------------------------------- options


def _spans(windows: tuple[Window, ...], day: int) -> list[Span]:
    """The day's windows as sorted, merged spans."""
    merged: list[Span] = []
    for start, end in sorted((s, e) for d, s, e in windows if d == day):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _intersect(a: list[Span], b: list[Span]) -> list[Span]:
    return [(max(s, t), min(e, f)) for s, e in a for t, f in b if max(s, t) < min(e, f)]


def start_ranges(slot: Slot, duration: int, *windows: tuple[Window, ...]) -> tuple[Span, ...]:
    """Ranges of start minutes at which ``duration`` fits in the slot and every non-empty window set.

    >>> start_ranges(Slot(1, 510, 750), 120, ((1, 540, 720), (2, 0, 1440)))
    ((540, 600),)
    """
    spans = [(slot.start_min, slot.end_min)]
    for window_set in windows:
        if window_set:
            spans = _intersect(spans, _spans(window_set, slot.day))
    return tuple((s, e - duration) for s, e in spans if e - s >= duration)


@dataclass(frozen=True)
class SessionOption:
    """A place and time a provider could hold one session: room (index into ``RoomsProblem.rooms()``),
    slot, start ranges; the rooms model has one boolean per option (:func:`session_options`)."""

    provider: int
    room: int
    slot: int
    location: int
    starts: tuple[Span, ...]


def _suitable(provider: Provider, premises: Premises, room: Room) -> bool:
    return (
        provider.needs <= room.equipment
        and room.capacity >= provider.seats
        and premises.premises_id not in provider.forbidden
    )


def session_options(problem: RoomsProblem) -> list[SessionOption]:
    """Every (provider, room, slot) where a session fits and a return trip from home fits the day."""
    options = []
    rooms = problem.rooms()
    for p, provider in enumerate(problem.providers):
        for r, (q, room) in enumerate(rooms):
            premises = problem.premises[q]
            trip = float(
                problem.time_min[provider.home, premises.location] + problem.time_min[premises.location, provider.home]
            )
            if not (
                _suitable(provider, premises, room)
                and trip <= provider.max_travel_min
                and provider.session_min + trip <= provider.max_daily_hours * 60
            ):
                continue
            windows = room.windows if room.windows is not None else premises.windows
            for k, slot in enumerate(problem.slots):
                starts = start_ranges(slot, provider.session_min, windows, provider.windows)
                if starts:
                    options.append(SessionOption(p, r, k, premises.location, starts))
    return options


# ------------------------------------------------------------------------------ plain-words checks


def _hours(minutes: float) -> str:
    return f"{minutes / 60:g} h"


def _provider_reasons(problem: RoomsProblem, p: int, mine: list[SessionOption]) -> list[str]:
    """Why provider ``p`` alone cannot hold its sessions (empty when nothing is evident)."""
    provider = problem.providers[p]
    who = f"provider {provider.label} ({provider.service})"
    need = provider.sessions_per_week
    if need == 0:
        return []
    rooms = problem.rooms()
    equipped = [(q, room) for q, room in rooms if provider.needs <= room.equipment]
    if not equipped:
        return [f"{who} needs a room with {', '.join(sorted(provider.needs))}: no room of any premises has it"]
    if not any(room.capacity >= provider.seats for _, room in equipped):
        return [f"{who} needs {provider.seats} seats: no room with its equipment has that many"]
    if provider.session_min > provider.max_daily_hours * 60:
        return [
            f"{who}: a session lasts {_hours(provider.session_min)}, "
            f"more than its {_hours(provider.max_daily_hours * 60)} maximum day"
        ]
    free = [k for k, slot in enumerate(problem.slots) if start_ranges(slot, provider.session_min, provider.windows)]
    if need > len(free):
        return [
            f"{who} must hold {need} sessions a week but works long enough for a "
            f"{_hours(provider.session_min)} session on {len(free)} half-day(s) only"
        ]
    if not mine:
        return [
            f"{who}: no room with its equipment and seats is open for a {_hours(provider.session_min)} session "
            f"when it works, within {provider.max_travel_min / 2:g} min of its home (half its daily travel)"
        ]
    usable = {o.slot for o in mine}
    if need > len(usable):
        return [
            f"{who} must hold {need} sessions a week but a suitable room within reach is open long enough "
            f"on {len(usable)} half-day(s) only"
        ]
    per_day = 2 if 2 * provider.session_min <= provider.max_daily_hours * 60 else 1
    days = {problem.slots[k].day for k in usable}
    most = sum(min(per_day, sum(problem.slots[k].day == d for k in usable)) for d in days)
    if need > most:
        return [
            f"{who} must hold {need} sessions a week but can hold at most {most}: "
            f"{per_day} a day within {_hours(provider.max_daily_hours * 60)} (sessions and travel) "
            f"on the {len(days)} day(s) it can work"
        ]
    return []


def _equipment_reasons(problem: RoomsProblem, options: list[SessionOption]) -> list[str]:
    """Providers with the same needs competing for too few equipped room half-days."""
    reasons = []
    for needs in sorted({p.needs for p in problem.providers if p.needs}, key=sorted):
        group = [p for p, provider in enumerate(problem.providers) if needs <= provider.needs]
        sessions = sum(problem.providers[p].sessions_per_week for p in group)
        room_slots = {(o.room, o.slot) for o in options if o.provider in group}
        if sessions > len(room_slots):
            names = ", ".join(problem.providers[p].label for p in group)
            reasons.append(
                f"providers {names} need a room with {', '.join(sorted(needs))}: together they must hold "
                f"{sessions} sessions a week, the rooms that have it offer them {len(room_slots)} half-day(s)"
            )
    return reasons


def explain_infeasible(problem: RoomsProblem) -> list[str]:
    """Plain-words reasons why the providers cannot all hold their sessions (empty when none is evident)."""
    return _reasons(problem, session_options(problem))


def _reasons(problem: RoomsProblem, options: list[SessionOption]) -> list[str]:
    by_provider: dict[int, list[SessionOption]] = {p: [] for p in range(len(problem.providers))}
    for option in options:
        by_provider[option.provider].append(option)
    reasons = [r for p, mine in by_provider.items() for r in _provider_reasons(problem, p, mine)]
    return reasons or _equipment_reasons(problem, options)


# ----------------------------------------------------------------------------------------- the model


@dataclass
class RoomsModel:
    """The CP-SAT model of the rooms' hard constraints and coverage value (:func:`build_model`), with the
    handles the two stages, the markets model and the solution reading need."""

    model: cp_model.CpModel
    x: list[cp_model.IntVar]
    keep: list[cp_model.IntVar]  # per provider, with assumptions: its weekly count is enforced
    value: cp_model.LinearExprT  # tenths of a person reached, with the balance bonus
    days: list[list[tuple[_Place, cp_model.IntVar]]]  # per provider-day: its places and their literals
    incompatible: int  # (morning place, afternoon place) pairs ruled out
    start: set[int]  # the greedy plan the search starts from
    reachable: int  # the value if every zone within reach of some option were reached: a bound
    start_value: int  # the value of the greedy plan


def _travel_cents(problem: RoomsProblem, minutes: float) -> int:
    return to_cents(minutes * problem.travel_eur_per_hour / 60)


def _option_cost(problem: RoomsProblem, option: SessionOption, rooms: list[tuple[int, Room]]) -> int:
    """Cents for a session: hire, off-preference penalty, and a return trip from home."""
    provider = problem.providers[option.provider]
    q, room = rooms[option.room]
    off = bool(provider.preferred) and problem.premises[q].premises_id not in provider.preferred
    trip = float(problem.time_min[provider.home, option.location] + problem.time_min[option.location, provider.home])
    return to_cents(room.hire_eur) + (to_cents(problem.off_preference_eur) if off else 0) + _travel_cents(problem, trip)


def day_travel(problem: RoomsProblem, path: tuple[int, ...]) -> float:
    """Minutes driven along ``path`` (locations, home first and last)."""
    return float(sum(problem.time_min[a, b] for a, b in pairwise(path)))


def _compatible(problem: RoomsProblem, am: SessionOption, pm: SessionOption) -> bool:
    """Whether a morning session at ``am`` and an afternoon one at ``pm`` fit in one day."""
    provider = problem.providers[am.provider]
    between = float(problem.time_min[am.location, pm.location])
    travel = day_travel(problem, (provider.home, am.location, pm.location, provider.home))
    return (
        am.starts[0][0] + provider.session_min + between + problem.lunch_min <= pm.starts[-1][1]
        and travel <= provider.max_travel_min
        and 2 * provider.session_min + travel <= provider.max_daily_hours * 60
    )


def _saving(problem: RoomsProblem, am: SessionOption, pm: SessionOption) -> int:
    """Cents saved by driving from the morning place to the afternoon place instead of home in between.

    Never negative: shortest travel times obey the triangle inequality (rounding aside).
    """
    home = problem.providers[am.provider].home
    t = problem.time_min
    separate = [float(t[home, o.location] + t[o.location, home]) for o in (am, pm)]
    path = float(t[home, am.location] + t[am.location, pm.location] + t[pm.location, home])
    return max(0, sum(_travel_cents(problem, m) for m in separate) - _travel_cents(problem, path))


@dataclass(frozen=True)
class _Place:
    """Options of one provider-day and slot at one place with the same time class (one node of the day)."""

    provider: int
    day: int
    morning: bool
    options: tuple[int, ...]


def _places(problem: RoomsProblem, options: list[SessionOption]) -> list[_Place]:
    """Group options by provider, slot, location and time class (earliest start in the morning, latest
    start in the afternoon): pairs of a day are then checked between places, not rooms."""
    first = _mornings(problem)
    grouped: dict[tuple[int, int, int, int], list[int]] = {}
    for i, o in enumerate(options):
        time_class = o.starts[0][0] if o.slot in first else o.starts[-1][1]
        grouped.setdefault((o.provider, o.slot, o.location, time_class), []).append(i)
    return [_Place(p, problem.slots[k].day, k in first, tuple(members)) for (p, k, _, _), members in grouped.items()]


def build_model(problem: RoomsProblem, options: list[SessionOption], *, assume: bool = False) -> RoomsModel:
    """The hard constraints and the coverage value, hinted with a greedy plan; with ``assume``, each
    provider's weekly count holds only under its assumption literal (to name conflicts), no hint."""
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x_{o.provider}_{o.room}_{o.slot}") for o in options]
    keep = [model.new_bool_var(f"keep_{p}") for p in range(len(problem.providers))] if assume else []
    groups: dict[tuple[str, int, int], list[int]] = {}
    by_provider: dict[int, list[int]] = {p: [] for p in range(len(problem.providers))}
    for i, o in enumerate(options):
        groups.setdefault(("room", o.room, o.slot), []).append(i)
        groups.setdefault(("provider", o.provider, o.slot), []).append(i)
        by_provider[o.provider].append(i)
    for members in groups.values():
        if len(members) > 1:
            model.add_at_most_one(x[i] for i in members)
    for p, members in by_provider.items():
        count = model.add(cp_model.LinearExpr.sum([x[i] for i in members]) == problem.providers[p].sessions_per_week)
        if assume:
            count.only_enforce_if(keep[p])
    rooms = problem.rooms()
    chosen = set() if assume else _greedy(problem, options, [_option_cost(problem, o, rooms) for o in options])
    for i, var in enumerate(x):
        model.add_hint(var, i in chosen)
    days, incompatible = _link_days(problem, options, x, model, chosen)
    if assume:
        model.add_assumptions(keep)
        return RoomsModel(model, x, keep, 0, days, incompatible, chosen, 0, 0)
    values, served, start_value = _coverage(problem, options, x, model, chosen)
    value = cp_model.LinearExpr.weighted_sum(served, values)
    return RoomsModel(model, x, keep, value, days, incompatible, chosen, sum(values), start_value)


def travel_and_hire(
    problem: RoomsProblem, options: list[SessionOption], built: RoomsModel, held: set[int]
) -> cp_model.LinearExprT:
    """Cents of travel, hire and off-preference sessions, for the second stage; hinted with ``held``.

    Each session is costed as a return trip from home; a pair variable credits the saving of driving
    straight from a morning place to an afternoon place, for each morning place's ``SAVING_PAIRS``
    largest savings (others keep the return-trip cost, so a day's travel is never understated).
    """
    model = built.model
    rooms = problem.rooms()
    terms: list[tuple[cp_model.IntVar, int]] = [
        (var, _option_cost(problem, o, rooms)) for var, o in zip(built.x, options, strict=True)
    ]
    for places in built.days:
        afternoons = [(pl, lit) for pl, lit in places if not pl.morning]
        at_afternoon: dict[int, list[cp_model.IntVar]] = {}
        for am, am_lit in (item for item in places if item[0].morning):
            a = options[am.options[0]]
            gains = []
            for index, (pm, _) in enumerate(afternoons):
                b = options[pm.options[0]]
                if _compatible(problem, a, b) and (cents := _saving(problem, a, b)) > 0:
                    gains.append((cents, index))
            best = sorted(gains, key=lambda g: -g[0])[:SAVING_PAIRS]
            pairs = [model.new_bool_var("pair") for _ in best]
            for pair, (cents, index) in zip(pairs, best, strict=True):
                pm = afternoons[index][0]
                model.add_hint(pair, not held.isdisjoint(am.options) and not held.isdisjoint(pm.options))
                at_afternoon.setdefault(index, []).append(pair)
                terms.append((pair, -cents))
            if pairs:  # one afternoon place at most follows this morning place
                model.add(cp_model.LinearExpr.sum(pairs) <= am_lit)
        for index, pairs in at_afternoon.items():  # and one morning place at most precedes it
            model.add(cp_model.LinearExpr.sum(pairs) <= afternoons[index][1])
    return cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])


def _greedy(problem: RoomsProblem, options: list[SessionOption], costs: list[int]) -> set[int]:
    """A first plan for the search to start from (see :func:`_greedy_pass`).

    Providers left short of sessions go first in the next pass, up to three passes; the solver
    repairs what is still short.
    """
    first_served: set[int] = set()
    chosen: set[int] = set()
    for _ in range(3):
        chosen = _greedy_pass(problem, options, costs, first_served)
        held = Counter(options[i].provider for i in chosen)
        short = {p for p, provider in enumerate(problem.providers) if held[p] < provider.sessions_per_week}
        if not short or short <= first_served:
            break
        first_served |= short
    return chosen


class _Greedy:
    """The state of one greedy pass: rooms and provider slots taken, each provider-day's session,
    sessions left per provider, and the zones already reached per service."""

    def __init__(self, problem: RoomsProblem, options: list[SessionOption]) -> None:
        self.problem, self.options = problem, options
        rooms = problem.rooms()
        self.worth = {
            s: np.array([_zone_value(problem, s, z) for z in range(len(d))]) for s, d in problem.demand.items()
        }
        self.covered = {s: np.zeros(len(d), dtype=bool) for s, d in problem.demand.items()}
        self.zones = [
            np.array(problem.covers[problem.providers[o.provider].service][rooms[o.room][0]], dtype=int)
            for o in options
        ]
        self.first = _mornings(problem)
        self.left = [p.sessions_per_week for p in problem.providers]
        self.taken: set[tuple[str, int, int]] = set()
        self.day_of: dict[tuple[int, int], int] = {}  # (provider, day) -> option held there
        self.of_provider: dict[int, list[int]] = {}
        for i, o in enumerate(options):
            self.of_provider.setdefault(o.provider, []).append(i)

    def gain(self, i: int) -> int:
        """Value of the zones option ``i`` would newly reach."""
        service = self.problem.providers[self.options[i].provider].service
        reach = self.zones[i]
        return int(self.worth[service][reach][~self.covered[service][reach]].sum())

    def fits(self, i: int) -> bool:
        """Whether option ``i`` can be added to the sessions taken so far."""
        o = self.options[i]
        other = self.day_of.get((o.provider, self.problem.slots[o.slot].day))
        return not (
            ("room", o.room, o.slot) in self.taken
            or ("provider", o.provider, o.slot) in self.taken
            or (other is not None and not _pair_fits(self.problem, self.options, other, i, self.first))
        )

    def take(self, i: int) -> None:
        o = self.options[i]
        self.left[o.provider] -= 1
        self.taken |= {("room", o.room, o.slot), ("provider", o.provider, o.slot)}
        self.day_of[o.provider, self.problem.slots[o.slot].day] = i

    def release(self, i: int) -> None:
        o = self.options[i]
        self.left[o.provider] += 1
        self.taken -= {("room", o.room, o.slot), ("provider", o.provider, o.slot)}
        del self.day_of[o.provider, self.problem.slots[o.slot].day]

    def can_finish(self, p: int) -> bool:
        """Whether provider ``p`` still has as many free slots with a fitting option as sessions left."""
        free = {self.options[j].slot for j in self.of_provider.get(p, []) if self.fits(j)}
        return len(free) >= self.left[p]


def _greedy_pass(
    problem: RoomsProblem, options: list[SessionOption], costs: list[int], first_served: set[int]
) -> set[int]:
    """Sessions added one by one, providers in ``first_served`` first, then most people newly reached,
    then cheapest, keeping every hard constraint, and never a session that would leave its provider
    fewer usable half-days than sessions to hold. Lazy greedy: a session's gain can only fall as
    others are added, so a stale gain is recomputed only when it reaches the top."""
    state = _Greedy(problem, options)
    chosen: set[int] = set()
    heap = [(options[i].provider not in first_served, -state.gain(i), costs[i], i) for i in range(len(options))]
    heapq.heapify(heap)
    while heap and any(state.left):
        late, stale, _, i = heapq.heappop(heap)
        p = options[i].provider
        if not state.left[p] or not state.fits(i):
            continue
        fresh = state.gain(i)
        if fresh < -stale:
            heapq.heappush(heap, (late, -fresh, costs[i], i))
            continue
        state.take(i)
        if not state.can_finish(p):
            state.release(i)
            continue
        chosen.add(i)
        state.covered[problem.providers[p].service][state.zones[i]] = True
    return chosen


def _mornings(problem: RoomsProblem) -> set[int]:
    """The slots that open their day (the mornings)."""
    return {
        min((k for k, s in enumerate(problem.slots) if s.day == day), key=lambda k: problem.slots[k].start_min)
        for day in {s.day for s in problem.slots}
    }


def _pair_fits(problem: RoomsProblem, options: list[SessionOption], i: int, j: int, first: set[int]) -> bool:
    """Whether options ``i`` and ``j`` (same provider and day) fit together; False for the same slot."""
    if options[i].slot == options[j].slot:
        return False
    am, pm = (i, j) if options[i].slot in first else (j, i)
    return _compatible(problem, options[am], options[pm])


def _link_days(
    problem: RoomsProblem,
    options: list[SessionOption],
    x: list[cp_model.IntVar],
    model: cp_model.CpModel,
    chosen: set[int],
) -> tuple[list[list[tuple[_Place, cp_model.IntVar]]], int]:
    """Rule out morning and afternoon places that do not fit in one day (see :func:`_compatible`).

    A place's literal is true when the provider holds a session there; for each morning place ``n``,
    ``n + sum(afternoon places incompatible with n) <= 1`` (at most one place per slot is held, so
    this forbids exactly the incompatible pairs). Literals are hinted with the ``chosen`` options.
    Returns each provider-day's places with their literals, and the number of pairs ruled out.
    """
    by_day: dict[tuple[int, int], list[tuple[_Place, cp_model.IntVar]]] = {}
    for place in _places(problem, options):
        if len(place.options) == 1:
            literal = x[place.options[0]]
        else:
            literal = model.new_bool_var("place")
            model.add(literal == cp_model.LinearExpr.sum([x[i] for i in place.options]))
            model.add_hint(literal, not chosen.isdisjoint(place.options))
        by_day.setdefault((place.provider, place.day), []).append((place, literal))
    incompatible = 0
    for places in by_day.values():
        afternoons = [(pl, lit) for pl, lit in places if not pl.morning]
        for am, am_lit in (item for item in places if item[0].morning):
            a = options[am.options[0]]
            bad = [pm_lit for pm, pm_lit in afternoons if not _compatible(problem, a, options[pm.options[0]])]
            if bad:
                model.add_at_most_one([am_lit, *bad])
                incompatible += len(bad)
    return list(by_day.values()), incompatible


def _coverage(
    problem: RoomsProblem,
    options: list[SessionOption],
    x: list[cp_model.IntVar],
    model: cp_model.CpModel,
    chosen: set[int],
) -> tuple[list[int], list[cp_model.IntVar], int]:
    """Per (service, zone) within reach: its value in tenths of a person (demand, once, plus the balance
    bonus for real demand), and a boolean that can be true only when a premises reaching it holds the
    service; and the value of the ``chosen`` options, with which the variables are hinted."""
    rooms = problem.rooms()
    held: dict[tuple[str, int], list[int]] = {}  # (service, premises) -> options
    for i, o in enumerate(options):
        held.setdefault((problem.providers[o.provider].service, rooms[o.room][0]), []).append(i)
    open_, is_open = {}, {}
    for key, members in held.items():
        open_[key] = model.new_bool_var(f"open_{key[0]}_{key[1]}")
        model.add(open_[key] <= cp_model.LinearExpr.sum([x[i] for i in members]))
        is_open[key] = not chosen.isdisjoint(members)
        model.add_hint(open_[key], is_open[key])
    values, served, start_value = [], [], 0
    for service in sorted({s for s, _ in held}):
        reach: dict[int, list[tuple[str, int]]] = {}
        for q, zones in enumerate(problem.covers[service]):
            if (service, q) in open_:
                for z in zones:
                    reach.setdefault(z, []).append((service, q))
        for z, keys in sorted(reach.items()):
            worth = _zone_value(problem, service, z)
            if worth > 0:
                served.append(model.new_bool_var(f"served_{service}_{z}"))
                model.add(served[-1] <= cp_model.LinearExpr.sum([open_[k] for k in keys]))
                reached = any(is_open[k] for k in keys)
                model.add_hint(served[-1], reached)
                values.append(worth)
                start_value += worth * reached
    return values, served, start_value


def _zone_value(problem: RoomsProblem, service: str, zone: int) -> int:
    demand = float(problem.demand[service][zone])
    bonus = problem.balance_bonus if demand >= problem.real_demand and demand > 0 else 0.0
    return round((demand + bonus) * TENTHS)


# ------------------------------------------------------------------------------------------- solving


def _solver(work: float, wall_s: float, seed: int, workers: int) -> cp_model.CpSolver:
    """The project's deterministic CP-SAT with two full-model workers: LP-guided search and the full LP.

    ``work`` (CP-SAT deterministic seconds) ends the search; ``wall_s`` is only the safety net.
    Measured (bench/RESULTS_rooms.md): with CP-SAT's default portfolio of nine workers interleaved on
    two cores, the coverage stage did not improve on its greedy start in 30 s at 50 providers x 200
    rooms; these two reach a 0.3 % gap there and prove the Lozère default optimal in about 2 s.
    """
    solver = cp_sat(max(0.01, work), seed, workers, wall_limit_s=max(0.1, wall_s))
    solver.parameters.subsolvers.extend(WORKERS)
    return solver


def solve(
    problem: RoomsProblem,
    *,
    time_limit_s: float,
    seed: int,
    cancel: threading.Event | None = None,
    workers: int = 2,
    progress: Callable[[str], None] = lambda _: None,
) -> RoomsResult:
    """Book the week's sessions with CP-SAT in two stages (see the module docstring).

    Stage 1 maximises the people reached, with up to ``STAGE_ONE_SHARE`` of the work; stage 2 keeps
    that many people and minimises travel and hire with the work left. The work, ``WORK_PER_SECOND``
    deterministic seconds per second of ``time_limit_s``, ends the searches, so a seed gives the same
    plan whatever the machine's load; the wall clock (the time limit) is only a safety net, and a
    note says when it ended a search. Raises :class:`InfeasibleError` with plain-words reasons when
    the providers cannot all hold their sessions: first from checks on the data, then naming the
    providers the solver finds in conflict. ``cancel``, set from another thread, stops the search.
    """
    check_limit(time_limit_s)
    with cancel_scope(cancel):
        return _solve(problem, time_limit_s, seed, workers, progress)


def _solve(
    problem: RoomsProblem, time_limit_s: float, seed: int, workers: int, progress: Callable[[str], None]
) -> RoomsResult:
    started = time.perf_counter()
    work = WORK_PER_SECOND * time_limit_s
    options = session_options(problem)
    reasons = _reasons(problem, options)
    if reasons:
        raise InfeasibleError(reasons)
    built = build_model(problem, options)
    progress(f"{len(options)} possible sessions, {built.incompatible} morning-afternoon pairs ruled out")
    progress(f"greedy start: {built.start_value / TENTHS:,.1f} people-equivalents")
    model = built.model
    model.maximize(built.value)
    first = _solver(STAGE_ONE_SHARE * work, STAGE_ONE_SHARE * time_limit_s - _since(started), seed, workers)
    with stopping(first.stop_search):
        code = first.solve(model)
    notes = _wall_clock_note(first)
    if code == cp_model.INFEASIBLE:
        raise InfeasibleError([_conflict(problem, options, time_limit_s, seed)])
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        bound = first.best_objective_bound if first.best_objective_bound > 0 else built.reachable  # 0: none yet
        return _without_solution(problem, options, built.start, bound, _since(started), seed, notes)
    reached = round(first.objective_value)
    progress(f"stage 1: {reached / TENTHS:,.1f} people-equivalents ({first.status_name(code).lower()})")
    _hint_solution(model, first)
    cost = travel_and_hire(problem, options, built, {i for i, var in enumerate(built.x) if first.value(var)})
    model.add(built.value >= reached)
    model.minimize(cost)
    second = _solver(work - first.deterministic_time, time_limit_s - _since(started), seed, workers)
    with stopping(second.stop_search):
        code_two = second.solve(model)
    notes += _wall_clock_note(second)
    final = second if code_two in (cp_model.OPTIMAL, cp_model.FEASIBLE) else first
    notes.append(_stage_two_note(second, code_two))
    proven = code == cp_model.OPTIMAL and code_two == cp_model.OPTIMAL
    info = SolveInfo(
        Status.OPTIMAL if proven else Status.FEASIBLE,
        reached / TENTHS,
        first.best_objective_bound / TENTHS,
        _since(started),
        seed,
    )
    chosen = [i for i, var in enumerate(built.x) if final.value(var)]
    return build_result(problem, options, chosen, info, tuple(notes))


def _without_solution(
    problem: RoomsProblem,
    options: list[SessionOption],
    start: set[int],
    bound: float,
    elapsed: float,
    seed: int,
    notes: list[str],
) -> RoomsResult:
    """The result when the solver found no plan in time: the greedy start when it holds every provider's
    sessions (it keeps every hard constraint), else no plan at all."""
    held = Counter(options[i].provider for i in start)
    if any(held[p] != provider.sessions_per_week for p, provider in enumerate(problem.providers)):
        info = SolveInfo(Status.UNKNOWN, float("nan"), bound / TENTHS, elapsed, seed)
        empty = {s: np.zeros(len(d), dtype=bool) for s, d in problem.demand.items()}
        return RoomsResult(info, (), (), empty, dict.fromkeys(problem.demand, 0.0), 0.0, 0.0, tuple(notes))
    result = build_result(problem, options, sorted(start), SolveInfo(Status.FEASIBLE, 0.0, 0.0, 0.0, seed), ())
    value = sum(_zone_value(problem, s, int(z)) for s, served in result.served.items() for z in np.nonzero(served)[0])
    notes.append("no plan found by the solver in time: this is the greedy start plan")
    info = SolveInfo(Status.FEASIBLE, value / TENTHS, bound / TENTHS, elapsed, seed)
    return replace(result, info=info, notes=tuple(notes))


def _since(started: float) -> float:
    return time.perf_counter() - started


def _wall_clock_note(solver: cp_model.CpSolver) -> list[str]:
    if stopped_by_wall_clock(solver):
        return ["the wall-clock limit ended a search before the work limit: another run may differ"]
    return []


def _hint_solution(model: cp_model.CpModel, solver: cp_model.CpSolver) -> None:
    """Replace the model's hints by the solver's solution, every variable."""
    model.clear_hints()
    for index in range(len(model.proto.variables)):
        var = model.get_int_var_from_proto_index(index)
        model.add_hint(var, solver.value(var))


def _stage_two_note(solver: cp_model.CpSolver, code: cp_model.CpSolverStatus) -> str:
    """The cost stage's outcome; its bound is floored at 0, as no plan costs less."""
    if code == cp_model.OPTIMAL:
        return f"travel and hire at that coverage: {solver.objective_value / 100:,.2f} EUR, optimal"
    if code == cp_model.FEASIBLE:
        return (
            f"travel and hire at that coverage: {solver.objective_value / 100:,.2f} EUR "
            f"(bound {max(0.0, solver.best_objective_bound) / 100:,.2f} EUR)"
        )
    return "travel and hire: no time left to reduce them after the coverage stage"


def _conflict(problem: RoomsProblem, options: list[SessionOption], time_limit_s: float, seed: int) -> str:
    """Name providers whose weekly sessions cannot all be held together, from the solver's assumptions."""
    built = build_model(problem, options, assume=True)
    solver = cp_sat(max(1.0, WORK_PER_SECOND * time_limit_s / 2), seed, 1, wall_limit_s=max(1.0, time_limit_s / 2))
    with stopping(solver.stop_search):
        solver.solve(built.model)
    core = set(solver.sufficient_assumptions_for_infeasibility())
    names = [problem.providers[p].label for p, lit in enumerate(built.keep) if lit.index in core]
    return (
        "these providers cannot all hold their weekly sessions with the rooms, hours and travel limits given: "
        f"{', '.join(names) or 'all providers together'}"
    )


def build_result(
    problem: RoomsProblem, options: list[SessionOption], chosen: list[int], info: SolveInfo, notes: tuple[str, ...]
) -> RoomsResult:
    """The plan of the ``chosen`` options (indices into ``options``): bookings with their start times, each
    provider's day path and travel, the zones served; every model that books sessions ends here."""
    rooms = problem.rooms()
    by_day: dict[tuple[int, int], list[SessionOption]] = {}
    for i in chosen:
        o = options[i]
        by_day.setdefault((o.provider, problem.slots[o.slot].day), []).append(o)
    bookings, days = [], []
    for (p, day), held in sorted(by_day.items()):
        provider = problem.providers[p]
        held.sort(key=lambda o: problem.slots[o.slot].start_min)
        place, free_from = provider.home, 0
        for o in held:
            leg = float(problem.time_min[place, o.location])
            earliest = free_from + leg + problem.lunch_min if free_from else 0
            start = next(max(lo, math.ceil(earliest)) for lo, hi in o.starts if hi >= earliest)
            q, room = rooms[o.room]
            bookings.append(
                Booking(
                    provider.provider_id,
                    provider.service,
                    problem.premises[q].premises_id,
                    room.room_id,
                    o.slot,
                    day,
                    start,
                    start + provider.session_min,
                    leg,
                )
            )
            place, free_from = o.location, start + provider.session_min
        path = (provider.home, *(o.location for o in held), provider.home)
        travel = day_travel(problem, path)
        days.append(ProviderDay(provider.provider_id, day, path, travel, travel + len(held) * provider.session_min))
    served = served_zones(problem, bookings)
    demand_served = {s: float(problem.demand[s][served[s]].sum()) for s in served}
    hire = sum(rooms[o.room][1].hire_eur for o in (options[i] for i in chosen))
    return RoomsResult(
        info, tuple(bookings), tuple(days), served, demand_served, sum(d.travel_min for d in days), hire, notes
    )


def served_zones(problem: RoomsProblem, bookings: list[Booking] | tuple[Booking, ...]) -> dict[str, np.ndarray]:
    """Per service, the zones within its access threshold of a premises holding a session of it."""
    index = {q.premises_id: i for i, q in enumerate(problem.premises)}
    served = {s: np.zeros(len(d), dtype=bool) for s, d in problem.demand.items()}
    for b in bookings:
        served[b.service][list(problem.covers[b.service][index[b.premises_id]])] = True
    return served
