"""Weekly rounds of mobile service trucks: which stops, which truck, which days, in which order.

Formulation (logic-based Benders decomposition, measured against alternatives in bench/RESULTS.md):

* **Master (CP-SAT)** chooses the open stops and their visits ``x[s, t, d]`` (stop, truck, day of the
  horizon). Each open stop gets exactly its frequency (weekly: once a week on the same weekday and
  truck both weeks; fortnightly: once in two weeks; ``n``/week: on ``n`` different days). A zone is
  served at the frequency of the most frequent open stop within reach (each person counted once).
  Objective: value of people served (people x visits per week x ``person_value``) minus driving cost,
  where a truck-day's cost is at least a lower bound from each stop's cheapest arcs, and at least the
  exact cost of any stop set already sequenced that it contains (optimality cuts).
* **Sub-problem** (exact, :mod:`optimize._sequencing`): each truck-day's stops are ordered with time
  windows, the lunch break, the shift and the driving limit. An impossible day gets a feasibility cut
  (not this set again on that truck and weekday); the loop stops when every day fits and every cost
  is exact, or at the time limit.

The master's best bound is a valid upper bound of the true objective, since its costs never exceed
the true ones and its feasible set contains every feasible plan.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np
from ortools.sat.python import cp_model

from optimize._errors import InfeasibleError
from optimize._sequencing import MAX_STOPS, Break, DayPlan, sequence_day
from optimize._solver import SolveInfo, Status, to_cents

Window = tuple[int, int, int]  # (iso weekday, start minute, end minute)


@dataclass(frozen=True)
class Stop:
    """A candidate stop. ``windows`` empty means any time of the shift; ``required`` stops must be served."""

    stop_id: str
    name: str
    location: int
    service_min: int
    visits_per_week: float = 0.5
    windows: tuple[Window, ...] = ()
    required: bool = False
    service: str | None = None


@dataclass(frozen=True)
class Vehicle:
    """A truck working ``days`` (ISO weekdays) from its depot, with its shift, break and costs."""

    vehicle_id: str
    depot: int
    days: tuple[int, ...] = (1, 2, 3, 4, 5)
    shift_start_min: int = 8 * 60 + 30
    shift_end_min: int = 17 * 60 + 30
    max_drive_min: int = 240
    lunch: Break | None = field(default_factory=lambda: Break(11 * 60 + 30, 14 * 60, 60))
    cost_per_km: float = 0.6
    cost_per_hour: float = 30.0
    co2_g_per_km: float = 270.0
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoundsProblem:
    """Everything the rounds model needs, as plain data (no geometry, no OR-Tools).

    ``time_min``/``dist_m`` are square matrices over locations (stops and depots);
    ``covers[s]`` lists the zones stop ``s`` serves; ``population`` is per zone.
    """

    stops: tuple[Stop, ...]
    vehicles: tuple[Vehicle, ...]
    time_min: np.ndarray
    dist_m: np.ndarray
    covers: tuple[tuple[int, ...], ...]
    population: np.ndarray
    horizon_weeks: int = 2
    days: tuple[int, ...] = (1, 2, 3, 4, 5)
    person_value: float = 0.5
    carbon_price_per_t: float = 100.0
    max_stops_per_day: int = 4

    def __post_init__(self) -> None:
        n = self.time_min.shape[0]
        if self.time_min.shape != (n, n) or self.dist_m.shape != (n, n):
            raise ValueError("time_min and dist_m must be square matrices of the same size")
        if len(self.covers) != len(self.stops):
            raise ValueError("covers needs one entry per stop")
        if self.horizon_weeks not in (1, 2):
            raise ValueError("the horizon is one or two weeks")
        if not 1 <= self.max_stops_per_day <= MAX_STOPS:
            raise ValueError(f"max_stops_per_day must be between 1 and {MAX_STOPS}")

    def arc_cost(self, vehicle: Vehicle) -> np.ndarray:
        """Euros per arc for a vehicle: km, driving hours and CO2 at the carbon price."""
        km = self.dist_m / 1000.0
        co2_t = km * vehicle.co2_g_per_km / 1e6
        return km * vehicle.cost_per_km + self.time_min / 60.0 * vehicle.cost_per_hour + co2_t * self.carbon_price_per_t

    def horizon(self) -> list[tuple[int, int]]:
        """The (week, weekday) pairs of the horizon, weeks numbered from 1."""
        return [(w, d) for w in range(1, self.horizon_weeks + 1) for d in self.days]


@dataclass(frozen=True)
class Visit:
    """One stop on one truck-day, with its times (minutes from midnight) and the leg that reaches it."""

    stop_id: str
    arrival_min: int
    start_min: int
    end_min: int
    leg_drive_min: float
    leg_dist_m: float


@dataclass(frozen=True)
class DayRoute:
    """A truck's day: visits in order, break, departure and return, drive minutes and metres."""

    vehicle_id: str
    week: int
    day: int
    visits: tuple[Visit, ...]
    break_start_min: int | None
    departure_min: int
    return_min: int
    return_drive_min: float
    return_dist_m: float
    drive_min: float
    dist_m: float
    cost: float


