"""Routes with many stops a day: a vehicle-routing engine on PyVRP's iterated local search.

The exact sequencer of :mod:`optimize.rounds` enumerates truck-days of up to six stops; beyond that
this engine builds the routes. It solves a VRP with time windows: several depots, vehicle types
with a count, a capacity and a shift (earliest start, latest return, maximum duration), clients with
a demand, a service duration and a time window, optional clients worth a prize, and groups of
alternative clients of which exactly one is visited (e.g. the same stop on one of several days).

Everything is in integers of the caller's choosing (metres and seconds, or scaled Euclidean
distances): the engine minimises the total distance plus the prizes of the optional clients left
out. It is PyVRP's ``solve`` with its default parameters, a wall-clock limit and a seed; on a
Solomon benchmark it is therefore the same solver as the "pyvrp" peer (see ``bench/vrptw.py``).
A heuristic proves nothing: the status is ``feasible`` or ``unknown`` (no feasible solution found
in time), never ``optimal``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optimize._cancel import check, is_cancelled
from optimize._solver import Status

INF = int(np.iinfo(np.int64).max)
PENALTY_OVER_ARC = 10.0  # PyVRP's largest penalty per unit of overload or time warp, in longest arcs


@dataclass(frozen=True)
class VrpClient:
    """A place to visit: ``location`` indexes the matrices; window bounds the start of service."""

    location: int
    demand: int = 0
    service: int = 0
    tw_early: int = 0
    tw_late: int = INF
    required: bool = True
    prize: int = 0


@dataclass(frozen=True)
class VrpVehicleType:
    """``count`` identical vehicles from depot location ``depot`` (back there by ``shift_end``)."""

    depot: int
    count: int = 1
    capacity: int = INF
    shift_start: int = 0
    shift_end: int = INF
    max_duration: int = INF


@dataclass(frozen=True)
class VrpProblem:
    """Square integer ``distance``/``duration`` matrices over locations, clients, vehicles.

    ``groups`` lists alternatives: exactly one client of each group is visited; grouped clients
    must not be ``required`` on their own.
    """

    distance: np.ndarray
    duration: np.ndarray
    clients: tuple[VrpClient, ...]
    vehicle_types: tuple[VrpVehicleType, ...]
    groups: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class VrpRoute:
    """One vehicle's route: its type and the client indices in visiting order."""

    vehicle_type: int
    clients: tuple[int, ...]


@dataclass(frozen=True)
class VrpResult:
    """Routes, total ``distance``, ``cost`` (distance + prizes left out), status, time and seed."""

    routes: tuple[VrpRoute, ...]
    distance: int
    cost: int
    status: Status
    time_s: float
    seed: int
    iterations: int

    @property
    def feasible(self) -> bool:
        """True when every constraint holds (a heuristic result is never proven optimal)."""
        return self.status == Status.FEASIBLE


def _check(problem: VrpProblem) -> None:
    """Raise ValueError with the first inconsistency found."""
    n = problem.distance.shape[0]
    if problem.distance.shape != (n, n) or problem.duration.shape != (n, n):
        raise ValueError(f"distance {problem.distance.shape} and duration {problem.duration.shape} must be n x n")
    if not problem.vehicle_types:
        raise ValueError("no vehicle type")
    for c in problem.clients:
        if not 0 <= c.location < n:
            raise ValueError(f"client location {c.location} outside the matrices (0..{n - 1})")
    grouped = [i for g in problem.groups for i in g]
    if len(grouped) != len(set(grouped)):
        raise ValueError("a client is in two groups")
    if any(problem.clients[i].required for i in grouped):
        raise ValueError("a grouped client must not be required on its own")


def _pyvrp_data(problem: VrpProblem):  # -> pyvrp.ProblemData (pyvrp is typed loosely)
    """Compile the problem into PyVRP's ProblemData (depots are the vehicle types' depots)."""
    from pyvrp import Client, ClientGroup, Depot, Location, ProblemData, VehicleType

    depots = sorted({v.depot for v in problem.vehicle_types})
    group_of = {i: g for g, members in enumerate(problem.groups) for i in members}
    n = problem.distance.shape[0]
    return ProblemData(
        locations=[Location(x=0, y=0) for _ in range(n)],
        depots=[Depot(location=d) for d in depots],
        clients=[
            Client(
                location=c.location,
                delivery=[c.demand],
                service_duration=c.service,
                tw_early=c.tw_early,
                tw_late=c.tw_late,
                required=c.required,
                prize=c.prize,
                group=group_of.get(i),
            )
            for i, c in enumerate(problem.clients)
        ],
        vehicle_types=[
            VehicleType(
                num_available=v.count,
                capacity=[min(v.capacity, INF)],
                start_depot=depots.index(v.depot),
                end_depot=depots.index(v.depot),
                tw_early=v.shift_start,
                tw_late=v.shift_end,
                shift_duration=v.max_duration,
            )
            for v in problem.vehicle_types
        ],
        distance_matrices=[np.asarray(problem.distance, dtype=np.int64)],  # type: ignore[list-item]
        duration_matrices=[np.asarray(problem.duration, dtype=np.int64)],  # type: ignore[list-item]
        groups=[ClientGroup(list(g), required=True) for g in problem.groups],
    )


def solve(
    problem: VrpProblem,
    *,
    time_limit_s: float,
    seed: int,
    initial: Sequence[VrpRoute] | None = None,
    max_iterations: int | None = None,
) -> VrpResult:
    """Best routes found in ``time_limit_s`` seconds (wall clock) with ``seed``.

    ``initial`` warm-starts the search; ``max_iterations`` also stops it, and when it is what ends
    the search the result depends only on the problem, the warm start and the seed.
    """
    from pyvrp import PenaltyParams, Route, Solution, SolveParams
    from pyvrp import solve as pyvrp_solve
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

    start = time.perf_counter()
    _check(problem)
    data = _pyvrp_data(problem)
    warm = None
    if initial:
        warm = Solution(data, [Route(data, list(r.clients), r.vehicle_type) for r in initial if r.clients])
    remaining = max(0.01, time_limit_s - (time.perf_counter() - start))
    criteria: list[StoppingCriterion] = [MaxRuntime(remaining), lambda _best_cost: is_cancelled()]
    if max_iterations is not None:
        criteria.append(MaxIterations(max(1, max_iterations)))
    # PyVRP caps its penalty weights (load excess, time warp) at 100,000 per unit; with long arcs
    # (distances scaled to integers) an overload then costs less than a detour and it stays infeasible.
    cap = max(PenaltyParams().max_penalty, PENALTY_OVER_ARC * float(np.max(problem.distance, initial=0)))
    result = pyvrp_solve(
        data,
        stop=MultipleCriteria(criteria),
        seed=seed,
        collect_stats=False,
        initial_solution=warm,
        params=SolveParams(penalty=PenaltyParams(max_penalty=cap)),
    )
    check()
    best = result.best
    routes = tuple(
        VrpRoute(r.vehicle_type(), tuple(a.idx for a in r if a.is_client())) for r in best.routes() if r.num_clients()
    )
    return VrpResult(
        routes=routes,
        distance=int(best.distance()),
        cost=int(result.cost()) if best.is_feasible() else INF,
        status=Status.FEASIBLE if best.is_feasible() else Status.UNKNOWN,
        time_s=time.perf_counter() - start,
        seed=seed,
        iterations=int(result.num_iterations),
    )
