"""The whole horizon as one PyVRP problem, to move single visits between days.

Inside the pattern search a customer changes days only by the pattern moves (one customer at a
time, priced by insertion). Customers visited once on any of several days are, together, like the
clients of a VRP whose vehicles are the days' vehicles: PyVRP's inter-route moves (relocate, swap,
2-opt* between two days' routes) are stronger there. :func:`polish` therefore solves the whole
horizon as one problem: each day is a vehicle type with its own time window starting at ``d H``;
a customer whose combination the plan fixes gets one client per visit, with its day's window; a
customer visited once on one of several days gets one client per allowed day, grouped as
alternatives (exactly one visited). Without a duration limit times are zero and the windows are
points (``H = 10``), so a visit on a wrong day would warp by at least ``H``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from optimize._periodic_plan import Plan
from optimize.vrp import INF, VrpClient, VrpProblem, VrpRoute, VrpVehicleType
from optimize.vrp import solve as solve_vrp

if TYPE_CHECKING:
    from optimize._periodic_problem import PeriodicProblem

Visit = tuple[int, int]  # (customer, day), day -1 for a customer visited once on any day


def _day_length(problem: PeriodicProblem) -> int:
    """A day length ``H`` longer than any route (all arcs plus all services), 10 without a duration limit."""
    if problem.max_duration is None:
        return 10
    return int(problem.duration.max()) * (problem.num_customers + 2) + int(problem.service.sum()) + 1


def single_days(problem: PeriodicProblem, i: int) -> tuple[int, ...] | None:
    """The allowed days of a customer visited once on one of several days, else None."""
    combos = problem.combinations[i]
    if len(combos) > 1 and all(len(c) == 1 for c in combos):
        return tuple(sorted(c[0] for c in combos))
    return None


def build(problem: PeriodicProblem, plan: Plan) -> tuple[VrpProblem, list[Visit]]:
    """The whole-horizon problem, multi-visit customers on the plan's days; its clients' visits."""
    h, timed = _day_length(problem), problem.max_duration is not None
    width = h - 1 if timed else 0
    clients: list[VrpClient] = []
    visits: list[Visit] = []
    groups: list[tuple[int, ...]] = []
    for i in range(1, problem.num_customers + 1):
        days = single_days(problem, i)
        service = int(problem.service[i]) if timed else 0
        if days == tuple(range(problem.num_days)):  # any day: one client whose window spans the horizon
            clients.append(
                VrpClient(i, int(problem.demand[i]), service, tw_early=0, tw_late=(problem.num_days - 1) * h + width)
            )
            visits.append((i, -1))
            continue
        if days is not None:
            groups.append(tuple(range(len(clients), len(clients) + len(days))))
        for d in days if days is not None else plan.pattern[i]:
            window = {"tw_early": d * h, "tw_late": d * h + width}
            clients.append(VrpClient(i, int(problem.demand[i]), service, required=days is None, **window))
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


def polish(problem: PeriodicProblem, plan: Plan, iterations: int, seed: int, seconds: float) -> Plan:
    """The plan after ``iterations`` of PyVRP on the whole horizon from it; unchanged unless better and feasible."""
    vrp, visits = build(problem, plan)
    index = {v: k for k, v in enumerate(visits)}
    warm = [
        VrpRoute(d, tuple(index[(i, d)] if (i, d) in index else index[(i, -1)] for i in r))
        for d, day in enumerate(plan.routes)
        for r in day
        if r
    ]
    result = solve_vrp(vrp, time_limit_s=seconds, seed=seed, initial=warm, max_iterations=iterations)
    if not result.feasible or any(visits[c][1] not in (-1, r.vehicle_type) for r in result.routes for c in r.clients):
        return plan
    out = Plan.empty(problem)
    for d in range(problem.num_days):
        found = [[visits[c][0] for c in r.clients] for r in result.routes if r.vehicle_type == d]
        out.set_day(d, found + [[] for _ in range(problem.vehicles_per_day - len(found))])
        for r in found:
            for i in r:
                out.pattern[i] = (*out.pattern[i], d)
    return out if out.feasible() and out.totals()[0] < plan.totals()[0] else plan
