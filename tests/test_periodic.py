"""The periodic VRP engine (optimize/periodic.py), its Cordeau parser and independent checker
(bench/pvrp.py), and a 2-instance smoke run of the benchmark."""

from __future__ import annotations

import inspect
import threading
from pathlib import Path

import numpy as np
import pytest

from optimize._cancel import Cancelled
from optimize._errors import ProblemError
from optimize._solver import SolveInfo
from optimize.periodic import PeriodicProblem, solve
from tests._bench import load_bench

pvrp = load_bench("pvrp")


def _instance(name: str):
    """A parsed Cordeau instance."""
    return pvrp.parse_pvrp(pvrp.DATA_DIR / "instances" / name)


def test_combination_codes_read_left_to_right() -> None:
    """Code 10 of a 5-day horizon is 01010: days 2 and 4 (0-based 1 and 3)."""
    assert pvrp.decode(10, 5) == (1, 3)
    assert pvrp.decode(31, 5) == (0, 1, 2, 3, 4)
    assert pvrp.decode(1, 4) == (3,)


@pytest.mark.parametrize("name", ["p03", "p14", "p21", "p32"])
def test_parser_reproduces_published_solutions(name: str) -> None:
    """The published routes pass the checker and their recomputed cost is the stated one."""
    inst = _instance(name)
    stated, routes = pvrp.parse_solution(pvrp.DATA_DIR / "solutions" / f"{name}.res")
    assert pvrp.check_solution(inst, routes) == []
    assert pvrp.route_cost(inst, routes) == pytest.approx(stated, abs=0.006)


def test_p01_published_solution_omits_the_customer_at_the_depot() -> None:
    """p01's customer 51 sits on the depot with a full load: the published file leaves its 0-km route out."""
    inst = _instance("p01")
    _, routes = pvrp.parse_solution(pvrp.DATA_DIR / "solutions" / "p01.res")
    assert pvrp.check_solution(inst, routes) == ["customer 51: days [] not one allowed combination"]
    assert pvrp.check_solution(inst, [*routes, (0, [51])]) == []


def test_checker_catches_violations() -> None:
    """Wrong days, overload and too many routes a day are all reported."""
    inst = _instance("p14")
    _, routes = pvrp.parse_solution(pvrp.DATA_DIR / "solutions" / "p14.res")
    day, first = routes[0]
    moved = [(1 - day if k == 0 else d, r) for k, (d, r) in enumerate(routes)]
    assert any("not one allowed combination" in s for s in pvrp.check_solution(inst, moved))
    merged = [(day, first + routes[1][1]), *routes[2:]] if routes[1][0] == day else None
    assert merged is not None and any("capacity" in s for s in pvrp.check_solution(inst, merged))
    split = [(day, [c]) for c in first] + routes[1:]
    assert any("vehicles" in s for s in pvrp.check_solution(inst, split))


def _line_problem() -> PeriodicProblem:
    """Depot at 0; customers at +10 and -10 visited once on either of 2 days; one vehicle of capacity 1."""
    pos = np.array([0, 10, -10])
    dist = np.abs(pos[:, None] - pos[None, :]).astype(np.int64)
    either = ((0,), (1,))
    return PeriodicProblem(
        distance=dist,
        duration=dist,
        demand=np.array([0, 1, 1]),
        service=np.zeros(3, dtype=np.int64),
        combinations=((), either, either),
        num_days=2,
        vehicles_per_day=1,
        capacity=1,
    )


def test_capacity_sends_single_visits_to_different_days() -> None:
    """One vehicle of capacity 1 a day: the two customers go on different days, 40 in all."""
    result = solve(_line_problem(), time_limit_s=30, seed=1, work=2_000)
    assert result.info.status == "feasible" and result.distance == 40 == result.info.objective
    assert sorted(result.days_of[1:]) == [(0,), (1,)]


def _tight_problem() -> PeriodicProblem:
    """Six customers visited twice in 3 days, one vehicle of capacity 4 a day: every day exactly full."""
    rng = np.random.default_rng(5)
    xy = np.vstack([[0, 0], rng.uniform(-50, 50, (6, 2))])
    dist = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    twice = ((0, 1), (1, 2), (0, 2))
    return PeriodicProblem(
        distance=dist,
        duration=dist,
        demand=np.array([0, 1, 1, 1, 1, 1, 1]),
        service=np.zeros(7, dtype=np.int64),
        combinations=((), *[twice] * 6),
        num_days=3,
        vehicles_per_day=1,
        capacity=4,
    )


def test_a_full_fleet_ends_feasible() -> None:
    """12 visits for 3 x 4 places: the search prices overloaded days and leaves none."""
    problem = _tight_problem()
    result = solve(problem, time_limit_s=30, seed=1, work=20_000)
    assert result.info.status == "feasible"
    loads = [sum(int(problem.demand[i]) for i in r.customers) for r in result.routes]
    assert sorted(r.day for r in result.routes) == [0, 1, 2] and loads == [4, 4, 4]
    assert all(result.days_of[i] in problem.combinations[i] for i in range(1, 7))


