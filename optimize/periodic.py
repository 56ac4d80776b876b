"""Periodic vehicle routing: each customer visited on one allowed combination of days.

The periodic VRP of Cordeau, Gendreau and Laporte (1997): over a horizon of ``num_days`` days,
customer ``i`` must be visited on exactly the days of one of its allowed combinations (a fortnightly
stop on any one day, a twice-weekly stop on Monday-Thursday or Tuesday-Friday...); every day
``vehicles_per_day`` vehicles of capacity ``capacity`` leave the depot (location 0), each route
lasting at most ``max_duration`` (travel plus service). Objective: total distance over the horizon.

Method: when every customer is visited once on any day, the days are interchangeable and the
problem is one VRP with ``vehicles_per_day x num_days`` vehicles (PyVRP, :mod:`optimize.vrp`).
Otherwise ``CYCLES`` cycles of two stages:

1. a pattern search (:mod:`optimize._periodic_search`, after Vidal et al. 2012): pattern moves
   inside the search, days re-routed by PyVRP's local search, adaptive overload prices,
   ruin-and-recreate of customer clusters, record-to-record acceptance;
2. the whole horizon as one PyVRP problem from the best plan (:mod:`optimize._periodic_horizon`),
   which moves single visits between days with PyVRP's inter-route moves; its share of the cycle
   grows with the share of such visits (``HORIZON_SHARE``).

Both are measured in deterministic work units (``WORK_PER_S`` of them per second of
``time_limit_s``, or ``work`` when given): for a seed the result is then the same on any machine
and under any load. The wall clock only stops a search that runs late (``stopped_by`` says which
ended it).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

import numpy as np

from optimize._cancel import cancel_scope
from optimize._periodic_horizon import polish, single_days
from optimize._periodic_plan import Plan
from optimize._periodic_problem import PeriodicProblem
from optimize._periodic_search import Budget, PatternSearch
from optimize._solver import SolveInfo, Status, check_limit
from optimize.vrp import INF, VrpClient, VrpProblem, VrpVehicleType
from optimize.vrp import solve as solve_vrp

__all__ = ["PeriodicProblem", "PeriodicResult", "PeriodicRoute", "lower_bound", "solve"]

WORK_PER_S = 30_000.0  # work units a second: 65-90 % of a core of the 2-core Xeon (25-47 k units a CPU-second)
CYCLES = 3  # alternations of pattern search and whole-horizon PyVRP
HORIZON_SHARE = (0.2, 0.7)  # share of each cycle for the whole horizon: no flexible single visit, all
HORIZON_UNITS = 0.25  # work units of one PyVRP iteration on the whole horizon, per visit
DEADLINE_SHARE = 0.97  # the searches end by this share of time_limit_s (the rest: reading the result)


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
    stopped_by: str  # "work" or "wall clock"


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


def _fleet_plan(problem: PeriodicProblem, iterations: int, seed: int, seconds: float) -> tuple[Plan, int]:
    """The day-free case as one VRP with ``vehicles_per_day x num_days`` vehicles, routes dealt to the days.

    Returns the plan and the PyVRP iterations made.
    """
    vrp = VrpProblem(
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
    result = solve_vrp(vrp, time_limit_s=seconds, seed=seed, max_iterations=iterations)
    plan = Plan.empty(problem)
    for k, route in enumerate(result.routes):
        day, vehicle = k % problem.num_days, k // problem.num_days
        plan.routes[day][vehicle] = [c + 1 for c in route.clients]
        for c in route.clients:
            plan.pattern[c + 1] = (day,)
    return plan, result.iterations


def _flexible_share(problem: PeriodicProblem) -> float:
    """Share of the visits made by customers visited once on one of several days."""
    visits = [len(problem.combinations[i][0]) for i in range(1, problem.num_customers + 1)]
    flexible = [single_days(problem, i) is not None for i in range(1, problem.num_customers + 1)]
    return sum(v for v, f in zip(visits, flexible, strict=True) if f) / max(1, sum(visits))


def solve(
    problem: PeriodicProblem,
    *,
    time_limit_s: float,
    seed: int,
    cancel: threading.Event | None = None,
    work: float | None = None,
) -> PeriodicResult:
    """Routes over the horizon of least total distance found for ``seed`` within ``time_limit_s``.

    ``work`` (deterministic work units) replaces the default budget of ``WORK_PER_S`` units a
    second of ``time_limit_s``; the result depends only on the problem, the seed and the work
    unless the wall clock ends the search first (``stopped_by``).
    """
    check_limit(time_limit_s)
    start = time.perf_counter()
    with cancel_scope(cancel):
        return _solve(problem, time_limit_s, seed, WORK_PER_S * time_limit_s if work is None else work, start)


def _solve(problem: PeriodicProblem, time_limit_s: float, seed: int, work: float, start: float) -> PeriodicResult:
    """:func:`solve` inside its cancellation context: cycles of pattern search and whole-horizon PyVRP."""
    rng = random.Random(seed)
    deadline = start + time_limit_s * DEADLINE_SHARE

    def clock() -> float:
        return time.perf_counter()

    iterations, late = 0, False
    if _day_free(problem):
        budget_iterations = max(1, int(work / (HORIZON_UNITS * max(1, problem.num_customers))))
        plan, iterations = _fleet_plan(problem, budget_iterations, seed, max(0.01, deadline - clock()))
        late = clock() >= deadline
    else:
        engine = PatternSearch(problem, rng)
        horizon_share = HORIZON_SHARE[0] + (HORIZON_SHARE[1] - HORIZON_SHARE[0]) * _flexible_share(problem)
        budget = Budget(work, deadline, clock)
        plan = engine.first_plan(budget)
        for c in range(CYCLES):
            left = (work - budget.used) / (CYCLES - c)  # only the overall deadline may cut a stage short
            plan = engine.run(plan, Budget(left * (1 - horizon_share), deadline, clock))
            budget.used += left * (1 - horizon_share)
            size = sum(len(plan.pattern[i]) for i in range(1, problem.num_customers + 1))
            its = max(1, int(left * horizon_share / (HORIZON_UNITS * size)))
            if plan.feasible():
                plan = polish(problem, plan, its, rng.randrange(2**31), max(0.01, deadline - clock()))
            budget.used += left * horizon_share
        iterations = engine.iterations
        late = engine.late or clock() >= deadline
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
        iterations=iterations,
        stopped_by="wall clock" if late else "work",
    )
