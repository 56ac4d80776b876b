"""Rounds at scale: the problem of :mod:`optimize.rounds` planned by vehicle routing (PyVRP).

Where the exact enumeration of truck-days cannot be complete (hundreds of candidate stops, or more
than six stops a day), this engine plans the same :class:`~optimize.rounds.RoundsProblem` and returns
the same :class:`~optimize.rounds.RoundsResult`:

1. **Cycle.** A stop is visited every ``k`` weeks (``k`` divides the horizon) or ``n`` times a week.
   The engine plans a cycle of the least common multiple of the stops' periods (one week for
   weekly or ``n`` a week) and repeats it over the horizon, so a stop keeps its truck and weekday
   from one cycle to the next. With mixed frequencies (weekly beside every 2 or 4 weeks) a stop
   needs several visits a cycle, tied to one truck and weekday; PyVRP cannot tie them, so
   :mod:`optimize._rounds_series` plans such a cycle instead (series of truck-days, a greedy start,
   then a local search and ruin-and-recreate on exactly timed days); steps 2-4 are for one
   frequency.
2. **Prizes.** A person is counted once: zones go to candidate stops greedily (the stop adding the
   most people first) and a stop's prize is the value of its own zones over the cycle. A stop with
   no zone of its own is left out as served by another stop.
3. **Routes.** Each truck-day of the cycle is a PyVRP vehicle (its depot; its shift on one time axis
   for the whole cycle; its own cost per arc as a profile, driving time, km and CO2 priced as in the
   exact model; the stop cap as a capacity; the driving limit as a cost cap); each visit of a stop is
   a client worth its prize, with one client per opening window grouped as alternatives when the
   stop has windows. A nearest-stop greedy plan warm-starts the search; an iteration budget
   proportional to the time limit ends it, so a seed gives the same plan whatever the machine's
   load, with the wall clock only as a guard (the notes say which ended it).
4. **Exact days.** Every truck-day found is re-timed by the exact day sequencer (lunch break,
   windows, shift, driving limit); a stop that does not fit is dropped from its day (the least
   valuable first) and a stop missing a visit of its frequency is dropped everywhere. The better of
   this plan and the greedy one is kept: the plan is empty only when no stop fits any truck-day.

A heuristic proves nothing: the status is ``feasible`` and the bound is the value of everyone a
reachable stop covers, driving free (:func:`optimize.rounds.value_bound`).
"""

from __future__ import annotations

import heapq
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from optimize._cancel import cancel_scope, check
from optimize._errors import InfeasibleError
from optimize._rounds_search import Work, improve
from optimize._rounds_series import greedy as series_greedy
from optimize._rounds_series import improve as series_improve
from optimize._rounds_series import perturb, resequence
from optimize._sequencing import DayPlan
from optimize._solver import SolveInfo, Status, check_limit
from optimize.rounds import (
    DayPattern,
    RoundsProblem,
    RoundsResult,
    build_result,
    can_visit,
    explain_infeasible,
    order_plan,
    period_weeks,
    serviceable,
    value_bound,
)
from optimize.vrp import VrpClient, VrpProblem, VrpRoute, VrpVehicleType
from optimize.vrp import solve as solve_vrp

MICRO = 1_000_000  # PyVRP works in integers: micro-euros for costs and prizes, seconds for times
DAY_S = 24 * 3600
WORK_PER_SECOND = 5_000  # the work budget: iterations x clients per second of time limit (see bench/RESULTS.md)
MIN_ITERATIONS = 200
SEARCH_DAYS_PER_SECOND = 300  # the local search's work limit: days timed per second of time limit
SERIES_DAYS_PER_SECOND = 2_000  # the series search of mixed frequencies (it times a whole series per move)
ROUTING_SHARE = 0.7  # of the time left, at most, for PyVRP (a wall-clock guard); the local search follows
GREEDY_TRIES = 25  # nearest candidates tried at each step of the greedy plan

Slot = tuple[int, int, int]  # (vehicle, week of the cycle, weekday)


