"""Rounds at scale: the routing engine against a nearest-stop greedy baseline and the exact engine.

For each scenario, the same problem (built by the rounds job) is planned by the nearest-stop greedy
baseline (each truck-day goes on to the nearest stop that still brings new people and fits),
by the routing engine, and by the exact engine where it applies, all scored with the same objective
(value of people served minus driving cost over the horizon) and all checked by the independent
checker. ``--first-feasible`` times the first feasible plan on Pas-de-Calais (886 town halls,
3 buses) instead.

    .venv/bin/python bench/rounds_scale.py [--time-limit 60] [--seed 1]
    .venv/bin/python bench/rounds_scale.py --first-feasible
"""

from __future__ import annotations

import argparse
import functools
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the independent checker lives in tests/

from optimize import rounds_routing  # noqa: E402
from optimize.rounds import RoundsProblem, RoundsResult  # noqa: E402
from planner.jobs.coverage import run_coverage  # noqa: E402
from planner.jobs.rounds import _depots, build_problem, candidate_stops, solve_rounds  # noqa: E402
from planner.scenario import load_scenario  # noqa: E402
from tests.rounds_checker import check  # noqa: E402

SCENARIOS = ("lozere-bus.yaml", "lozere-bibliobus.yaml", "aveyron-bus.yaml")


def problem_of(name: str) -> RoundsProblem:
    """The rounds problem of a committed scenario, as the job builds it."""
    scenario = load_scenario(ROOT / "scenarios" / name)
    spec = scenario.rounds
    assert spec is not None
    coverage = run_coverage(scenario)
    territory = coverage.territory
    candidates, depots = candidate_stops(scenario, territory, spec), _depots(territory, spec)
    return build_problem(territory, candidates, depots, spec, coverage.model)[0]


def row(name: str, plan: str, problem: RoundsProblem, run: Callable[[], RoundsResult]) -> str:
    """One table row: objective, stops, stops a day, km a week, status, seconds, checker verdict."""
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    per_day = [len(r.visits) for r in result.routes] or [0]
    km = sum(r.dist_m for r in result.routes) / 1000 / problem.horizon_weeks
    verdict = "ok" if not check(problem, result) else "VIOLATIONS"
    return (
        f"| {name} | {plan} | {result.info.objective:,.1f} | {len(result.open_stops)} | "
        f"{statistics.median(per_day):g} ({min(per_day)}-{max(per_day)}) | {km:,.0f} | {result.info.status} | "
        f"{seconds:.1f} | {verdict} |"
    )


def compare(limit: float, seed: int) -> None:
    """The three scenarios, each plan a row."""
    print("| scenario | plan | objective EUR | stops | stops a day, median (range) | km/week | status | s | checker |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in SCENARIOS:
        problem = problem_of(name)
        print(row(name, "greedy nearest stop", problem, functools.partial(rounds_routing.baseline, problem, seed=seed)))
        print(
            row(
                name,
                "routing engine",
                problem,
                functools.partial(rounds_routing.solve, problem, time_limit_s=limit, seed=seed),
            )
        )
        if problem.max_stops_per_day <= 6 and all(
            st.visits_per_week * problem.horizon_weeks >= 1 for st in problem.stops
        ):
            print(
                row(
                    name,
                    "exact (12 nearest), from the routing plan",
                    problem,
                    functools.partial(solve_rounds, problem, "exact", time_limit_s=limit, seed=seed),
                )
            )
            print(
                row(
                    name,
                    "auto",
                    problem,
                    functools.partial(solve_rounds, problem, "auto", time_limit_s=limit, seed=seed),
                )
            )
        sys.stdout.flush()


def _stamp(marks: list[tuple[float, str]]) -> Callable[[str], None]:
    """A progress callback keeping each message with the time it came."""
    return lambda text: marks.append((time.perf_counter(), text))


def first_feasible(seed: int) -> None:
    """Seconds from the start of the solve to the first feasible plan on Pas-de-Calais, and the final plans."""
    problem = problem_of("pas-de-calais-bus.yaml")
    print(f"Pas-de-Calais: {len(problem.stops)} candidate stops, {len(problem.vehicles)} buses")
    for limit in (5.0, 30.0):
        marks: list[tuple[float, str]] = []
        started = time.perf_counter()
        result = solve_rounds(problem, "auto", time_limit_s=limit, seed=seed, progress=_stamp(marks))
        total = time.perf_counter() - started
        first = next(t for t, text in marks if text.startswith("first feasible plan")) - started
        print(
            f"limit {limit:g} s: first feasible plan after {first:.1f} s; final {len(result.open_stops)} stops, "
            f"objective {result.info.objective:,.1f}, {result.info.status}, {total:.1f} s in all, "
            f"checker {'ok' if not check(problem, result) else 'VIOLATIONS'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first-feasible", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, python {platform.python_version()}")
    if args.first_feasible:
        first_feasible(args.seed)
    else:
        compare(args.time_limit, args.seed)


if __name__ == "__main__":
    main()
