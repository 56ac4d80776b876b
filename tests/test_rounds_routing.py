"""Tests for optimize.rounds_routing: the same problem as the exact engine, planned by PyVRP, checked independently."""

from __future__ import annotations

import inspect
from dataclasses import replace

import numpy as np
import pytest

from optimize._errors import InfeasibleError
from optimize._sequencing import Break
from optimize._solver import SolveInfo
from optimize.rounds import RoundsProblem, Stop, Vehicle
from optimize.rounds import solve as solve_exact
from optimize.rounds_routing import nearest_stop_plan, solve, stop_prizes
from optimize.vrp import VrpClient, VrpProblem, VrpVehicleType
from optimize.vrp import solve as solve_vrp
from tests.rounds_checker import check
from tests.test_rounds import _grid_problem

ITERATIONS = 300  # a work limit, not the clock, ends these searches: the same plan on any machine


def _villages(n: int, seed: int, *, visits: float = 0.25, weeks: int = 4, windows: bool = False) -> RoundsProblem:
    """n villages of a 50 x 50 km square served by one van making 30-min stops, each village covering itself."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 50, (n + 1, 2))
    dist = np.linalg.norm(points[:, None] - points[None], axis=2) * 1300
    minutes = dist / 1000 / 50 * 60
    hours = tuple((d, 9 * 60, 12 * 60) for d in (1, 2, 3, 4, 5)) + tuple((d, 14 * 60, 17 * 60) for d in (1, 3))
    stops = tuple(
        Stop(f"v{i}", f"Village {i}", i, 30, visits, windows=hours if windows and i % 2 else ()) for i in range(n)
    )
    van = Vehicle("van", n, max_drive_min=300, lunch=Break(12 * 60, 14 * 60, 60), cost_per_km=0.45)
    covers = tuple((i,) for i in range(n))
    population = rng.integers(100, 900, n).astype(float)
    return RoundsProblem(
        stops, (van,), minutes, dist, covers, population, horizon_weeks=weeks, person_value=2.0, max_stops_per_day=10
    )


def test_many_stops_a_day_pass_the_checker():
    """Sixty villages, one van, up to ten 30-min stops a day every four weeks: long days, all constraints kept."""
    problem = _villages(60, 1)
    result = solve(problem, time_limit_s=30, seed=1, max_iterations=ITERATIONS)
    assert check(problem, result) == []
    assert result.info.status == "feasible" and result.info.objective <= result.info.bound
    assert max(len(r.visits) for r in result.routes) >= 8
    assert len(result.open_stops) + len(result.left_out) == 60
    assert result.info.objective == pytest.approx(result.value - result.cost)


def test_opening_hours_and_lunch_hold():
    """Half the villages open 9-12 every weekday and 14-17 on Monday and Wednesday: visits fall inside."""
    problem = _villages(40, 2, windows=True)
    result = solve(problem, time_limit_s=30, seed=1, max_iterations=ITERATIONS)
    assert check(problem, result) == []
    assert any(problem.stops[int(x.stop_id[1:])].windows for r in result.routes for x in r.visits)


def test_same_seed_same_plan():
    """An iteration budget ends the search, so two runs give the same routes."""
    problem = _villages(30, 3)
    first, second = (solve(problem, time_limit_s=30, seed=5, max_iterations=ITERATIONS) for _ in range(2))
    assert first.routes == second.routes and "ended by iterations" in " ".join(first.notes)


def test_weekly_stops_keep_their_truck_and_day():
    """Weekly visits over a two-week horizon: a one-week cycle repeated, checked by the checker."""
    problem = _villages(25, 4, visits=1.0, weeks=2)
    result = solve(problem, time_limit_s=30, seed=1, max_iterations=ITERATIONS)
    assert check(problem, result) == [] and result.open_stops
    assert {r.week for r in result.routes} == {1, 2}


def test_twice_a_week_stops_get_two_days():
    """2/week: each open stop has two visits a week on two different days (or is left out)."""
    problem = _villages(12, 5, visits=2.0, weeks=1)
    result = solve(problem, time_limit_s=30, seed=1, max_iterations=ITERATIONS)
    assert check(problem, result) == [] and result.open_stops


def test_close_to_the_exact_optimum_on_a_small_instance():
    """Twelve stops, two trucks, two stops a day: the routing plan is within 2 % of the proven optimum."""
    problem = _grid_problem(12, 0)
    exact = solve_exact(problem, time_limit_s=20, seed=0, neighbours=None)
    routed = solve(problem, time_limit_s=20, seed=0, max_iterations=ITERATIONS)
    assert exact.info.status == "optimal" and check(problem, routed) == []
    assert routed.info.objective >= exact.info.objective - 0.02 * abs(exact.info.objective)
    assert routed.info.objective <= exact.info.objective + 0.01


def test_never_empty_when_one_stop_fits():
    """One reachable stop among far ones: the plan serves it, and the others get a reason."""
    problem = _villages(6, 6)
    far = problem.time_min.copy()
    far[:5, :] = far[:, :5] = 10_000.0
    np.fill_diagonal(far, 0)
    problem = replace(problem, time_min=far, dist_m=far * 1000)
    result = solve(problem, time_limit_s=10, seed=1, max_iterations=ITERATIONS)
    assert result.open_stops == ("v5",)
    assert all("no truck can serve it" in reason for reason in result.left_out.values())


def test_people_are_counted_once():
    """Two stops covering the same zone: the one added first takes the zone, the other earns nothing."""
    problem = replace(_villages(3, 7), covers=((0,), (0,), (2,)))
    prizes = stop_prizes(problem, {0, 1, 2}, cycle=4)
    assert sorted(p > 0 for p in prizes.values()) == [False, True, True]


def test_greedy_baseline_fits_every_day():
    """The nearest-stop baseline gives checker-clean days on its own."""
    problem = _villages(40, 8)
    slots = [(0, w, d) for w in range(1, 5) for d in problem.days]
    plan = nearest_stop_plan(problem, slots, list(range(40)))
    assert plan and all(1 <= len(order) <= 10 for order in plan.values())


def test_required_stop_out_of_reach_is_explained():
    """A required stop no van can reach raises InfeasibleError naming it."""
    problem = _villages(5, 9)
    stops = list(problem.stops)
    stops[0] = replace(stops[0], required=True, windows=((7, 600, 620),))
    with pytest.raises(InfeasibleError, match="Village 0"):
        solve(replace(problem, stops=tuple(stops)), time_limit_s=10, seed=1, max_iterations=ITERATIONS)


@pytest.mark.parametrize("solver", [solve_exact, solve, solve_vrp], ids=["exact", "routing", "vrp"])
def test_solve_shape(solver):
    """solve(problem, *, time_limit_s, seed, cancel=None, ...): no default limit or seed, cancel optional."""
    parameters = inspect.signature(solver).parameters
    assert list(parameters)[:4] == ["problem", "time_limit_s", "seed", "cancel"]
    assert all(parameters[name].kind is inspect.Parameter.KEYWORD_ONLY for name in list(parameters)[1:])
    assert parameters["time_limit_s"].default is inspect.Parameter.empty
    assert parameters["seed"].default is inspect.Parameter.empty and parameters["cancel"].default is None


def test_results_carry_solve_info():
    """Both rounds engines and the VRP engine return a SolveInfo with the seed they were given."""
    problem = _villages(8, 10)
    for result in (
        solve(problem, time_limit_s=10, seed=3, max_iterations=50),
        solve_exact(replace(problem, max_stops_per_day=2, horizon_weeks=4), time_limit_s=10, seed=3),
    ):
        assert isinstance(result.info, SolveInfo) and result.info.seed == 3
    line = np.abs(np.arange(3)[:, None] - np.arange(3)[None, :])
    vrp = solve_vrp(VrpProblem(line, line, (VrpClient(1), VrpClient(2)), (VrpVehicleType(0),)), time_limit_s=1, seed=3)
    assert isinstance(vrp.info, SolveInfo) and vrp.info.seed == 3 and vrp.stopped_by == "time limit"


def test_required_stop_is_served_even_when_not_worth_it():
    """A required village with no people is still visited, by the search and after the local search."""
    problem = _villages(20, 11)
    stops = list(problem.stops)
    stops[7] = replace(stops[7], required=True)
    population = problem.population.copy()
    population[7] = 0.0
    problem = replace(problem, stops=tuple(stops), population=population)
    result = solve(problem, time_limit_s=20, seed=1, max_iterations=ITERATIONS)
    assert "v7" in result.open_stops and check(problem, result) == []


def test_a_stop_needing_a_service_gets_the_truck_that_carries_it():
    """Two vans, one carrying 'health': the stops asking for it are visited by that van only."""
    problem = _villages(16, 12, visits=0.5, weeks=2)
    vans = (problem.vehicles[0], replace(problem.vehicles[0], vehicle_id="health-van", services=("health",)))
    vans = (replace(vans[0], services=("library",)), vans[1])
    stops = tuple(replace(st, service="health" if i % 3 == 0 else None) for i, st in enumerate(problem.stops))
    problem = replace(problem, stops=stops, vehicles=vans)
    result = solve(problem, time_limit_s=20, seed=1, max_iterations=ITERATIONS)
    assert check(problem, result) == []
    health = {st.stop_id for st in stops if st.service == "health"}
    visits = [(r.vehicle_id, x.stop_id) for r in result.routes for x in r.visits]
    assert any(s in health for _, s in visits)
    assert all(v == "health-van" for v, s in visits if s in health)
