"""Routes with many stops a day: a vehicle-routing engine on PyVRP's iterated local search.

The exact sequencer of :mod:`optimize.rounds` enumerates truck-days of up to six stops; beyond that
this engine builds the routes. It solves a VRP with time windows: several depots, vehicle types
with a count, a capacity and a shift (earliest start, latest return, maximum duration), clients with
a demand, a service duration and a time window, optional clients worth a prize, and groups of
alternative clients of which exactly one is visited (e.g. the same stop on one of several days).

Everything is in integers of the caller's choosing (metres and seconds, or scaled Euclidean
distances): the engine minimises the total distance plus the prizes of the optional clients left
out. Vehicle types may use their own ``profile`` (another pair of distance and duration matrices,
e.g. each truck's cost per arc) and a ``max_distance``; ``exclusive_groups`` list alternatives of
which at most one is visited (e.g. the same stop in one of its opening windows).

It is PyVRP's ``solve`` with its default parameters, a wall-clock limit and a seed; on a
Solomon benchmark it is therefore the same solver as the "pyvrp" peer (see ``bench/vrptw.py``).
A heuristic proves nothing: the status is ``feasible`` or ``unknown`` (no feasible solution found
in time), never ``optimal``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optimize._cancel import cancel_scope, check, is_cancelled
from optimize._errors import ProblemError
from optimize._solver import SolveInfo, Status, check_limit

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
    profile: int = 0
    max_distance: int = INF


@dataclass(frozen=True)
class VrpProblem:
    """Square integer ``distance``/``duration`` matrices over locations, clients, vehicles.

    ``groups`` lists alternatives: exactly one client of each group is visited; ``exclusive_groups``
    at most one; grouped clients must not be ``required`` on their own. ``profiles`` are further
    (distance, duration) pairs, profile ``k`` being ``profiles[k - 1]`` (profile 0 is the first pair).
    """

    distance: np.ndarray
    duration: np.ndarray
    clients: tuple[VrpClient, ...]
    vehicle_types: tuple[VrpVehicleType, ...]
    groups: tuple[tuple[int, ...], ...] = ()
    exclusive_groups: tuple[tuple[int, ...], ...] = ()
    profiles: tuple[tuple[np.ndarray, np.ndarray], ...] = ()

    def __post_init__(self) -> None:
        problems = []
        n = self.distance.shape[0]
        for name, matrix in [("distance", self.distance), ("duration", self.duration)] + [
            (f"profile {k} {name}", m)
            for k, pair in enumerate(self.profiles, 1)
            for name, m in zip(("distance", "duration"), pair, strict=True)
        ]:
            if matrix.shape != (n, n):
                problems.append(f"{name} {matrix.shape} must be {n} x {n}")
        if not self.vehicle_types:
            problems.append("no vehicle type")
        problems += [
            f"vehicle type {k}: profile {v.profile} not in 0..{len(self.profiles)}"
            for k, v in enumerate(self.vehicle_types)
            if not 0 <= v.profile <= len(self.profiles)
        ]
        problems += [
            f"client {i}: location {c.location} outside the matrices (0..{n - 1})"
            for i, c in enumerate(self.clients)
            if not 0 <= c.location < n
        ]
        grouped = [i for g in (*self.groups, *self.exclusive_groups) for i in g]
        if len(grouped) != len(set(grouped)):
            problems.append("a client is in two groups")
        if any(not 0 <= i < len(self.clients) or self.clients[i].required for i in grouped):
            problems.append("a grouped client must exist and not be required on its own")
        if problems:
            raise ProblemError(problems)


@dataclass(frozen=True)
class VrpRoute:
    """One vehicle's route: its type and the client indices in visiting order."""

    vehicle_type: int
    clients: tuple[int, ...]


