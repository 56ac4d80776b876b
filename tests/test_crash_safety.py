"""Crash safety: a ``maillage`` run killed with SIGKILL never damages the previous complete output.

Runs write into a hidden sibling ``.<out>.part-<pid>-<id>`` and swap it with ``<out>`` in one atomic
rename when complete. A kill (which no handler can catch) leaves ``<out>`` exactly as it was; the
hidden partial folder of the dead process is removed by the next run into the same place.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planner.runs.folders import run_folder

ROOT = Path(__file__).resolve().parents[1]
MAILLAGE = Path(sys.executable).with_name("maillage")
BUS = ROOT / "scenarios" / "lozere-bus.yaml"
MARKETS = ROOT / "scenarios" / "lozere-markets.yaml"


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _maillage(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(MAILLAGE), *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


@pytest.fixture(scope="module")
def previous(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete output of the default coverage run, made once."""
    folder = tmp_path_factory.mktemp("previous") / "out"
    done = subprocess.run(
        [str(MAILLAGE), "run", str(ROOT / "scenarios" / "lozere-coverage.yaml"), "--out", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return folder


def _copy(previous: Path, parent: Path) -> Path:
    out = parent / "out"
    out.mkdir()
    for name, _ in _tree(previous).items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes((previous / name).read_bytes())
    return out


def _wait_for(condition: object, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert process.poll() is None, "the run ended before it could be killed at the chosen moment"
        assert time.monotonic() < deadline, "the chosen moment never came"
        time.sleep(0.005)


@pytest.mark.parametrize("moment", ["while solving", "while writing its outputs"])
def test_sigkill_keeps_the_previous_output(tmp_path: Path, previous: Path, moment: str) -> None:
    """SIGKILL a run over a complete output: that output is intact, no partial folder is left behind."""
    out = _copy(previous, tmp_path)
    before = _tree(out)
    assert "summary.json" in before and "coverage.gpkg" in before
    if moment == "while writing its outputs":  # the temporary folder exists and is being filled
        process = _maillage("rounds", str(BUS), "--time-limit", "20", "--out", str(out))
    else:  # a joint markets plan: separate rounds and rooms, then the joint search, for tens of seconds
        process = _maillage("markets", str(MARKETS), "--time-limit", "20", "--out", str(out))
    try:
        if moment == "while writing its outputs":
            _wait_for(lambda: any(p.rglob("*.csv") for p in tmp_path.glob(".out.part-*")), process, 120)
        else:
            time.sleep(4)  # territory and matrices done, the solvers searching
            assert process.poll() is None and not list(tmp_path.glob(".out.part-*"))
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert _tree(out) == before, "the previous output changed"
    visible = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert visible == ["out"], f"a partial output is visible: {visible}"
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert all(f".part-{process.pid}-" in p.name for p in leftovers), leftovers  # only the dead run's own
    with run_folder(out) as folder:  # the next run into the same place sweeps what the dead one left
        (folder / "summary.json").write_text("{}")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert _tree(out).keys() == {"summary.json"}


def test_a_failure_inside_the_run_folder_keeps_the_previous_output(tmp_path: Path, previous: Path) -> None:
    """An exception while writing removes the partial folder and keeps the previous output."""
    out = _copy(previous, tmp_path)
    before = _tree(out)
    with pytest.raises(OSError), run_folder(out) as folder:
        (folder / "summary.json").write_text("half")
        raise OSError("disk full")
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_previous_output_set_aside_is_put_back(tmp_path: Path, previous: Path) -> None:
    """Where the two-step replacement is used (no atomic swap), a kill between the steps loses nothing."""
    out = _copy(previous, tmp_path)
    before = _tree(out)
    out.rename(tmp_path / ".out.old-deadbeef")  # what a kill between the two renames leaves
    with pytest.raises(RuntimeError), run_folder(out):
        raise RuntimeError("stop before replacing")
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
