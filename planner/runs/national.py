"""A national coverage run folder: the national outputs, ``summary.json`` and ``run.json`` in one rename."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from planner.data.france import FRANCE_DIR
from planner.exports._safe import csv_format_for
from planner.exports.formats import write_formats
from planner.exports.national import NATIONAL_CRS_TEXT, write_national
from planner.exports.readme import write_readme
from planner.jobs.national import NationalCoverage
from planner.runs.folders import file_record
from planner.runs.record import RunFacts, write_run
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
    result = national.coverage

    def outputs(folder: Path) -> tuple[list[str], dict[str, object]]:
        summary = {
            **result.summary,
            "travel": result.travel,
            "regions": national.regions.to_dict(orient="records"),
            "departements": national.departements.to_dict(orient="records"),
        }
        files = write_national(national, folder, lang, csv_format=scenario.csv_format)
        files += write_formats(folder, files, scenario.formats)
        fmt = csv_format_for(lang, scenario.csv_format)
        files.append(write_readme(folder, files, lang, csv_format=fmt, crs=NATIONAL_CRS_TEXT[lang]))
        return files, summary

    inputs = [FRANCE_DIR / "communes.parquet", *(scenario.resolve(p) for p in scenario.services.files)]
    files: dict[str, object] = {"files": [file_record(p) for p in inputs]}
    return write_run(
        out,
        outputs,
        RunFacts(started, command, scenario, files, result.travel, result.timings_s),
        force=force,
        protect=national_inputs(scenario),
    )
