"""National coverage: `maillage coverage --france` end to end, wall clock, as a user runs it.

Every commune of France (34,870 after the packaged data's gaps) against the canton seats, then
against the ANCT France Services list (../shared/data/services), stated estimate, thresholds 20/30.
Each configuration runs ``--repeat`` times in a fresh process (imports included); the stage timings
come from the run's ``run.json``.

    .venv/bin/python bench/national.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRANCE_SERVICES = ROOT.parent / "shared" / "data" / "services" / "france_services_20240801.csv"
CONFIGURATIONS = {
    "canton seats": [],
    "France Services list": ["--sites", str(FRANCE_SERVICES), "--no-canton-seats"],
}


def run_once(options: list[str], out: Path) -> tuple[float, dict[str, float], int]:
    """Wall seconds of one `maillage coverage --france` process, its stage timings and the map's bytes."""
    command = [sys.executable, "-m", "planner.cli", "coverage", "--france", "--out", str(out), *options]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    wall = time.perf_counter() - start
    timings = json.loads((out / "run.json").read_text())["timings_s"]
    return wall, timings, (out / "map.html").stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")
    print("| services | wall s (median of runs) | runs | territory s | travel times s | tables s | write s | map MB |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, options in CONFIGURATIONS.items():
            runs = [run_once(options, Path(tmp) / f"{name.replace(' ', '-')}-{i}") for i in range(args.repeat)]
            walls = [w for w, _, _ in runs]
            timings, size = runs[-1][1], runs[-1][2]
            print(
                f"| {name} | {statistics.median(walls):.1f} | {', '.join(f'{w:.1f}' for w in walls)} "
                f"| {timings['territory']:.2f} | {timings['travel_times']:.3f} | {timings['coverage']:.2f} "
                f"| {timings['write']:.2f} | {size / 1e6:.1f} |"
            )


if __name__ == "__main__":
    main()
