"""Tests for mixed frequencies in the routing engine (optimize._rounds_series), checked independently.

Weekly stops beside stops every 2 or 4 weeks: each stop's visits form a series (one truck, one
weekday, every ``k`` weeks); the plans pass the independent checker and agree with the exact engine
and with brute force on tiny instances.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from optimize.rounds import RoundsProblem, Stop, Vehicle, day_plan, served_levels
from optimize.rounds import solve as solve_exact
from optimize.rounds_routing import _setup, _vrp_problem, baseline, cycle_weeks, mixed, solve
from tests.rounds_checker import check
from tests.test_rounds_routing import ITERATIONS, _villages

WORK_S = 2.0  # the search's work limit (days timed) is sized for this many seconds: the clock decides nothing


def _mixed(problem: RoundsProblem, frequencies: list[float]) -> RoundsProblem:
    """The problem with stop ``i`` visited ``frequencies[i % len(frequencies)]`` times a week."""
    stops = tuple(replace(st, visits_per_week=frequencies[i % len(frequencies)]) for i, st in enumerate(problem.stops))
    return replace(problem, stops=stops)


def _series_ok(problem: RoundsProblem, routes) -> list[str]:
    """Each open stop visited every ``k`` weeks on one truck and weekday (``n`` weekdays for ``n`` a week)."""
    bad = []
    visits: dict[str, set[tuple[str, int, int]]] = {}
    for route in routes:
        for x in route.visits:
            visits.setdefault(x.stop_id, set()).add((route.vehicle_id, route.week, route.day))
    for stop in problem.stops:
        seen = visits.get(stop.stop_id, set())
        if not seen:
            continue
        if stop.visits_per_week >= 1:
            days = {(v, d) for v, _, d in seen}
            if len(days) != stop.visits_per_week or len(seen) != len(days) * problem.horizon_weeks:
                bad.append(f"{stop.stop_id}: {sorted(seen)}")
            continue
        k = round(1 / stop.visits_per_week)
        weeks = sorted(w for _, w, _ in seen)
        if len({(v, d) for v, _, d in seen}) != 1 or weeks != list(range(weeks[0], problem.horizon_weeks + 1, k)):
            bad.append(f"{stop.stop_id}: {sorted(seen)}")
    return bad


def test_weekly_fortnightly_and_four_weekly_stops_in_one_plan():
    """Forty villages, one van, four weeks: each frequency served, every visit series kept, checker clean."""
    problem = _mixed(_villages(40, 1), [1.0, 0.5, 0.25])
    assert cycle_weeks(problem) == 4 and mixed(problem, 4)
    result = solve(problem, time_limit_s=60, seed=1, work_s=WORK_S)
    assert check(problem, result) == [] and _series_ok(problem, result.routes) == []
    frequencies = {st.visits_per_week for st in problem.stops if st.stop_id in result.open_stops}
    assert frequencies == {1.0, 0.5, 0.25}
    assert "mixed frequencies" in result.notes[0] and "the time limit" not in " ".join(result.notes)
    assert result.info.objective == pytest.approx(result.value - result.cost)
    assert result.info.objective <= result.info.bound
    assert result.info.objective > baseline(problem).info.objective  # the search improves its start


def test_twice_a_week_beside_fortnightly():
    """2/week stops get two weekly series on two weekdays, fortnightly ones one visit in two weeks."""
    problem = _mixed(_villages(24, 5, visits=0.5, weeks=2), [2.0, 0.5])
    result = solve(problem, time_limit_s=60, seed=1, work_s=WORK_S)
    assert check(problem, result) == [] and _series_ok(problem, result.routes) == []
    assert {st.visits_per_week for st in problem.stops if st.stop_id in result.open_stops} == {2.0, 0.5}


def test_same_work_same_plan():
    """The work limit, not the clock, ends the series search: two runs give the same routes."""
    problem = _mixed(_villages(30, 3), [1.0, 0.25])
    first, second = (solve(problem, time_limit_s=60, seed=1, work_s=0.5) for _ in range(2))
    assert first.routes == second.routes and "cut by its work limit" in first.notes[-1]


def _tiny(frequencies: list[float], weeks: int, seed: int) -> RoundsProblem:
    """Five villages, one van on Monday and Tuesday, two stops a day, each village its own zone."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 40, (6, 2))
    dist = np.linalg.norm(points[:, None] - points[None], axis=2) * 1300
    minutes = dist / 1000 / 50 * 60
    stops = tuple(Stop(f"s{i}", f"S{i}", i, 120, frequencies[i]) for i in range(5))
    van = Vehicle("van", 5, days=(1, 2))
    population = rng.integers(100, 2000, 5).astype(float)
    covers = tuple((i,) for i in range(5))
    return RoundsProblem(
        stops, (van,), minutes, dist, covers, population, horizon_weeks=weeks, days=(1, 2), max_stops_per_day=2
    )


