"""Periodic vehicle routing: each customer visited on one allowed combination of days.

The periodic VRP of Cordeau, Gendreau and Laporte (1997): over a horizon of ``num_days`` days,
customer ``i`` must be visited on exactly the days of one of its allowed combinations (a fortnightly
stop on any one day, a twice-weekly stop on Monday-Thursday or Tuesday-Friday...); every day
``vehicles_per_day`` vehicles of capacity ``capacity`` leave the depot (location 0), each route
lasting at most ``max_duration`` (travel plus service). Objective: total distance over the horizon.

Method: when every customer is visited once on any day, the days are interchangeable and the
problem is one VRP with ``vehicles_per_day x num_days`` vehicles (PyVRP, :mod:`optimize.vrp`).
Otherwise a pattern search (:mod:`optimize._periodic_search`, after Vidal et al. 2012) moves
customers between combinations inside the search, re-routes the days it changes with PyVRP's
local search, prices overloads adaptively, and polishes the best plan's days at the end.

The search is measured in deterministic work units (``WORK_PER_S`` of them per second of
``time_limit_s``), or ``max_iterations`` pattern-search iterations when given: for a seed the
result is then the same on any machine and under any load. The wall clock only stops a search that
runs late (``stopped_by`` says which ended it).
"""

from __future__ import annotations

import random
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from optimize._cancel import cancellable
from optimize._errors import ProblemError
from optimize._periodic_days import search as polish_day
from optimize._periodic_plan import Plan
from optimize._periodic_search import Budget, search
from optimize._solver import SolveInfo, Status
from optimize.vrp import INF, VrpClient, VrpProblem, VrpVehicleType
from optimize.vrp import solve as solve_vrp

WORK_PER_S = 20_000.0  # work units a second (about one customer re-routed each), measured on a 2-core Xeon
POLISH_SHARE = 0.1  # share of the budget spent polishing the best plan's days
POLISH_UNITS = 1.0  # work units of one PyVRP iteration of the polish, per customer of the day


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

    def __post_init__(self) -> None:
        problems = _matrix_problems(self) + _customer_problems(self)
        if self.num_days < 1:
            problems.append(f"num_days: {self.num_days}, at least 1 day is needed")
        if self.vehicles_per_day < 1:
            problems.append(f"vehicles_per_day: {self.vehicles_per_day}, at least 1 vehicle is needed")
        if self.capacity < 1:
            problems.append(f"capacity: {self.capacity}, must be positive")
        if self.max_duration is not None and self.max_duration < 1:
            problems.append(f"max_duration: {self.max_duration}, must be positive (None: no limit)")
        if problems:
            raise ProblemError(problems)

    @property
    def num_customers(self) -> int:
        """Customers, the depot excluded."""
        return len(self.combinations) - 1


def _matrix_problems(p: PeriodicProblem) -> list[str]:
    """Shapes and signs of the matrices and vectors."""
    n = len(p.combinations)
    problems = [
        f"{name}: shape {np.shape(m)}, expected ({n}, {n}) (depot and {n - 1} customers)"
        for name, m in (("distance", p.distance), ("duration", p.duration))
        if np.shape(m) != (n, n)
    ]
    problems += [
        f"{name}: length {len(v)}, expected {n}"
        for name, v in (("demand", p.demand), ("service", p.service))
        if np.shape(v) != (n,)
    ]
    problems += [
        f"{name}: negative values" for name, m in (("distance", p.distance), ("duration", p.duration),
        ("demand", p.demand), ("service", p.service)) if np.size(m) and np.min(m) < 0
    ]
    return problems


def _customer_problems(p: PeriodicProblem) -> list[str]:
    """Each customer's combinations: at least one, days in the horizon, no repeated day; demand fits."""
    problems = [] if not p.combinations or not p.combinations[0] else ["combinations[0]: the depot has none"]
    for i, combos in enumerate(p.combinations[1:], start=1):
        if not combos:
            problems.append(f"customer {i}: no allowed combination of days")
        for c in combos:
            if not c or len(set(c)) != len(c) or any(not 0 <= d < p.num_days for d in c):
                problems.append(f"customer {i}: combination {c} must list distinct days in 0..{p.num_days - 1}")
        if np.shape(p.demand) == (len(p.combinations),) and int(p.demand[i]) > p.capacity:
            problems.append(f"customer {i}: demand {int(p.demand[i])} > vehicle capacity {p.capacity}")
    return problems


@dataclass(frozen=True)
class PeriodicRoute:
    """One vehicle's route on ``day``: customers in visiting order."""

    day: int
    customers: tuple[int, ...]


@dataclass(frozen=True)
class PeriodicResult:
    """Routes, each customer's days, total distance, the solve header, iterations and what ended the search."""

    routes: tuple[PeriodicRoute, ...]
    days_of: tuple[tuple[int, ...], ...]
    distance: int
    info: SolveInfo
    iterations: int
    stopped_by: str  # "work", "iterations" or "wall clock"


