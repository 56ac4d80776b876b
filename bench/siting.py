"""Siting models against PySAL spopt on real French instances, in the same run.

Instances: communes x town halls (the candidate premises), times from the stated estimate
(crow-fly x 1.3 at 50 km/h). Lozère (152 x 152), four départements of Occitanie (12, 30, 34, 48)
and the whole Occitanie région. MCLP (p = 20, radius 20 min) and LSCP (radius 20 min) on every
instance; p-median and p-center (p = 10) on Lozère only (their full assignment models grow with
demand x candidates). spopt solves with PuLP + CBC, Maillage with OR-Tools' model builder + SCIP.

    .venv/bin/python bench/siting.py [--instances lozere,quatre,occitanie] [--time-limit 600]
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from collections.abc import Callable
from importlib import metadata

import numpy as np
import pulp
from spopt import locate

from optimize import siting
from optimize.siting import SitingProblem
from planner.data.france import departements, load_france
from planner.travel.estimate import EstimateModel

INSTANCES = {
    "lozere": ["48"],
    "quatre": ["12", "30", "34", "48"],
    "occitanie": departements().query("region == '76'")["code"].tolist(),
}


def build(codes: list[str]) -> SitingProblem:
    """Communes x town halls of the départements, estimated minutes."""
    territory = load_france(departements=codes)
    halls = territory.sites[territory.sites["kind"] == "town_hall"]
    minutes = EstimateModel().matrix(territory.demand_points(), halls.geometry).astype(float)
    return SitingProblem(minutes, territory.zones["population"].to_numpy(float))


def spopt_solve(make, limit: float) -> tuple[float, float]:
    """spopt's objective and wall time (model building included, as for Maillage)."""
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make().solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=limit))
    return float(pulp.value(model.problem.objective)), time.perf_counter() - started


def models(problem: SitingProblem, limit: float, *, with_assignment: bool) -> list[tuple[str, Callable, Callable]]:
    """(label, Maillage solve, spopt model builder) for each model run on an instance."""
    t, w = problem.time_min, problem.population
    runs: list[tuple[str, Callable, Callable]] = [
        (
            "MCLP p=20 r=20",
            lambda: siting.solve(siting.Mclp(problem, 20, 20), time_limit_s=limit, seed=0),
            lambda: locate.MCLP.from_cost_matrix(t, w, service_radius=20, p_facilities=20),
        ),
        (
            "LSCP r=20",
            lambda: siting.solve(siting.Lscp(problem, 20), time_limit_s=limit, seed=0),
            lambda: locate.LSCP.from_cost_matrix(np.where(np.isfinite(t), t, 1e6), 20),
        ),
    ]
    if with_assignment:
        runs += [
            (
                "p-median p=10",
                lambda: siting.solve(siting.PMedian(problem, 10), time_limit_s=limit, seed=0),
                lambda: locate.PMedian.from_cost_matrix(t, w, p_facilities=10),
            ),
            (
                "p-center p=10",
                lambda: siting.solve(siting.PCenter(problem, 10), time_limit_s=limit, seed=0),
                lambda: locate.PCenter.from_cost_matrix(t, p_facilities=10),
            ),
        ]
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", default="lozere,quatre,occitanie")
    parser.add_argument("--time-limit", type=float, default=600.0)
    args = parser.parse_args()
    versions = {n: metadata.version(n) for n in ("ortools", "spopt", "pulp")}
    print(f"machine: {platform.platform()}, python {platform.python_version()}, {versions}")
    print(
        "| instance | demand x candidates | model | Maillage objective | Maillage s | spopt objective | spopt s | "
        "same optimum | speed-up |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.instances.split(","):
        problem = build(INSTANCES[name])
        size = f"{problem.time_min.shape[0]:,} x {problem.time_min.shape[1]:,}"
        runs = models(problem, args.time_limit, with_assignment=name == "lozere")
        for label, ours, theirs in runs:
            started = time.perf_counter()
            result = ours()
            our_s = time.perf_counter() - started
            our_obj = result.radius_min if label.startswith("p-center") else result.info.objective
            their_obj, their_s = spopt_solve(theirs, args.time_limit)
            same = abs(our_obj - their_obj) <= 1e-6 * max(1.0, abs(their_obj))
            print(
                f"| {name} | {size} | {label} | {our_obj:,.2f} ({result.info.status}) | {our_s:.2f} | "
                f"{their_obj:,.2f} | {their_s:.2f} | {'yes' if same else 'NO'} | {their_s / our_s:.1f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
