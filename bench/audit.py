"""The national audit of the packaged data, printed as Markdown for ``bench/RESULTS.md``.

Runs ``maillage coverage --france`` in-process (canton seats, the default estimate) and
``planner.jobs.audit.audit`` on it: per département the largest access time, the communes whose time
is above three times their neighbours' median (and whether it is implausible), and the demand
points outside their commune. Usage (from the repository root)::

    .venv/bin/python bench/audit.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.jobs.audit import OUTLIER_MARGIN_MIN, OUTLIER_RATIO, TOLERANCE_M, audit  # noqa: E402
from planner.jobs.national import run_national  # noqa: E402
from planner.scenario import Scenario  # noqa: E402


def main() -> None:
    clock = time.perf_counter()
    national = run_national(Scenario(coverage={"thresholds_min": [20, 30]}))
    report = audit(national)
    seconds = time.perf_counter() - clock
    access = national.coverage.access
    metro = access[~access["departement"].str.startswith("97")]
    print(
        f"{len(access):,} communes, {len(report.departements)} départements, {seconds:.1f} s. "
        f"Largest time in metropolitan France: {metro['time_min'].max():.1f} min; "
        f"communes above {OUTLIER_RATIO:g}x their neighbours' median (and {OUTLIER_MARGIN_MIN:g} min more): "
        f"{len(report.outliers)}, implausible: {len(report.implausible)}; demand points more than "
        f"{TOLERANCE_M:g} m outside their commune: {len(report.misplaced)}.\n"
    )
    print("| commune | département | time (min) | neighbours' median | bound | implausible |")
    print("|---|---|---|---|---|---|")
    for _, row in report.outliers.iterrows():
        print(
            f"| {row['name']} ({row['zone_id']}) | {row['departement']} | {row['time_min']:.1f} "
            f"| {row['neighbours_median_min']:.1f} | {row['bound_min']:.1f} | {'yes' if row['implausible'] else 'no'} |"
        )
    print("\n| département | communes | largest time (min) | at | above 3x | implausible | misplaced |")
    print("|---|---|---|---|---|---|---|")
    for _, row in report.departements.iterrows():
        print(
            f"| {row['name']} ({row['code']}) | {row['communes']} | {row['max_time_min']:.1f} | {row['max_commune']} "
            f"| {row['above_3x_neighbours']} | {row['implausible_times']} | {row['misplaced_points']} |"
        )


if __name__ == "__main__":
    main()