@dataclass(frozen=True)
class RoundsResult:
    """The plan: routes per truck-day, the open stops, the stops left out and why, and the solve info."""

    info: SolveInfo
    routes: tuple[DayRoute, ...]
    open_stops: tuple[str, ...]
    left_out: dict[str, str]
    served_level: np.ndarray  # visits per week reaching each zone (0 = not served)
    value: float
    cost: float
    iterations: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        """One line: status, objective, bound, routes, stops."""
        return (
            f"{self.info.status}: objective {self.info.objective:.1f} (bound {self.info.bound:.1f}), "
            f"{len(self.open_stops)} stops on {len(self.routes)} truck-days, {self.info.time_s:.1f} s"
        )


def _day_windows(stop: Stop, day: int, shift: tuple[int, int]) -> list[tuple[int, int]]:
    if not stop.windows:
        return [shift]
    return sorted((max(s, shift[0]), min(e, shift[1])) for d, s, e in stop.windows if d == day and e > s)


def _can_visit(problem: RoundsProblem, s: int, v: Vehicle, day: int) -> DayPlan | None:
    """The single-stop day for stop ``s`` on ``v``'s ``day``, or None when even that does not fit."""
    stop = problem.stops[s]
    if day not in v.days or (stop.service and v.services and stop.service not in v.services):
        return None
    return _sequence(problem, v, day, (s,))


def _sequence(problem: RoundsProblem, v: Vehicle, day: int, stops: tuple[int, ...]) -> DayPlan | None:
    """Exact best order of ``stops`` on ``v``'s ``day``; the plan's ``order`` holds stop indices."""
    shift = (v.shift_start_min, v.shift_end_min)
    nodes = [v.depot, *(problem.stops[s].location for s in stops)]  # local node 0 is the depot
    local = range(1, len(nodes))
    plan = sequence_day(
        list(local),
        depot=0,
        time_min=problem.time_min[np.ix_(nodes, nodes)],
        arc_cost=problem.arc_cost(v)[np.ix_(nodes, nodes)],
        service_min={i: problem.stops[s].service_min for i, s in zip(local, stops, strict=True)},
        windows={i: _day_windows(problem.stops[s], day, shift) for i, s in zip(local, stops, strict=True)},
        shift=shift,
        max_drive_min=v.max_drive_min,
        lunch=v.lunch,
    )
    if plan is None:
        return None
    return replace(plan, order=tuple(stops[i - 1] for i in plan.order))