def lower_bound(problem: PeriodicProblem) -> float:
    """A valid bound: every visit has an arc in and an arc out, each arc shared by at most two visits."""
    d = problem.distance.astype(np.float64)
    n = problem.num_customers
    if n == 0:
        return 0.0
    masked = d + np.diag(np.full(n + 1, np.inf))
    into, out = masked[:, 1:].min(axis=0), masked[1:, :].min(axis=1)
    visits = np.array([min(len(c) for c in combos) for combos in problem.combinations[1:]])
    return float(np.sum(visits * (into + out) / 2))


def _day_free(problem: PeriodicProblem) -> bool:
    """Every customer is visited once, on any day: the days are then interchangeable."""
    every_day = sorted((d,) for d in range(problem.num_days))
    return all(sorted(c) == every_day for c in problem.combinations[1:])


def _fleet_plan(problem: PeriodicProblem, iterations: int, seed: int, seconds: float) -> Plan:
    """The day-free case as one VRP with ``vehicles_per_day x num_days`` vehicles, routes dealt to the days."""
    vrp = VrpProblem(
        problem.distance,
        problem.duration,
        tuple(VrpClient(i, int(problem.demand[i]), int(problem.service[i])) for i in range(1, problem.num_customers + 1)),
        (
            VrpVehicleType(
                depot=0,
                count=problem.vehicles_per_day * problem.num_days,
                capacity=problem.capacity,
                max_duration=INF if problem.max_duration is None else problem.max_duration,
            ),
        ),
    )
    result = solve_vrp(vrp, time_limit_s=seconds, seed=seed, max_iterations=iterations)
    plan = Plan.empty(problem)
    for k, route in enumerate(result.routes):
        day, vehicle = k % problem.num_days, k // problem.num_days
        plan.routes[day][vehicle] = [c + 1 for c in route.clients]
        for c in route.clients:
            plan.pattern[c + 1] = (day,)
    return plan


def _polish(problem: PeriodicProblem, plan: Plan, work: float, seed: int, seconds: float) -> Plan:
    """Each day of a feasible plan re-routed by PyVRP's iterated local search; kept when shorter.

    A PyVRP iteration on a day of ``s`` customers counts ``POLISH_UNITS * s`` work units.
    """
    out = plan.copy()
    end = time.perf_counter() + seconds
    for d in range(problem.num_days):
        size = max(1, sum(len(r) for r in plan.routes[d]))
        iterations = max(1, int(work / problem.num_days / (POLISH_UNITS * size)))
        left = max(0.01, (end - time.perf_counter()) / (problem.num_days - d))
        out.set_day(d, polish_day(problem, plan.routes[d], iterations, seed + d, left))
    better = out.feasible() and out.totals()[0] < plan.totals()[0]
    return out if better else plan


def solve(
    problem: PeriodicProblem,
    *,
    time_limit_s: float,
    seed: int,
    cancel: threading.Event | None = None,
    max_iterations: int | None = None,
) -> PeriodicResult:
    """Routes over the horizon of least total distance found for ``seed`` within ``time_limit_s``.

    ``max_iterations`` (pattern-search iterations, or PyVRP iterations in the day-free case)
    replaces the default work budget of ``WORK_PER_S`` units a second.
    """
    start = time.perf_counter()
    with cancellable(cancel) if cancel is not None else nullcontext():
        return _solve(problem, time_limit_s, seed, max_iterations, start)


def _solve(
    problem: PeriodicProblem, time_limit_s: float, seed: int, max_iterations: int | None, start: float
) -> PeriodicResult:
    """:func:`solve` inside its cancellation context."""
    rng = random.Random(seed)
    work = WORK_PER_S * time_limit_s
    search_s = time_limit_s * (1 - POLISH_SHARE)
    if _day_free(problem):
        iterations = max_iterations or max(1, int(work / max(1, problem.num_customers)))
        plan = _fleet_plan(problem, iterations, seed, time_limit_s)
        iterations_done, stopped_by = iterations, "iterations"
    else:
        budget = Budget(work * (1 - POLISH_SHARE), lambda: time.perf_counter() - start, search_s, max_iterations)
        plan = search(problem, budget, rng)
        if plan.feasible():
            left = max(0.01, time_limit_s - (time.perf_counter() - start))
            plan = _polish(problem, plan, work * POLISH_SHARE, rng.randrange(2**31), left)
        iterations_done, stopped_by = budget.iterations, budget.stopped_by
    if time.perf_counter() - start >= time_limit_s:
        stopped_by = "wall clock"
    distance, _, _ = plan.totals()
    feasible = plan.feasible()
    info = SolveInfo(
        status=Status.FEASIBLE if feasible else Status.UNKNOWN,
        objective=float(distance) if feasible else float("nan"),
        bound=lower_bound(problem),
        time_s=time.perf_counter() - start,
        seed=seed,
    )
    return PeriodicResult(
        routes=tuple(PeriodicRoute(d, tuple(r)) for d, day in enumerate(plan.routes) for r in day if r),
        days_of=tuple(plan.pattern),
        distance=distance,
        info=info,
        iterations=iterations_done,
        stopped_by=stopped_by,
    )