class _Setup(NamedTuple):
    """What both planners start from: the cycle, its truck-days, who fits where, prizes, candidates, reachable stops."""

    cycle: int
    slots: list[Slot]
    fits: dict[tuple[int, int], list[int]]
    prizes: dict[int, float]
    candidates: list[int]
    reachable: set[int]


@dataclass(frozen=True)
class _Client:
    """A PyVRP client: which stop it visits, which of the stop's visits in the cycle, and the client itself."""

    stop: int
    copy: int
    client: VrpClient


def solve(
    problem: RoundsProblem,
    *,
    time_limit_s: float,
    seed: int,
    cancel: threading.Event | None = None,
    max_iterations: int | None = None,
    work_s: float | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> RoundsResult:
    """Plan the rounds by vehicle routing (see the module docstring).

    The work limits (PyVRP iterations, days timed by the local search) are sized for ``work_s``
    seconds (default ``time_limit_s``; a caller that has spent part of its time passes a fixed
    share, so that the plan does not depend on how long that took); ``max_iterations`` overrides
    PyVRP's. Raises :class:`InfeasibleError` with plain-words reasons when required stops cannot be
    served.
    """
    check_limit(time_limit_s)
    started = time.perf_counter()
    with cancel_scope(cancel):
        return _solve(problem, time_limit_s, seed, started, max_iterations, work_s or time_limit_s, progress)


def cycle_weeks(problem: RoundsProblem) -> int:
    """Weeks of the repeated cycle: the least common multiple of the stops' periods (1 for weekly or more).

    Every period divides the horizon (the problem checks it), so the cycle does too.
    """
    return math.lcm(*(period_weeks(stop) for stop in problem.stops), 1)


def mixed(problem: RoundsProblem, cycle: int) -> bool:
    """True when some stop needs more than one visit a cycle: its visits are then a series (mixed frequencies)."""
    return any(st.visits_per_week * cycle > 1 + 1e-9 for st in problem.stops) and cycle > 1


def _solve(
    problem: RoundsProblem,
    time_limit_s: float,
    seed: int,
    started: float,
    max_iterations: int | None,
    work_s: float,
    progress: Callable[[str], None],
) -> RoundsResult:
    """The body of :func:`solve`."""
    setup = _setup(problem)
    cycle, slots = setup.cycle, setup.slots
    worth = len(setup.candidates)
    progress(f"{worth} candidate stops worth a visit, {len(slots)} truck-days a cycle of {cycle} week(s)")
    if mixed(problem, cycle):
        results = _series_results(problem, setup, (time_limit_s, work_s), seed, started, progress)
    else:
        results = _routed_results(problem, setup, (time_limit_s, work_s), seed, started, max_iterations, progress)
    required = {st.stop_id for st in problem.stops if st.required}
    complete = [r for r in results if required <= set(r.open_stops)]
    if not complete:
        missing = sorted(required - set(max(results, key=lambda r: len(r.open_stops)).open_stops))
        raise InfeasibleError([f"no plan found that serves these required stops: {', '.join(missing)}"])
    return max(complete, key=lambda r: (r.info.objective, -len(r.routes)))


def _routed_results(
    problem: RoundsProblem,
    setup: _Setup,
    limits: tuple[float, float],
    seed: int,
    started: float,
    max_iterations: int | None,
    progress: Callable[[str], None],
) -> list[RoundsResult]:
    """One visit per stop and cycle (or n a week): the greedy plan, PyVRP's, and both improved stop by stop."""
    cycle, slots, fits, prizes, candidates, reachable = setup
    time_limit_s, work_s = limits
    greedy = _exact_days(problem, nearest_stop_plan(problem, slots, candidates), prizes)
    progress(f"first feasible plan (nearest stop first): {len({s for _, o in greedy.values() for s in o})} stops")
    notes = [f"planned by vehicle routing over a {cycle}-week cycle repeated over the horizon"]
    routed = greedy
    vrp, clients = _vrp_problem(problem, slots, candidates, prizes, cycle)
    left = time_limit_s - (time.perf_counter() - started)
    if clients and left > 0.2:
        budget = max_iterations or max(MIN_ITERATIONS, round(WORK_PER_SECOND * work_s / len(clients)))
        warm = _warm_start(clients, greedy, slots)
        found = solve_vrp(vrp, time_limit_s=ROUTING_SHARE * left, seed=seed, initial=warm, max_iterations=budget)
        notes.append(
            f"routing search ended by {found.stopped_by} after {found.iterations} iterations (budget {budget})"
        )
        if found.stopped_by != "iterations":
            notes.append("the wall-clock limit ended the search before the work limit: another run may differ")
        orders = {slots[r.vehicle_type]: tuple(clients[c].stop for c in r.clients) for r in found.routes}
        routed = _exact_days(problem, orders, prizes)
    check()
    results = [_result(problem, plan, cycle, reachable, seed, started, tuple(notes)) for plan in (routed, greedy)]
    if all(st.visits_per_week <= 1 for st in problem.stops):  # both plans improved: neither start dominates
        cuts = set()
        for plan, share in ((routed, 0.5), (greedy, 1.0)):
            deadline = time.perf_counter() + share * (started + time_limit_s - 0.2 - time.perf_counter())
            work = round(SEARCH_DAYS_PER_SECOND * work_s / 2)
            better, cut = improve(problem, plan, slots, fits, cycle, max_days_timed=work, deadline=deadline)
            cuts.add(cut)
            results.append(_result(problem, better, cycle, reachable, seed, started, tuple(notes)))
        said = " and ".join(sorted(c for c in cuts if c))
        note = "then improved stop by stop with the exact objective" + (f", cut by {said}" if said else "")
        if "the time limit" in cuts:
            note += ": another run may differ"
        results = [replace(r, notes=(*r.notes, note)) for r in results]
    return results


def _series_results(
    problem: RoundsProblem,
    setup: _Setup,
    limits: tuple[float, float],
    seed: int,
    started: float,
    progress: Callable[[str], None],
) -> list[RoundsResult]:
    """Mixed frequencies: the series greedy plan, and the same improved series by series.

    See :mod:`optimize._rounds_series`.

    PyVRP routes single visits and cannot tie a stop's visits to one truck and weekday every ``k``
    weeks; the series search keeps them tied and times every day exactly.
    """
    cycle, slots, fits, _, candidates, reachable = setup
    time_limit_s, work_s = limits
    plan = series_greedy(problem, slots, candidates, fits, cycle, Work(0))
    progress(f"first feasible plan (nearest stop first): {len(plan.where)} stops")
    notes = (f"planned by series of truck-days (mixed frequencies) over a {cycle}-week cycle, repeated",)
    first = _result(problem, dict(plan.days), cycle, reachable, seed, started, (*notes, "nearest stop first"))
    deadline = started + time_limit_s - 0.2
    budget, spent = round(SERIES_DAYS_PER_SECOND * work_s), plan.work.done  # days timed by the search
    series_improve(plan, slots, fits, max_days_timed=budget // 2, deadline=deadline)
    left = budget - (plan.work.done - spent)
    plan, rounds, cut = perturb(plan, slots, fits, random.Random(seed), max_days_timed=left, deadline=deadline)
    resequence(plan)
    note = f"then improved series by series with the exact objective, {rounds} ruin-and-recreate rounds"
    note += f", cut by {cut}" if cut else ""
    if cut == "the time limit":
        note += ": another run may differ"
    return [first, _result(problem, dict(plan.days), cycle, reachable, seed, started, (*notes, note))]


def _setup(problem: RoundsProblem) -> _Setup:
    """The cycle, its truck-days, the stops each truck can serve each weekday, prizes, candidates worth a visit."""
    reasons = explain_infeasible(problem)
    if reasons:
        raise InfeasibleError(reasons)
    cycle = cycle_weeks(problem)
    slots = [
        (v, w, d)
        for w in range(1, cycle + 1)
        for d in problem.days
        for v, vehicle in enumerate(problem.vehicles)
        if d in vehicle.days
    ]
    fits = serviceable(problem)
    reachable = {s for stops in fits.values() for s in stops}
    prizes = stop_prizes(problem, reachable, cycle)
    candidates = sorted(s for s in reachable if prizes[s] > 0 or problem.stops[s].required)
    return _Setup(cycle, slots, fits, prizes, candidates, reachable)


def baseline(problem: RoundsProblem, *, seed: int = 0) -> RoundsResult:
    """The nearest-stop greedy plan alone (:func:`nearest_stop_plan`, or its series form for mixed
    frequencies), as a result: the benchmarks' baseline."""
    started = time.perf_counter()
    cycle, slots, fits, prizes, candidates, reachable = _setup(problem)
    if mixed(problem, cycle):
        days = dict(series_greedy(problem, slots, candidates, fits, cycle, Work(0)).days)
    else:
        days = _exact_days(problem, nearest_stop_plan(problem, slots, candidates), prizes)
    return _result(problem, days, cycle, reachable, seed, started, ("nearest stop first, no search",))


def stop_prizes(problem: RoundsProblem, reachable: set[int], cycle: int) -> dict[int, float]:
    """Euros each stop earns over a cycle: its zones (each given to one stop, greedily) x frequency x value.

    The exact model weighs a week's value against the whole horizon's driving; over a cycle of
    ``cycle`` weeks the driving is ``cycle / horizon`` of it, and so is the prize.
    """
    covered = np.zeros(len(problem.population), dtype=bool)
    people = problem.population

    def gain(s: int) -> float:
        zones = [z for z in problem.covers[s] if not covered[z] and people[z] > 0]
        return float(people[zones].sum()) if zones else 0.0

    heap = [(-gain(s), s) for s in sorted(reachable)]
    heapq.heapify(heap)
    prizes = dict.fromkeys(range(len(problem.stops)), 0.0)
    share = problem.person_value * cycle / problem.horizon_weeks
    while heap:
        _, s = heapq.heappop(heap)
        now = gain(s)
        if now <= 0:
            continue
        if heap and now < -heap[0][0]:  # stale: push back with its current gain
            heapq.heappush(heap, (-now, s))
            continue
        prizes[s] = now * problem.stops[s].visits_per_week * share
        covered[list(problem.covers[s])] = True
    return prizes


def nearest_stop_plan(problem: RoundsProblem, slots: list[Slot], candidates: list[int]) -> dict[Slot, tuple[int, ...]]:
    """The baseline: each truck-day goes on to the nearest stop that still brings new people and fits the day.

    A stop visited ``n`` times a week is taken on ``n`` different days. Days are timed exactly
    (:func:`optimize.rounds.order_plan`).
    """
    need = {s: max(1, int(problem.stops[s].visits_per_week)) for s in candidates}
    started = {s: problem.stops[s].required for s in candidates}  # required, or some of its visits placed
    covered = np.zeros(len(problem.population), dtype=bool)
    plan: dict[Slot, tuple[int, ...]] = {}
    for slot in slots:
        v, _, day = slot
        vehicle = problem.vehicles[v]
        order: tuple[int, ...] = ()
        while len(order) < problem.max_stops_per_day:
            check()
            here = problem.stops[order[-1]].location if order else vehicle.depot
            options = [
                s
                for s in candidates
                if need[s] > 0
                and s not in order
                and (started[s] or any(not covered[z] and problem.population[z] > 0 for z in problem.covers[s]))
            ]
            options.sort(key=lambda s: (problem.time_min[here, problem.stops[s].location], s))
            chosen = next(
                (
                    s
                    for s in options[:GREEDY_TRIES]
                    if can_visit(problem, s, vehicle, day)
                    and order_plan(problem, vehicle, day, (*order, s)) is not None
                ),
                None,
            )
            if chosen is None:
                break
            order = (*order, chosen)
            need[chosen] -= 1
            started[chosen] = True
            covered[list(problem.covers[chosen])] = True
        if order:
            plan[slot] = order
    return plan


def _vrp_problem(
    problem: RoundsProblem, slots: list[Slot], candidates: list[int], prizes: dict[int, float], cycle: int
) -> tuple[VrpProblem, list[_Client]]:
    """The PyVRP instance: a vehicle type per truck-day of the cycle, a client per visit (per window)."""
    longest_shift = max((v.shift_end_min - v.shift_start_min) * 60 for v in problem.vehicles)
    duration = _integers(problem.time_min * 60, above=longest_shift)
    profiles = [_vehicle_costs(problem, v) for v in range(len(problem.vehicles))]
    types = []
    for v, w, d in slots:
        vehicle = problem.vehicles[v]
        origin = ((w - 1) * 7 + d - 1) * DAY_S
        per_min = profiles[v][1]
        types.append(
            VrpVehicleType(
                depot=vehicle.depot,
                capacity=problem.max_stops_per_day,
                shift_start=origin + vehicle.shift_start_min * 60,
                shift_end=origin + vehicle.shift_end_min * 60,
                max_duration=_shift_s(problem, v),
                profile=v,
                max_distance=round(vehicle.max_drive_min * per_min),
            )
        )
    clients: list[_Client] = []
    groups: list[tuple[int, ...]] = []
    exclusive: list[tuple[int, ...]] = []
    for s in candidates:
        stop = problem.stops[s]
        copies = max(1, int(stop.visits_per_week))
        prize = round(prizes[s] * MICRO / copies)
        for copy in range(copies):
            windows = [
                (((w - 1) * 7 + d - 1) * DAY_S + a * 60, ((w - 1) * 7 + d - 1) * DAY_S + (b - stop.service_min) * 60)
                for w in range(1, cycle + 1)
                for d, a, b in stop.windows
                if d in problem.days and b - a >= stop.service_min
            ]
            if not stop.windows:
                visit = VrpClient(stop.location, 1, stop.service_min * 60, required=stop.required, prize=prize)
                clients.append(_Client(s, copy, visit))
                continue
            first = len(clients)
            clients += [
                _Client(s, copy, VrpClient(stop.location, 1, stop.service_min * 60, a, b, required=False, prize=prize))
                for a, b in windows
            ]
            (groups if stop.required else exclusive).append(tuple(range(first, len(clients))))
    vrp = VrpProblem(
        distance=profiles[0][0],
        duration=duration,
        clients=tuple(c.client for c in clients),
        vehicle_types=tuple(types),
        groups=tuple(groups),
        exclusive_groups=tuple(exclusive),
        profiles=tuple((cost, duration) for cost, _ in profiles[1:]),
    )
    return vrp, clients


def _integers(matrix: np.ndarray, *, above: int = 0) -> np.ndarray:
    """Rounded integers, unreachable (inf) arcs ten times the longest reachable one and more than ``above``.

    PyVRP takes no missing arc (its own model fills them with a large number too). An unreachable
    arc's duration is made longer than every shift (``above``): a route through it breaks its
    shift, so PyVRP never calls such a plan feasible, and the exact re-timing of each day (on the
    true matrix, where the arc is infinite) drops it in any case.
    """
    finite = np.isfinite(matrix)
    big = max(10 * max(1.0, float(matrix[finite].max(initial=0))), above + 1)
    return np.where(finite, np.round(np.where(finite, matrix, 0)), big).astype(np.int64)


def _vehicle_costs(problem: RoundsProblem, v: int) -> tuple[np.ndarray, float]:
    """Micro-euros per arc for vehicle ``v``, and per driving minute.

    A stop whose service the truck does not carry is not barred here (huge arc costs stall PyVRP's
    local search): the exact re-timing of each day drops it, and the local search only adds stops a
    truck can serve.
    """
    vehicle = problem.vehicles[v]
    cost = _integers(problem.arc_cost(vehicle) * MICRO)
    moving = (problem.time_min > 0) & np.isfinite(problem.time_min)
    per_min = (
        float(np.median(problem.arc_cost(vehicle)[moving] / problem.time_min[moving])) * MICRO if moving.any() else 0.0
    )
    return cost, per_min


def _shift_s(problem: RoundsProblem, v: int) -> int:
    """The longest day PyVRP may plan: the shift, less the break when no stop has windows to wait in."""
    vehicle = problem.vehicles[v]
    shift = vehicle.shift_end_min - vehicle.shift_start_min
    if vehicle.lunch and not any(st.windows for st in problem.stops):
        shift -= vehicle.lunch.duration_min
    return shift * 60


def _warm_start(
    clients: list[_Client], days: dict[Slot, tuple[DayPlan, tuple[int, ...]]], slots: list[Slot]
) -> list[VrpRoute]:
    """A plan's days as PyVRP routes: each visit by a client of its stop not used yet (its window that day)."""
    free: dict[int, list[int]] = {}
    for i, c in enumerate(clients):
        free.setdefault(c.stop, []).append(i)
    routes = []
    for k, slot in enumerate(slots):
        if slot not in days:
            continue
        on_day = ((slot[1] - 1) * 7 + slot[2] - 1) * DAY_S
        chosen = []
        for s in days[slot][1]:
            options = free[s]
            pick = next((i for i in options if on_day <= clients[i].client.tw_early < on_day + DAY_S), options[0])
            free[s] = [i for i in options if clients[i].copy != clients[pick].copy]  # one client of each visit
            chosen.append(pick)
        routes.append(VrpRoute(k, tuple(chosen)))
    return routes


def _exact_days(
    problem: RoundsProblem, orders: dict[Slot, tuple[int, ...]], prizes: dict[int, float]
) -> dict[Slot, tuple[DayPlan, tuple[int, ...]]]:
    """Each truck-day timed exactly, stops that do not fit dropped; then stops short of their frequency dropped."""
    days: dict[Slot, tuple[int, ...]] = {}
    for slot, order in orders.items():
        kept = tuple(dict.fromkeys(order))[: problem.max_stops_per_day]  # a stop once a day
        days[slot] = _fit(problem, slot, kept, prizes)
    while True:
        visits: dict[int, set[tuple[int, int]]] = {}
        for (_, w, d), order in days.items():
            for s in order:
                visits.setdefault(s, set()).add((w, d))
        short = {s for s, seen in visits.items() if len(seen) < max(1, int(problem.stops[s].visits_per_week))}
        if not short:
            break
        days = {
            slot: _fit(problem, slot, tuple(s for s in order if s not in short), prizes) for slot, order in days.items()
        }
    planned = {}
    for slot, order in days.items():
        plan = order_plan(problem, problem.vehicles[slot[0]], slot[2], order) if order else None
        if plan is not None:
            planned[slot] = (plan, order)
    return planned


def _fit(problem: RoundsProblem, slot: Slot, order: tuple[int, ...], prizes: dict[int, float]) -> tuple[int, ...]:
    """The order, with the fewest and least valuable stops dropped until the day fits exactly."""
    vehicle, day = problem.vehicles[slot[0]], slot[2]
    order = tuple(s for s in order if can_visit(problem, s, vehicle, day))  # its service, its windows that day
    while order and order_plan(problem, vehicle, day, order) is None:
        shorter = [order[:i] + order[i + 1 :] for i in range(len(order))]
        fitting = [o for o in shorter if order_plan(problem, vehicle, day, o) is not None]
        pool = fitting or shorter
        order = max(pool, key=lambda o: (sum(prizes[s] for s in o), o))
    return order


def _result(
    problem: RoundsProblem,
    days: dict[Slot, tuple[DayPlan, tuple[int, ...]]],
    cycle: int,
    reachable: set[int],
    seed: int,
    started: float,
    notes: tuple[str, ...],
) -> RoundsResult:
    """The cycle's days repeated over the horizon, as the exact engine's result."""
    placed = {
        (v, w + repeat * cycle, d): DayPattern(v, d, order, plan)
        for (v, w, d), (plan, order) in days.items()
        for repeat in range(problem.horizon_weeks // cycle)
    }
    open_stops = frozenset(s for _, order in days.values() for s in order)
    info = SolveInfo(Status.FEASIBLE, 0.0, value_bound(problem, reachable), 0.0, seed)
    result = build_result(problem, info, placed, open_stops, reachable, notes)
    info = SolveInfo(Status.FEASIBLE, result.value - result.cost, info.bound, time.perf_counter() - started, seed)
    return replace(result, info=info)
