"""Periodic vehicle routing: each customer visited on one allowed combination of days.

The periodic VRP of Cordeau, Gendreau and Laporte (1997): over a horizon of ``num_days`` days,
customer ``i`` must be visited on exactly the days of one of its allowed combinations (a fortnightly
stop on any one day, a twice-weekly stop on Monday-Thursday or Tuesday-Friday...); every day
``vehicles_per_day`` vehicles of capacity ``capacity`` leave the depot (location 0), each route
lasting at most ``max_duration`` (travel plus service). Objective: total distance over the horizon.

Method (a decomposition around the :mod:`optimize.vrp` engine):

0. **Days interchangeable** (every customer visited once, on any day): one VRP with
   ``vehicles_per_day x num_days`` vehicles, its routes dealt to the days.
1. **One routing problem for the whole horizon.** Each day is a vehicle type with its own time
   window starting at ``d H``, and each visit is a client with its day's window: a vehicle can only
   serve visits of its own day (without a duration limit, times are zero and the windows are points,
   see ``_horizon``). Customers visited once get one client per allowed day, grouped as
   alternatives, so PyVRP chooses their day itself.
2. **Combinations of customers visited more than once** (a coupling PyVRP cannot express): a first
   whole-horizon solve (20 % of the budget) relaxes it (the k-th visit on any day that is the k-th
   of an allowed combination); each customer then gets the combination sharing most days with its
   relaxed visits (ties: least insertion cost), and the whole horizon is solved with those fixed
   (15 %).
3. **Three cycles of large neighbourhood search, then a whole-horizon solve.** A move takes a
   customer that has a choice and its nearest such neighbours, moves the first to another
   combination at random and the others with it when allowed (else on their cheapest combination,
   by cheapest-insertion estimates), re-optimises only the days touched (a warm start and
   ``ITERS_DAY`` engine iterations each) and is kept when those days cost no more. Each cycle ends
   with a warm-started whole-horizon solve, which lets single visits change day again.

Deterministic for a seed when ``max_iterations`` (PyVRP iterations over all the calls), not the
wall clock, ends the search.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optimize._solver import Status
from optimize.vrp import INF, VrpClient, VrpProblem, VrpResult, VrpRoute, VrpVehicleType
from optimize.vrp import solve as solve_vrp

Visit = tuple[int, int]  # (customer, day)
ITERS_DAY = 30  # engine iterations to re-optimise a day after a move (from a warm start)
OVERLOAD_ARCS = 10  # price of one unit of overload during the search, in longest arcs


@dataclass(frozen=True)
class PeriodicProblem:
    """Integer ``distance``/``duration`` matrices over the depot (0) and customers 1..n.

    ``combinations[i]`` lists customer ``i``'s allowed day sets (days 0..num_days-1; index 0, the
    depot, has none); ``max_duration`` of ``None`` means routes of any length.
    """

    distance: np.ndarray
    duration: np.ndarray
    demand: np.ndarray
    service: np.ndarray
    combinations: tuple[tuple[tuple[int, ...], ...], ...]
    num_days: int
    vehicles_per_day: int
    capacity: int
    max_duration: int | None = None

    @property
    def num_customers(self) -> int:
        """Customers, the depot excluded."""
        return len(self.combinations) - 1


@dataclass(frozen=True)
class PeriodicRoute:
    """One vehicle's route on ``day``: customers in visiting order."""

    day: int
    customers: tuple[int, ...]


@dataclass(frozen=True)
class PeriodicResult:
    """Routes, each customer's chosen day set, total distance, status, time, seed and LNS rounds."""

    routes: tuple[PeriodicRoute, ...]
    days_of: tuple[tuple[int, ...], ...]
    distance: int
    status: Status
    time_s: float
    seed: int
    rounds: int


def _choosers(problem: PeriodicProblem) -> list[int]:
    """Customers with more than one allowed combination."""
    return [i for i, combos in enumerate(problem.combinations) if len(combos) > 1]


def _multi(problem: PeriodicProblem) -> list[int]:
    """Customers whose combination the decomposition fixes: several visits and several choices."""
    return [i for i in _choosers(problem) if len(problem.combinations[i][0]) > 1]


def _horizon(problem: PeriodicProblem) -> int:
    """A day length ``H`` longer than any route (all arcs plus all services).

    Without a duration limit, times play no part but to keep the days apart: the whole-horizon
    problem then has zero travel and service times and ``H = 10`` (measured: huge windows and
    time warps make PyVRP's penalties struggle, p06 1,147 instead of 860-905 in 10 s).
    """
    if problem.max_duration is None:
        return 10
    return int(problem.duration.max()) * (problem.num_customers + 2) + int(problem.service.sum()) + 1


