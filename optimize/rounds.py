"""Weekly rounds of mobile service trucks: which stops, which truck, which days, in which order.

Formulation (chosen by measurement against a Benders decomposition, see bench/RESULTS.md):

1. **Enumerate feasible truck-days.** For each truck and weekday, every set of up to
   ``max_stops_per_day`` stops that one truck can serve that day is sequenced exactly
   (:mod:`optimize._sequencing`: time windows, lunch break, shift, driving limit), growing sets from
   feasible smaller ones through each stop's nearest neighbours. Each gets its exact cost.
2. **Choose with CP-SAT.** An integer count per truck-day pattern (how many weeks it is driven)
   and a boolean per stop: one pattern per truck-day; each open stop gets exactly its frequency
   (weekly or ``n``/week: the same truck and weekday every week; fortnightly: once in two weeks);
   a zone is served at the frequency of its most frequent open stop within reach, each person
   counted once. Objective: value of people served (people x visits per week x ``person_value``)
   minus the exact driving cost. The best bound is a true bound over the enumerated patterns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np
from ortools.sat.python import cp_model

from optimize._cancel import check, stopping
from optimize._errors import InfeasibleError
from optimize._sequencing import MAX_STOPS, Break, DayPlan, sequence_day
from optimize._solver import SolveInfo, Status, cp_sat, stopped_by_wall_clock, to_cents

ENUMERATION_SHARE = 0.8  # of the time limit, at most, for enumerating truck-days (a guard: it rarely binds)

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
    notes: tuple[str, ...] = ()

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
    return day_plan(problem, v, day, (s,))


def day_plan(problem: RoundsProblem, v: Vehicle, day: int, stops: tuple[int, ...]) -> DayPlan | None:
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


@dataclass(frozen=True)
class _Pattern:
    """A feasible truck-day: its stops (indices) and exact sequenced plan."""

    vehicle: int
    weekday: int
    stops: tuple[int, ...]
    plan: DayPlan


def _day_patterns(
    problem: RoundsProblem, v: int, day: int, *, neighbours: int, max_patterns: int, deadline: float = float("inf")
) -> tuple[list[_Pattern], bool]:
    """Every feasible set of up to ``max_stops_per_day`` stops for truck ``v`` on ``day``, built upwards.

    A set grows only by stops among the ``neighbours`` nearest (in minutes) of a stop already in it,
    and only from feasible smaller sets. Returns the patterns and whether ``max_patterns`` cut the list.
    """
    vehicle = problem.vehicles[v]
    if time.perf_counter() > deadline:
        return [], True
    singles = [s for s in range(len(problem.stops)) if _can_visit(problem, s, vehicle, day) is not None]
    if not singles:
        return [], False
    locations = np.array([problem.stops[s].location for s in singles])
    times = problem.time_min[np.ix_(locations, locations)]
    near = {singles[i]: {singles[j] for j in np.argsort(times[i])[1 : neighbours + 1]} for i in range(len(singles))}
    patterns: list[_Pattern] = []
    layer: list[tuple[int, ...]] = [(s,) for s in singles]
    truncated = False
    while layer:
        grown: set[tuple[int, ...]] = set()
        for stops in layer:
            check()  # a cancelled run stops here too
            if time.perf_counter() > deadline:  # the time limit bounds the enumeration too
                return patterns, True
            plan = day_plan(problem, vehicle, day, stops)
            if plan is None:
                continue
            patterns.append(_Pattern(v, day, stops, plan))
            if len(stops) < problem.max_stops_per_day:
                reach = set().union(*(near[s] for s in stops))
                grown.update(tuple(sorted((*stops, t))) for t in reach if t > stops[-1] and t not in stops)
        if len(patterns) + len(grown) > max_patterns:
            truncated = bool(grown)
            break
        layer = sorted(grown)
    return patterns, truncated


def _regular_visits(stop: Stop, weeks: int) -> int:
    """Visits of a stop over the horizon."""
    return max(1, round(stop.visits_per_week * weeks))


def solve(
    problem: RoundsProblem,
    *,
    time_limit_s: float = 60.0,
    seed: int = 0,
    workers: int = 2,
    neighbours: int = 12,
    max_patterns: int = 20_000,
    progress: Callable[[str], None] = lambda _: None,
) -> RoundsResult:
    """Plan the rounds with CP-SAT over enumerated feasible truck-days (see the module docstring).

    Raises :class:`InfeasibleError` with plain-words reasons when required stops cannot be served.
    """
    started = time.perf_counter()
    reasons = explain_infeasible(problem)
    if reasons:
        raise InfeasibleError(reasons)
    weeks = problem.horizon_weeks
    for stop in problem.stops:
        if stop.visits_per_week < 1 and stop.visits_per_week * weeks != 1:
            raise InfeasibleError(
                [f"stop {stop.name}: {stop.visits_per_week:g} visits a week needs a two-week horizon"]
            )
    patterns: list[_Pattern] = []
    notes: list[str] = []
    enumeration_deadline = started + ENUMERATION_SHARE * time_limit_s
    day_class: dict[tuple[int, int], tuple[int, ...]] = {}  # (vehicle, representative weekday) -> weekdays
    only_fortnightly = all(st.visits_per_week < 1 for st in problem.stops)
    for v in range(len(problem.vehicles)):
        seen: dict[tuple[object, ...], int] = {}
        for day in problem.days:
            found, truncated = _day_patterns(
                problem, v, day, neighbours=neighbours, max_patterns=max_patterns, deadline=enumeration_deadline
            )
            if truncated:
                notes.append(
                    f"truck {problem.vehicles[v].vehicle_id}, day {day}: day patterns cut at "
                    f"{max_patterns} or at {ENUMERATION_SHARE:.0%} of the time limit"
                )
            signature = tuple((p.stops, p.plan.start_min, p.plan.cost) for p in found)  # same days, same plans
            if only_fortnightly and signature in seen:  # same possible days: one class, no symmetric copies
                first = seen[signature]
                day_class[v, first] = (*day_class[v, first], day)
                continue
            seen[signature] = day
            day_class[v, day] = (day,)
            patterns += found
    progress(f"{len(patterns)} feasible truck-days enumerated")
    notes.append(
        f"optimal means optimal among {len(patterns)} feasible truck-days of up to {problem.max_stops_per_day} stops, "
        f"each stop paired with its {neighbours} nearest"
    )
    model = cp_model.CpModel()
    count = [
        model.new_int_var(0, weeks * len(day_class[p.vehicle, p.weekday]), f"n_{i}") for i, p in enumerate(patterns)
    ]
    open_ = [model.new_bool_var(f"open_{s}") for s in range(len(problem.stops))]
    by_day: dict[tuple[int, int], list[int]] = {}
    by_stop_day: dict[tuple[int, int, int], list[int]] = {}
    for i, pattern in enumerate(patterns):
        by_day.setdefault((pattern.vehicle, pattern.weekday), []).append(i)
        for s in pattern.stops:
            by_stop_day.setdefault((s, pattern.vehicle, pattern.weekday), []).append(i)
    for (v, day), members in by_day.items():  # one pattern per truck-day
        model.add(sum(count[i] for i in members) <= weeks * len(day_class[v, day]))
    required = {}
    for s, stop in enumerate(problem.stops):
        slots = [key for key in by_stop_day if key[0] == s]
        if stop.required:
            required[s] = model.new_bool_var(f"required_{s}")
            model.add(open_[s] == 1).only_enforce_if(required[s])
        if not slots:
            model.add(open_[s] == 0)
            continue
        if stop.visits_per_week < 1:  # once over the two weeks, any truck and day
            model.add(sum(count[i] for key in slots for i in by_stop_day[key]) == open_[s])
            continue
        chosen = {}
        for key in slots:  # a regular stop keeps its truck and weekday every week
            chosen[key] = model.new_bool_var(f"slot_{key}")
            model.add(sum(count[i] for i in by_stop_day[key]) == weeks * chosen[key])
        model.add(sum(chosen.values()) == int(stop.visits_per_week) * open_[s])
        for day in problem.days:
            model.add(sum(c for (_, _, d), c in chosen.items() if d == day) <= 1)
    value_terms = []
    zone_stops: dict[int, list[int]] = {}
    for s, zones in enumerate(problem.covers):
        for z in zones:
            zone_stops.setdefault(z, []).append(s)
    levels = sorted({st.visits_per_week for st in problem.stops})
    for z, stops in zone_stops.items():
        if problem.population[z] <= 0:
            continue
        served = []
        for level in levels:
            reach = [open_[s] for s in stops if problem.stops[s].visits_per_week >= level]
            if reach:
                b = model.new_bool_var(f"served_{z}_{level}")
                model.add(b <= sum(reach))
                served.append(b)
                value_terms.append(to_cents(problem.population[z] * level * problem.person_value) * b)
        model.add(sum(served) <= 1)
    cost = sum(to_cents(p.plan.cost) * count[i] for i, p in enumerate(patterns))
    model.maximize(sum(value_terms) - cost)
    model.add_assumptions(list(required.values()))
    solver = cp_sat(time_limit_s, seed, workers, wall_limit_s=max(0.1, time_limit_s - (time.perf_counter() - started)))
    with stopping(solver.stop_search):
        code = solver.solve(model)
    if stopped_by_wall_clock(solver):
        notes.append("the wall-clock limit ended the search before the work limit: another run may differ")
    elapsed = time.perf_counter() - started
    if code == cp_model.INFEASIBLE:
        culprits = [
            problem.stops[s].name
            for s, lit in required.items()
            if lit.index in set(solver.sufficient_assumptions_for_infeasibility())
        ]
        raise InfeasibleError(
            [
                f"these required stops cannot all be served with the fleet's truck-days: "
                f"{', '.join(culprits) or 'all required stops'}"
            ]
        )
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        info = SolveInfo(Status.UNKNOWN, float("nan"), solver.best_objective_bound / 100, elapsed, seed)
        return RoundsResult(info, (), (), {}, np.zeros(len(problem.population)), 0.0, 0.0, tuple(notes))
    status = Status.OPTIMAL if code == cp_model.OPTIMAL else Status.FEASIBLE
    info = SolveInfo(status, solver.objective_value / 100, solver.best_objective_bound / 100, elapsed, seed)
    used = [(patterns[i], solver.value(c)) for i, c in enumerate(count) if solver.value(c)]
    open_stops = frozenset(s for s in range(len(problem.stops)) if solver.value(open_[s]))
    reachable = {s for s, _, _ in by_stop_day}
    return _result(problem, info, _place(used, weeks, day_class), open_stops, reachable, tuple(notes))


def _place(
    used: list[tuple[_Pattern, int]], weeks: int, day_class: dict[tuple[int, int], tuple[int, ...]]
) -> dict[tuple[int, int, int], _Pattern]:
    """Give each used pattern copy a (vehicle, week, weekday) slot of its class.

    Patterns driven every week (count = weeks) keep one weekday; the others fill the free slots.
    """
    placed: dict[tuple[int, int, int], _Pattern] = {}
    for pattern, copies in sorted(used, key=lambda item: (-item[1], item[0].stops)):
        days = day_class[pattern.vehicle, pattern.weekday]
        while (
            copies >= weeks
            and (
                day := next(
                    (d for d in days if all((pattern.vehicle, w, d) not in placed for w in range(1, weeks + 1))), None
                )
            )
            is not None
        ):
            for w in range(1, weeks + 1):
                placed[pattern.vehicle, w, day] = replace(pattern, weekday=day)
            copies -= weeks
        free = [(w, d) for d in days for w in range(1, weeks + 1) if (pattern.vehicle, w, d) not in placed]
        for w, d in free[:copies]:
            placed[pattern.vehicle, w, d] = replace(pattern, weekday=d)
    return placed


def _result(
    problem: RoundsProblem,
    info: SolveInfo,
    placed: dict[tuple[int, int, int], _Pattern],
    open_stops: frozenset[int],
    reachable: set[int],
    notes: tuple[str, ...],
) -> RoundsResult:
    routes = []
    for (v, w, d), pattern in sorted(placed.items(), key=lambda item: (item[0][1], item[0][2], item[0][0])):
        plan = pattern.plan
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
    served = served_levels(problem, open_stops)
    left_out = {}
    for s, stop in enumerate(problem.stops):
        if s in open_stops:
            continue
        if s not in reachable:
            left_out[stop.stop_id] = "no truck can serve it within a shift (time windows, distance or services)"
        elif all(problem.population[z] <= 0 or served[z] >= stop.visits_per_week for z in problem.covers[s]):
            left_out[stop.stop_id] = "its people are already served by another stop"
        else:
            left_out[stop.stop_id] = "not worth its driving, or no room left in the trucks' days"
    value = float(np.sum(problem.population * served) * problem.person_value)
    open_ids = tuple(problem.stops[s].stop_id for s in sorted(open_stops))
    return RoundsResult(info, tuple(routes), open_ids, left_out, served, value, sum(r.cost for r in routes), notes)


def served_levels(problem: RoundsProblem, open_stops: set[int] | frozenset[int]) -> np.ndarray:
    """Visits per week reaching each zone: the frequency of its most frequent open stop within reach."""
    level = np.zeros(len(problem.population))
    for s in open_stops:
        zones = list(problem.covers[s])
        level[zones] = np.maximum(level[zones], problem.stops[s].visits_per_week)
    return level
