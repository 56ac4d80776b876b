"""The Bussoservice: coaches idle between the school runs bring riders to a market and back, as a
dial-a-ride problem (pickup and delivery with time windows, capacity and maximum ride time).

Each request carries a group of riders from a pickup location to a delivery location; its pickup and its
delivery are visited by the same coach, pickup first, each within its time window, and the minutes
between them at most the request's ``max_ride_min``. A request may also be ``after`` another (a return
trip): its pickup is then at least ``stay_min`` after that request's delivery, and the two are served
together or not at all (nobody is left at the market, no coach fetches riders it never brought). Coaches
leave their depot and are back within their free hours, never carrying more than their seats; each stop
takes ``boarding_min``. Riders left unserved cost ``unserved_eur`` each, so every request that fits is
served; each unserved request gets a reason (``REASONS``): those no idle coach could serve alone are
found before the search and left out of it.

Solved with OR-Tools routing (parallel cheapest insertion, then guided local search). The search ends
after ``solutions`` solutions (deterministic work: same input, same plan) with the wall clock as a safety
net; the result says which ended it. Routing gives no bound: the reported bound is 0 (every request is
served at no cost), so the gap is an upper bound on the true gap.
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from optimize._cancel import cancellable, check, is_cancelled
from optimize._errors import ProblemError
from optimize._solver import SolveInfo, Status, check_limit, to_cents

Window = tuple[int, int]  # (earliest, latest) minute of the day


@dataclass(frozen=True)
class Request:
    """``riders`` going from ``pickup`` to ``delivery`` (locations of the matrices), within the windows."""

    request_id: str
    pickup: int
    delivery: int
    riders: int
    pickup_window: Window
    delivery_window: Window
    max_ride_min: int
    after: str | None = None  # a return trip: picked up at least ``stay_min`` after this request's delivery
    stay_min: int = 0


@dataclass(frozen=True)
class Coach:
    """A coach free from ``free[0]`` to ``free[1]`` (minutes of the day), at ``depot``, out for at most
    ``max_duration_min`` when given."""

    coach_id: str
    depot: int
    capacity: int
    free: Window
    cost_per_km: float = 1.2
    cost_per_hour: float = 35.0
    co2_g_per_km: float = 900.0
    max_duration_min: int | None = None  # from leaving the depot to coming back (driver hours)


@dataclass(frozen=True)
class ShuttleProblem:
    """Requests and coaches of one day on a travel matrix (minutes and metres)."""

    requests: tuple[Request, ...]
    coaches: tuple[Coach, ...]
    time_min: np.ndarray
    dist_m: np.ndarray
    boarding_min: int = 2
    unserved_eur: float = 1000.0

    def __post_init__(self) -> None:
        problems = _validate(self)
        if problems:
            raise ProblemError(problems)


def _validate(problem: ShuttleProblem) -> list[str]:
    n = problem.time_min.shape[0]
    problems = []
    if problem.time_min.shape != (n, n) or problem.dist_m.shape != (n, n):
        problems.append("time_min and dist_m must be square matrices of the same size")
    if len({r.request_id for r in problem.requests}) != len(problem.requests):
        problems.append("request ids must be unique")
    if len({c.coach_id for c in problem.coaches}) != len(problem.coaches):
        problems.append("coach ids must be unique")
    if problem.boarding_min < 0:
        problems.append("boarding_min must be >= 0")
    seats = max((c.capacity for c in problem.coaches), default=0)
    return (
        problems
        + [p for c in problem.coaches for p in _coach_problems(c, n)]
        + [
            p
            for r in problem.requests
            for p in _request_problems(r, n, seats, {q.request_id for q in problem.requests})
        ]
    )


def _coach_problems(c: Coach, n: int) -> list[str]:
    problems = []
    if c.free[1] <= c.free[0]:
        problems.append(f"coach {c.coach_id}: no free hours (free from {c.free[0]} to {c.free[1]} min)")
    if c.capacity < 1:
        problems.append(f"coach {c.coach_id}: capacity must be >= 1")
    if not 0 <= c.depot < n:
        problems.append(f"coach {c.coach_id}: depot {c.depot} is outside the {n} locations")
    return problems


def _request_problems(r: Request, n: int, seats: int, ids: set[str]) -> list[str]:
    problems = []
    if not (0 <= r.pickup < n and 0 <= r.delivery < n):
        problems.append(f"request {r.request_id}: a location is outside the {n} locations")
    if r.riders < 1 or (seats and r.riders > seats):  # no coach at all: every request is left out, said why
        problems.append(f"request {r.request_id}: {r.riders} riders, coaches seat at most {seats}")
    if r.pickup_window[1] < r.pickup_window[0] or r.delivery_window[1] < r.delivery_window[0]:
        problems.append(f"request {r.request_id}: a time window ends before it starts")
    if r.max_ride_min <= 0:
        problems.append(f"request {r.request_id}: max_ride_min must be > 0")
    if r.after is not None and r.after not in ids:
        problems.append(f"request {r.request_id}: after names unknown request {r.after}")
    return problems


@dataclass(frozen=True)
class Call:
    """A coach at a stop: the request picked up or delivered there, the minute it leaves, the load after."""

    request_id: str | None  # None: the depot
    location: int
    kind: str  # "depot", "pickup" or "delivery"
    arrival_min: int
    departure_min: int
    load: int


@dataclass(frozen=True)
class CoachRoute:
    """A coach's day: its calls in order (depot first and last), minutes driven and metres."""

    coach_id: str
    calls: tuple[Call, ...]
    drive_min: float
    dist_m: float
    cost: float