def _slots(
    problem: PeriodicProblem, fixed: dict[int, tuple[int, ...]], relaxed: bool
) -> list[tuple[int, tuple[int, ...]]]:
    """Visits to make as (customer, candidate days): one day is a required visit, several a group.

    Multi-visit customers are on their ``fixed`` days, or, ``relaxed``, their k-th visit on any day
    that is the k-th of one of their combinations (a relaxation: the visits are not coupled).
    """
    slots: list[tuple[int, tuple[int, ...]]] = []
    for i in range(1, problem.num_customers + 1):
        combos = problem.combinations[i]
        if relaxed and i in fixed:
            slots += [(i, tuple(sorted({c[k] for c in combos}))) for k in range(len(combos[0]))]
        elif i in fixed or len(combos) == 1:
            slots += [(i, (d,)) for d in fixed.get(i, combos[0])]
        else:
            slots.append((i, tuple(sorted({d for c in combos for d in c}))))
    return slots


def _day_free(problem: PeriodicProblem) -> bool:
    """Every customer is visited once, on any day: the days are then interchangeable."""
    every_day = tuple((d,) for d in range(problem.num_days))
    return all(sorted(c) == list(every_day) for c in problem.combinations[1:])


def _fleet_vrp(problem: PeriodicProblem) -> VrpProblem:
    """The day-free case as one VRP: clients are customers 1..n (client k is customer k + 1)."""
    return VrpProblem(
        problem.distance,
        problem.duration,
        tuple(
            VrpClient(i, int(problem.demand[i]), int(problem.service[i])) for i in range(1, problem.num_customers + 1)
        ),
        (
            VrpVehicleType(
                depot=0,
                count=problem.vehicles_per_day * problem.num_days,
                capacity=problem.capacity,
                max_duration=INF if problem.max_duration is None else problem.max_duration,
            ),
        ),
    )


def _build(
    problem: PeriodicProblem, fixed: dict[int, tuple[int, ...]], relaxed: bool = False
) -> tuple[VrpProblem, list[Visit]]:
    """The whole-horizon routing problem (see the module docstring) and its clients' visits."""
    h, timed = _horizon(problem), problem.max_duration is not None
    width = h - 1 if timed else 0  # untimed: everything happens at time d H, a wrong day warps >= H
    clients: list[VrpClient] = []
    visits: list[Visit] = []
    groups: list[tuple[int, ...]] = []
    for i, days in _slots(problem, fixed, relaxed):
        if len(days) > 1:
            groups.append(tuple(range(len(clients), len(clients) + len(days))))
        for d in days:
            clients.append(
                VrpClient(
                    location=i,
                    demand=int(problem.demand[i]),
                    service=int(problem.service[i]) if timed else 0,
                    tw_early=d * h,
                    tw_late=d * h + width,
                    required=len(days) == 1,
                )
            )
            visits.append((i, d))
    vehicles = tuple(
        VrpVehicleType(
            depot=0,
            count=problem.vehicles_per_day,
            capacity=problem.capacity,
            shift_start=d * h,
            shift_end=d * h + width,
            max_duration=INF if problem.max_duration is None else problem.max_duration,
        )
        for d in range(problem.num_days)
    )
    duration = problem.duration if timed else np.zeros_like(problem.duration)
    return VrpProblem(problem.distance, duration, tuple(clients), vehicles, tuple(groups)), visits


def _insertion(problem: PeriodicProblem, routes: list[list[int]], i: int) -> tuple[int, int, int]:
    """Cheapest (cost, route, position) to insert ``i`` into one day's routes; a new route if allowed.

    Routes whose load would exceed the capacity cost an extra penalty of the largest distance
    times the overload, so a feasible place is preferred whenever there is one.
    """
    d, q = problem.distance, int(problem.demand[i])
    best = (2 * int(d[0, i]), len(routes), 0) if len(routes) < problem.vehicles_per_day else (INF, -1, 0)
    penalty = int(d.max())
    for r, route in enumerate(routes):
        over = max(0, int(problem.demand[route].sum()) + q - problem.capacity)
        path = [0, *route, 0]
        deltas = d[path[:-1], i] + d[i, path[1:]] - d[path[:-1], path[1:]]
        k = int(np.argmin(deltas))
        cost = int(deltas[k]) + penalty * over
        if cost < best[0]:
            best = (cost, r, k)
    return best


