"""One complete run folder for a scenario run: its outputs, ``summary.json`` and ``run.json``, atomically.

Shared by ``maillage run`` and the per-département fan-out, so that a folder written by either is
the same, and a restarted fan-out can tell a complete folder from a stale one by its ``run.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from planner.data.france import DEFAULT_TERRITORY, FRANCE_DIR
from planner.runs.folders import file_record, run_folder, versions, write_json
from planner.runs.pipeline import ScenarioRun, write_scenario
from planner.scenario import Scenario


def scenario_inputs(scenario: Scenario, scenario_file: Path | None = None) -> dict[str, object]:
    """The input files of a scenario (packaged data first) with their sizes and SHA-256, for ``run.json``."""
    files = [scenario.resolve(p) for p in (scenario.territory.zones, scenario.travel.network) if p]
    files += [scenario.resolve(p) for p in scenario.services.files]
    if scenario_file:
        files.append(scenario_file)
    packaged = (
        FRANCE_DIR / "communes.parquet"
        if scenario.territory.departement or scenario.territory.epci or scenario.territory.insee
        else DEFAULT_TERRITORY
    )
    return {"files": [file_record(p) for p in [packaged, *files]]}


def parameters(scenario: Scenario) -> dict[str, object]:
    """The scenario's parameters exactly as ``run.json`` stores them (JSON types)."""
    return dict(json.loads(json.dumps(scenario.model_dump(mode="json"))))


def write_run(
    out: Path,
    outputs: Callable[[Path], tuple[list[str], dict[str, object]]],
    *,
    started: datetime,
    command: Sequence[str],
    scenario: Scenario,
    inputs: dict[str, object],
    travel: dict[str, object],
    timings_s: dict[str, float],
) -> list[str]:
    """The one writer of a run folder: ``outputs(folder)`` writes the files and returns them with the
    summary; then ``summary.json`` and ``run.json`` (when, how, on which inputs (hashed), parameters,
    versions, timings, outputs), all in one rename. ``timings_s`` gains the ``write`` time.
    """
    clock = time.perf_counter()
    with run_folder(out) as folder:
        files, summary = outputs(folder)
        write_json(folder / "summary.json", summary)
        timings_s["write"] = time.perf_counter() - clock
        record: dict[str, object] = {
            "started_utc": started.isoformat(timespec="seconds"),
            "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": list(command),
            "inputs": inputs,
            "parameters": parameters(scenario),
            "travel": travel,
            "versions": versions(),
            "timings_s": timings_s,
            "outputs": [*files, "summary.json", "run.json"],
        }
        write_json(folder / "run.json", record)
    return files


def write_scenario_run(
    run: ScenarioRun,
    out: Path,
    lang: str,
    *,
    started: datetime,
    command: Sequence[str],
    scenario_file: Path | None = None,
) -> list[str]:
    """Write ``run``'s outputs, ``summary.json`` and ``run.json`` into ``out`` in one rename; return the files."""
    return write_run(
        out,
        lambda folder: write_scenario(run, folder, lang),
        started=started,
        command=command,
        scenario=run.scenario,
        inputs=scenario_inputs(run.scenario, scenario_file),
        travel=run.coverage.travel,
        timings_s=run.timings_s,
    )