@dataclass(frozen=True)
class VrpResult:
    """Routes, total ``distance``, ``cost`` (distance + prizes left out), status, time and seed.

    ``stopped_by`` says what ended the search: ``iterations`` (the result depends only on the
    problem, the warm start and the seed), ``time limit`` (the wall clock: another run may differ).
    """

    routes: tuple[VrpRoute, ...]
    distance: int
    cost: int
    status: Status
    time_s: float
    seed: int
    iterations: int
    stopped_by: str = "time limit"

    @property
    def feasible(self) -> bool:
        """True when every constraint holds (a heuristic result is never proven optimal)."""
        return self.status == Status.FEASIBLE

    @property
    def info(self) -> SolveInfo:
        """The shared result header; a heuristic has no bound (nan)."""
        return SolveInfo(self.status, float(self.cost), float("nan"), self.time_s, self.seed)


def pyvrp_data(problem: VrpProblem):  # -> pyvrp.ProblemData (pyvrp is typed loosely)
    """Compile the problem into PyVRP's ProblemData (depots are the vehicle types' depots).

    Public because it is the one compilation into PyVRP: the periodic engine's day router
    (:mod:`optimize._periodic_days`) runs PyVRP's local search on the same data.
    """
    from pyvrp import Client, ClientGroup, Depot, Location, ProblemData, VehicleType

    depots = sorted({v.depot for v in problem.vehicle_types})
    groups = [*problem.groups, *problem.exclusive_groups]
    group_of = {i: g for g, members in enumerate(groups) for i in members}
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
                max_distance=v.max_distance,
                profile=v.profile,
            )
            for v in problem.vehicle_types
        ],
        distance_matrices=[np.asarray(m, dtype=np.int64) for m, _ in _matrices(problem)],  # type: ignore[misc]
        duration_matrices=[np.asarray(m, dtype=np.int64) for _, m in _matrices(problem)],  # type: ignore[misc]
        groups=[ClientGroup(list(g), required=k < len(problem.groups)) for k, g in enumerate(groups)],
    )


def _matrices(problem: VrpProblem) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (distance, duration) pair of each profile, profile 0 first."""
    return [(problem.distance, problem.duration), *problem.profiles]


def solve(
    problem: VrpProblem,
    *,
    time_limit_s: float,
    seed: int,
    cancel: threading.Event | None = None,
    initial: Sequence[VrpRoute] | None = None,
    max_iterations: int | None = None,
) -> VrpResult:
    """Best routes found in ``time_limit_s`` seconds (wall clock) with ``seed``.

    ``initial`` warm-starts the search; ``max_iterations`` also stops it, and when it is what ends
    the search the result depends only on the problem, the warm start and the seed.
    """
    check_limit(time_limit_s)
    with cancel_scope(cancel):
        return _solve(problem, time_limit_s, seed, initial, max_iterations)


def _solve(
    problem: VrpProblem,
    time_limit_s: float,
    seed: int,
    initial: Sequence[VrpRoute] | None,
    max_iterations: int | None,
) -> VrpResult:
    """The body of :func:`solve`."""
    from pyvrp import PenaltyParams, Route, Solution, SolveParams
    from pyvrp import solve as pyvrp_solve
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

    start = time.perf_counter()
    data = pyvrp_data(problem)
    warm = None
    if initial:
        warm = Solution(data, [Route(data, list(r.clients), r.vehicle_type) for r in initial if r.clients])
    remaining = max(0.01, time_limit_s - (time.perf_counter() - start))
    criteria: list[StoppingCriterion] = [MaxRuntime(remaining), lambda _best_cost: is_cancelled()]
    if max_iterations is not None:
        criteria.append(MaxIterations(max(1, max_iterations)))
    # PyVRP caps its penalty weights (load excess, time warp) at 100,000 per unit; with long arcs
    # (distances scaled to integers) an overload then costs less than a detour and it stays infeasible.
    longest = max(float(np.max(m, initial=0)) for m, _ in _matrices(problem))
    cap = max(PenaltyParams().max_penalty, PENALTY_OVER_ARC * longest)
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
        stopped_by="iterations"
        if max_iterations is not None and result.num_iterations >= max(1, max_iterations)
        else "time limit",
    )