def _place(
    problem: PeriodicProblem, routes: list[list[int]], i: int, where: tuple[int, int, int] | None = None
) -> None:
    """Insert ``i`` into one day's routes at ``where`` (default: its cheapest insertion), in place."""
    _, r, k = where or _insertion(problem, routes, i)
    r = max(r, 0)
    if r == len(routes):
        routes.append([])
    routes[r].insert(k, i)


def _remove(by_day: list[list[list[int]]], i: int) -> None:
    """Take customer ``i`` out of every route (in place)."""
    for routes in by_day:
        for route in routes:
            while i in route:
                route.remove(i)


def _cheapest_combo(
    problem: PeriodicProblem, by_day: list[list[list[int]]], i: int, combos: Sequence[tuple[int, ...]]
) -> tuple[int, ...]:
    """Insert ``i`` (absent from the routes) on the combination of least estimated cost; return it."""
    scored = []
    for combo in combos:
        places = [_insertion(problem, by_day[d], i) for d in combo]
        scored.append((sum(p[0] for p in places), combo, places))
    _, combo, places = min(scored, key=lambda s: s[0])
    for d, where in zip(combo, places, strict=True):
        _place(problem, by_day[d], i, where)
    return combo


def _perturb(
    problem: PeriodicProblem,
    by_day: list[list[list[int]]],
    removed: Sequence[int],
    days_of: dict[int, tuple[int, ...]],
    rng: random.Random,
) -> set[int]:
    """Move ``removed[0]`` to another combination at random and its neighbours ``removed[1:]`` with it.

    A neighbour takes the same combination when allowed, else its cheapest; this moves clusters
    of customers from day to day together. Changes ``by_day`` and ``days_of`` in place; returns
    the days touched.
    """
    touched = {d for i in removed for d in days_of[i]}
    for i in removed:
        _remove(by_day, i)
    first = removed[0]
    combo = rng.choice([c for c in problem.combinations[first] if c != days_of[first]])
    for i in removed:
        allowed = [combo] if combo in problem.combinations[i] else problem.combinations[i]
        days_of[i] = _cheapest_combo(problem, by_day, i, allowed)
    return touched | {d for i in removed for d in days_of[i]}


def _solve_day(
    problem: PeriodicProblem, routes: list[list[int]], seed: int, iterations: int, seconds: float
) -> tuple[int, list[list[int]]]:
    """Re-optimise one day's routes from themselves (warm start); (distance or INF, routes)."""
    customers = sorted({i for r in routes for i in r})
    if not customers:
        return 0, []
    idx = [0, *customers]
    pos = {c: k for k, c in enumerate(customers)}
    vrp = VrpProblem(
        problem.distance[np.ix_(idx, idx)],
        problem.duration[np.ix_(idx, idx)],
        tuple(VrpClient(k + 1, int(problem.demand[c]), int(problem.service[c])) for k, c in enumerate(customers)),
        (
            VrpVehicleType(
                depot=0,
                count=problem.vehicles_per_day,
                capacity=problem.capacity,
                max_duration=INF if problem.max_duration is None else problem.max_duration,
            ),
        ),
    )
    warm = [VrpRoute(0, tuple(pos[c] for c in r)) for r in routes if r]
    result = solve_vrp(vrp, time_limit_s=seconds, seed=seed, initial=warm, max_iterations=iterations)
    found = [[customers[c] for c in r.clients] for r in result.routes]
    if result.feasible:
        return result.distance, found
    if problem.max_duration is not None or len(found) > problem.vehicles_per_day:
        return INF, routes  # only overloads are priced (_day_cost); other violations are refused
    return min((_day_cost(problem, found), found), (_day_cost(problem, routes), routes), key=lambda x: x[0])


def _repair(
    problem: PeriodicProblem, by_day: list[list[list[int]]], multi: Sequence[int], days_of: dict[int, tuple[int, ...]]
) -> None:
    """Give each multi-visit customer of a relaxed solution the combination sharing most of its days.

    Ties go to the least cheapest-insertion cost; the customer is re-inserted there (in place).
    """
    for i in multi:
        seen = {d for d, routes in enumerate(by_day) for route in routes if i in route}
        _remove(by_day, i)
        most = max(len(seen.intersection(c)) for c in problem.combinations[i])
        closest = [c for c in problem.combinations[i] if len(seen.intersection(c)) == most]
        days_of[i] = _cheapest_combo(problem, by_day, i, closest)


