"""Tests for optimize.siting: exact optima against brute force and against PySAL spopt."""

from __future__ import annotations

import time
import warnings
from itertools import combinations

import numpy as np
import pulp
import pytest

from optimize._errors import InfeasibleError, ProblemError
from optimize.siting import Lscp, Mclp, PCenter, PMedian, SitingProblem, Tradeoff, solve
from planner.data.france import load_france
from planner.travel.estimate import EstimateModel


def _random_problem(seed: int, n_demand: int = 14, n_sites: int = 7) -> SitingProblem:
    """Random minutes 0-40 with some unreachable pairs, random populations."""
    rng = np.random.default_rng(seed)
    minutes = rng.uniform(0, 40, (n_demand, n_sites))
    minutes[rng.random(minutes.shape) < 0.15] = np.inf
    return SitingProblem(minutes, rng.integers(1, 500, n_demand).astype(float))


def _best(problem: SitingProblem, p: int, score, forced=()) -> float:
    """Brute force: the best score over every set of p sites containing the forced ones."""
    n_sites = problem.time_min.shape[1]
    sets = [c for c in combinations(range(n_sites), p) if set(forced) <= set(c)]
    return max(score(problem.time_min[:, list(c)].min(axis=1)) for c in sets)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mclp_equals_brute_force(seed):
    """MCLP's covered population is the best over all sets of 3 sites (radius 15 min), with one site forced."""
    problem = _random_problem(seed)
    forced = SitingProblem(problem.time_min, problem.population, forced=(seed,))
    for prob, fixed in ((problem, ()), (forced, (seed,))):
        result = solve(Mclp(prob, 3, 15), time_limit_s=60, seed=0)
        expected = _best(prob, 3, lambda t, prob=prob: prob.population[t <= 15].sum(), fixed)
        assert result.info.status == "optimal" and result.covered_population == pytest.approx(expected)
        assert set(fixed) <= set(result.open_sites) and len(result.open_sites) == 3


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_p_median_equals_brute_force(seed):
    """p-median's weighted time is the smallest over all sets of 3 sites (demand nobody reaches left out)."""
    problem = _random_problem(seed)
    reach = problem.reachable()
    result = solve(PMedian(problem, 3), time_limit_s=60, seed=0)
    expected = -_best(
        problem,
        3,
        lambda t: -np.where(reach, problem.population * t, 0).sum() if np.isfinite(t[reach]).all() else -np.inf,
    )
    assert result.info.objective == pytest.approx(expected)


def _weighted_time(problem: SitingProblem, sites) -> float:
    """Population-weighted time to the nearest of ``sites`` over reachable demand (inf if one is unreached)."""
    reach = problem.reachable()
    nearest = problem.time_min[reach][:, list(sites)].min(axis=1)
    return float(problem.population[reach] @ nearest) if np.isfinite(nearest).all() else np.inf


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_p_median_merged_rows_and_forced_site_keep_the_optimum(seed):
    """Duplicated demand rows (merged before the MIP) and a forced site (farther pairs dropped) keep the optimum."""
    base = _random_problem(seed)
    problem = SitingProblem(np.vstack([base.time_min, base.time_min[:5]]), np.r_[base.population, base.population[:5]])
    forced = SitingProblem(problem.time_min, problem.population, forced=(seed,))
    sites = range(problem.time_min.shape[1])
    for prob, fixed in ((problem, set()), (forced, {seed})):
        result = solve(PMedian(prob, 3), time_limit_s=60, seed=0)
        expected = min(_weighted_time(prob, c) for c in combinations(sites, 3) if fixed <= set(c))
        assert result.info.status == "optimal" and result.info.objective == pytest.approx(expected)
        assert fixed <= set(result.open_sites)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_p_median_without_the_mip_is_a_swap_optimum(seed):
    """Too short a limit for the MIP: the greedy + swap plan, reaching everyone, no single swap better, bound below."""
    problem = _random_problem(seed, n_demand=30, n_sites=9)
    result = solve(PMedian(problem, 3), time_limit_s=1e-4, seed=0)
    assert result.info.status == "feasible" and "greedy + swap plan" in result.notes[0]
    assert result.info.objective == pytest.approx(_weighted_time(problem, result.open_sites))
    optimum = min(_weighted_time(problem, c) for c in combinations(range(9), 3))
    assert result.info.bound <= optimum <= result.info.objective * (1 + 1e-12) < np.inf
    for out in result.open_sites:
        for into in set(range(9)) - set(result.open_sites):
            swapped = (set(result.open_sites) - {out}) | {into}
            assert _weighted_time(problem, swapped) >= result.info.objective - 1e-6


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_p_center_equals_brute_force(seed):
    """p-center's worst time is the smallest over all sets of 3 sites."""
    problem = _random_problem(seed)
    reach = problem.reachable()
    result = solve(PCenter(problem, 3), time_limit_s=60, seed=0)
    expected = -_best(problem, 3, lambda t: -t[reach].max())
    assert result.radius_min == pytest.approx(expected) and len(result.open_sites) == 3
    assert result.time_min[reach].max() == pytest.approx(expected)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lscp_equals_brute_force(seed):
    """LSCP opens the fewest sites covering every coverable demand point within 20 min."""
    problem = _random_problem(seed)
    coverable = (problem.time_min <= 20).any(axis=1)
    fewest = next(p for p in range(1, 8) if _best(problem, p, lambda t: float((t[coverable] <= 20).all())) == 1)
    result = solve(Lscp(problem, 20), time_limit_s=60, seed=0)
    assert len(result.open_sites) == fewest
    assert (result.time_min[coverable] <= 20).all()