def _brute_force(problem: RoundsProblem) -> float:
    """Best objective over every choice of each stop: closed, or a weekday and a first week of its series."""
    weeks, days = problem.horizon_weeks, problem.days
    van = problem.vehicles[0]
    options = []
    for stop in problem.stops:
        k = 1 if stop.visits_per_week >= 1 else round(1 / stop.visits_per_week)
        options.append([None, *((d, first) for d in days for first in range(1, k + 1))])
    costs: dict[tuple[int, frozenset[int]], float | None] = {}
    best = -np.inf
    for choice in itertools.product(*options):
        on: dict[tuple[int, int], set[int]] = {}
        for s, option in enumerate(choice):
            if option is not None:
                k = 1 if problem.stops[s].visits_per_week >= 1 else round(1 / problem.stops[s].visits_per_week)
                for w in range(option[1], weeks + 1, k):
                    on.setdefault((w, option[0]), set()).add(s)
        total = 0.0
        for (_, d), stops in on.items():
            key = (d, frozenset(stops))
            if key not in costs:
                plan = day_plan(problem, van, d, tuple(sorted(stops))) if len(stops) <= 2 else None
                costs[key] = None if plan is None else plan.cost
            if costs[key] is None:
                break
            total += costs[key]  # type: ignore[operator]
        else:
            open_stops = {s for s, option in enumerate(choice) if option is not None}
            value = float(problem.population @ served_levels(problem, open_stops)) * problem.person_value
            best = max(best, value - total)
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_two_and_four_weeks_equals_brute_force(seed):
    """Stops every 2 and every 4 weeks on a 4-week horizon (beyond the exact engine): the brute-force optimum."""
    problem = _tiny([0.5, 0.5, 0.25, 0.25, 0.25], 4, seed)
    result = solve(problem, time_limit_s=60, seed=1, work_s=WORK_S)
    assert check(problem, result) == [] and _series_ok(problem, result.routes) == []
    assert result.info.objective == pytest.approx(_brute_force(problem), abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weekly_and_fortnightly_agree_with_the_exact_engine(seed):
    """Weekly and fortnightly stops on two weeks: the routing plan's objective is the exact engine's proven optimum."""
    problem = _tiny([1.0, 1.0, 0.5, 0.5, 0.5], 2, seed)
    exact = solve_exact(problem, time_limit_s=60, seed=0, neighbours=None)
    result = solve(problem, time_limit_s=60, seed=1, work_s=WORK_S)
    assert exact.info.status == "optimal" and check(problem, result) == []
    assert result.info.objective == pytest.approx(exact.info.objective, abs=0.01)
    assert result.info.objective == pytest.approx(_brute_force(problem), abs=1e-6)


def test_an_unreachable_arc_is_never_driven():
    """Stop 0 cannot reach stop 1 (a one-way road): PyVRP's duration for that arc exceeds every shift,
    so no plan drives it, and the plan passes the checker on the true (infinite) matrix."""
    problem = _villages(12, 4)
    minutes, dist = problem.time_min / 10, problem.dist_m / 10  # a small island: ten times the longest arc < a shift
    minutes[0, 1] = dist[0, 1] = np.inf
    problem = replace(problem, time_min=minutes, dist_m=dist)
    setup = _setup(problem)
    vrp, _ = _vrp_problem(problem, setup.slots, setup.candidates, setup.prizes, setup.cycle)
    assert vrp.duration[0, 1] > max(t.max_duration for t in vrp.vehicle_types)
    assert vrp.duration[0, 1] > max(t.shift_end - t.shift_start for t in vrp.vehicle_types)
    result = solve(problem, time_limit_s=60, seed=1, max_iterations=ITERATIONS)
    assert check(problem, result) == [] and {"v0", "v1"} <= set(result.open_stops)
    legs = [(a.stop_id, b.stop_id) for r in result.routes for a, b in itertools.pairwise(r.visits)]
    assert ("v0", "v1") not in legs
