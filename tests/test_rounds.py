"""Tests for optimize.rounds: optimal plans on brute-forceable instances, every constraint checked."""

from __future__ import annotations

from itertools import permutations, product

import numpy as np
import pytest

from optimize._errors import InfeasibleError, ProblemError
from optimize._sequencing import Break
from optimize.rounds import RoundsProblem, Stop, Vehicle, reachable_stops, solve, value_bound
from tests.rounds_checker import check


def _grid_problem(n: int, seed: int, **kwargs) -> RoundsProblem:
    """n stops at random points of a 60 x 60 km square, two depots, each stop serving zones within 15 min."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 60, (n + 2, 2))
    dist = np.linalg.norm(points[:, None] - points[None], axis=2) * 1300  # metres, detour 1.3
    minutes = dist / 1000 / 50 * 60
    stops = tuple(
        Stop(f"s{i}", f"Stop {i}", i, kwargs.pop("service_min", 150) if i == -1 else 150, kwargs.get("visits", 0.5))
        for i in range(n)
    )
    vehicles = (Vehicle("north", n), Vehicle("south", n + 1, days=(1, 2, 4)))
    covers = tuple(tuple(np.nonzero(minutes[i, :n] <= 15)[0].tolist()) for i in range(n))
    population = rng.integers(50, 1000, n).astype(float)
    return RoundsProblem(stops, vehicles, minutes, dist, covers, population, max_stops_per_day=2)


def _brute_force(problem: RoundsProblem) -> float:
    """Best objective by trying every assignment of stops to (closed, day 1, day 2): one truck, weekly."""
    v = problem.vehicles[0]
    arc = problem.arc_cost(v)
    best = -np.inf
    n = len(problem.stops)
    for assign in product([0, *problem.days], repeat=n):
        days = {d: [i for i in range(n) if assign[i] == d] for d in problem.days}
        if any(len(s) > problem.max_stops_per_day for s in days.values()):
            continue
        cost = 0.0
        for stops in days.values():
            if stops:
                cost += min(
                    sum(arc[a, b] for a, b in zip([v.depot, *p], [*p, v.depot], strict=True))
                    for p in permutations(stops)
                )
        level = np.zeros(len(problem.population))
        for i in range(n):
            if assign[i]:
                level[list(problem.covers[i])] = 1.0
        best = max(best, float(problem.population @ level) * problem.person_value - cost)
    return best


def test_optimum_equals_brute_force():
    """On 6 stops, one truck, two days, weekly visits, the plan's objective is the brute-force optimum."""
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 40, (7, 2))
    dist = np.linalg.norm(points[:, None] - points[None], axis=2) * 1000
    minutes = dist / 1000 / 40 * 60
    stops = tuple(Stop(f"s{i}", f"S{i}", i, 60, 1.0) for i in range(6))
    vehicles = (Vehicle("only", 6, days=(1, 2), shift_start_min=0, shift_end_min=1440, max_drive_min=1000, lunch=None),)
    covers = tuple(tuple(np.nonzero(minutes[i, :6] <= 10)[0].tolist()) for i in range(6))
    problem = RoundsProblem(
        stops,
        vehicles,
        minutes,
        dist,
        covers,
        rng.integers(10, 400, 6).astype(float),
        horizon_weeks=1,
        days=(1, 2),
        person_value=0.2,
        max_stops_per_day=3,
    )
    result = solve(problem, time_limit_s=20, seed=0)
    assert result.info.status == "optimal"
    assert result.info.objective == pytest.approx(_brute_force(problem), abs=0.02)
    assert check(problem, result) == []


def test_plan_satisfies_every_constraint():
    """40 stops, two trucks with lunch breaks and different working days: the checker finds nothing wrong."""
    problem = _grid_problem(40, seed=0)
    result = solve(problem, time_limit_s=20, seed=1)
    assert result.routes and result.info.status in ("optimal", "feasible")
    assert result.info.bound >= result.info.objective - 1e-6
    assert check(problem, result) == []
    assert all(r.day in (1, 2, 4) for r in result.routes if r.vehicle_id == "south")


def test_weekly_stops_keep_their_day_and_truck():
    """Weekly visits over two weeks: same truck, same weekday, in both weeks (checked independently)."""
    problem = _grid_problem(25, seed=2, visits=1.0)
    result = solve(problem, time_limit_s=20, seed=1)
    assert result.open_stops and check(problem, result) == []


def test_same_seed_same_plan():
    """Two runs with the same seed and limit give the same routes, to the minute."""
    problem = _grid_problem(30, seed=4)
    first, second = (solve(problem, time_limit_s=10, seed=7) for _ in range(2))
    assert first.routes == second.routes and first.open_stops == second.open_stops