def _by_day(problem: PeriodicProblem, visits: Sequence[Visit], routes: Sequence[VrpRoute]) -> list[list[list[int]]]:
    """Engine routes -> customers per route per day (vehicle type ``d`` is day ``d``).

    A visit an infeasible engine solution left on another day's vehicle is moved to its own day
    (cheapest insertion), so that the plan never holds a customer twice on a day.
    """
    by_day: list[list[list[int]]] = [[] for _ in range(problem.num_days)]
    strays: list[Visit] = []
    for r in routes:
        by_day[r.vehicle_type].append([visits[c][0] for c in r.clients if visits[c][1] == r.vehicle_type])
        strays += [visits[c] for c in r.clients if visits[c][1] != r.vehicle_type]
    for i, d in strays:
        if all(i not in route for route in by_day[d]):
            _place(problem, by_day[d], i)
    return by_day


def _warm_start(by_day: Sequence[Sequence[Sequence[int]]], visits: Sequence[Visit]) -> list[VrpRoute]:
    """Customers per route per day -> engine routes over the clients of ``visits``."""
    index = {v: k for k, v in enumerate(visits)}
    return [
        VrpRoute(d, tuple(index[(i, d)] for i in route)) for d, routes in enumerate(by_day) for route in routes if route
    ]


def _days_of(problem: PeriodicProblem, by_day: Sequence[Sequence[Sequence[int]]]) -> list[tuple[int, ...]]:
    """Each customer's days in a plan."""
    days: list[tuple[int, ...]] = [() for _ in range(problem.num_customers + 1)]
    for d, routes in enumerate(by_day):
        for route in routes:
            for i in route:
                days[i] = (*days[i], d)
    return [tuple(sorted(x)) for x in days]


@dataclass
class _Plan:
    """The search's current plan: routes per day, each customer's days, distance per day."""

    by_day: list[list[list[int]]]
    days_of: dict[int, tuple[int, ...]]
    day_cost: list[int]

    @classmethod
    def of(cls, problem: PeriodicProblem, by_day: list[list[list[int]]]) -> _Plan:
        """The plan of some routes."""
        days = dict(enumerate(_days_of(problem, by_day)))
        return cls(by_day, days, [_day_cost(problem, routes) for routes in by_day])


def _lns_round(
    problem: PeriodicProblem, plan: _Plan, choosers: list[int], near: np.ndarray, rng: random.Random, seconds: float
) -> int:
    """One move of the neighbourhood search, kept if the days it touches cost no more; iterations used."""
    anchor = near[rng.randrange(len(choosers))]
    removed = [choosers[j] for j in anchor[: rng.randint(1, min(len(choosers), 8))]]
    trial, trial_days = [[list(r) for r in routes] for routes in plan.by_day], dict(plan.days_of)
    touched = sorted(_perturb(problem, trial, removed, trial_days, rng))
    new_cost = {}
    for d in touched:
        new_cost[d], trial[d] = _solve_day(problem, trial[d], rng.randrange(2**31), ITERS_DAY, seconds)
    if sum(new_cost.values()) <= sum(plan.day_cost[d] for d in touched):
        plan.by_day, plan.days_of = trial, trial_days
        for d in touched:
            plan.day_cost[d] = new_cost[d]
    return ITERS_DAY * len(touched)


