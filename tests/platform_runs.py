"""Run folders for the platform's tests: the reference Lozère visits and bookings, edited at will."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

from planner.exports._safe import read_csv

REFERENCE = Path(__file__).with_name("reference")
Rows = list[dict[str, str]]


def _table(path: Path) -> Rows:
    """A reference table (French Excel CSV) as rows of text, numbers with a decimal point."""
    table = read_csv(path, keep_default_na=False)
    return [{column: str(value) for column, value in row.items()} for row in table.to_dict(orient="records")]


def visits() -> Rows:
    """The rows of the reference bus rounds' ``visits.csv`` (2 buses, 2 weeks)."""
    return _table(REFERENCE / "lozere-bus" / "rounds" / "visits.csv")


def bookings() -> Rows:
    """The rows of the reference rooms' ``reservations.csv``."""
    return _table(REFERENCE / "lozere-rooms" / "rooms" / "reservations.csv")


def _write(path: Path, rows: Rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def run_folder(
    folder: Path,
    *,
    name: str = "Lozère",
    edit_visits: Callable[[Rows], Rows] | None = None,
    edit_bookings: Callable[[Rows], Rows] | None = None,
    rounds: bool = True,
    rooms: bool = True,
) -> Path:
    """A run folder like ``maillage run`` writes, with the reference tables (edited by the callables)."""
    folder.mkdir(parents=True, exist_ok=True)
    if rounds:
        _write(folder / "rounds" / "visits.csv", (edit_visits or (lambda r: r))(visits()))
    if rooms:
        _write(folder / "rooms" / "reservations.csv", (edit_bookings or (lambda r: r))(bookings()))
    record = {
        "started_utc": "2026-12-01T09:00:00+00:00",
        "finished_utc": "2026-12-01T09:00:12+00:00",
        "command": ["maillage", "run", "scenarios/lozere.yaml"],
        "inputs": {"files": [{"path": "communes.parquet", "sha256": "ab" * 32, "bytes": 1}]},
        "parameters": {"name": name, "rounds": {"horizon_weeks": 2}, "rooms": {}},
    }
    (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps({"rounds": {"stops": 23}}), encoding="utf-8")
    return folder