def test_left_out_stops_say_why():
    """A stop 300 km away cannot be served; a stop next to an open one is 'already served'."""
    problem = _grid_problem(12, seed=5)
    far = problem.time_min.copy()
    far[0, :] = far[:, 0] = 400.0
    far[0, 0] = 0
    problem = RoundsProblem(
        problem.stops, problem.vehicles, far, problem.dist_m, problem.covers, problem.population, max_stops_per_day=2
    )
    result = solve(problem, time_limit_s=10, seed=0)
    assert result.left_out["s0"].startswith("no truck can serve it")
    assert set(result.left_out) | set(result.open_stops) == {s.stop_id for s in problem.stops}


def _one_truck(stops, days=(1, 2, 3, 4, 5), weeks=2) -> RoundsProblem:
    minutes = np.array([[0, 20], [20, 0]], dtype=float)
    return RoundsProblem(
        tuple(stops),
        (Vehicle("t", 1, days=days),),
        minutes,
        minutes * 1000,
        ((0,),) * len(stops),
        np.array([100.0]),
        horizon_weeks=weeks,
        days=(1, 2, 3, 4, 5),
    )


@pytest.mark.parametrize(
    ("stops", "days", "weeks", "message"),
    [
        (
            [Stop("m", "Marché", 0, 150, 1.0, windows=((3, 480, 540),), required=True)],
            (1, 2, 3, 4, 5),
            2,
            "stop Marché: no truck can reach it, serve 150 min and be back within a shift "
            "(its time windows: 3:08:00-09:00)",
        ),
        (
            [Stop("m", "Marché", 0, 60, 3.0, required=True)],
            (1, 2),
            2,
            "stop Marché: needs 3 visits a week on different days, but trucks can serve it on 2 weekday(s) only",
        ),
        (
            [Stop(f"s{i}", f"S{i}", 0, 400, 1.0, required=True) for i in range(12)],
            (1, 2, 3, 4, 5),
            1,
            "required stops need 80 hours of service over the horizon, the fleet's shifts give 40 hours",
        ),
    ],
)
def test_infeasible_problems_are_explained(stops, days, weeks, message):
    """Impossible required stops and frequencies raise InfeasibleError in plain words."""
    with pytest.raises(InfeasibleError) as caught:
        solve(_one_truck(stops, days, weeks), time_limit_s=5, seed=0)
    assert message in str(caught.value)


def test_required_stops_that_conflict_are_named():
    """Three required 5-hour stops, one truck working Mondays over two weeks: room for two only."""
    stops = [Stop(f"s{i}", f"Village {i}", 0, 300, 0.5, required=True) for i in range(3)]
    minutes = np.zeros((2, 2))
    problem = RoundsProblem(
        tuple(stops),
        (Vehicle("t", 1, days=(1,), lunch=Break(690, 840, 30)),),
        minutes,
        minutes,
        ((0,),) * 3,
        np.array([10.0]),
        horizon_weeks=2,
        days=(1,),
    )
    with pytest.raises(InfeasibleError, match="these required stops cannot all be served"):
        solve(problem, time_limit_s=5, seed=0)


def test_problem_validation():
    """Mismatched matrices, a five-week horizon, a frequency the horizon does not repeat: all refused at once."""
    with pytest.raises(ProblemError, match="square matrices"):
        RoundsProblem((), (), np.zeros((2, 3)), np.zeros((2, 3)), (), np.zeros(0))
    with pytest.raises(ProblemError) as caught:
        RoundsProblem(
            (Stop("f", "Ferme", 0, 60, 0.5), Stop("g", "Gare", 0, 60, 0.3)),
            (),
            np.zeros((1, 1)),
            np.zeros((1, 1)),
            ((), ()),
            np.zeros(0),
            horizon_weeks=5,
        )
    assert len(caught.value.problems) == 3
    assert "1 to 4 weeks" in str(caught.value) and "0.3 visits a week" in str(caught.value)
    assert "every 2 weeks needs a horizon that is a multiple" in str(caught.value)
    with pytest.raises(ProblemError, match="multiple of it"):
        RoundsProblem(
            (Stop("f", "Ferme", 0, 60, 0.5),),
            (),
            np.zeros((1, 1)),
            np.zeros((1, 1)),
            ((),),
            np.zeros(0),
            horizon_weeks=1,
        )


def test_optimal_only_when_every_truck_day_was_enumerated():
    """Limiting each stop to its 3 nearest cuts the enumeration: the plan is feasible, never called optimal,
    and its bound is everyone a reachable stop covers; without the limit the same problem is proven optimal."""
    problem = _grid_problem(12, 0)
    cut = solve(problem, time_limit_s=20, seed=0, neighbours=3)
    full = solve(problem, time_limit_s=20, seed=0, neighbours=None)
    assert cut.info.status == "feasible" and any("was cut" in n for n in cut.notes)
    assert cut.info.bound == pytest.approx(value_bound(problem, reachable_stops(problem)))
    assert full.info.status == "optimal" and full.info.objective >= cut.info.objective - 1e-6
    assert check(problem, cut) == [] and check(problem, full) == []
