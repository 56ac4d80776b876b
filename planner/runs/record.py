"""One complete run folder for a scenario run: its outputs, ``summary.json`` and ``run.json``, atomically.

Shared by ``maillage run`` and the per-département fan-out, so that a folder written by either is
the same, and a restarted fan-out can tell a complete folder from a stale one by its ``run.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from planner.data.france import DEFAULT_TERRITORY, FRANCE_DIR
from planner.i18n import attribution
from planner.runs.folders import file_record, run_folder, versions, write_json
from planner.runs.pipeline import ScenarioRun, write_scenario
from planner.scenario import Scenario


def _packaged(scenario: Scenario) -> Path:
    territory = scenario.territory
    return (
        FRANCE_DIR / "communes.parquet"
        if territory.departement or territory.epci or territory.insee
        else DEFAULT_TERRITORY
    )


def scenario_inputs(scenario: Scenario, scenario_file: Path | None = None) -> dict[str, object]:
    """The input files of a scenario (packaged data first) with their sizes and SHA-256, for ``run.json``."""
    files = [scenario.resolve(p) for p in (scenario.territory.zones, scenario.travel.network) if p]
    files += [scenario.resolve(p) for p in scenario.services.files]
    if scenario_file:
        files.append(scenario_file)
    return {"files": [file_record(p) for p in [_packaged(scenario), *files]]}


def input_paths(scenario: Scenario, scenario_file: Path | None = None) -> list[Path]:
    """Every file and folder a run of ``scenario`` reads or keeps: no output folder may replace them."""
    paths = [scenario.territory.zones, scenario.travel.network, *scenario.services.files]
    paths += scenario.rounds.stops.files if scenario.rounds else []
    paths += scenario.siting.files if scenario.siting else []
    paths += scenario.rooms.premises.files if scenario.rooms else []
    found = [scenario.resolve(p) for p in paths if p is not None]
    found += [scenario.resolve(scenario.travel.cache_dir), _packaged(scenario)]
    return [*found, scenario_file] if scenario_file else found


def parameters(scenario: Scenario) -> dict[str, object]:
    """The scenario's parameters exactly as ``run.json`` stores them (JSON types)."""
    return dict(json.loads(json.dumps(scenario.model_dump(mode="json"))))


@dataclass(frozen=True)
class RunFacts:
    """What ``run.json`` records of a run besides its outputs: when, how, on what, with which travel model."""

    started: datetime
    command: Sequence[str]
    scenario: Scenario
    inputs: dict[str, object]
    travel: dict[str, object]
    timings_s: dict[str, float]


def write_run(
    out: Path,
    outputs: Callable[[Path], tuple[list[str], dict[str, object]]],
    facts: RunFacts,
    *,
    force: bool = False,
    protect: Iterable[Path] = (),
) -> list[str]:
    """The one writer of a run folder: ``outputs(folder)`` writes the files and returns them with the
    summary; then ``summary.json`` and ``run.json`` (when, how, on which inputs (hashed), parameters,
    versions, timings, outputs), all in one rename. ``facts.timings_s`` gains the ``write`` time.

    ``out`` is checked first (:func:`planner.runs.folders.check_out`: new, empty or a previous
    Maillage output, any folder with ``force``, never one holding a path of ``protect``).
    """
    clock = time.perf_counter()
    with run_folder(out, force=force, protect=protect) as folder:
        files, summary = outputs(folder)
        write_json(folder / "summary.json", summary)
        facts.timings_s["write"] = time.perf_counter() - clock
        record: dict[str, object] = {
            "started_utc": facts.started.isoformat(timespec="seconds"),
            "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": list(facts.command),
            "inputs": facts.inputs,
            "parameters": parameters(facts.scenario),
            "travel": facts.travel,
            "versions": versions(),
            "timings_s": facts.timings_s,
            "attribution": summary.get("attribution", attribution(facts.scenario.language)),
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
    force: bool = False,
) -> list[str]:
    """Write ``run``'s outputs, ``summary.json`` and ``run.json`` into ``out`` in one rename; return the files.

    ``out`` must be new, empty or a previous Maillage output (any folder with ``force``), and never
    one holding the scenario's inputs (:func:`planner.runs.folders.check_out`).
    """
    return write_run(
        out,
        lambda folder: write_scenario(run, folder, lang),
        RunFacts(
            started,
            command,
            run.scenario,
            scenario_inputs(run.scenario, scenario_file),
            run.coverage.travel,
            run.timings_s,
        ),
        force=force,
        protect=input_paths(run.scenario, scenario_file),
    )