@pytest.fixture(scope="module")
def p14_result():
    """p14 (20 customers, 4 days, 2 vehicles) solved under an iteration budget."""
    inst = _instance("p14")
    return inst, solve(pvrp.to_problem(inst), time_limit_s=60, seed=1, work=40_000)


def test_p14_solution_is_feasible_and_its_cost_is_exact(p14_result) -> None:
    """Every customer on one allowed combination, capacity and fleet respected, cost recomputed."""
    inst, result = p14_result
    routes = [(r.day, list(r.customers)) for r in result.routes]
    assert result.info.status == "feasible" and result.stopped_by == "work"
    assert pvrp.check_solution(inst, routes) == []
    for i in range(1, inst.num_customers + 1):
        assert result.days_of[i] in inst.combinations[i]
    arcs = sum(len(r) + 1 for _, r in routes)
    assert result.distance / pvrp.SCALE == pytest.approx(pvrp.route_cost(inst, routes), abs=0.0005 * arcs)
    assert pvrp.route_cost(inst, routes) <= 954.81 * 1.03  # within 3 % of the best known


def test_work_budget_makes_runs_identical(p14_result) -> None:
    """Same seed and work budget: the same routes, whatever the clock did."""
    inst, first = p14_result
    again = solve(pvrp.to_problem(inst), time_limit_s=60, seed=1, work=40_000)
    assert again.routes == first.routes and again.distance == first.distance
    assert again.iterations == first.iterations > 0


def test_benchmark_smoke(tmp_path: Path) -> None:
    """bench/pvrp.py on p03 and p14, 4 s each: feasible, checked, near the best known."""
    out = tmp_path / "pvrp.csv"
    rows = pvrp.main(["--instances", "p03,p14", "--time-limit", "4", "--out", str(out)])
    assert out.is_file() and [r.instance for r in rows] == ["p03", "p14"]
    for r in rows:
        assert r.feasible, (r.instance, r.status, r.issues)
        assert r.gap_pct is not None and -0.01 < r.gap_pct < 5.0, (r.instance, r.gap_pct)


def test_solve_has_the_shared_shape() -> None:
    """Keyword-only time limit and seed without defaults, a cancel event, a SolveInfo header."""
    params = inspect.signature(solve).parameters
    assert all(params[k].kind is inspect.Parameter.KEYWORD_ONLY for k in ("time_limit_s", "seed", "cancel"))
    assert (
        params["time_limit_s"].default is inspect.Parameter.empty and params["seed"].default is inspect.Parameter.empty
    )
    assert params["cancel"].default is None
    result = solve(_line_problem(), time_limit_s=30, seed=3, work=500)
    assert isinstance(result.info, SolveInfo) and result.info.seed == 3
    assert 0 < result.info.bound <= result.info.objective  # a valid lower bound, not optimality


def test_every_problem_of_a_bad_instance_is_listed() -> None:
    """Wrong shapes, a day outside the horizon, an empty choice, demand over capacity: all reported at once."""
    good = _line_problem()
    with pytest.raises(ProblemError) as err:
        PeriodicProblem(
            distance=good.distance[:2, :2],
            duration=good.duration,
            demand=np.array([0, 5, 1]),
            service=good.service,
            combinations=((), ((0,), (2,)), ()),
            num_days=2,
            vehicles_per_day=0,
            capacity=1,
        )
    text = "\n".join(err.value.problems)
    for expected in (
        "distance: shape (2, 2)",
        "customer 1: combination (2,)",
        "customer 2: no allowed",
        "customer 1: demand 5",
        "vehicles_per_day: 0",
    ):
        assert expected in text, (expected, text)


def test_duration_limit_splits_the_customers_over_the_days() -> None:
    """Both customers on one route would last 40 > 25: one a day, whatever the capacity."""
    base = _line_problem()
    problem = PeriodicProblem(
        distance=base.distance,
        duration=base.duration,
        demand=base.demand,
        service=base.service,
        combinations=base.combinations,
        num_days=2,
        vehicles_per_day=1,
        capacity=10,
        max_duration=25,
    )
    result = solve(problem, time_limit_s=30, seed=1, work=2_000)
    assert result.info.status == "feasible" and result.distance == 40
    assert sorted(result.days_of[1:]) == [(0,), (1,)]


def test_the_wall_clock_only_stops_a_late_search() -> None:
    """A tiny time limit with a huge work budget: the clock ends the search and says so."""
    result = solve(pvrp.to_problem(_instance("p14")), time_limit_s=0.5, seed=1, work=1e12)
    assert result.stopped_by == "wall clock"


def test_a_cancelled_run_raises() -> None:
    """An event set before the solve: Cancelled, no result."""
    event = threading.Event()
    event.set()
    with pytest.raises(Cancelled):
        solve(pvrp.to_problem(_instance("p14")), time_limit_s=30, seed=1, cancel=event)
