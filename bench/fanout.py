"""Per-département plans on a Dask LocalCluster: wall time at 1 and 2 workers, worker memory, and the
projection to a 16-worker cluster from the measured per-département costs.

Scenario: ``scenarios/departements-siting.yaml`` (coverage against the canton seats, then MCLP: two
new town halls within 30 minutes, trade-off curve to 5 sites; every output written) unless given.
Each worker count gets a fresh cluster and a fresh output folder, so nothing is skipped. The task
cost of a département is its ``run.json`` total plus writing (timings_s), as measured on a worker.

    .venv/bin/python bench/fanout.py [--departements 90,2A,48,12,15,62,02,13] [--workers 1,2] [--project 16]
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from planner.data.france import load_france
from planner.runs.fanout import dask_client, departement_codes, fan_out
from planner.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def lpt_makespan(costs: list[float], workers: int) -> float:
    """Longest-processing-time-first schedule of ``costs`` on ``workers``: the finishing time."""
    loads = [0.0] * workers
    for cost in sorted(costs, reverse=True):
        heapq.heapreplace(loads, loads[0] + cost)
    return max(loads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "departements-siting.yaml")
    parser.add_argument("--departements", default="90,2A,48,12,15,62,02,13")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--project", type=int, default=16, help="project the measured costs onto this many workers")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    codes = departement_codes(args.departements)
    sizes = load_france(departements=codes).zones.groupby("departement").size()
    print(
        f"cores: {os.cpu_count()}, python {sys.version.split()[0]}, "
        f"scenario {args.scenario.name}, {len(codes)} départements"
    )
    costs: dict[str, float] = {}
    for workers in [int(w) for w in args.workers.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            with dask_client(workers=workers, dashboard_address=":0") as client:
                ready = time.perf_counter() - start
                clock = time.perf_counter()
                outcomes = fan_out(scenario, codes, Path(tmp) / "out", client)
                wall = time.perf_counter() - clock
                peaks = client.run(_peak_rss_mb)
            for outcome in outcomes:
                if outcome.status == "done":
                    timings = json.loads((Path(tmp) / "out" / outcome.code / "run.json").read_text())["timings_s"]
                    costs.setdefault(outcome.code, timings["total"] + timings["write"])
            errors = [o for o in outcomes if o.status == "error"]
            print(
                f"\n{workers} worker(s): cluster up in {ready:.1f} s, fan-out {wall:.1f} s wall "
                f"({sum(o.seconds for o in outcomes):.1f} s of task time), {len(errors)} error(s), "
                f"worker peak RSS {', '.join(f'{mb:.0f}' for mb in peaks.values())} MB"
            )
            for error in errors:
                print(f"  {error.code}: {error.error}")
            if workers == 1 or len(codes) <= 12:
                print("| département | communes | task s |\n|---|---|---|")
                for outcome in outcomes:
                    print(f"| {outcome.code} | {sizes.get(outcome.code, 0)} | {outcome.seconds:.2f} |")
    measured = list(costs.values())
    if measured:
        total = sum(measured)
        print(
            f"\nper-département cost (run + write, first worker count): total {total:.1f} s, "
            f"median {statistics.median(measured):.2f} s, max {max(measured):.2f} s over {len(measured)} départements"
        )
        print(
            f"LPT schedule on {args.project} workers: {lpt_makespan(measured, args.project):.1f} s "
            f"(bound max(total/{args.project}, max) = {max(total / args.project, max(measured)):.1f} s)"
        )


if __name__ == "__main__":
    main()