def solve(
    problem: PeriodicProblem, *, time_limit_s: float, seed: int, max_iterations: int | None = None
) -> PeriodicResult:
    """Routes over the horizon of least total distance found in ``time_limit_s`` with ``seed``."""
    start = time.perf_counter()
    rng = random.Random(seed)
    multi, choosers = _multi(problem), _choosers(problem)
    used = 0

    def progress() -> float:
        """Share of the budget spent: iterations when they are the budget, else the clock."""
        clock = (time.perf_counter() - start) / time_limit_s
        return clock if max_iterations is None else max(used / max_iterations, clock * (clock >= 1))

    def run(vrp: VrpProblem, share: float, warm: list[VrpRoute] | None) -> VrpResult:
        nonlocal used
        iters = None if max_iterations is None else max(1, int(max_iterations * share))
        seconds = max(0.01, min(time_limit_s * share, time_limit_s - (time.perf_counter() - start)))
        out = solve_vrp(vrp, time_limit_s=seconds, seed=rng.randrange(2**31), initial=warm, max_iterations=iters)
        used += out.iterations
        return out

    if _day_free(problem):  # any customer any day: a plain VRP with m x days vehicles, routes dealt to days
        result = run(_fleet_vrp(problem), 1.0, None)
        by_day: list[list[list[int]]] = [[] for _ in range(problem.num_days)]
        for k, route in enumerate(result.routes):
            by_day[k % problem.num_days].append([c + 1 for c in route.clients])
        return _result(problem, by_day, result, start, seed, 0)
    if not multi:  # every combination is a single day: one whole-horizon solve does it all
        vrp, visits = _build(problem, {})
        result = run(vrp, 1.0, None)
        return _result(problem, _by_day(problem, visits, result.routes), result, start, seed, 0)
    # 1-2: relaxed whole horizon, combinations from it, whole horizon with them fixed
    days_of: dict[int, tuple[int, ...]] = {i: () for i in multi}
    relaxed, visits = _build(problem, days_of, relaxed=True)
    by_day = _by_day(problem, visits, run(relaxed, 0.2, None).routes)
    _repair(problem, by_day, multi, days_of)
    vrp, visits = _build(problem, days_of)
    result = run(vrp, 0.15, _warm_start(by_day, visits))
    plan = _Plan.of(problem, _by_day(problem, visits, result.routes))
    # 3: cycles of neighbourhood search on the days, then a whole-horizon solve from the plan
    near = np.argsort(problem.distance[np.ix_(choosers, choosers)], axis=1)
    rounds, cycles = 0, 3
    for c in range(cycles):
        lns_end, cycle_end = 0.35 + 0.65 * (c + 0.6) / cycles, 0.35 + 0.65 * (c + 1) / cycles
        while progress() < lns_end:
            seconds = max(0.01, time_limit_s - (time.perf_counter() - start))
            used += _lns_round(problem, plan, choosers, near, rng, seconds)
            rounds += 1
        vrp, visits = _build(problem, {i: plan.days_of[i] for i in multi})
        whole = run(vrp, max(0.0, cycle_end - progress()), _warm_start(plan.by_day, visits))
        if whole.feasible and whole.distance <= sum(plan.day_cost):
            plan = _Plan.of(problem, _by_day(problem, visits, whole.routes))
    return PeriodicResult(
        routes=tuple(PeriodicRoute(d, tuple(r)) for d, routes in enumerate(plan.by_day) for r in routes if r),
        days_of=tuple(_days_of(problem, plan.by_day)),
        distance=sum(_route_distance(problem, routes) for routes in plan.by_day),
        status=Status.FEASIBLE if _feasible(problem, plan.by_day) else Status.UNKNOWN,
        time_s=time.perf_counter() - start,
        seed=seed,
        rounds=rounds,
    )


def _feasible(problem: PeriodicProblem, by_day: Sequence[Sequence[Sequence[int]]]) -> bool:
    """Fleet size, capacity and route duration of every day hold."""
    dur, cap, limit = problem.duration, problem.capacity, problem.max_duration
    for routes in by_day:
        used = [r for r in routes if r]
        if len(used) > problem.vehicles_per_day or any(int(problem.demand[r].sum()) > cap for r in used):
            return False
        for r in used:
            path = [0, *r, 0]
            if limit is not None and int(dur[path[:-1], path[1:]].sum() + problem.service[r].sum()) > limit:
                return False
    return True


def _day_cost(problem: PeriodicProblem, routes: Sequence[Sequence[int]]) -> int:
    """One day's distance plus ``OVERLOAD_ARCS`` longest arcs per unit of load over a vehicle's capacity.

    On tight instances (p13: 92 % of the fleet's capacity used) the first plans overload some
    routes; pricing the overload lets the search move customers off those days step by step.
    """
    over = sum(max(0, int(problem.demand[r].sum()) - problem.capacity) for r in routes if r)
    return _route_distance(problem, routes) + OVERLOAD_ARCS * int(problem.distance.max()) * over


def _route_distance(problem: PeriodicProblem, routes: Sequence[Sequence[int]]) -> int:
    """Integer distance of one day's routes."""
    d = problem.distance
    return int(sum(d[a, b] for r in routes if r for a, b in zip([0, *r], [*r, 0], strict=True)))


def _result(
    problem: PeriodicProblem, by_day: list[list[list[int]]], result: VrpResult, start: float, seed: int, rounds: int
) -> PeriodicResult:
    """The result of a whole-horizon engine solve."""
    return PeriodicResult(
        routes=tuple(PeriodicRoute(d, tuple(r)) for d, routes in enumerate(by_day) for r in routes if r),
        days_of=tuple(_days_of(problem, by_day)),
        distance=result.distance,
        status=result.status,
        time_s=time.perf_counter() - start,
        seed=seed,
        rounds=rounds,
    )