def test_capacitated_p_median():
    """Two demand points of 100 people next to site 0 (capacity 100): one must go to the farther site 1."""
    minutes = np.array([[1.0, 10.0], [1.0, 12.0]])
    problem = SitingProblem(minutes, np.array([100.0, 100.0]), capacity=np.array([100.0, 1000.0]))
    result = solve(PMedian(problem, 2), time_limit_s=60, seed=0)
    assert result.info.objective == pytest.approx(100 * 1 + 100 * 10)  # the cheaper one moves
    with pytest.raises(InfeasibleError, match="cannot hold the 200 people"):
        tight = SitingProblem(minutes, np.array([100.0, 100.0]), capacity=np.array([50.0, 50.0]))
        solve(PMedian(tight, 2), time_limit_s=60, seed=0)


def test_tradeoff_curve_grows_to_full_coverage():
    """Covered population never decreases with more sites and stops once everyone coverable is covered."""
    problem = _random_problem(4, n_demand=30, n_sites=10)
    curve = solve(Tradeoff(problem, 15), time_limit_s=60, seed=0).curve
    covered = [c for _, c in curve]
    assert covered == sorted(covered)
    assert covered[-1] == pytest.approx(problem.population[(problem.time_min <= 15).any(axis=1)].sum())


def test_bad_problems_are_refused():
    """Every problem of a bad instance is listed at once, the data's and the model's."""
    with pytest.raises(ProblemError) as caught:
        SitingProblem(np.full((3, 2), -1.0), np.ones(2), forced=(5,), capacity=np.ones(3))
    assert len(caught.value.problems) == 4
    assert "population has 2 values for 3" in str(caught.value) and "NaN or negative" in str(caught.value)
    with pytest.raises(ProblemError, match="must be >= 0"):
        SitingProblem(np.zeros((2, 2)), np.array([1.0, -1.0]))
    with pytest.raises(ProblemError, match="p = 5 sites must be between"):
        Mclp(SitingProblem(np.zeros((2, 2)), np.ones(2)), 5, 10)
    with pytest.raises(ProblemError) as caught:
        Tradeoff(SitingProblem(np.zeros((2, 2)), np.ones(2)), float("nan"), max_sites=9)
    assert len(caught.value.problems) == 2
    for limit in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ProblemError, match="time_limit_s must be a positive"):
            solve(Lscp(SitingProblem(np.zeros((2, 2)), np.ones(2)), 10), time_limit_s=limit, seed=0)


def test_tradeoff_shares_one_time_budget():
    """The whole curve stays within one time limit; cut short, it says so and is not called optimal."""
    rng = np.random.default_rng(5)
    problem = SitingProblem(rng.uniform(0, 90, (2000, 400)), rng.uniform(0, 500, 2000))
    started = time.perf_counter()
    result = solve(Tradeoff(problem, 20, max_sites=400), time_limit_s=1.0, seed=0)
    assert time.perf_counter() - started < 1.0 + 1.0
    assert result.info.status == "feasible" and result.notes == (
        f"the time limit ended the curve at {result.curve[-1][0]} sites",
    )
    assert [p for p, _ in result.curve] == list(range(1, len(result.curve) + 1))


@pytest.fixture(scope="module")
def lozere():
    """Lozère's 152 communes x 152 town halls, estimated minutes."""
    territory = load_france(departements=["48"])
    halls = territory.sites[territory.sites["kind"] == "town_hall"]
    minutes = EstimateModel().matrix(territory.demand_points(), halls.geometry).astype(float)
    return SitingProblem(minutes, territory.zones["population"].to_numpy(float))


def _spopt(build):
    """spopt's optimal objective; PuLP's deprecation warnings about its own API are silenced here only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        solved = build().solve(pulp.PULP_CBC_CMD(msg=False))
    return pulp.value(solved.problem.objective)


def test_same_optima_as_spopt_on_lozere(lozere):
    """MCLP, LSCP and p-median on Lozère give spopt's optimal objective (PuLP + CBC)."""
    from spopt import locate

    minutes, population = lozere.time_min, lozere.population
    assert solve(Mclp(lozere, 10, 20), time_limit_s=60, seed=0).info.objective == pytest.approx(
        _spopt(lambda: locate.MCLP.from_cost_matrix(minutes, population, service_radius=20, p_facilities=10))
    )
    assert solve(Lscp(lozere, 20), time_limit_s=60, seed=0).info.objective == pytest.approx(
        _spopt(lambda: locate.LSCP.from_cost_matrix(minutes, 20))
    )
    assert solve(PMedian(lozere, 10), time_limit_s=60, seed=0).info.objective == pytest.approx(
        _spopt(lambda: locate.PMedian.from_cost_matrix(minutes, population, p_facilities=10)), rel=1e-6
    )


def test_same_p_center_as_spopt(lozere):
    """p-center on 60 communes x 30 town halls of Lozère gives spopt's optimal worst time."""
    from spopt import locate

    sub = SitingProblem(lozere.time_min[:60, :30], lozere.population[:60])
    expected = _spopt(lambda: locate.PCenter.from_cost_matrix(sub.time_min, p_facilities=5))
    assert solve(PCenter(sub, 5), time_limit_s=60, seed=0).radius_min == pytest.approx(expected, rel=1e-6)