# Why a request is left unserved, most telling first (labels in planner.i18n under ``shuttle_why_<code>``).
REASONS = ("no_coach", "ride_too_long", "windows", "coach_hours", "partner", "coaches_busy")


@dataclass(frozen=True)
class ShuttleResult:
    """The coaches' routes, the requests left unserved with the reason for each (a code of ``REASONS``),
    and how the search ended."""

    info: SolveInfo
    routes: tuple[CoachRoute, ...]
    unserved: tuple[str, ...]
    ended_by: str
    reasons: dict[str, str] = field(default_factory=dict)

    def riders(self, problem: ShuttleProblem) -> int:
        """Riders carried (each request counted once)."""
        served = {c.request_id for r in self.routes for c in r.calls if c.kind == "pickup"}
        return sum(r.riders for r in problem.requests if r.request_id in served)


def _cost_per_arc(problem: ShuttleProblem, coach: Coach) -> np.ndarray:
    return problem.dist_m / 1000 * coach.cost_per_km + problem.time_min / 60 * coach.cost_per_hour


def solve(
    problem: ShuttleProblem,
    *,
    time_limit_s: float,
    seed: int,
    cancel: threading.Event | None = None,
    solutions: int = 100,
) -> ShuttleResult:
    """Route the coaches (see the module docstring). ``seed`` is recorded: OR-Tools routing has no random
    element here, so equal inputs and limits give equal plans whatever the seed."""
    check_limit(time_limit_s)
    with cancellable(cancel) if cancel is not None else nullcontext():
        return _solve(problem, time_limit_s, seed, solutions)


