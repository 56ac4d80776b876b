"""What the app's pages share: headline figures, the scenario files, and runs kept in the session.

A run from the app is the CLI's run: :func:`planner.runs.pipeline.run_scenario`, then
:func:`planner.runs.record.write_scenario_run` writes the same folder (outputs, ``summary.json``,
``run.json`` with the inputs' SHA-256) into a temporary folder, which is zipped for download.
Nothing here knows about widgets: the pages' layout is in ``app.py``.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import tempfile
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict

from planner._errors import InputError
from planner.app.uploads import read_scenario
from planner.i18n import LABELS, date_text, label, message_text, number, percent, weekday

if TYPE_CHECKING:
    import altair as alt
    import folium
    import pandas as pd

    from planner.jobs.coverage import CoverageResult
    from planner.runs.pipeline import ScenarioRun
    from planner.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS_DIR = ROOT / "scenarios"
MAX_RUNS_KEPT = 10
APP_COMMAND = ["maillage", "app"]  # the ``command`` of an app run's run.json
MAPS = (
    "rounds/map.html",
    "siting/map.html",
    "rooms/map.html",
    "plan/map.html",
    "map.html",
    "markets/bussoservice/carte.html",
    "markets/tournees/map.html",
)


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
    detail = (
        f"{label('ind_gap', lang)} {percent(k['gap'], lang)} · {time_s} s · {label('seed_short', lang)} {k['seed']}"
    )
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


# --- tables as shown ------------------------------------------------------------------------------

FRENCH_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
HALF_DAY_KEYS = {"matin": "half_day_morning", "après-midi": "half_day_afternoon"}
COORDINATES = ("lat", "lon")
COLUMN_KEYS = {
    "day_name": "day",
    "kind": "kind",
    "start": "start",
    "end": "end",
    "site_id": "col_premises_id",
    "service": "service",
}


def _decimals(values: list[float]) -> int:
    """How many decimals a column of numbers needs (0 for whole numbers, at most 2)."""
    finite = [v for v in values if math.isfinite(v)]
    for decimals in range(3):
        if all(abs(v * 10**decimals - round(v * 10**decimals)) < 1e-6 for v in finite):
            return decimals
    return 2


def _cells(column: str, values: list[object], lang: str) -> list[object]:
    """One column's cells as ``lang`` writes them: numbers, dates, weekdays, half-days, reasons, kinds."""
    if column in COORDINATES:
        return [number(float(v), lang, 5) if isinstance(v, (int, float)) else v for v in values]  # type: ignore[arg-type]
    if column == "date":
        return [date_text(str(v), lang, "numeric") if v else "" for v in values]
    if column == "day_name":
        return [weekday(FRENCH_WEEKDAYS.index(str(v)) + 1, lang) if v in FRENCH_WEEKDAYS else v for v in values]
    if column == "half_day":
        return [label(HALF_DAY_KEYS[str(v)], lang) if v in HALF_DAY_KEYS else v for v in values]
    if column == "reason":
        return [message_text(str(v), lang) for v in values]
    if column == "kind":
        return [label(f"site_{v}", lang) if f"site_{v}" in LABELS[lang] else v for v in values]
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if numbers and len(numbers) == len([v for v in values if v is not None]):
        decimals = _decimals([float(v) for v in numbers])  # type: ignore[arg-type]
        return [
            number(float(v), lang, decimals) if isinstance(v, (int, float)) and math.isfinite(v) else "" for v in values
        ]  # type: ignore[arg-type]
    return values


def display_table(table: pd.DataFrame, lang: str, names: dict[str, str] | None = None) -> pd.DataFrame:
    """A result table as the app shows it: headers in ``lang`` (``col_<column>`` labels, or ``names``: column ->
    label key), numbers, dates and weekdays as ``lang`` writes them; geometry dropped."""
    import pandas as pd

    shown = pd.DataFrame(table.drop(columns=[c for c in ("geometry",) if c in table.columns]))
    data = {}
    for column in shown.columns:
        values = [None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in shown[column].tolist()]
        key = (names or {}).get(str(column)) or COLUMN_KEYS.get(str(column), f"col_{column}")
        header = label(key, lang) if key in LABELS[lang] else str(column)
        data[header] = _cells(str(column), values, lang)
    return pd.DataFrame(data, columns=list(data))


VEGA_LOCALES: dict[str, dict[str, Any]] = {  # d3 number and time locales for the charts (Vega-Lite ``config.locale``)
    "fr": {
        "number": {"decimal": ",", "thousands": "\u202f", "grouping": [3], "currency": ["", "\u00a0€"]},
        "time": {
            "dateTime": "%A %e %B %Y à %X",
            "date": "%d/%m/%Y",
            "time": "%H:%M:%S",
            "periods": ["AM", "PM"],
            "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
            "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
            "months": [
                "janvier", "février", "mars", "avril", "mai", "juin",
                "juillet", "août", "septembre", "octobre", "novembre", "décembre",
            ],
            "shortMonths": [
                "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.",
            ],
        },
    },
    "en": {"number": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["€", ""]}},
}  # fmt: skip


def localised(chart: alt.TopLevelMixin, lang: str) -> alt.TopLevelMixin:
    """A chart whose axes and tooltips write numbers (and dates) as ``lang`` does."""
    return chart.configure(locale=VEGA_LOCALES[lang])


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
    seed_text = f"{label('seed_short', lang)} {seed}"
    name = f"#{number_} {scenario.name} — {number(limit, lang)} s, {seed_text} ({dt.datetime.now():%H:%M:%S})"
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