def explain_infeasible(problem: RoundsProblem) -> list[str]:
    """Plain-words reasons why required stops cannot be served (empty when none is evident)."""
    reasons = []
    for s, stop in enumerate(problem.stops):
        if not stop.required:
            continue
        options = [(v.vehicle_id, d) for v in problem.vehicles for d in problem.days if _can_visit(problem, s, v, d)]
        weekly = stop.visits_per_week if stop.visits_per_week >= 1 else 0
        if not options:
            hours = ", ".join(f"{d}:{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for d, a, b in stop.windows)
            reasons.append(
                f"stop {stop.name}: no truck can reach it, serve {stop.service_min} min and be back within a shift"
                + (f" (its time windows: {hours})" if hours else "")
            )
        elif weekly > len({d for _, d in options}):
            reasons.append(
                f"stop {stop.name}: needs {weekly:g} visits a week on different days, "
                f"but trucks can serve it on {len({d for _, d in options})} weekday(s) only"
            )
    required_min = sum(
        st.service_min * max(st.visits_per_week, 1 / problem.horizon_weeks) * problem.horizon_weeks
        for st in problem.stops
        if st.required
    )
    fleet_min = sum(
        (v.shift_end_min - v.shift_start_min - (v.lunch.duration_min if v.lunch else 0))
        * len(set(v.days) & set(problem.days))
        * problem.horizon_weeks
        for v in problem.vehicles
    )
    if required_min > fleet_min:
        reasons.append(
            f"required stops need {required_min / 60:.0f} hours of service over the horizon, "
            f"the fleet's shifts give {fleet_min / 60:.0f} hours"
        )
    return reasons


class _Master:
    """The CP-SAT selection model, kept alive across Benders iterations to add cuts."""

    def __init__(self, problem: RoundsProblem, singles: dict[tuple[int, int, int], DayPlan]) -> None:
        self.p = problem
        self.model = cp_model.CpModel()
        m = self.model
        horizon = problem.horizon()
        self.open = [m.new_bool_var(f"open_{s}") for s in range(len(problem.stops))]
        self.x: dict[tuple[int, int, int, int], cp_model.IntVar] = {}  # (stop, vehicle, week, day)
        for s, v, d in singles:
            for w in range(1, problem.horizon_weeks + 1):
                self.x[s, v, w, d] = m.new_bool_var(f"x_{s}_{v}_{w}_{d}")
        by_stop: dict[int, list[tuple[int, int, int]]] = {}
        for s, v, w, d in self.x:
            by_stop.setdefault(s, []).append((v, w, d))
        for s, stop in enumerate(problem.stops):
            keys = by_stop.get(s, [])
            if stop.required:
                m.add(self.open[s] == 1)
            if not keys:
                m.add(self.open[s] == 0)
                continue
            for w, d in horizon:  # at most one visit a day
                m.add(sum(self.x[s, v, w, d] for v, ww, dd in keys if (ww, dd) == (w, d)) <= 1)
            self._frequency(s, stop, keys)
        self.cost: dict[tuple[int, int, int], cp_model.IntVar] = {}
        for v, vehicle in enumerate(problem.vehicles):
            arc = problem.arc_cost(vehicle)
            lower = _stop_lower_bounds(problem, vehicle, arc)
            lower_min = _stop_lower_bounds(problem, vehicle, problem.time_min)
            for w, d in horizon:
                day_x = {s: self.x[s, v, w, d] for s in range(len(problem.stops)) if (s, v, w, d) in self.x}
                if not day_x:
                    continue
                capacity = (
                    vehicle.shift_end_min
                    - vehicle.shift_start_min
                    - (vehicle.lunch.duration_min if vehicle.lunch else 0)
                )
                busy = {s: problem.stops[s].service_min + int(lower_min[problem.stops[s].location]) for s in day_x}
                m.add(sum(busy[s] * x for s, x in day_x.items()) <= capacity)
                m.add(
                    sum(int(lower_min[problem.stops[s].location]) * x for s, x in day_x.items())
                    <= vehicle.max_drive_min
                )
                m.add(sum(day_x.values()) <= problem.max_stops_per_day)
                cost = m.new_int_var(0, to_cents(10_000), f"cost_{v}_{w}_{d}")
                m.add(cost >= sum(to_cents(lower[problem.stops[s].location]) * x for s, x in day_x.items()))
                for s, x in day_x.items():  # any route through s costs at least depot -> s -> depot
                    loc = problem.stops[s].location
                    m.add(cost >= to_cents(arc[vehicle.depot, loc] + arc[loc, vehicle.depot]) * x)
                self.cost[v, w, d] = cost
        self.levels = sorted({st.visits_per_week for st in problem.stops})
        value = []
        zone_stops: dict[int, list[int]] = {}
        for s, zones in enumerate(problem.covers):
            for z in zones:
                zone_stops.setdefault(z, []).append(s)
        for z, stops in zone_stops.items():
            if problem.population[z] <= 0:
                continue
            chosen = []
            for level in self.levels:
                reach = [self.open[s] for s in stops if problem.stops[s].visits_per_week >= level]
                if not reach:
                    continue
                b = m.new_bool_var(f"served_{z}_{level}")
                m.add(b <= sum(reach))
                chosen.append((level, b))
                value.append(to_cents(problem.population[z] * level * problem.person_value) * b)
            m.add(sum(b for _, b in chosen) <= 1)
        self.value_expr = sum(value)
        self.cost_expr = sum(self.cost.values())
        m.maximize(self.value_expr - self.cost_expr)

    def _frequency(self, s: int, stop: Stop, keys: list[tuple[int, int, int]]) -> None:
        m, p = self.model, self.p
        if stop.visits_per_week < 1:  # once per horizon (fortnightly over two weeks)
            if p.horizon_weeks * stop.visits_per_week != 1:
                raise ValueError(
                    f"stop {stop.stop_id}: {stop.visits_per_week:g} visits a week needs a two-week horizon"
                )
            m.add(sum(self.x[s, v, w, d] for v, w, d in keys) == self.open[s])
            return
        per_week = int(stop.visits_per_week)
        for w in range(1, p.horizon_weeks + 1):
            m.add(sum(self.x[s, v, ww, d] for v, ww, d in keys if ww == w) == per_week * self.open[s])
        for v, w, d in keys:  # same weekday and truck every week: a regular schedule
            if w > 1:
                m.add(self.x[s, v, w, d] == self.x[s, v, 1, d])

    def feasibility_cut(self, v: int, day: int, stops: tuple[int, ...]) -> None:
        for w in range(1, self.p.horizon_weeks + 1):
            if all((s, v, w, day) in self.x for s in stops):
                self.model.add(sum(self.x[s, v, w, day] for s in stops) <= len(stops) - 1)

    def optimality_cut(self, v: int, day: int, stops: tuple[int, ...], cost: float) -> None:
        for w in range(1, self.p.horizon_weeks + 1):
            if (v, w, day) in self.cost and all((s, v, w, day) in self.x for s in stops):
                hit = sum(self.x[s, v, w, day] for s in stops) - (len(stops) - 1)
                self.model.add(self.cost[v, w, day] >= to_cents(cost) * hit)


def _stop_lower_bounds(problem: RoundsProblem, vehicle: Vehicle, arc: np.ndarray) -> np.ndarray:
    """Per location, half its cheapest way in plus half its cheapest way out (a valid share of any route)."""
    places = sorted({st.location for st in problem.stops} | {vehicle.depot})
    sub = arc[np.ix_(places, places)].astype(float)
    np.fill_diagonal(sub, np.inf)
    lower = np.zeros(arc.shape[0])
    lower[places] = (np.min(sub, axis=0) + np.min(sub, axis=1)) / 2
    return np.where(np.isfinite(lower), lower, 0.0)


def solve(
    problem: RoundsProblem,
    *,
    time_limit_s: float = 60.0,
    seed: int = 0,
    workers: int = 2,
    progress: Callable[[str], None] = lambda _: None,
) -> RoundsResult:
    """Plan the rounds; raises :class:`InfeasibleError` with reasons when required stops cannot be served."""
    started = time.perf_counter()
    reasons = explain_infeasible(problem)
    if reasons:
        raise InfeasibleError(reasons)
    singles = {
        (s, v, d): plan
        for s in range(len(problem.stops))
        for v, vehicle in enumerate(problem.vehicles)
        for d in problem.days
        if (plan := _can_visit(problem, s, vehicle, d)) is not None
    }
    master = _Master(problem, singles)
    cache: dict[tuple[int, int, tuple[int, ...]], DayPlan | None] = {}

    def plan_of(v: int, d: int, stops: tuple[int, ...]) -> DayPlan | None:
        key = (v, d, tuple(sorted(stops)))
        if key not in cache:
            cache[key] = _sequence(problem, problem.vehicles[v], d, key[2])
        return cache[key]

    iterations, status, bound = 0, Status.UNKNOWN, float("inf")
    best: _Incumbent | None = None
    while (remaining := time_limit_s - (time.perf_counter() - started)) > 0.05:
        iterations += 1
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = min(remaining, max(1.0, time_limit_s / 5))
        solver.parameters.random_seed = seed
        solver.parameters.num_workers = workers
        code = solver.solve(master.model)
        if code == cp_model.INFEASIBLE and best is None:
            raise InfeasibleError(["the required stops cannot all be fitted into feasible truck-days"])
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        bound = min(bound, solver.best_objective_bound / 100)
        days: dict[tuple[int, int, int], tuple[int, ...]] = {}
        for (s, v, w, d), var in master.x.items():
            if solver.value(var):
                days[v, w, d] = (*days.get((v, w, d), ()), s)
        cuts = 0
        for (v, w, d), stops in days.items():
            plan = plan_of(v, d, stops)
            if plan is None:
                for conflict in _conflicts(stops, lambda sub, v=v, d=d: plan_of(v, d, sub) is not None):
                    master.feasibility_cut(v, d, conflict)
                    cuts += 1
            elif to_cents(plan.cost) > solver.value(master.cost[v, w, d]):
                master.optimality_cut(v, d, tuple(sorted(stops)), plan.cost)
                cuts += 1
        open_stops = {s for s in range(len(problem.stops)) if solver.value(master.open[s])}
        candidate = _repair(problem, days, open_stops, plan_of)
        if candidate is not None and (best is None or candidate.objective > best.objective):
            best = candidate
        progress(
            f"iteration {iterations}: {len(days)} truck-days, {cuts} cuts, best {best.objective if best else 0:.0f},"
            f" bound {bound:.0f}"
        )
        if cuts == 0:
            status = Status.OPTIMAL if code == cp_model.OPTIMAL else Status.FEASIBLE
            break
        master.model.clear_hints()
        for var in [*master.open, *master.x.values()]:
            master.model.add_hint(var, solver.value(var))
    elapsed = time.perf_counter() - started
    if best is None:
        info = SolveInfo(Status.UNKNOWN, float("nan"), bound, elapsed, seed)
        return RoundsResult(info, (), (), {}, np.zeros(len(problem.population)), 0.0, 0.0, iterations)
    if status != Status.OPTIMAL or best.objective < bound - 0.01:
        status = Status.FEASIBLE  # a plan exists; optimal only when it meets the master's bound
    info = SolveInfo(status, best.objective, max(bound, best.objective), elapsed, seed)
    return _result(problem, info, best, singles, iterations)


@dataclass(frozen=True)
class _Incumbent:
    objective: float
    plans: dict[tuple[int, int, int], DayPlan]
    open_stops: frozenset[int]


def _conflicts(stops: tuple[int, ...], fits: Callable[[tuple[int, ...]], bool]) -> list[tuple[int, ...]]:
    """Smallest infeasible subsets of an infeasible day: the pairs that do not fit, else the whole set."""
    pairs = [(a, b) for i, a in enumerate(stops) for b in stops[i + 1 :] if not fits((a, b))]
    return pairs or [tuple(stops)]


def _repair(problem, days, open_stops, plan_of) -> _Incumbent | None:
    """A feasible plan from a master solution: close stops of impossible days until every day fits."""
    open_now = set(open_stops)
    while True:
        plans, broken = {}, None
        for (v, w, d), stops in days.items():
            kept = tuple(s for s in stops if s in open_now)
            if not kept:
                continue
            plan = plan_of(v, d, kept)
            if plan is None:
                broken = kept
                break
            plans[v, w, d] = plan
        if broken is None:
            break
        if any(problem.stops[s].required for s in broken):
            return None
        open_now.discard(min(broken, key=lambda s: problem.population[list(problem.covers[s])].sum()))
    value = float(np.sum(problem.population * served_levels(problem, open_now)) * problem.person_value)
    return _Incumbent(value - sum(p.cost for p in plans.values()), plans, frozenset(open_now))


def _result(problem: RoundsProblem, info: SolveInfo, best: _Incumbent, singles, iterations: int) -> RoundsResult:
    routes = []
    for (v, w, d), plan in sorted(best.plans.items(), key=lambda item: (item[0][1], item[0][2], item[0][0])):
        vehicle = problem.vehicles[v]
        visits, place = [], vehicle.depot
        for s, arrival, start, end in zip(plan.order, plan.arrival_min, plan.start_min, plan.end_min, strict=True):
            loc = problem.stops[s].location
            leg = (float(problem.time_min[place, loc]), float(problem.dist_m[place, loc]))
            visits.append(Visit(problem.stops[s].stop_id, arrival, start, end, *leg))
            place = loc
        legs = [vehicle.depot, *(problem.stops[s].location for s in plan.order), vehicle.depot]
        dist = float(sum(problem.dist_m[a, b] for a, b in pairwise(legs)))
        routes.append(
            DayRoute(
                vehicle.vehicle_id,
                w,
                d,
                tuple(visits),
                plan.break_start_min,
                plan.departure_min,
                plan.return_min,
                float(problem.time_min[place, vehicle.depot]),
                float(problem.dist_m[place, vehicle.depot]),
                plan.drive_min,
                dist,
                plan.cost,
            )
        )
    served = served_levels(problem, best.open_stops)
    reachable = {s for s, _, _ in singles}
    left_out = {}
    for s, stop in enumerate(problem.stops):
        if s in best.open_stops:
            continue
        if s not in reachable:
            left_out[stop.stop_id] = "no truck can serve it within a shift (time windows, distance or services)"
        elif all(problem.population[z] <= 0 or served[z] >= stop.visits_per_week for z in problem.covers[s]):
            left_out[stop.stop_id] = "its people are already served by another stop"
        else:
            left_out[stop.stop_id] = "not worth its driving, or no room left in the trucks' days"
    value = float(np.sum(problem.population * served) * problem.person_value)
    open_ids = tuple(problem.stops[s].stop_id for s in sorted(best.open_stops))
    return RoundsResult(info, tuple(routes), open_ids, left_out, served, value, sum(r.cost for r in routes), iterations)


def served_levels(problem: RoundsProblem, open_stops: set[int] | frozenset[int]) -> np.ndarray:
    """Visits per week reaching each zone: the frequency of its most frequent open stop within reach."""
    level = np.zeros(len(problem.population))
    for s in open_stops:
        zones = list(problem.covers[s])
        level[zones] = np.maximum(level[zones], problem.stops[s].visits_per_week)
    return level
