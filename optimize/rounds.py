"""Weekly rounds of mobile service trucks: which stops, which truck, which days, in which order.

Formulation (chosen by measurement against a Benders decomposition, see bench/RESULTS.md):

1. **Enumerate feasible truck-days.** For each truck and weekday, every set of up to
   ``max_stops_per_day`` stops that one truck can serve that day is sequenced exactly
   (:mod:`optimize._sequencing`: time windows, lunch break, shift, driving limit), growing sets from
   feasible smaller ones (through each stop's ``neighbours`` nearest when that option is set). Each
   gets its exact cost. The enumeration is *complete* when nothing cut it (no neighbour limit, no
   pattern cap, no deadline): only then is an optimal status a proof for the whole problem.
2. **Choose with CP-SAT.** An integer count per truck-day pattern (how many weeks it is driven)
   and a boolean per stop: one pattern per truck-day; each open stop gets exactly its frequency
   (weekly or ``n``/week: the same truck and weekday every week; fortnightly: once in two weeks);
   a zone is served at the frequency of its most frequent open stop within reach, each person
   counted once. Objective: value of people served (people x visits per week x ``person_value``)
   minus the exact driving cost. The best bound is a true bound over the enumerated patterns; when
   the enumeration was cut the status is at best ``feasible`` and the bound is the value of every
   person a reachable stop could serve (:func:`value_bound`).

Beyond six stops a day or a few hundred candidates, :mod:`optimize.rounds_routing` plans the same
problem with PyVRP and returns the same result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import pairwise

import numpy as np
from ortools.sat.python import cp_model

from optimize._cancel import cancel_scope, check, stopping
from optimize._errors import InfeasibleError, ProblemError
from optimize._sequencing import MAX_STOPS, Break, DayPlan, sequence_day
from optimize._solver import SolveInfo, Status, check_limit, cp_sat, stopped_by_wall_clock, to_cents

ENUMERATION_SHARE = 0.5  # of the time limit, at most, for enumerating truck-days (a wall-clock guard)
WORK_SHARE = 0.4  # CP-SAT's deterministic work limit, as a share of the work seconds: the wall clock is a guard
MAX_HORIZON_WEEKS = 4
TIME_CUT = "the time limit"  # what cut an enumeration when its wall-clock deadline passed
MAX_STOPS_PER_DAY = 30  # the routing engine's limit; the exact one sequences up to MAX_STOPS

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
    _arc_costs: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = []
        n = self.time_min.shape[0]
        if self.time_min.shape != (n, n) or self.dist_m.shape != (n, n):
            problems.append("time_min and dist_m must be square matrices of the same size")
        if len(self.covers) != len(self.stops):
            problems.append("covers needs one entry per stop")
        if not 1 <= self.horizon_weeks <= MAX_HORIZON_WEEKS:
            problems.append(f"the horizon is 1 to {MAX_HORIZON_WEEKS} weeks (got {self.horizon_weeks})")
        if not 1 <= self.max_stops_per_day <= MAX_STOPS_PER_DAY:
            problems.append(f"max_stops_per_day must be between 1 and {MAX_STOPS_PER_DAY}")
        for stop in self.stops:
            if not 0 <= stop.location < n or stop.service_min <= 0:
                problems.append(f"stop {stop.stop_id}: location outside the matrices or service_min <= 0")
            if period_weeks(stop) == 0 or (stop.visits_per_week >= 1 and stop.visits_per_week % 1):
                problems.append(f"stop {stop.stop_id}: {stop.visits_per_week:g} visits a week is not 1/k or n")
            elif self.horizon_weeks % period_weeks(stop):
                problems.append(
                    f"stop {stop.stop_id}: a visit every {period_weeks(stop)} weeks needs a horizon that is a "
                    f"multiple of it (got {self.horizon_weeks})"
                )
        problems += [
            f"vehicle {v.vehicle_id}: depot outside the matrices" for v in self.vehicles if not 0 <= v.depot < n
        ]
        if problems:
            raise ProblemError(problems)

    def arc_cost(self, vehicle: Vehicle) -> np.ndarray:
        """Euros per arc for a vehicle: km, driving hours and CO2 at the carbon price (computed once per vehicle)."""
        key = f"{vehicle.cost_per_km}/{vehicle.cost_per_hour}/{vehicle.co2_g_per_km}"
        if key not in self._arc_costs:
            km = self.dist_m / 1000.0
            co2_t = km * vehicle.co2_g_per_km / 1e6
            self._arc_costs[key] = (
                km * vehicle.cost_per_km
                + self.time_min / 60.0 * vehicle.cost_per_hour
                + co2_t * self.carbon_price_per_t
            )
        return self._arc_costs[key]

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


def period_weeks(stop: Stop) -> int:
    """Weeks between two visits of a stop visited less than weekly (1 for weekly or more; 0 if not 1/k)."""
    if stop.visits_per_week >= 1:
        return 1
    if stop.visits_per_week <= 0:
        return 0
    period = round(1 / stop.visits_per_week)
    return period if abs(period * stop.visits_per_week - 1) < 1e-9 else 0


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
    return _local_plan(problem, v, day, stops, sequence_day)


def order_plan(problem: RoundsProblem, v: Vehicle, day: int, order: tuple[int, ...]) -> DayPlan | None:
    """``v``'s ``day`` visiting stops (indices) in this fixed ``order``, timed exactly; None when it does not fit."""
    return _local_plan(problem, v, day, order, partial(sequence_day, keep_order=True))


