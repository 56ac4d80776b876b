"""Tests for planner.jobs.rounds.solve_rounds: which engine plans, and never an empty plan while a stop fits."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd

import planner.jobs.rounds as job
from optimize._solver import SolveInfo, Status
from optimize.rounds import RoundsResult
from optimize.rounds import solve as solve_exact
from planner.jobs.rounds import solve_rounds
from tests.rounds_checker import check
from tests.test_rounds import _grid_problem
from tests.test_rounds_series import _tiny


def test_auto_with_a_complete_enumeration_is_the_proven_optimum_without_routing():
    """Twelve stops, two trucks: every truck-day enumerated, CP-SAT proves the plan; no routing run is needed."""
    problem = _grid_problem(12, 0)
    result = solve_rounds(problem, "auto", time_limit_s=30, seed=0)
    proof = solve_exact(problem, time_limit_s=30, seed=0, neighbours=None)
    assert result.info.status == Status.OPTIMAL and check(problem, result) == []
    assert abs(result.info.objective - proof.info.objective) < 0.01
    assert not any("vehicle routing" in note for note in result.notes)


def test_exact_keeps_a_plan_when_cp_sat_finds_none(monkeypatch):
    """CP-SAT returning no plan (a large instance, a short limit): the routing or nearest-stop plan stands."""
    problem = _grid_problem(12, 1)

    def nothing(problem, **_) -> RoundsResult:
        info = SolveInfo(Status.UNKNOWN, float("nan"), 1e9, 0.0, 0)
        return RoundsResult(info, (), (), {}, np.zeros(len(problem.population)), 0.0, 0.0)

    monkeypatch.setattr(job, "solve", nothing)
    result = solve_rounds(problem, "exact", time_limit_s=10, seed=0)
    assert result.open_stops and check(problem, result) == []
    assert result.info.status == Status.FEASIBLE and "the exact engine found no better plan" in result.notes[-1]


def test_auto_plans_mixed_frequencies_by_routing():
    """Stops every 2 and every 4 weeks on four weeks are beyond the exact engine: auto plans them by series."""
    problem = _tiny([0.5, 0.5, 0.25, 0.25, 0.25], 4, 0)
    result = solve_rounds(problem, "auto", time_limit_s=30, seed=1)
    assert check(problem, result) == [] and result.open_stops
    assert "mixed frequencies" in result.notes[0] and result.info.status == Status.FEASIBLE


def test_exact_with_weekly_and_fortnightly_stops():
    """Weekly beside fortnightly stops on two weeks: the exact engine plans them, checker clean."""
    problem = _grid_problem(10, 2)
    problem = replace(
        problem, stops=tuple(replace(s, visits_per_week=(1.0, 0.5)[i % 2]) for i, s in enumerate(problem.stops))
    )
    result = solve_rounds(problem, "exact", time_limit_s=30, seed=0)
    assert check(problem, result) == [] and result.open_stops


def test_a_stop_takes_its_communes_size_else_the_nearest_zone_it_serves():
    """A town hall's own commune decides its frequency; a listed site without one takes the nearest zone in reach."""
    zones = pd.DataFrame({"zone_id": ["A", "B", "C"], "population": [2000.0, 400.0, 50.0]})
    candidates = pd.DataFrame({"site_id": ["mairie-A", "site", "far"], "zone_id": ["A", None, None]})
    reach = np.array([[0.0, 9.0, np.inf], [5.0, 2.0, np.inf], [np.inf, 14.0, np.inf]])  # zones x stops
    people = job._stop_population(SimpleNamespace(zones=zones), candidates, reach)
    assert people.tolist() == [2000.0, 400.0, 0.0]
    assert job._stop_population(SimpleNamespace(zones=zones), candidates.drop(columns="zone_id"), reach)[0] == 2000.0
