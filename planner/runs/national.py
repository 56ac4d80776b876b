"""A national coverage run folder: the national outputs, ``summary.json`` and ``run.json`` in one rename."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from planner.data.france import FRANCE_DIR
from planner.exports.national import write_national
from planner.jobs.national import NationalCoverage
from planner.runs.folders import file_record, run_folder, write_json
from planner.runs.record import run_record
from planner.scenario import Scenario


def national_inputs(scenario: Scenario) -> list[Path]:
    """The files a national run reads: no output folder may replace them."""
    return [FRANCE_DIR, *(scenario.resolve(p) for p in scenario.services.files)]


def write_national_run(
    national: NationalCoverage,
    scenario: Scenario,
    out: Path,
    lang: str,
    *,
    started: datetime,
    command: Sequence[str],
    force: bool = False,
) -> list[str]:
    """Write the national outputs, ``summary.json`` and ``run.json`` into ``out`` in one rename."""
    clock = time.perf_counter()
    result = national.coverage
    with run_folder(out, force=force, protect=national_inputs(scenario)) as folder:
        files = write_national(national, folder, lang)
        write_json(
            folder / "summary.json",
            {
                **result.summary,
                "travel": result.travel,
                "regions": national.regions.to_dict(orient="records"),
                "departements": national.departements.to_dict(orient="records"),
            },
        )
        result.timings_s["write"] = time.perf_counter() - clock
        inputs = [FRANCE_DIR / "communes.parquet", *(scenario.resolve(p) for p in scenario.services.files)]
        write_json(
            folder / "run.json",
            run_record(
                started=started,
                command=command,
                inputs={"files": [file_record(p) for p in inputs]},
                scenario=scenario,
                travel=result.travel,
                timings_s=result.timings_s,
                outputs=[*files, "summary.json", "run.json"],
            ),
        )
    return files
