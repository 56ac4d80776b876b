"""(Re)write the reference outputs of `make demo` that tests/test_reference_outputs.py compares with.

Run from the project root, with the project's Python:

    python tests/reference/update.py

It runs the three commands of `make demo` (in-process, as the test does) into a temporary folder and
writes their summaries and tables, normalised by :func:`normalise`, to tests/reference/<scenario>/.
A change that alters outputs on purpose updates the reference in the same commit.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path(__file__).resolve().parent

# The commands of `make demo`: (command, scenario file, output folder under outputs/ and here)
DEMO = (
    ("run", "lozere-coverage.yaml", "lozere-coverage"),
    ("rounds", "lozere-bus.yaml", "lozere-bus"),
    ("rooms", "lozere-rooms.yaml", "lozere-rooms"),
)

# What is compared: the summaries and the tables. Left out: map.html (folium draws random element ids),
# the GeoPackages (binary), run.json (timings, dates, versions and absolute paths throughout),
# the iCalendar files and the printable HTML sheets.
COMPARED = ("summary.json", "*.csv", "*.geojson")

# Written to summary.json when the solver's wall-clock guard, not its work limit, ended a search:
# that plan depends on the machine's load, so it cannot be a reference.
WALL_CLOCK_NOTE = "the wall-clock limit ended"

_TIMING = re.compile(r'("solve_time_s": )[^,\n}]+')


def normalise(name: str, text: str) -> str:
    """The text of output file ``name`` with the solve's wall-clock time blanked, everything else as written.

    The only field of the compared files that depends on the machine is ``solve_time_s`` (seconds
    of wall clock the solver took) in the ``rounds`` and ``rooms`` sections of ``summary.json``:
    its value becomes ``null``, its key stays. The status, objective, bound, gap and seed stay as
    they are: with a seed the plan must be the same. Nothing else is touched, so a new field that
    varies from run to run makes the test fail until it is named here.

    >>> normalise("summary.json", '{"rounds": {"solve_time_s": 38.61, "seed": 1}}')
    '{"rounds": {"solve_time_s": null, "seed": 1}}'
    >>> normalise("visits.csv", "solve_time_s,1\\n")
    'solve_time_s,1\\n'
    """
    if name.endswith(".json"):
        return _TIMING.sub(r"\1null", text)
    return text


def collect(folder: Path) -> dict[str, str]:
    """The compared files of one output folder, by path relative to it (``/``-separated), normalised."""
    files = sorted({path for pattern in COMPARED for path in folder.rglob(pattern)})
    return {
        path.relative_to(folder).as_posix(): normalise(path.name, path.read_bytes().decode("utf-8")) for path in files
    }


def run_demo(command: str, scenario: str, out: Path) -> None:
    """Run ``maillage <command> scenarios/<scenario> --out <out>`` in-process; AssertionError if it fails."""
    from typer.testing import CliRunner  # imported here: the script first puts this tree on sys.path

    from planner.cli import app

    result = CliRunner().invoke(
        app, [command, str(ROOT / "scenarios" / scenario), "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output


def main() -> None:
    """Run each scenario and replace its folder of reference files."""
    sys.path.insert(0, str(ROOT))  # this tree's planner/, not the one an editable install points to
    with tempfile.TemporaryDirectory() as tmp:
        for command, scenario, name in DEMO:
            print(f"maillage {command} scenarios/{scenario}", flush=True)
            out = Path(tmp) / name
            run_demo(command, scenario, out)
            files = collect(out)
            if WALL_CLOCK_NOTE in files["summary.json"]:
                sys.exit(f"{name}: {WALL_CLOCK_NOTE}; reference not written, run again on a quieter machine")
            target = REFERENCE / name
            shutil.rmtree(target, ignore_errors=True)
            for relative, text in files.items():
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                (target / relative).write_bytes(text.encode("utf-8"))
            print(f"  {len(files)} files -> {target.relative_to(ROOT)}/", flush=True)


if __name__ == "__main__":
    main()