def _solve(problem: ShuttleProblem, time_limit_s: float, seed: int, solutions: int) -> ShuttleResult:
    started = time.perf_counter()
    check()
    reasons = impossible(problem)
    todo = [r for r in problem.requests if r.request_id not in reasons]
    if not todo:
        info = SolveInfo(Status.OPTIMAL, 0.0, 0.0, time.perf_counter() - started, seed)
        return ShuttleResult(info, (), tuple(r.request_id for r in problem.requests), "optimal", reasons)
    found = _search(problem, todo, time_limit_s - (time.perf_counter() - started), solutions)
    check()
    elapsed = time.perf_counter() - started
    if found is None:
        info = SolveInfo(Status.UNKNOWN, float("nan"), 0.0, elapsed, seed)
        busy = {r.request_id: "coaches_busy" for r in todo}
        return ShuttleResult(info, (), tuple(r.request_id for r in problem.requests), "no solution", reasons | busy)
    routes, objective, ended_by = found
    routes = _without_one_way(problem, routes, reasons)
    served = {c.request_id for r in routes for c in r.calls}
    reasons |= {
        r.request_id: "coaches_busy" for r in todo if r.request_id not in served and r.request_id not in reasons
    }
    unserved = tuple(r.request_id for r in problem.requests if r.request_id not in served)
    info = SolveInfo(Status.FEASIBLE, objective, 0.0, elapsed, seed)
    return ShuttleResult(info, routes, unserved, ended_by, reasons)


def _search(
    problem: ShuttleProblem, requests: list[Request], time_left_s: float, solutions: int
) -> tuple[tuple[CoachRoute, ...], float, str] | None:
    """The routing search on ``requests``: routes, objective and what ended it, or None without a solution."""
    started = time.perf_counter()
    # nodes: one per coach depot, then a pickup and a delivery per request
    k = len(problem.coaches)
    nodes = [c.depot for c in problem.coaches]
    for r in requests:
        nodes += [r.pickup, r.delivery]
    manager = pywrapcp.RoutingIndexManager(len(nodes), k, list(range(k)), list(range(k)))
    routing = pywrapcp.RoutingModel(manager)
    demand = [0] * k + [x for r in requests for x in (r.riders, -r.riders)]

    def service(node: int) -> int:
        return 0 if node < k else problem.boarding_min

    def travel(i: int, j: int) -> int:
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        return math.ceil(problem.time_min[nodes[a], nodes[b]]) + service(a)

    transit = routing.RegisterTransitCallback(travel)
    for v, coach in enumerate(problem.coaches):
        arc = _cost_per_arc(problem, coach)

        def cost(i: int, j: int, arc: np.ndarray = arc) -> int:
            return to_cents(float(arc[nodes[manager.IndexToNode(i)], nodes[manager.IndexToNode(j)]]))

        routing.SetArcCostEvaluatorOfVehicle(routing.RegisterTransitCallback(cost), v)
    horizon = max(
        24 * 60, *(c.free[1] for c in problem.coaches), *(r.delivery_window[1] for r in requests)
    )  # minutes of the day, or the instance's own units when they run past a day
    routing.AddDimension(transit, horizon, horizon, False, "time")
    load = routing.RegisterUnaryTransitCallback(lambda i: demand[manager.IndexToNode(i)])
    routing.AddDimensionWithVehicleCapacity(load, 0, [c.capacity for c in problem.coaches], True, "load")
    _requests(problem, requests, manager, routing, k)
    _coaches(problem, routing)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.solution_limit = solutions
    params.time_limit.FromMilliseconds(max(100, int(1000 * (time_left_s - (time.perf_counter() - started)))))
    found = [0]

    def at_solution() -> None:
        found[0] += 1
        if is_cancelled():
            routing.solver().FinishCurrentSearch()

    routing.AddAtSolutionCallback(at_solution)
    assignment = routing.SolveWithParameters(params)
    if assignment is None:
        return None
    ended_by = "solution limit" if found[0] >= solutions else "wall clock"
    routes = _read(problem, requests, manager, routing, assignment, nodes, k)
    return routes, assignment.ObjectiveValue() / 100, ended_by


