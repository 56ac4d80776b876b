"""Ctrl-C (SIGINT) or SIGTERM while CP-SAT plans the rounds: the solver stops at once, nothing is written
(the previous output stays byte for byte, no part folder is left), exit code 130, one line on stderr.

The run is a real ``maillage rounds`` process; a wrapper around the solver's constructor prints a line
when the search is about to start, so the signal lands while the solver runs in native code.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli import INTERRUPTED, app

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BUS = ROOT / "scenarios" / "lozere-bus.yaml"
CHILD = textwrap.dedent("""
    import sys
    import optimize.rounds
    from planner.cli import app

    build = optimize.rounds.cp_sat

    def announced(*args, **kwargs):
        print("SOLVING", flush=True)
        return build(*args, **kwargs)

    optimize.rounds.cp_sat = announced
    sys.argv = ["maillage", *sys.argv[1:]]
    app()
""")


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_the_solve_stops_it_and_keeps_the_previous_output(tmp_path: Path, signum: int) -> None:
    """Exit 130 within seconds of the signal (the limit is 120 s), one line, the previous output untouched."""
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["coverage", "--out", str(out)]).exit_code == 0
    before = _tree(out)
    command = [sys.executable, "-c", CHILD, "rounds", str(BUS), "--time-limit", "120", "--out", str(out)]
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "SOLVING"
        time.sleep(0.5)  # CP-SAT is searching
        assert child.poll() is None
        sent = time.perf_counter()
        child.send_signal(signum)
        stdout, stderr = child.communicate(timeout=60)
        stopped_s = time.perf_counter() - sent
    finally:
        child.kill()
    assert child.returncode == 130, stderr
    assert stopped_s < 10, f"the solver went on for {stopped_s:.1f} s after the signal"
    assert stderr == INTERRUPTED + "\n", stderr  # one line
    assert stdout == ""
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
