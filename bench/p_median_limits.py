"""p-median within its time limit: synthetic shapes and real départements, wall time, status and gap.

Synthetic: 1000 x 240 random minutes (the CI guard-rail instance), the same rounded to whole minutes,
every point at one place, 2000 x 100 with 30 % unreachable pairs, 200 x 100 random. Real: communes x
town halls of Lozère (48), Hautes-Alpes (05), Haute-Corse (2B), Nord (59) and four départements of
Occitanie (12, 30, 34, 48), times from the stated estimate; p = 10 on the real ones, 5 on the others.

    .venv/bin/python bench/p_median_limits.py [--time-limit 2]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from siting import build

from optimize.siting import PMedian, SitingProblem, solve

REAL = {
    "Lozère": ["48"],
    "Hautes-Alpes": ["05"],
    "Haute-Corse": ["2B"],
    "Nord": ["59"],
    "12+30+34+48": ["12", "30", "34", "48"],
}


def synthetic(rng: np.random.Generator) -> dict[str, Callable[[], SitingProblem]]:
    """The synthetic instances, each built when its turn comes."""
    unreachable = rng.random((2000, 100)) < 0.3

    def problem(minutes: np.ndarray) -> SitingProblem:
        return SitingProblem(minutes, np.ones(len(minutes)))

    return {
        "random 1000 x 240": lambda: problem(rng.uniform(0, 90, (1000, 240))),
        "rounded 1000 x 240": lambda: problem(np.round(rng.uniform(0, 90, (1000, 240)))),
        "one point 1000 x 240": lambda: problem(np.zeros((1000, 240))),
        "2000 x 100, 30 % unreachable": lambda: problem(np.where(unreachable, np.inf, rng.uniform(0, 90, (2000, 100)))),
        "random 200 x 100": lambda: problem(rng.uniform(0, 90, (200, 100))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=2.0)
    args = parser.parse_args()
    print(f"{platform.platform()}, python {platform.python_version()}, limit {args.time_limit:g} s")
    print("| instance | demand x candidates | p | wall s | status | objective | bound | gap | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    instances: list[tuple[str, Callable[[], SitingProblem], int]] = [
        (name, make, 5) for name, make in synthetic(np.random.default_rng(7)).items()
    ]
    instances += [(name, partial(build, codes), 10) for name, codes in REAL.items()]
    for name, make, p in instances:
        problem = make()
        started = time.perf_counter()
        result = solve(PMedian(problem, p), time_limit_s=args.time_limit, seed=0)
        seconds = time.perf_counter() - started
        info = result.info
        size = f"{problem.time_min.shape[0]:,} x {problem.time_min.shape[1]:,}"
        print(
            f"| {name} | {size} | {p} | {seconds:.2f} | {info.status} | {info.objective:,.1f} | {info.bound:,.1f} "
            f"| {info.gap:.2%} | {'; '.join(result.notes)} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
