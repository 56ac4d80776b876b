"""What the app's pages share: headline figures, the scenario files, and runs kept in the session.

A run from the app is the CLI's run: :func:`planner.runs.pipeline.run_scenario`, then
:func:`planner.runs.record.write_scenario_run` writes the same folder (outputs, ``summary.json``,
``run.json`` with the inputs' SHA-256) into a temporary folder, which is zipped for download.
Nothing here knows about widgets: the pages' layout is in ``app.py``.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypedDict

from planner._errors import InputError
from planner.app.uploads import read_scenario
from planner.i18n import LABELS, label, number, percent

if TYPE_CHECKING:
    import folium

    from planner.jobs.coverage import CoverageResult
    from planner.runs.pipeline import ScenarioRun
    from planner.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS_DIR = ROOT / "scenarios"
MAX_RUNS_KEPT = 10
APP_COMMAND = ["maillage", "app"]  # the ``command`` of an app run's run.json
MAPS = ("rounds/map.html", "siting/map.html", "rooms/map.html", "plan/map.html", "map.html")


class Metric(NamedTuple):
    """One headline figure: what ``st.metric`` shows."""

    label: str
    value: str
    help: str | None = None


def status_text(status: str, lang: str) -> str:
    """A solve status in words (``optimal``, ``feasible``...), translated when known."""
    key = f"status_{status}"
    return label(key, lang) if key in LABELS[lang] else status


class SolveKpis(TypedDict):
    """The solve figures every run's KPIs hold (rounds, rooms)."""

    status: str
    gap: float
    solve_time_s: float
    seed: int


def solve_metric(k: SolveKpis, lang: str) -> Metric:
    """The solve status of a rounds or rooms run, with its gap, time and seed."""
    time_s = number(k["solve_time_s"], lang, 1)
    detail = f"{label('ind_gap', lang)} {percent(k['gap'], lang)} · {time_s} s · seed {k['seed']}"
    return Metric(label("solve", lang), status_text(k["status"], lang), detail)


def target_of(run: ScenarioRun) -> float:
    """The run's coverage target (minutes)."""
    return float(run.coverage.summary["target_min"])


def base_map(coverage: CoverageResult, lang: str) -> folium.Map:
    """The coverage map a run's other layers are drawn over."""
    from planner.exports.maps import coverage_map

    s = coverage.summary
    return coverage_map(
        coverage.access, coverage.services, target_min=s["target_min"], travel=coverage.travel, lang=lang
    )


# --- scenarios -----------------------------------------------------------------------------------


def scenario_files(section: str, folder: Path = SCENARIOS_DIR) -> list[Path]:
    """The scenario files of ``folder`` that have a ``section`` (``rounds`` or ``siting``); broken ones skipped."""
    found = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            if getattr(read_scenario(path), section) is not None:
                found.append(path)
        except InputError:
            continue
    return found


# --- runs ----------------------------------------------------------------------------------------


@dataclass
class RunRecord:
    """One successful scenario run kept in the session: results, maps, and the zipped run folder."""

    number: int
    label: str
    run: ScenarioRun
    lang: str
    maps: dict[str, str] = field(default_factory=dict)
    zip_bytes: bytes = b""
    seconds: float = 0.0
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)


def execute(
    scenario: Scenario,
    number_: int,
    lang: str,
    progress: Callable[[str], None] = lambda _: None,
    *,
    scenario_file: Path | None = None,
) -> RunRecord:
    """Run the scenario as the CLI does, write its run folder into a temp dir; keep its maps and a zip of it."""
    from planner.runs.folders import default_out
    from planner.runs.pipeline import run_scenario
    from planner.runs.record import write_scenario_run

    started = dt.datetime.now(dt.UTC)
    run = run_scenario(scenario, progress=progress)
    progress("outputs")
    with tempfile.TemporaryDirectory(prefix="maillage-") as tmp:
        folder = Path(tmp) / default_out(scenario.name).name  # the CLI's default folder name
        write_scenario_run(run, folder, lang, started=started, command=APP_COMMAND, scenario_file=scenario_file)
        maps = {name: (folder / name).read_text(encoding="utf-8") for name in MAPS if (folder / name).exists()}
        zipped = zip_folder(folder)
    solved = scenario.rounds or scenario.siting or scenario.rooms
    limit, seed = (solved.time_limit_s, solved.seed) if solved else (0, 0)
    name = f"#{number_} {scenario.name} — {limit:g} s, seed {seed} ({dt.datetime.now():%H:%M:%S})"
    return RunRecord(number_, name, run, lang, maps, zipped, run.timings_s.get("total", 0.0))


def zip_folder(folder: Path) -> bytes:
    """The folder's files as a zip, under the folder's name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, Path(folder.name) / path.relative_to(folder))
    return buffer.getvalue()


def keep_run(runs: list[RunRecord], record: RunRecord) -> list[RunRecord]:
    """The runs kept in the session after adding ``record`` (the last ``MAX_RUNS_KEPT``)."""
    return [*runs, record][-MAX_RUNS_KEPT:]