def _requests(
    problem: ShuttleProblem,
    requests: list[Request],
    manager: pywrapcp.RoutingIndexManager,
    routing: pywrapcp.RoutingModel,
    k: int,
) -> None:
    """Each request's pickup and delivery: one coach, pickup first, windows, ride time, a penalty when
    left out; a return trip picked up ``stay_min`` after its outbound delivery. Ride time and the stay are
    node precedences of the time dimension, which the routing filters check on every move (a constraint
    added to the solver instead is only seen once a move is complete, and then rejects nearly every
    insertion: requests stayed unserved although a coach was free)."""
    clock, solver = routing.GetDimensionOrDie("time"), routing.solver()
    index_of = {}
    for q, r in enumerate(requests):
        p, d = manager.NodeToIndex(k + 2 * q), manager.NodeToIndex(k + 2 * q + 1)
        index_of[r.request_id] = (p, d)
        routing.AddPickupAndDelivery(p, d)
        solver.Add(routing.VehicleVar(p) == routing.VehicleVar(d))
        clock.AddNodePrecedence(d, p, -(r.max_ride_min + problem.boarding_min))  # on board at most max_ride_min
        clock.CumulVar(p).SetRange(*r.pickup_window)
        clock.CumulVar(d).SetRange(*r.delivery_window)
        penalty = to_cents(problem.unserved_eur * r.riders)
        routing.AddDisjunction([p], penalty)
        routing.AddDisjunction([d], penalty)
    for r in requests:
        if r.after is not None and r.after in index_of:
            clock.AddNodePrecedence(index_of[r.after][1], index_of[r.request_id][0], r.stay_min)


def impossible(problem: ShuttleProblem) -> dict[str, str]:
    """The requests no plan can serve, each with its reason: no coach that day, a ride longer than allowed,
    windows that cannot be met, no coach free at those hours even for that request alone; and the other
    half of a round trip (``after``) whose outbound or return is impossible."""
    reasons = {r.request_id: why for r in problem.requests if (why := _alone(problem, r)) is not None}
    pairs = [(r.request_id, r.after) for r in problem.requests if r.after is not None]
    for back, out in pairs:
        if back in reasons and out not in reasons:
            reasons[out] = "partner"
        elif out in reasons and back not in reasons:
            reasons[back] = "partner"
    return reasons


def _alone(problem: ShuttleProblem, r: Request) -> str | None:
    """Why ``r`` cannot be served even by an idle coach, or None when one coach could serve it alone."""
    if not problem.coaches:
        return "no_coach"
    ride = math.ceil(problem.time_min[r.pickup, r.delivery])
    if ride > r.max_ride_min:
        return "ride_too_long"
    before = {q.request_id: q for q in problem.requests}.get(r.after or "")
    earliest = max(r.pickup_window[0], before.delivery_window[0] + r.stay_min if before else 0)
    if earliest + problem.boarding_min + ride > r.delivery_window[1] or earliest > r.pickup_window[1]:
        return "windows"
    if not any(_coach_can(problem, c, r, earliest, ride) for c in problem.coaches if c.capacity >= r.riders):
        return "coach_hours"
    return None


def _coach_can(problem: ShuttleProblem, c: Coach, r: Request, earliest: int, ride: int) -> bool:
    """Whether coach ``c``, idle, can serve ``r`` alone within its free hours and its longest day."""
    board = problem.boarding_min
    there, home = math.ceil(problem.time_min[c.depot, r.pickup]), math.ceil(problem.time_min[r.delivery, c.depot])
    pickup = max(c.free[0] + there, earliest)
    delivery = max(pickup + board + ride, r.delivery_window[0])
    pickup = max(pickup, delivery - board - r.max_ride_min)  # wait at home rather than on board
    back = delivery + board + home
    span = back - (pickup - there)
    longest = c.max_duration_min if c.max_duration_min is not None else span
    return pickup <= r.pickup_window[1] and delivery <= r.delivery_window[1] and back <= c.free[1] and span <= longest


