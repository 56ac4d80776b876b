"""Service markets: truck stops and provider sessions placed together, so that several services meet at
one place on the same half-day and a resident does several errands in one trip.

Formulation (one CP-SAT model over both plans):

* **Providers** keep every hard constraint of :mod:`optimize.rooms` (its session options and model are
  reused as they are: rooms, equipment, seats, opening hours, one session per room and half-day, one
  per provider and half-day, sessions per week, a day's morning and afternoon places, travel limits).
  Sessions repeat every week of the horizon.
* **Trucks** keep every hard constraint of :mod:`optimize.rounds`: each truck-day is one of its
  enumerated, exactly sequenced patterns (shift, lunch, driving limit, time windows), chosen per week
  (``y[pattern, week]``), with the rounds' frequencies (a weekly stop keeps its truck and weekday, a
  fortnightly stop is visited once in the two weeks) and required stops.
* **Markets.** A truck visit belongs to the half-day slot it overlaps for at least half its length.
  At a market place, per week and slot, a service is present when a provider of it holds a session in
  the premises or a truck carrying it stops beside them; a premises hosts at most one session per room
  and slot (the rooms model), so its rooms bound the providers present. ``level[t, w, j]`` may be true
  only when at least ``j`` services are present (``j >= min_services``), and a zone within reach of a
  market place counts ``sync_eur_per_person`` per inhabitant for each such level of its best market that
  week: people who can do at least ``min_services`` of their errands in one trip, more for each extra
  service. A zone a shuttle can bring to a market at that place and slot (``MarketPlace.by_shuttle``, worked
  out by the caller from the coaches' free hours) counts ``shuttle_share`` of its inhabitants (those without a
  car) for a level no market within the access time gives it.
* **Objective** (euros, in cents): the rounds' value of people served minus driving cost, the rooms'
  people-equivalents at ``people_eur`` each minus travel and hire, plus the synchronisation value.

Search. The whole model is large and its LP bound weak: from scratch, CP-SAT finds poor plans. Given a
``start`` (the separate plans), the hint is completed (every variable, by one propagation solve with the
decisions fixed), then improved by small CP-SAT searches, everything else fixed (as fixed domains, dropped
by a light presolve): each provider's sessions (the greedy alignment's pass, so the joint plan is never
worse than it), then each truck's days and every two providers who can work on the same half-day together
(a market of two providers can need both to move), then one search over everything. The work,
``WORK_PER_SECOND`` CP-SAT deterministic seconds per second of ``time_limit_s`` (a rate measured under
load), is shared out beforehand: a fixed share to the completion, to each pass of neighbourhoods (the same
share to each neighbourhood of a pass, their list counted from the problem alone; a pass ends when the work
it counted is spent) and to the last search. Each search ends on its work, so a seed
gives the same plan whatever the machine's load; the wall clock (what is left of ``time_limit_s``) is
only a safety net, and the result says which ended the search (``ended_by``) and lists every search's
objective in its notes. The bound reported is the last whole-model search's.

The rooms' and rounds' models are reused through their public parts (``rooms.session_options``,
``build_model``, ``travel_and_hire``, ``build_result``; ``rounds.day_patterns``, ``served_value``,
``build_result``): their constraints are not written twice, except the rounds' frequency constraints,
which live inside ``rounds.solve`` over pattern counts and are restated in :func:`_frequency` over
per-week choices.
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import cast

import numpy as np
from ortools.sat.python import cp_model

from optimize import rooms as rooms_model
from optimize import rounds as rounds_model
from optimize._cancel import cancellable, check, stopping
from optimize._errors import InfeasibleError, ProblemError
from optimize._solver import SolveInfo, Status, check_limit, cp_sat, stopped_by_wall_clock, to_cents
from optimize.rooms import RoomsProblem, RoomsResult
from optimize.rounds import RoundsProblem, RoundsResult

TENTHS = rooms_model.TENTHS
# CP-SAT deterministic seconds of work per second of the time limit. Measured on the shared 2-core machine
# under a load of 10 to 12 (the notes list each search's work and wall time): the searches ran at 0.1-0.25
# deterministic s per wall s on small instances, 0.05-0.15 on Aveyron (283 stops, where cloning and
# presolving the model for each neighbourhood is not counted as work), and building the model and
# enumerating the trucks' days take wall time of their own. At 0.05 the work ends every search while the
# machine runs at least that fast, the wall clock beyond that.
WORK_PER_SECOND = 0.05
ENUMERATION_SHARE = 0.3  # of the time limit, at most, for enumerating the trucks' days (a wall-clock guard)
# Shares of the work (WORK_PER_SECOND x time_limit_s deterministic seconds): the hint's completion, the pass
# over each provider alone (the greedy alignment's, an equal part each), the pass over each truck and every
# two providers who can share a half-day (the joint plan only), the last search over both plans.
COMPLETION_SHARE = 0.05
PROVIDERS_SHARE = 0.6
PAIRS_SHARE = 0.25
FINAL_SHARE = 0.1


@dataclass(frozen=True)
class MarketPlace:
    """A candidate market place: a premises of the rooms problem, the rounds stop beside it (if any), the
    zones within the market access time, the providers or vehicles that must meet there, and per half-day slot
    the zones a shuttle could bring to a market held here then (``(slot, zones)`` pairs; none without one)."""

    place_id: str
    premises: int
    stop: int | None
    covers: tuple[int, ...]
    must_gather: tuple[str, ...] = ()
    by_shuttle: tuple[tuple[int, tuple[int, ...]], ...] = ()

    def shuttled(self, slot: int) -> tuple[int, ...]:
        """The zones a shuttle can bring to a market here in ``slot``."""
        return tuple(z for k, zones in self.by_shuttle if k == slot for z in zones)


@dataclass(frozen=True)
class MarketsProblem:
    """The trucks' rounds, the providers' rooms and the market places, on the same zones."""

    rounds: RoundsProblem
    rooms: RoomsProblem
    places: tuple[MarketPlace, ...]
    min_services: int = 2
    sync_eur_per_person: float = 0.05
    people_eur: float = 5.0
    max_level: int = 4
    shuttle_share: float = 0.0  # of a zone's inhabitants, those a shuttle brings (people without a car)

    def __post_init__(self) -> None:
        problems = _validate(self)
        if problems:
            raise ProblemError(problems)

    def entities(self) -> dict[str, str]:
        """Every provider and vehicle id with the service it brings (a vehicle without one: ``truck``)."""
        found = {p.provider_id: p.service for p in self.rooms.providers}
        found.update({v.vehicle_id: v.services[0] if v.services else "truck" for v in self.rounds.vehicles})
        return found


def _validate(problem: MarketsProblem) -> list[str]:
    problems = []
    zones = len(problem.rounds.population)
    if any(len(d) != zones for d in problem.rooms.demand.values()):
        problems.append(f"rooms demand and rounds population must have the same {zones} zones")
    if not 1 <= problem.min_services <= problem.max_level:
        problems.append(f"min_services must be between 1 and max_level ({problem.max_level})")
    if problem.sync_eur_per_person < 0 or problem.people_eur < 0:
        problems.append("sync_eur_per_person and people_eur must be >= 0")
    if not 0 <= problem.shuttle_share <= 1:
        problems.append("shuttle_share must be between 0 and 1")
    ids = [p.place_id for p in problem.places]
    if len(ids) != len(set(ids)):
        problems.append("market place ids must be unique")
    for place in problem.places:
        problems += _place_problems(problem, place)
    return problems


def _place_problems(problem: MarketsProblem, place: MarketPlace) -> list[str]:
    """What is wrong with one market place: indices out of range, a must_gather that cannot meet there."""
    zones, entities = len(problem.rounds.population), problem.entities()
    if not 0 <= place.premises < len(problem.rooms.premises):
        return [f"market {place.place_id}: premises {place.premises} is not a premises of the rooms"]
    problems = []
    if place.stop is not None and not 0 <= place.stop < len(problem.rounds.stops):
        problems.append(f"market {place.place_id}: stop {place.stop} is not a stop of the rounds")
    shuttled = [(k, z) for k, brought in place.by_shuttle for z in brought]
    if any(not 0 <= z < zones for z in place.covers + tuple(z for _, z in shuttled)):
        problems.append(f"market {place.place_id}: a zone it reaches is outside the {zones} zones")
    if any(not 0 <= k < len(problem.rooms.slots) for k, _ in shuttled):
        problems.append(f"market {place.place_id}: a by_shuttle slot is not a slot of the rooms")
    unknown = sorted(set(place.must_gather) - set(entities))
    if unknown:
        problems.append(f"market {place.place_id}: must_gather names unknown ids {', '.join(unknown)}")
    providers = [e for e in place.must_gather if e in {p.provider_id for p in problem.rooms.providers}]
    rooms = len(problem.rooms.premises[place.premises].rooms)
    if len(providers) > rooms:
        problems.append(
            f"market {place.place_id}: {len(providers)} providers must be there at once "
            f"({', '.join(providers)}) but the premises has {rooms} room(s)"
        )
    trucks = [e for e in place.must_gather if e not in providers and e in entities]
    if trucks and place.stop is None:
        problems.append(f"market {place.place_id}: vehicles {', '.join(trucks)} must stop there but it is no stop")
    return problems


@dataclass(frozen=True)
class Market:
    """A place, week and half-day slot (index into the rooms' slots) where services meet."""

    place_id: str
    week: int
    slot: int
    day: int
    providers: tuple[str, ...]
    vehicles: tuple[str, ...]
    services: tuple[str, ...]


@dataclass(frozen=True)
class MarketsResult:
    """Both plans, the markets they make (two services or more together) and how the solve ended."""

    info: SolveInfo
    rounds: RoundsResult
    rooms: RoomsResult
    markets: tuple[Market, ...]
    sync_value: float
    ended_by: str
    notes: tuple[str, ...] = field(default_factory=tuple)


def visit_slot(rooms: RoomsProblem, day: int, start_min: int, end_min: int) -> int | None:
    """The rooms' slot a truck visit belongs to: on its day, overlapping it for at least half its length."""
    for k, slot in enumerate(rooms.slots):
        overlap = min(end_min, slot.end_min) - max(start_min, slot.start_min)
        if slot.day == day and 2 * overlap >= end_min - start_min:
            return k
    return None


def gatherings(
    problem: MarketsProblem, rounds: RoundsResult, rooms: RoomsResult
) -> dict[tuple[str, int, int], set[str]]:
    """Who is where, per site id (premises or stop), week and half-day slot: providers and vehicles."""
    present: dict[tuple[str, int, int], set[str]] = {}
    for week in range(1, problem.rounds.horizon_weeks + 1):
        for b in rooms.bookings:
            present.setdefault((b.premises_id, week, b.slot), set()).add(b.provider_id)
    for route in rounds.routes:
        for visit in route.visits:
            k = visit_slot(problem.rooms, route.day, visit.start_min, visit.end_min)
            if k is not None:
                present.setdefault((visit.stop_id, route.week, k), set()).add(route.vehicle_id)
    return present


def place_services(
    problem: MarketsProblem, rounds: RoundsResult, rooms: RoomsResult
) -> dict[tuple[str, int, int], set[str]]:
    """Per market place, week and slot: the providers and vehicles there (its premises and its stop)."""
    site_of = {problem.rooms.premises[p.premises].premises_id: p.place_id for p in problem.places}
    site_of.update({problem.rounds.stops[p.stop].stop_id: p.place_id for p in problem.places if p.stop is not None})
    present: dict[tuple[str, int, int], set[str]] = {}
    for (site, week, k), who in gatherings(problem, rounds, rooms).items():
        if site in site_of:
            present.setdefault((site_of[site], week, k), set()).update(who)
    return present


def markets_of(problem: MarketsProblem, rounds: RoundsResult, rooms: RoomsResult) -> tuple[Market, ...]:
    """The markets of any pair of plans (joint or separate): per market place, week and slot, who is there,
    kept when at least two services meet."""
    entities = problem.entities()
    providers = {p.provider_id for p in problem.rooms.providers}
    markets = []
    for (place, week, k), who in sorted(place_services(problem, rounds, rooms).items()):
        services = tuple(sorted({entities[e] for e in who}))
        if len(services) >= 2:
            markets.append(
                Market(
                    place,
                    week,
                    k,
                    problem.rooms.slots[k].day,
                    tuple(sorted(who & providers)),
                    tuple(sorted(who - providers)),
                    services,
                )
            )
    return tuple(markets)


def sync_value(problem: MarketsProblem, rounds: RoundsResult, rooms: RoomsResult) -> float:
    """Euros a week of synchronisation of a plan: per zone, week and level from ``min_services`` to the services of
    its best market within reach, ``sync_eur_per_person`` per inhabitant when a market of that level is within the
    access time, else per inhabitant a shuttle brings (``shuttle_share``) when a shuttle reaches one."""
    entities = problem.entities()
    population = problem.rounds.population
    weeks = problem.rounds.horizon_weeks
    by_car = np.zeros((weeks, len(population)), dtype=int)
    by_shuttle = np.zeros((weeks, len(population)), dtype=int)
    places = {p.place_id: p for p in problem.places}
    for (place, week, k), who in place_services(problem, rounds, rooms).items():
        count = min(len({entities[e] for e in who}), problem.max_level)
        for best, zones in ((by_car, list(places[place].covers)), (by_shuttle, list(places[place].shuttled(k)))):
            best[week - 1, zones] = np.maximum(best[week - 1, zones], count)
    worth = to_cents(problem.sync_eur_per_person / weeks)
    car = np.clip(by_car - problem.min_services + 1, 0, None)
    shuttle = np.clip(by_shuttle - problem.min_services + 1, 0, None) - car
    cents = sum(round(worth * population[z]) * int(car[w, z]) for w, z in zip(*np.nonzero(car > 0), strict=True))
    cents += sum(
        round(worth * problem.shuttle_share * population[z]) * int(shuttle[w, z])
        for w, z in zip(*np.nonzero(shuttle > 0), strict=True)
    )
    return cents / 100


# ------------------------------------------------------------------------------------------- the model


@dataclass
class _Trucks:
    """The trucks' part of the model: patterns, their per-week booleans, value and cost (cents)."""

    patterns: list[rounds_model.DayPattern]
    y: dict[tuple[int, int], cp_model.IntVar]
    open_: list[cp_model.IntVar]
    value: cp_model.LinearExprT
    cost: cp_model.LinearExprT
    reachable: set[int]
    time_cut: bool  # the wall clock cut the enumeration of the truck-days


def _truck_part(
    problem: RoundsProblem, model: cp_model.CpModel, deadline: float, notes: list[str], neighbours: int = 12
) -> _Trucks:
    """The rounds' hard constraints and objective terms over per-week pattern choices."""
    weeks = problem.horizon_weeks
    for stop in problem.stops:
        if stop.visits_per_week < 1 and stop.visits_per_week * weeks != 1:
            raise InfeasibleError(
                [f"stop {stop.name}: {stop.visits_per_week:g} visits a week needs a two-week horizon"]
            )
    patterns, time_cut = _patterns(problem, deadline, notes, neighbours)
    y = {(i, w): model.new_bool_var(f"y_{i}_{w}") for i in range(len(patterns)) for w in range(1, weeks + 1)}
    open_ = [model.new_bool_var(f"open_{s}") for s in range(len(problem.stops))]
    by_day: dict[tuple[int, int, int], list[cp_model.IntVar]] = {}
    by_stop: dict[tuple[int, int, int], list[int]] = {}
    for i, p in enumerate(patterns):
        for w in range(1, weeks + 1):
            by_day.setdefault((p.vehicle, p.weekday, w), []).append(y[i, w])
        for s in p.stops:
            by_stop.setdefault((s, p.vehicle, p.weekday), []).append(i)
    for members in by_day.values():
        model.add_at_most_one(members)
    for s in range(len(problem.stops)):
        _frequency(problem, model, s, {k: v for k, v in by_stop.items() if k[0] == s}, y, open_[s])
    cost = cp_model.LinearExpr.sum([to_cents(patterns[i].plan.cost) * var for (i, _), var in y.items()])
    reachable = {s for s, _, _ in by_stop}
    value = rounds_model.served_value(problem, model, open_)
    return _Trucks(patterns, y, open_, value, cost, reachable, time_cut)


def _patterns(
    problem: RoundsProblem, deadline: float, notes: list[str], neighbours: int
) -> tuple[list[rounds_model.DayPattern], bool]:
    """Every feasible truck-day of every truck and weekday (the rounds' enumeration), and whether the wall
    clock (``deadline``) cut it."""
    patterns: list[rounds_model.DayPattern] = []
    time_cut = False
    for v in range(len(problem.vehicles)):
        for day in problem.days:
            found, cut = rounds_model.day_patterns(
                problem, v, day, neighbours=neighbours, max_patterns=20_000, deadline=deadline
            )
            if cut:
                notes.append(f"truck {problem.vehicles[v].vehicle_id}, day {day}: day patterns cut by {cut}")
            time_cut |= cut == rounds_model.TIME_CUT
            patterns += found
    return patterns, time_cut


def _frequency(
    problem: RoundsProblem,
    model: cp_model.CpModel,
    s: int,
    slots: dict[tuple[int, int, int], list[int]],
    y: dict[tuple[int, int], cp_model.IntVar],
    open_: cp_model.IntVar,
) -> None:
    """Stop ``s`` open exactly at its frequency: a weekly stop keeps its truck and weekday every week, a
    fortnightly stop is visited once in the horizon; ``slots`` maps its (stop, truck, weekday) to patterns."""
    stop, weeks = problem.stops[s], range(1, problem.horizon_weeks + 1)
    if stop.required:
        model.add(open_ == 1)
    if not slots:
        model.add(open_ == 0)
    elif stop.visits_per_week < 1:
        model.add(sum(y[i, w] for members in slots.values() for i in members for w in weeks) == open_)
    else:
        chosen = {key: model.new_bool_var(f"slot_{key}") for key in slots}
        for key, var in chosen.items():
            for w in weeks:
                model.add(sum(y[i, w] for i in slots[key]) == var)
        model.add(sum(chosen.values()) == int(stop.visits_per_week) * open_)
        for day in problem.days:
            model.add(sum(c for (_, _, d), c in chosen.items() if d == day) <= 1)


def _presence(
    problem: MarketsProblem, options: list[rooms_model.SessionOption], x: list[cp_model.IntVar], trucks: _Trucks
) -> dict[tuple[int, int, int], dict[str, list[cp_model.IntVar]]]:
    """Per (market place, week, slot): per service, the literals of sessions and truck visits bringing it."""
    rooms = problem.rooms.rooms()
    weeks = problem.rounds.horizon_weeks
    at_premises = {p.premises: m for m, p in enumerate(problem.places)}
    at_stop = {p.stop: m for m, p in enumerate(problem.places) if p.stop is not None}
    found: dict[tuple[int, int, int], dict[str, list[cp_model.IntVar]]] = {}
    for i, o in enumerate(options):
        m = at_premises.get(rooms[o.room][0])
        if m is not None:
            service = problem.rooms.providers[o.provider].service
            for w in range(1, weeks + 1):
                found.setdefault((m, w, o.slot), {}).setdefault(service, []).append(x[i])
    entities = problem.entities()
    for i, pattern in enumerate(trucks.patterns):
        service = entities[problem.rounds.vehicles[pattern.vehicle].vehicle_id]
        plan = pattern.plan
        for s, start, end in zip(plan.order, plan.start_min, plan.end_min, strict=True):
            k = visit_slot(problem.rooms, pattern.weekday, start, end)
            if s in at_stop and k is not None:
                for w in range(1, weeks + 1):
                    found.setdefault((at_stop[s], w, k), {}).setdefault(service, []).append(trucks.y[i, w])
    return found


def _sync(
    problem: MarketsProblem,
    model: cp_model.CpModel,
    presence: dict[tuple[int, int, int], dict[str, list[cp_model.IntVar]]],
) -> cp_model.LinearExprT:
    """Levels of each market (at least j services present) and each zone's best level per week, in cents."""
    levels: dict[tuple[int, int, int, int], cp_model.IntVar] = {}
    for (m, w, k), services in presence.items():
        if len(services) < problem.min_services:
            continue
        count = []
        for service, literals in services.items():
            here = model.new_bool_var(f"present_{m}_{w}_{k}_{service}")
            model.add(here <= sum(literals))
            count.append(here)
        for j in range(problem.min_services, min(len(services), problem.max_level) + 1):
            levels[m, w, k, j] = model.new_bool_var(f"level_{m}_{w}_{k}_{j}")
            model.add(j * levels[m, w, k, j] <= sum(count))
    by_car: dict[tuple[int, int, int], list[cp_model.IntVar]] = {}
    by_shuttle: dict[tuple[int, int, int], list[cp_model.IntVar]] = {}
    for (m, w, k, j), var in levels.items():
        for z in problem.places[m].covers:
            by_car.setdefault((z, w, j), []).append(var)
        for z in problem.places[m].shuttled(k):
            by_shuttle.setdefault((z, w, j), []).append(var)
    worth = to_cents(problem.sync_eur_per_person / problem.rounds.horizon_weeks)
    terms = []
    population = problem.rounds.population
    for key in sorted(by_car.keys() | by_shuttle.keys()):
        z, w, j = key
        reached = []  # by car, else by shuttle: one of them counts
        for members, share, how in ((by_car, 1.0, "car"), (by_shuttle, problem.shuttle_share, "shuttle")):
            cents = round(worth * share * float(population[z]))
            if key in members and cents > 0:
                b = model.new_bool_var(f"sync_{how}_{z}_{w}_{j}")
                model.add(b <= sum(members[key]))
                terms.append(cents * b)
                reached.append(b)
        if len(reached) > 1:
            model.add_at_most_one(reached)
    return cp_model.LinearExpr.sum(terms)


def _gather(
    problem: MarketsProblem,
    model: cp_model.CpModel,
    presence: dict[tuple[int, int, int], dict[str, list[cp_model.IntVar]]],
) -> None:
    """Each place's ``must_gather`` ids meet there on at least one half-day of the horizon."""
    entities = problem.entities()
    for m, place in enumerate(problem.places):
        if not place.must_gather:
            continue
        needed = sorted({entities[e] for e in place.must_gather})  # one order, whatever the string hashes
        meets = []
        for (mm, w, k), services in presence.items():
            if mm == m and set(needed) <= set(services):
                meet = model.new_bool_var(f"gather_{m}_{w}_{k}")
                for service in needed:
                    model.add(meet <= sum(services[service]))
                meets.append(meet)
        if not meets:
            raise InfeasibleError(
                [f"market {place.place_id}: {', '.join(place.must_gather)} can never be there together"]
            )
        model.add_bool_or(meets)


def solve(
    problem: MarketsProblem,
    *,
    time_limit_s: float,
    seed: int,
    cancel: threading.Event | None = None,
    workers: int = 2,
    start: tuple[RoundsResult, RoomsResult] | None = None,
    greedy: bool = False,
) -> MarketsResult:
    """Place truck stops and provider sessions together (see the module docstring).

    ``start`` (plans of the same rounds and rooms, e.g. planned separately) hints the search: the
    solver starts from them, so the joint plan is found quickly on large instances. With ``greedy``
    (the benchmark's baseline, needs ``start``), the start plan is only aligned: each provider in turn is
    re-placed once, everything else kept, and no search moves the trucks or both together.

    Raises :class:`InfeasibleError` when the rounds' or rooms' hard constraints, or a market's
    ``must_gather``, cannot hold.
    """
    check_limit(time_limit_s)
    with cancellable(cancel) if cancel is not None else nullcontext():
        return _solve(problem, time_limit_s, seed, workers, start, greedy)


def _hint(
    problem: MarketsProblem,
    model: cp_model.CpModel,
    options: list[rooms_model.SessionOption],
    x: list[cp_model.IntVar],
    trucks: _Trucks,
    start: tuple[RoundsResult, RoomsResult],
) -> None:
    """Hint the sessions and truck-days of ``start`` (the other variables are left to the solver)."""
    rounds, rooms = start
    model.clear_hints()
    rooms_index = {
        (q.premises_id, r.room_id): i
        for i, (qi, r) in enumerate(problem.rooms.rooms())
        for q in (problem.rooms.premises[qi],)
    }
    provider_index = {p.provider_id: i for i, p in enumerate(problem.rooms.providers)}
    held = {(provider_index[b.provider_id], rooms_index[b.premises_id, b.room_id], b.slot) for b in rooms.bookings}
    for i, o in enumerate(options):
        model.add_hint(x[i], (o.provider, o.room, o.slot) in held)
    vehicle_index = {v.vehicle_id: i for i, v in enumerate(problem.rounds.vehicles)}
    stop_index = {s.stop_id: i for i, s in enumerate(problem.rounds.stops)}
    driven = {
        (vehicle_index[r.vehicle_id], r.day, r.week, tuple(sorted(stop_index[v.stop_id] for v in r.visits)))
        for r in rounds.routes
    }
    for (i, w), var in trucks.y.items():
        p = trucks.patterns[i]
        model.add_hint(var, (p.vehicle, p.weekday, w, tuple(sorted(p.stops))) in driven)


def _complete_hint(
    model: cp_model.CpModel, decisions: list[cp_model.IntVar], seed: int, work: float, deadline: float
) -> bool:
    """Turn a hint of the decisions into a hint of every variable: solve the model with the decisions fixed
    to their hinted values (the rest follows by propagation), and hint its solution. A hint that breaks a
    constraint is left as given. ``work`` ends the solve, ``deadline`` (the wall clock) guards it; returns
    whether the wall clock ended it."""
    hinted = dict(zip(model.proto.solution_hint.vars, model.proto.solution_hint.values, strict=True))
    trial = model.clone()
    for var in decisions:
        trial.add(trial.get_int_var_from_proto_index(var.index) == hinted.get(var.index, 0))
    solver = cp_sat(work, seed, 1, wall_limit_s=_left(deadline))
    with stopping(solver.stop_search):
        code = solver.solve(trial)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return stopped_by_wall_clock(solver)
    values = [solver.value(trial.get_int_var_from_proto_index(i)) for i in range(len(model.proto.variables))]
    if _within_domains(model, values):
        model.clear_hints()
        for index, value in enumerate(values):
            model.add_hint(model.get_int_var_from_proto_index(index), value)
    return stopped_by_wall_clock(solver)


def _left(deadline: float) -> float:
    """Wall-clock seconds left before ``deadline``, at least 0.1 (CP-SAT's guard for one search)."""
    return max(0.1, deadline - time.perf_counter())


def _solve(
    problem: MarketsProblem,
    time_limit_s: float,
    seed: int,
    workers: int,
    start: tuple[RoundsResult, RoomsResult] | None,
    greedy: bool = False,
) -> MarketsResult:
    started = time.perf_counter()
    work, deadline = WORK_PER_SECOND * time_limit_s, started + time_limit_s
    reasons = rounds_model.explain_infeasible(problem.rounds) + rooms_model.explain_infeasible(problem.rooms)
    if reasons:
        raise InfeasibleError(reasons)
    options = rooms_model.session_options(problem.rooms)
    built = rooms_model.build_model(problem.rooms, options)
    model = built.model
    notes: list[str] = []
    trucks = _truck_part(problem.rounds, model, started + ENUMERATION_SHARE * time_limit_s, notes)
    check()
    if start is not None:
        _hint(problem, model, options, built.x, trucks, start)
    presence = _presence(problem, options, built.x, trucks)
    sync = _sync(problem, model, presence)
    rooms_cost = rooms_model.travel_and_hire(problem.rooms, options, built, built.start)
    people = round(problem.people_eur * 100 / TENTHS)  # cents per tenth of a person-equivalent
    weighted = zip([trucks.value, trucks.cost, built.value, rooms_cost, sync], [1, -1, people, -1, 1], strict=True)
    kept = [(term, w) for term, w in weighted if isinstance(term, cp_model.LinearExpr)]  # an empty part is a 0
    objective = cp_model.LinearExpr.weighted_sum([t for t, _ in kept], [w for _, w in kept])
    model.maximize(objective)
    wall = trucks.time_cut
    if start is not None:
        decisions = [*built.x, *trucks.y.values()]
        wall |= _complete_hint(model, decisions, seed, COMPLETION_SHARE * work, deadline)
    _gather(problem, model, presence)  # after the completion: the start plan need not gather anyone
    current = _hinted(model)
    searches = []
    if current is not None and not any(p.must_gather for p in problem.places):  # the start plan holds: kept
        searches.append(
            _Found(
                "start",
                int(cp_model.FEASIBLE),
                "start",
                _evaluate(objective, current),
                math.inf,
                current,
                False,
                0.0,
                0.0,
            )
        )
    if start is not None:  # improve the start plan a few providers' or one truck's decisions at a time
        passes = _neighbourhoods(problem, options, built.x, trucks)[: 1 if greedy else 2]
        for neighbourhoods, share in zip(passes, (PROVIDERS_SHARE, PAIRS_SHARE), strict=False):
            found, current = _improve(
                model, current, decisions, neighbourhoods, share * work, (deadline, seed, workers), notes
            )
            searches += found
    if greedy and searches:
        final = searches[-1]
    else:
        final = _search(model, current, [], "all", FINAL_SHARE * work, deadline, seed, workers)
        searches.append(final)
    if final.code == cp_model.INFEASIBLE and start is None:
        raise InfeasibleError(["the rounds, the rooms and the markets' must_gather cannot all hold together"])
    done = [f for f in searches if f.values is not None]
    best = max(reversed(done), key=lambda f: f.objective, default=None)  # on a tie, the latest
    if best is None or best.values is None:
        raise InfeasibleError(
            [f"no joint plan found within {time_limit_s:g} s: give a longer time limit or fewer candidate stops"]
        )
    values = best.values
    elapsed = time.perf_counter() - started
    proven = not greedy and final.code == cp_model.OPTIMAL and best is final
    wall |= any(f.wall for f in searches)
    ended_by = "wall clock" if wall else ("optimal" if proven else "work limit")
    if wall:
        notes.append("the wall-clock limit ended a search before its work limit: another run may differ")
    notes.append(
        "searches (decisions free, status, objective EUR, deterministic work / wall-clock s): "
        + "; ".join(f"{f.free}: {f.status} {f.objective / 100:,.2f} ({f.work:.2f} / {f.wall_s:.1f})" for f in searches)
    )
    parts = {
        "trucks' people value": trucks.value,
        "trucks' cost": trucks.cost,
        "providers' people value": people * built.value,
        "providers' travel and hire": rooms_cost,
        "synchronisation value": sync,
    }
    notes.append(
        "objective parts (EUR): " + ", ".join(f"{k} {_evaluate(v, values) / 100:,.2f}" for k, v in parts.items())
    )
    whole = not greedy and final.code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    bound = final.bound if whole else float("nan")  # a neighbourhood's bound is no bound of the whole
    info = SolveInfo(Status.OPTIMAL if proven else Status.FEASIBLE, best.objective / 100, bound / 100, elapsed, seed)
    rounds = _rounds_result(problem.rounds, trucks, values, info, notes)
    chosen = [i for i, var in enumerate(built.x) if values[var.index]]
    rooms = rooms_model.build_result(problem.rooms, options, chosen, info, ())
    return MarketsResult(
        info,
        rounds,
        rooms,
        markets_of(problem, rounds, rooms),
        sync_value(problem, rounds, rooms),
        ended_by,
        tuple(notes),
    )


def _improve(
    model: cp_model.CpModel,
    current: list[int] | None,
    decisions: list[cp_model.IntVar],
    neighbourhoods: list[tuple[str, set[int]]],
    budget: float,
    limits: tuple[float, int, int],
    notes: list[str],
) -> tuple[list[_Found], list[int] | None]:
    """Search each neighbourhood in turn from the best plan so far, an equal part of the ``budget`` (work) each,
    until the work counted is spent (CP-SAT overruns small limits); ``limits``: the deadline, seed and workers
    of :func:`_search`. Returns the searches and the last plan."""
    found: list[_Found] = []
    each, spent = budget / max(1, len(neighbourhoods)), 0.0
    for name, free in neighbourhoods:
        if spent >= budget:
            notes.append(f"neighbourhoods from {name} on left out: their work ({budget:.2f}) was spent")
            break
        fixed = [v for v in decisions if v.index not in free]
        result = _search(model, current, fixed, name, min(each, budget - spent), *limits)
        found.append(result)
        spent += result.work
        if result.values is not None:
            current = result.values
    return found, current


@dataclass(frozen=True)
class _Found:
    """One CP-SAT search of the joint model: which decisions were free, its outcome and solution values."""

    free: str
    code: int
    status: str
    objective: float  # cents
    bound: float  # cents
    values: list[int] | None
    wall: bool
    work: float  # CP-SAT deterministic seconds spent
    wall_s: float  # wall-clock seconds spent


def _neighbourhoods(
    problem: MarketsProblem,
    options: list[rooms_model.SessionOption],
    x: list[cp_model.IntVar],
    trucks: _Trucks,
) -> tuple[list[tuple[str, set[int]]], list[tuple[str, set[int]]]]:
    """The two passes of improving searches, each search a name and the variable indices it frees: each
    provider alone (the greedy alignment stops there, so the joint plan is never worse than it), then each
    truck (a truck joins the providers' sessions) and every two providers who can share a half-day (a market
    of two providers can need both to move)."""
    singles = _blocks(problem, options, x, trucks)
    providers = singles[: len(problem.rooms.providers)]
    return providers, [*singles[len(providers) :], *_pairs(problem, options, providers)]


def _blocks(
    problem: MarketsProblem, options: list[rooms_model.SessionOption], x: list[cp_model.IntVar], trucks: _Trucks
) -> list[tuple[str, set[int]]]:
    """The neighbourhoods of the improving searches: each provider's sessions, each truck's days."""
    blocks = [
        (p.provider_id, {x[i].index for i, o in enumerate(options) if o.provider == k})
        for k, p in enumerate(problem.rooms.providers)
    ]
    blocks += [
        (v.vehicle_id, {var.index for (i, _), var in trucks.y.items() if trucks.patterns[i].vehicle == k})
        for k, v in enumerate(problem.rounds.vehicles)
    ]
    return blocks


def _pairs(
    problem: MarketsProblem, options: list[rooms_model.SessionOption], providers: list[tuple[str, set[int]]]
) -> list[tuple[str, set[int]]]:
    """Two providers' sessions at once (name, variable indices), for every two providers who can work on the
    same half-day: a market of two providers can need both to move."""
    slots = [{o.slot for o in options if o.provider == k} for k in range(len(problem.rooms.providers))]
    return [
        (f"{a[0]}+{b[0]}", a[1] | b[1])
        for (i, a), (j, b) in combinations(enumerate(providers), 2)
        if slots[i] & slots[j]
    ]


def _hinted(model: cp_model.CpModel) -> list[int] | None:
    """The model's hint as values of every variable, when it hints every variable."""
    hint = model.proto.solution_hint
    if len(hint.vars) != len(model.proto.variables):
        return None
    values = [0] * len(model.proto.variables)
    for index, value in zip(hint.vars, hint.values, strict=True):
        values[index] = value
    return values


def _within_domains(model: cp_model.CpModel, values: list[int]) -> bool:
    """Whether every value lies within its variable's bounds."""
    domains = [list(var.domain) for var in model.proto.variables]  # the proto's lists take no negative index
    return all(d[0] <= value <= d[-1] for d, value in zip(domains, values, strict=True))


def _evaluate(expr: cp_model.LinearExprT, values: list[int]) -> float:
    """A linear expression's value at ``values`` (variable values by index)."""
    if isinstance(expr, (int, float)):
        return float(expr)
    flat = cp_model.FlatIntExpr(cast(cp_model.LinearExpr, expr))
    return float(flat.offset + sum(c * values[v.index] for v, c in zip(flat.vars, flat.coeffs, strict=True)))


def _search(
    model: cp_model.CpModel,
    hint: list[int] | None,
    fixed: list[cp_model.IntVar],
    name: str,
    work: float,
    deadline: float,
    seed: int,
    workers: int,
) -> _Found:
    """Solve the joint model hinted with ``hint``, the ``fixed`` variables held at their hinted values, for
    ``work`` deterministic seconds (``deadline``, the wall clock, only guards it: past it, nothing is run)."""
    if time.perf_counter() >= deadline:
        return _Found(name, int(cp_model.UNKNOWN), "no time left", -math.inf, math.inf, None, True, 0.0, 0.0)
    trial = model.clone() if fixed else model
    if hint is not None:
        trial.clear_hints()
        trial.proto.solution_hint.vars.extend(range(len(hint)))  # the proto's lists: a Python loop is slow
        trial.proto.solution_hint.values.extend(hint)
        for var in fixed:  # a fixed domain (the decisions are booleans, [0, 1]), not an added constraint
            domain = trial.proto.variables[var.index].domain
            domain[0] = domain[1] = hint[var.index]
    solver = cp_sat(max(0.01, work), seed, workers, wall_limit_s=_left(deadline))
    if fixed:  # a neighbourhood: a light presolve drops the fixed part (probing the whole model would spend the work)
        solver.parameters.cp_model_probing_level = 0
        solver.parameters.symmetry_level = 0
        solver.parameters.max_presolve_iterations = 1
    with stopping(solver.stop_search):
        raw = solver.solve(trial)
    code, status = int(raw), raw.name.lower()
    spent = (stopped_by_wall_clock(solver), solver.deterministic_time, solver.wall_time)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _Found(name, code, status, -math.inf, math.inf, None, *spent)
    values = list(solver.response_proto.solution)
    if not _within_domains(model, values):  # seen once under heavy load: a stopped search's incomplete values
        return _Found(name, code, "incomplete", -math.inf, math.inf, None, *spent)
    return _Found(name, code, status, solver.objective_value, solver.best_objective_bound, values, *spent)


def _rounds_result(
    problem: RoundsProblem, trucks: _Trucks, values: list[int], info: SolveInfo, notes: list[str]
) -> RoundsResult:
    """The trucks' plan in the rounds' own result form."""
    placed = {
        (p.vehicle, w, p.weekday): p
        for (i, w), var in trucks.y.items()
        if values[var.index]
        for p in (trucks.patterns[i],)
    }
    open_stops = frozenset(s for s, var in enumerate(trucks.open_) if values[var.index])
    result = rounds_model.build_result(problem, info, placed, open_stops, trucks.reachable, tuple(notes))
    return replace(result, info=info)
