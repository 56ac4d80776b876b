"""Rounds on the default Lozère bus scenario: Maillage's CP-SAT plan against a greedy baseline.

The baseline is nearest-stop insertion, as a planner would do by hand: each truck-day, from the
depot, drive to the nearest town hall that still has unserved people and still fits in the day
(exact sequencing, same constraints), while the people it adds are worth more than the extra
driving. Both plans are scored with the same objective (value of people served minus driving cost).

    .venv/bin/python bench/rounds_lozere.py [--time-limit 60] [--seed 1]
"""

from __future__ import annotations

import argparse
import itertools
import platform
import time
from pathlib import Path

import numpy as np

from optimize.rounds import RoundsProblem, day_plan, served_levels, solve
from planner.jobs.coverage import run_coverage
from planner.jobs.rounds import _depots, build_problem, candidate_stops
from planner.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "lozere-bus.yaml"


def greedy(problem: RoundsProblem) -> tuple[float, set[int], float, float]:
    """Nearest-stop insertion; returns objective, open stops, cost and km over the horizon."""
    open_stops: set[int] = set()
    cost = metres = 0.0
    for _week, day in problem.horizon():
        for _v, vehicle in enumerate(problem.vehicles):
            if day not in vehicle.days:
                continue
            stops: tuple[int, ...] = ()
            plan = None
            here = vehicle.depot
            while len(stops) < problem.max_stops_per_day:
                level = served_levels(problem, open_stops | set(stops))
                useful = [
                    s
                    for s in range(len(problem.stops))
                    if s not in open_stops
                    and s not in stops
                    and any(level[z] == 0 and problem.population[z] > 0 for z in problem.covers[s])
                ]
                added = False
                for s in sorted(useful, key=lambda s: problem.time_min[here, problem.stops[s].location]):
                    trial = day_plan(problem, vehicle, day, (*stops, s))
                    if trial is None:
                        continue
                    gain = sum(problem.population[z] for z in problem.covers[s] if level[z] == 0)
                    gain *= problem.stops[s].visits_per_week * problem.person_value
                    if gain > trial.cost - (plan.cost if plan else 0.0):
                        stops, plan, here, added = (*stops, s), trial, problem.stops[s].location, True
                    break  # nearest feasible stop only: take it or end the day
                if not added:
                    break
            if plan is not None:
                open_stops |= set(stops)
                cost += plan.cost
                legs = [vehicle.depot, *(problem.stops[s].location for s in plan.order), vehicle.depot]
                metres += sum(problem.dist_m[a, b] for a, b in itertools.pairwise(legs))
    value = float(problem.population @ served_levels(problem, open_stops)) * problem.person_value
    return value - cost, open_stops, cost, metres / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    scenario = load_scenario(SCENARIO)
    coverage = run_coverage(scenario)
    spec = scenario.rounds
    assert spec is not None
    problem, _ = build_problem(
        coverage.territory,
        candidate_stops(scenario, coverage.territory, spec),
        _depots(coverage.territory, spec),
        spec,
        coverage.model,
    )
    weeks = problem.horizon_weeks
    population = problem.population
    started = time.perf_counter()
    g_obj, g_open, g_cost, g_km = greedy(problem)
    g_time = time.perf_counter() - started
    result = solve(problem, time_limit_s=args.time_limit, seed=args.seed)
    c_km = sum(r.dist_m for r in result.routes) / 1000
    c_open = {i for i, s in enumerate(problem.stops) if s.stop_id in result.open_stops}
    print(f"machine: {platform.platform()}, python {platform.python_version()}")
    print("| plan | objective EUR | people near a stop | stops | km/week | cost EUR/week | time s |")
    print("|---|---|---|---|---|---|---|")
    for name, obj, opened, km, cost, secs in [
        ("greedy nearest-stop insertion", g_obj, g_open, g_km, g_cost, g_time),
        (
            f"Maillage CP-SAT ({result.info.status})",
            result.info.objective,
            c_open,
            c_km,
            result.cost,
            result.info.time_s,
        ),
    ]:
        near = float(population[served_levels(problem, opened) > 0].sum())
        print(
            f"| {name} | {obj:,.0f} | {near:,.0f} ({near / population.sum():.1%}) | {len(opened)} | "
            f"{km / weeks:,.0f} | {cost / weeks:,.0f} | {secs:.1f} |"
        )
    print(
        f"\nCP-SAT bound {result.info.bound:,.0f}; objective gain over greedy "
        f"{result.info.objective - g_obj:+,.0f} EUR ({(result.info.objective - g_obj) / abs(g_obj):+.1%})"
    )
    assert np.isfinite(result.info.objective)


if __name__ == "__main__":
    main()