def _local_plan(
    problem: RoundsProblem, v: Vehicle, day: int, stops: tuple[int, ...], sequencer: Callable[..., DayPlan | None]
) -> DayPlan | None:
    """Run a day sequencer on the day's own small matrices (local node 0 is the depot)."""
    shift = (v.shift_start_min, v.shift_end_min)
    nodes = [v.depot, *(problem.stops[s].location for s in stops)]
    local = range(1, len(nodes))
    plan = sequencer(
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


def can_visit(problem: RoundsProblem, s: int, v: Vehicle, day: int) -> bool:
    """True when truck ``v`` can serve stop ``s`` alone on ``day`` (its service, its day, windows, shift)."""
    return _can_visit(problem, s, v, day) is not None


def serviceable(problem: RoundsProblem) -> dict[tuple[int, int], list[int]]:
    """For each (vehicle index, weekday it works), the stops it can serve alone that day.

    A stop with the same windows on two weekdays is sequenced once for both.
    """
    fits: dict[tuple[int, int], list[int]] = {}
    for v, vehicle in enumerate(problem.vehicles):
        shift = (vehicle.shift_start_min, vehicle.shift_end_min)
        seen: dict[tuple[int, tuple[tuple[int, int], ...]], bool] = {}
        for day in sorted(set(vehicle.days) & set(problem.days)):
            fits[v, day] = []
            for s, stop in enumerate(problem.stops):
                key = (s, tuple(_day_windows(stop, day, shift)))
                if key not in seen:
                    seen[key] = _can_visit(problem, s, vehicle, day) is not None
                if seen[key]:
                    fits[v, day].append(s)
    return fits


def reachable_stops(problem: RoundsProblem) -> set[int]:
    """Stops some truck can serve on some day of the horizon."""
    return {s for stops in serviceable(problem).values() for s in stops}


def stop_worth(problem: RoundsProblem) -> np.ndarray:
    """The most a stop's visits can ever bring, in the objective's euros: all its people at its frequency."""
    people = np.array([float(problem.population[list(zones)].sum()) if zones else 0.0 for zones in problem.covers])
    levels = np.array([st.visits_per_week for st in problem.stops])
    return people * levels * problem.person_value


def value_bound(problem: RoundsProblem, reachable: set[int]) -> float:
    """An upper bound on the objective: every person a reachable stop covers, at its best frequency, no cost."""
    return float(np.sum(problem.population * served_levels(problem, reachable)) * problem.person_value)


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
class DayPattern:
    """A feasible truck-day: its stops (indices) and exact sequenced plan."""

    vehicle: int
    weekday: int
    stops: tuple[int, ...]
    plan: DayPlan


@dataclass(frozen=True)
class Enumeration:
    """The feasible truck-days found, the weekdays each stands for, and whether nothing cut the list."""

    patterns: tuple[DayPattern, ...]
    day_class: dict[tuple[int, int], tuple[int, ...]]  # (vehicle, representative weekday) -> weekdays
    complete: bool
    notes: tuple[str, ...]


def day_patterns(
    problem: RoundsProblem, v: int, day: int, *, neighbours: int | None, max_patterns: int, deadline: float
) -> tuple[list[DayPattern], str | None]:
    """Every feasible set of up to ``max_stops_per_day`` stops for truck ``v`` on ``day``, built upwards.

    A set grows only from a feasible smaller one (a subset of a feasible day is feasible), by stops of
    higher index, among the ``neighbours`` nearest (in minutes) of a stop already in it when that is
    set. A day is kept only when each of its optional stops is worth its detour: dropping a stop
    whose extra cost exceeds everything it could ever bring (:func:`stop_worth`) makes a plan
    strictly better, so no optimal plan uses such a day and leaving it out keeps the list complete.
    Returns the patterns and what cut the list (None when it is complete).
    """
    vehicle = problem.vehicles[v]
    singles = [s for s in range(len(problem.stops)) if _can_visit(problem, s, vehicle, day) is not None]
    if not singles:
        return [], None
    cut = None
    if neighbours is not None and neighbours < len(singles) - 1:
        locations = np.array([problem.stops[s].location for s in singles])
        times = problem.time_min[np.ix_(locations, locations)]
        near = {singles[i]: [singles[j] for j in np.argsort(times[i])[1 : neighbours + 1]] for i in range(len(singles))}
        cut = f"each stop paired with its {neighbours} nearest only"
    else:
        near = {s: singles for s in singles}
    patterns: list[DayPattern] = []
    worth = stop_worth(problem)
    costs: dict[tuple[int, ...], float] = {(): 0.0}
    layer: list[tuple[int, ...]] = [(s,) for s in singles]
    while layer:
        grown: set[tuple[int, ...]] = set()
        for stops in layer:
            check()  # a cancelled run stops here too
            if time.perf_counter() > deadline:  # the time limit bounds the enumeration too
                return patterns, TIME_CUT
            plan = day_plan(problem, vehicle, day, stops)
            if plan is None:
                continue
            costs[stops] = plan.cost
            if all(  # a subset never sequenced (cut by the neighbour limit) proves nothing: keep the day
                problem.stops[s].required
                or plan.cost - costs.get(tuple(t for t in stops if t != s), np.inf) <= worth[s]
                for s in stops
            ):
                patterns.append(DayPattern(v, day, stops, plan))
            if len(stops) < problem.max_stops_per_day:
                reach = set().union(*(near[s] for s in stops))
                grown.update(tuple(sorted((*stops, t))) for t in reach if t > stops[-1])
            if len(patterns) + len(grown) > max_patterns:
                return patterns, f"the cap of {max_patterns} truck-days"
        layer = sorted(grown)
    return patterns, cut


def enumerate_days(
    problem: RoundsProblem, *, deadline: float, neighbours: int | None = None, max_patterns: int = 50_000
) -> Enumeration:
    """Every feasible truck-day of the problem (see :func:`day_patterns`), weekdays with the same days merged.

    Complete only when no neighbour limit, pattern cap (counted over the whole fleet) or ``deadline``
    (``time.perf_counter`` seconds) cut it, and the days fit the exact sequencer (``MAX_STOPS``).
    """
    if problem.max_stops_per_day > MAX_STOPS:
        return Enumeration((), {}, False, (f"more than {MAX_STOPS} stops a day cannot be enumerated",))
    patterns: list[DayPattern] = []
    notes: list[str] = []
    day_class: dict[tuple[int, int], tuple[int, ...]] = {}
    only_fortnightly = all(st.visits_per_week < 1 for st in problem.stops)
    for v, vehicle in enumerate(problem.vehicles):
        seen: dict[tuple[object, ...], int] = {}
        shift = (vehicle.shift_start_min, vehicle.shift_end_min)
        for day in problem.days:
            works = day in vehicle.days
            signature = (works, *(tuple(_day_windows(st, day, shift)) for st in problem.stops))  # same windows
            if only_fortnightly and signature in seen:  # same possible days: one class, no symmetric copies
                first = seen[signature]
                day_class[v, first] = (*day_class[v, first], day)
                continue
            found, cut = day_patterns(
                problem, v, day, neighbours=neighbours, max_patterns=max_patterns - len(patterns), deadline=deadline
            )
            if cut:
                notes.append(f"truck {vehicle.vehicle_id}, day {day}: truck-days cut by {cut}")
            seen[signature] = day
            day_class[v, day] = (day,)
            patterns += found
    return Enumeration(tuple(patterns), day_class, not notes, tuple(notes))


def _check_frequencies(problem: RoundsProblem) -> None:
    """The exact model plans a stop visited less than weekly once over the horizon."""
    for stop in problem.stops:
        if stop.visits_per_week < 1 and period_weeks(stop) != problem.horizon_weeks:
            raise InfeasibleError(
                [
                    f"stop {stop.name}: a visit every {period_weeks(stop)} weeks needs horizon_weeks "
                    f"{period_weeks(stop)} with the exact engine (the routing engine repeats shorter cycles)"
                ]
            )


def solve(
    problem: RoundsProblem,
    *,
    time_limit_s: float,
    seed: int,
    cancel: threading.Event | None = None,
    workers: int = 1,
    neighbours: int | None = 12,
    max_patterns: int = 20_000,
    enumeration: Enumeration | None = None,
    hint: RoundsResult | None = None,
    work_s: float | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> RoundsResult:
    """Plan the rounds with CP-SAT over enumerated feasible truck-days (see the module docstring).

    ``neighbours`` limits the days enumerated to stops among each other's nearest (None: no limit,
    the enumeration may then be complete); ``enumeration`` reuses truck-days already enumerated
    (the engine choice does); ``hint`` is a plan CP-SAT starts from (e.g. the routing engine's);
    ``work_s`` sizes CP-SAT's work limit (default ``time_limit_s``, the wall-clock guard).
    Raises :class:`InfeasibleError` with plain-words reasons when required stops cannot be served.
    """
    check_limit(time_limit_s)
    started = time.perf_counter()
    with cancel_scope(cancel):
        return _solve(
            problem,
            (time_limit_s, work_s or time_limit_s),
            seed,
            started,
            workers,
            enumeration or neighbours,
            max_patterns,
            hint,
            progress,
        )


def _solve(
    problem: RoundsProblem,
    limits: tuple[float, float],
    seed: int,
    started: float,
    workers: int,
    enumeration: Enumeration | int | None,
    max_patterns: int,
    hint: RoundsResult | None,
    progress: Callable[[str], None],
) -> RoundsResult:
    """The body of :func:`solve` (``limits``: the time limit and the work seconds; ``enumeration``: one
    already made, or the neighbour limit for a new one)."""
    time_limit_s, work_s = limits
    reasons = explain_infeasible(problem)
    if reasons:
        raise InfeasibleError(reasons)
    _check_frequencies(problem)
    if not isinstance(enumeration, Enumeration):
        enumeration = enumerate_days(
            problem,
            deadline=started + ENUMERATION_SHARE * time_limit_s,
            neighbours=enumeration,
            max_patterns=max_patterns,
        )
    patterns, day_class, notes = list(enumeration.patterns), enumeration.day_class, list(enumeration.notes)
    progress(f"{len(patterns)} feasible truck-days enumerated ({'complete' if enumeration.complete else 'cut'})")
    if not enumeration.complete:
        notes.append(
            f"the enumeration of truck-days was cut ({len(patterns)} kept): the plan is not proven optimal and "
            "the bound is the value of everyone a reachable stop covers"
        )
    model, count, open_, required, reachable = _model(problem, patterns, day_class)
    if hint is not None:
        _add_hint(problem, model, patterns, day_class, count, hint)
    left = max(0.1, time_limit_s - (time.perf_counter() - started))
    solver = cp_sat(WORK_SHARE * work_s, seed, workers, wall_limit_s=left)
    if workers == 1:  # one search with the full LP relaxation: on the Lozère buses it proves in 0.4
        solver.parameters.interleave_search = False  # deterministic seconds what interleaved workers prove in 4
        solver.parameters.linearization_level = 2  # (bench/RESULTS.md)
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
    bound = solver.best_objective_bound / 100
    if not enumeration.complete:  # a stop in no enumerated day may still be reachable: say so, bound it
        reachable = reachable_stops(problem)
        bound = value_bound(problem, reachable)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        info = SolveInfo(Status.UNKNOWN, float("nan"), bound, elapsed, seed)
        return RoundsResult(info, (), (), {}, np.zeros(len(problem.population)), 0.0, 0.0, tuple(notes))
    proven = code == cp_model.OPTIMAL and enumeration.complete
    info = SolveInfo(Status.OPTIMAL if proven else Status.FEASIBLE, solver.objective_value / 100, bound, elapsed, seed)
    used = [(patterns[i], solver.value(c)) for i, c in enumerate(count) if solver.value(c)]
    open_stops = frozenset(s for s in range(len(problem.stops)) if solver.value(open_[s]))
    return build_result(
        problem, info, _place(used, problem.horizon_weeks, day_class), open_stops, reachable, tuple(notes)
    )


def _add_hint(
    problem: RoundsProblem,
    model: cp_model.CpModel,
    patterns: list[DayPattern],
    day_class: dict[tuple[int, int], tuple[int, ...]],
    count: list[cp_model.IntVar],
    hint: RoundsResult,
) -> None:
    """Hint CP-SAT with a plan: each of its truck-days counted on the pattern with the same truck, class and stops."""
    index = {st.stop_id: s for s, st in enumerate(problem.stops)}
    vehicle = {v.vehicle_id: k for k, v in enumerate(problem.vehicles)}
    klass = {(v, d): first for (v, first), days in day_class.items() for d in days}
    where = {(p.vehicle, p.weekday, p.stops): i for i, p in enumerate(patterns)}
    used: dict[int, int] = {}
    for route in hint.routes:
        v = vehicle[route.vehicle_id]
        key = (v, klass.get((v, route.day), -1), tuple(sorted(index[x.stop_id] for x in route.visits)))
        if key in where:
            used[where[key]] = used.get(where[key], 0) + 1
    for i, var in enumerate(count):
        model.add_hint(var, used.get(i, 0))


def _model(
    problem: RoundsProblem, patterns: list[DayPattern], day_class: dict[tuple[int, int], tuple[int, ...]]
) -> tuple[cp_model.CpModel, list[cp_model.IntVar], list[cp_model.IntVar], dict[int, cp_model.IntVar], set[int]]:
    """The CP-SAT model over the patterns: counts, open stops, required-stop assumptions, stops in some pattern."""
    weeks = problem.horizon_weeks
    model = cp_model.CpModel()
    count = [  # a day of stops visited once over the horizon is driven at most once
        model.new_int_var(
            0,
            1
            if all(problem.stops[s].visits_per_week < 1 for s in p.stops)
            else weeks * len(day_class[p.vehicle, p.weekday]),
            f"n_{i}",
        )
        for i, p in enumerate(patterns)
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
    slots_of: dict[int, list[tuple[int, int, int]]] = {}
    for key in by_stop_day:
        slots_of.setdefault(key[0], []).append(key)
    for s, stop in enumerate(problem.stops):
        slots = slots_of.get(s, [])
        if stop.required:
            required[s] = model.new_bool_var(f"required_{s}")
            model.add(open_[s] == 1).only_enforce_if(required[s])
        if not slots:
            model.add(open_[s] == 0)
            continue
        if stop.visits_per_week < 1:  # once over the horizon, any truck and day
            model.add(sum(count[i] for key in slots for i in by_stop_day[key]) == open_[s])
            continue
        chosen = {}
        for key in slots:  # a regular stop keeps its truck and weekday every week
            chosen[key] = model.new_bool_var(f"slot_{key}")
            model.add(sum(count[i] for i in by_stop_day[key]) == weeks * chosen[key])
        model.add(sum(chosen.values()) == int(stop.visits_per_week) * open_[s])
        for day in problem.days:
            model.add(sum(c for (_, _, d), c in chosen.items() if d == day) <= 1)
    cost = sum(to_cents(p.plan.cost) * count[i] for i, p in enumerate(patterns))
    model.maximize(served_value(problem, model, open_) - cost)
    model.add_assumptions(list(required.values()))
    return model, count, open_, required, set(slots_of)


def served_value(problem: RoundsProblem, model: cp_model.CpModel, open_: list[cp_model.IntVar]) -> cp_model.LinearExpr:
    """Cents of the rounds' value: each zone served at the frequency of its most frequent open stop in reach.

    Shared with the markets model, so both value a plan alike.
    """
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
    return cp_model.LinearExpr.sum(value_terms)


def _place(
    used: list[tuple[DayPattern, int]], weeks: int, day_class: dict[tuple[int, int], tuple[int, ...]]
) -> dict[tuple[int, int, int], DayPattern]:
    """Give each used pattern copy a (vehicle, week, weekday) slot of its class.

    Patterns driven every week (count = weeks) keep one weekday; the others fill the free slots.
    """
    placed: dict[tuple[int, int, int], DayPattern] = {}
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


def build_result(
    problem: RoundsProblem,
    info: SolveInfo,
    placed: dict[tuple[int, int, int], DayPattern],
    open_stops: frozenset[int],
    reachable: set[int],
    notes: tuple[str, ...],
) -> RoundsResult:
    """The result of a plan placed on (vehicle, week, weekday) slots: routes, open stops, why the others are out.

    Both engines end here, so both give the same plan object and the same reasons.
    """
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
    stops = [s for s in open_stops if problem.covers[s]]
    if stops:  # one scatter-max over every (zone, level) pair: the local searches call this for each move
        zones = np.fromiter((z for s in stops for z in problem.covers[s]), dtype=np.intp)
        levels = np.repeat([problem.stops[s].visits_per_week for s in stops], [len(problem.covers[s]) for s in stops])
        np.maximum.at(level, zones, levels)
    return level
