"""Rounds at scale: the routing engine against a nearest-stop greedy baseline and the exact engine.

For each scenario, the same problem (built by the rounds job) is planned by the nearest-stop greedy
baseline (each truck-day goes on to the nearest stop that still brings new people and fits),
by the routing engine, and by the exact engine where it applies, all scored with the same objective
(value of people served minus driving cost over the horizon) and all checked by the independent
checker. ``--first-feasible`` times the first feasible plan on Pas-de-Calais (886 town halls,
3 buses) instead.

    .venv/bin/python bench/rounds_scale.py [--time-limit 60] [--seed 1]
    .venv/bin/python bench/rounds_scale.py --first-feasible
    .venv/bin/python bench/rounds_scale.py --agreement
    .venv/bin/python bench/rounds_scale.py --cp-sat lozere-bus.yaml aveyron-bus.yaml
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
from planner.jobs.rounds import _depots, _exact_fits, build_problem, candidate_stops, solve_rounds  # noqa: E402
from planner.scenario import load_scenario  # noqa: E402
from tests.rounds_checker import check  # noqa: E402

SCENARIOS = ("lozere-bus.yaml", "lozere-bibliobus.yaml", "aveyron-bus.yaml", "hautes-alpes-bus.yaml")


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
    """One table row: objective, stops, stops a day, km a week, status, seconds (wall, CPU), checker verdict."""
    started, cpu = time.perf_counter(), time.process_time()
    result = run()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    per_day = [len(r.visits) for r in result.routes] or [0]
    km = sum(r.dist_m for r in result.routes) / 1000 / problem.horizon_weeks
    verdict = "ok" if not check(problem, result) else "VIOLATIONS"
    return (
        f"| {name} | {plan} | {result.info.objective:,.1f} | {len(result.open_stops)} | "
        f"{statistics.median(per_day):g} ({min(per_day)}-{max(per_day)}) | {km:,.0f} | {result.info.status} | "
        f"{seconds:.1f} | {cpu:.1f} | {verdict} |"
    )


def compare(limit: float, seed: int) -> None:
    """The scenarios, each plan a row."""
    print(
        "| scenario | plan | objective EUR | stops | stops a day, median (range) | km/week | status | s | CPU s "
        "| checker |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
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
        if _exact_fits(problem):
            print(
                row(
                    name,
                    "exact (12 nearest), from the nearest-stop plan",
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


def agreement(seed: int) -> None:
    """Mixed frequencies on tiny instances (5 villages, 1 van, 2 days): the routing plan against brute force."""
    from tests.test_rounds_series import WORK_S, _brute_force, _tiny

    mixes = (([0.5, 0.5, 0.25, 0.25, 0.25], 4), ([1.0, 1.0, 0.5, 0.5, 0.5], 2), ([1.0, 0.5, 0.5, 0.25, 0.25], 4))
    found = total = 0
    for frequencies, weeks in mixes:
        for instance in range(3, 13):  # seeds 0-2 are the unit tests'
            problem = _tiny(frequencies, weeks, instance)
            best = _brute_force(problem)
            result = rounds_routing.solve(problem, time_limit_s=60, seed=seed, work_s=WORK_S)
            total += 1
            gap = best - result.info.objective
            found += gap < 1e-6
            if gap >= 1e-6:
                print(f"{frequencies} over {weeks} weeks, instance {instance}: {gap:.2f} EUR below the optimum")
    print(f"brute-force optimum found on {found} of {total} instances")


def cp_sat_settings(names: list[str], seed: int) -> None:
    """CP-SAT on the enumerated truck-days (12 nearest), no start plan: interleaved workers against one LP search."""
    from optimize._solver import cp_sat
    from optimize.rounds import _model, enumerate_days

    settings = {
        "2 interleaved workers": {},
        "2 interleaved workers, linearization 2": {"linearization_level": 2},
        "1 worker, linearization 2 (kept)": {"interleave_search": False, "num_workers": 1, "linearization_level": 2},
    }
    for name in names:
        problem = problem_of(name)
        days = enumerate_days(problem, deadline=time.perf_counter() + 600, neighbours=12, max_patterns=20_000)
        for label, params in settings.items():
            model, *_ = _model(problem, list(days.patterns), days.day_class)
            solver = cp_sat(16.8, seed, 2, wall_limit_s=600)  # the work limit of a 60 s exact solve
            for key, value in params.items():
                setattr(solver.parameters, key, value)
            started, cpu = time.perf_counter(), time.process_time()
            code = solver.solve(model)
            print(
                f"| {name} ({len(days.patterns)} truck-days) | {label} | {solver.status_name(code)} | "
                f"{solver.objective_value / 100:,.1f} | {solver.deterministic_time:.2f} | "
                f"{time.perf_counter() - started:.1f} | {time.process_time() - cpu:.1f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first-feasible", action="store_true")
    parser.add_argument("--agreement", action="store_true", help="mixed frequencies against brute force")
    parser.add_argument("--cp-sat", nargs="*", metavar="SCENARIO", help="CP-SAT settings on these scenarios")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, python {platform.python_version()}")
    if args.first_feasible:
        first_feasible(args.seed)
    elif args.agreement:
        agreement(args.seed)
    elif args.cp_sat is not None:
        cp_sat_settings(args.cp_sat or ["lozere-bus.yaml"], args.seed)
    else:
        compare(args.time_limit, args.seed)


if __name__ == "__main__":
    main()