def _without_one_way(
    problem: ShuttleProblem, routes: tuple[CoachRoute, ...], reasons: dict[str, str]
) -> tuple[CoachRoute, ...]:
    """The routes without the round trips served one way only (riders left at the market, or a return with
    nobody to bring back): their calls go, the other calls keep their times (waiting is allowed and travel
    times keep the triangle inequality), loads and costs are recounted. Their reasons are set."""
    served = {c.request_id for r in routes for c in r.calls if c.kind == "pickup"}
    drop = set()
    for r in problem.requests:
        if r.after is not None and (r.request_id in served) != (r.after in served):
            drop |= {r.request_id, r.after}
            reasons.setdefault(r.request_id, "coaches_busy" if r.request_id not in served else "partner")
            reasons.setdefault(r.after, "coaches_busy" if r.after not in served else "partner")
    if not drop:
        return routes
    riders = {r.request_id: r.riders for r in problem.requests}
    kept = []
    for route in routes:
        calls, load = [], 0
        for call in route.calls:
            if call.request_id in drop:
                continue
            if call.request_id is not None:
                load += riders[call.request_id] * (1 if call.kind == "pickup" else -1)
            calls.append(replace(call, load=load))
        if len(calls) > 2:
            coach = next(c for c in problem.coaches if c.coach_id == route.coach_id)
            kept.append(_route(problem, coach, calls))
    return tuple(kept)


def _route(problem: ShuttleProblem, coach: Coach, calls: list[Call]) -> CoachRoute:
    """A coach route from its calls: minutes driven, metres and cost along them."""
    legs = list(pairwise(calls))
    drive = float(sum(problem.time_min[a.location, b.location] for a, b in legs))
    dist = float(sum(problem.dist_m[a.location, b.location] for a, b in legs))
    cost = dist / 1000 * coach.cost_per_km + drive / 60 * coach.cost_per_hour
    return CoachRoute(coach.coach_id, tuple(calls), drive, dist, cost)


def _coaches(problem: ShuttleProblem, routing: pywrapcp.RoutingModel) -> None:
    """Each coach out and back within its free hours (leaving as late, back as early as the plan allows),
    and for at most ``max_duration_min``."""
    clock = routing.GetDimensionOrDie("time")
    for v, coach in enumerate(problem.coaches):
        clock.CumulVar(routing.Start(v)).SetRange(*coach.free)
        clock.CumulVar(routing.End(v)).SetRange(*coach.free)
        routing.AddVariableMaximizedByFinalizer(clock.CumulVar(routing.Start(v)))
        routing.AddVariableMinimizedByFinalizer(clock.CumulVar(routing.End(v)))
        if coach.max_duration_min is not None:
            clock.SetSpanUpperBoundForVehicle(coach.max_duration_min, v)


def _read(
    problem: ShuttleProblem,
    requests: list[Request],
    manager: pywrapcp.RoutingIndexManager,
    routing: pywrapcp.RoutingModel,
    assignment: pywrapcp.Assignment,
    nodes: list[int],
    k: int,
) -> tuple[CoachRoute, ...]:
    clock = routing.GetDimensionOrDie("time")
    loads = routing.GetDimensionOrDie("load")
    routes = []
    for v, coach in enumerate(problem.coaches):
        index = routing.Start(v)
        calls = []
        while True:
            node = manager.IndexToNode(index)
            arrival = assignment.Value(clock.CumulVar(index))
            change, kind, request = 0, "depot", None
            if node >= k:
                q, offset = divmod(node - k, 2)
                kind, request = ("pickup", "delivery")[offset], requests[q].request_id
                change = requests[q].riders * (1 if kind == "pickup" else -1)
            stay = problem.boarding_min if node >= k else 0
            after = assignment.Value(loads.CumulVar(index)) + change
            calls.append(Call(request, nodes[node], kind, arrival, arrival + stay, after))
            if routing.IsEnd(index):
                break
            index = assignment.Value(routing.NextVar(index))
        if len(calls) > 2:
            routes.append(_route(problem, coach, calls))
    return tuple(routes)
