"""The Bussoservice solver (``optimize.shuttle``) on the Cordeau (2006) dial-a-ride instances, sets "a" and "b".

The instances are not shipped (they are not in ``../shared/benchmarks`` either): give the folder holding the
files ``a2-16.txt``... (the format of Cordeau's site: a header ``K 2n T Q L``, then the depot and one line per
node: id, x, y, service time, load, earliest, latest; pickups ``1..n``, deliveries ``n+1..2n``). Euclidean
distances are both the cost and the travel time; the solver works on whole minutes, so every time is scaled
by ``SCALE`` (tenths) before it is rounded up, and the cost is recomputed here from the routes with float
distances. Each plan is checked by ``tests/shuttle_checker.py``. Best-known costs, when a CSV of
``instance,bks`` is given (``bench/darp_bks.csv`` holds those found, with their source), give the gap
``100 * (cost - bks) / bks``; requests left unserved are listed by reason (``optimize.shuttle.REASONS``).

Usage (from the repository root)::

    .venv/bin/python bench/darp.py --folder /path/to/cordeau --instances a2-16,b2-16 --time-limit 10 \
        --bks bench/darp_bks.csv
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from itertools import pairwise
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optimize.shuttle import Coach, Request, ShuttleProblem, solve
from tests.shuttle_checker import check

SCALE = 10  # tenths of a time unit


def read(path: Path) -> tuple[ShuttleProblem, np.ndarray]:
    """The instance as a shuttle problem (times scaled) and its float distance matrix."""
    lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    k, nodes, horizon, capacity, ride = (float(v) for v in lines[0][:5])
    rows = [[float(v) for v in line] for line in lines[1:]]
    n = int(nodes) // 2
    xy = np.array([[r[1], r[2]] for r in rows[: 2 * n + 1]])
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    service = rows[1][3]
    windows = [(math.ceil(r[5] * SCALE), math.floor(r[6] * SCALE)) for r in rows[: 2 * n + 1]]
    requests = tuple(
        Request(f"r{i}", i, n + i, int(rows[i][4]), windows[i], windows[n + i], math.floor(ride * SCALE))
        for i in range(1, n + 1)
    )
    coaches = tuple(
        Coach(
            f"v{v}",
            0,
            int(capacity),
            windows[0],
            cost_per_km=1.0,
            cost_per_hour=0.0,
            max_duration_min=math.floor(horizon * SCALE),
        )
        for v in range(int(k))
    )
    problem = ShuttleProblem(
        requests, coaches, dist * SCALE, dist * 1000, boarding_min=round(service * SCALE), unserved_eur=1e4
    )
    return problem, dist


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--instances", default="a2-16,b2-16")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--bks", type=Path, help="CSV with columns instance,bks")
    args = parser.parse_args(argv)
    bks = {}
    if args.bks:
        with args.bks.open(encoding="utf-8") as stream:
            bks = {row["instance"]: float(row["bks"]) for row in csv.DictReader(stream)}
    print("instance,requests,served,cost,bks,gap_pct,checker_violations,ended_by,time_s,unserved_reasons")
    for name in args.instances.split(","):
        problem, dist = read(args.folder / f"{name}.txt")
        started = time.perf_counter()
        result = solve(problem, time_limit_s=args.time_limit, seed=0)
        elapsed = time.perf_counter() - started
        cost = sum(dist[a.location, b.location] for r in result.routes for a, b in pairwise(r.calls))
        served = len(problem.requests) - len(result.unserved)
        best = bks.get(name)
        gap = f"{100 * (cost - best) / best:.2f}" if best else ""
        violations = len(check(problem, result))
        print(
            f"{name},{len(problem.requests)},{served},{cost:.2f},{best or ''},{gap},{violations},"
            f"{result.ended_by},{elapsed:.1f},{' '.join(sorted(set(result.reasons.values())))}"
        )


if __name__ == "__main__":
    main()
