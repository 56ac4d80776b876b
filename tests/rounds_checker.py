"""An independent checker of rounds plans: every hard constraint, recomputed from the problem alone.

It shares no code with optimize/: times are re-derived from the matrices, windows re-read from the
stops, frequencies re-counted. Tests call ``check(problem, result)`` and get the list of violations.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import pairwise

from optimize.rounds import DayRoute, RoundsProblem, RoundsResult, Stop, Vehicle, Visit

EPS = 1.0  # minutes: the plan reports whole minutes


def _windows(stop: Stop, day: int, shift: tuple[int, int]) -> list[tuple[int, int]]:
    if not stop.windows:
        return [shift]
    return [(s, e) for d, s, e in stop.windows if d == day]


def check(problem: RoundsProblem, result: RoundsResult) -> list[str]:
    """All violations of the plan's hard constraints (empty when the plan is valid)."""
    bad: list[str] = []
    stops = {s.stop_id: s for s in problem.stops}
    vehicles = {v.vehicle_id: v for v in problem.vehicles}
    per_day: Counter[tuple[str, int, int]] = Counter()
    visits_of: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for route in result.routes:
        per_day[route.vehicle_id, route.week, route.day] += 1
        bad += _route_problems(problem, route, vehicles[route.vehicle_id], stops)
        for x in route.visits:
            visits_of[x.stop_id].append((route.vehicle_id, route.week, route.day))
    bad += [f"{key}: {n} routes on one truck-day" for key, n in per_day.items() if n > 1]
    bad += _frequency_problems(problem, result, visits_of)
    return bad


def _route_problems(problem: RoundsProblem, route: DayRoute, v: Vehicle, stops: dict[str, Stop]) -> list[str]:
    """The day's own constraints: working day, stop count, shift, drive and distance, lunch, timeline."""
    bad: list[str] = []
    where = f"{route.vehicle_id} week {route.week} day {route.day}"
    if route.day not in v.days:
        bad.append(f"{where}: the truck does not work that day")
    if len(route.visits) > problem.max_stops_per_day:
        bad.append(f"{where}: {len(route.visits)} stops > {problem.max_stops_per_day}")
    if route.departure_min < v.shift_start_min - EPS or route.return_min > v.shift_end_min + EPS:
        bad.append(f"{where}: outside the shift")
    places = [v.depot, *(stops[x.stop_id].location for x in route.visits), v.depot]
    drive = sum(problem.time_min[a, b] for a, b in pairwise(places))
    if abs(drive - route.drive_min) > EPS or drive > v.max_drive_min + EPS:
        bad.append(f"{where}: drive {route.drive_min:.1f} min vs matrix {drive:.1f} (limit {v.max_drive_min})")
    dist = sum(problem.dist_m[a, b] for a, b in pairwise(places))
    if abs(dist - route.dist_m) > 1:
        bad.append(f"{where}: distance {route.dist_m:.0f} m vs matrix {dist:.0f}")
    lunch = None
    if v.lunch:
        if route.break_start_min is None:
            bad.append(f"{where}: no lunch break")
        else:
            lunch = (route.break_start_min, route.break_start_min + v.lunch.duration_min)
            if lunch[0] < v.lunch.earliest_min - EPS or lunch[1] > v.lunch.latest_end_min + EPS:
                bad.append(f"{where}: lunch {lunch} outside its window")
    return bad + _timeline_problems(problem, route, v, stops, places, lunch)


def _timeline_problems(
    problem: RoundsProblem,
    route: DayRoute,
    v: Vehicle,
    stops: dict[str, Stop],
    places: list[int],
    lunch: tuple[int, int] | None,
) -> list[str]:
    """Leave, then per leg drive (and maybe the break) before the next arrival; each service in its windows."""
    bad: list[str] = []
    where = f"{route.vehicle_id} week {route.week} day {route.day}"
    free_from = route.departure_min
    placed = lunch is not None and lunch[1] <= route.departure_min + EPS and lunch[0] >= v.shift_start_min - EPS
    for x, (a, b) in zip([*route.visits, None], pairwise(places), strict=True):
        arrive = x.arrival_min if x else route.return_min
        needed = float(problem.time_min[a, b])
        if lunch and v.lunch and not placed and free_from - EPS <= lunch[0] < arrive:  # the break is in this gap
            needed += v.lunch.duration_min
            placed = True
            if lunch[1] > arrive + EPS:
                bad.append(f"{where}: the lunch break runs past the arrival at {x.stop_id if x else 'the depot'}")
        if free_from + needed > arrive + EPS:
            bad.append(
                f"{where}: {x.stop_id if x else 'the depot'} reached too early for the drive "
                f"({free_from} + {needed:.1f} > {arrive})"
            )
        if x is None:
            if lunch and not placed:
                bad.append(f"{where}: the lunch break is not in any free time")
            break
        bad += _service_problems(route, v, stops[x.stop_id], x, lunch)
        free_from = x.end_min
    return bad


def _service_problems(route: DayRoute, v: Vehicle, stop: Stop, x: Visit, lunch: tuple[int, int] | None) -> list[str]:
    """One visit: consistent times, inside the stop's windows, clear of lunch, a service the truck carries."""
    bad: list[str] = []
    where = f"{route.vehicle_id} week {route.week} day {route.day}"
    if x.start_min < x.arrival_min - EPS or abs(x.end_min - x.start_min - stop.service_min) > EPS:
        bad.append(f"{where}: {x.stop_id} service times inconsistent")
    if not any(
        s - EPS <= x.start_min and x.end_min <= e + EPS
        for s, e in _windows(stop, route.day, (v.shift_start_min, v.shift_end_min))
    ):
        bad.append(f"{where}: {x.stop_id} served outside its windows")
    if lunch and x.start_min < lunch[1] - EPS and lunch[0] < x.end_min - EPS:
        bad.append(f"{where}: lunch overlaps the service at {x.stop_id}")
    if stop.service and v.services and stop.service not in v.services:
        bad.append(f"{where}: {x.stop_id} needs {stop.service}, not carried")
    return bad


def _frequency_problems(
    problem: RoundsProblem, result: RoundsResult, visits_of: dict[str, list[tuple[str, int, int]]]
) -> list[str]:
    """Each open stop visited exactly at its frequency, on the same truck and weekdays every week."""
    bad: list[str] = []
    stops = {s.stop_id: s for s in problem.stops}
    for stop_id in result.open_stops:
        stop, visits = stops[stop_id], visits_of.get(stop_id, [])
        expected = max(1, round(stop.visits_per_week * problem.horizon_weeks))
        if len(visits) != expected:
            bad.append(f"{stop_id}: {len(visits)} visits, expected {expected}")
        if len({(w, d) for _, w, d in visits}) != len(visits):
            bad.append(f"{stop_id}: two visits the same day")
        if stop.visits_per_week >= 1:
            for week in range(1, problem.horizon_weeks + 1):
                if sorted((v, d) for v, w, d in visits if w == week) != sorted((v, d) for v, w, d in visits if w == 1):
                    bad.append(f"{stop_id}: not the same truck and weekdays every week")
    bad += [f"{s}: visited but not open" for s in visits_of if s not in result.open_stops]
    bad += [
        f"{s.stop_id}: required but not served"
        for s in problem.stops
        if s.required and s.stop_id not in result.open_stops
    ]
    return bad
