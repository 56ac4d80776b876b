"""Tests for planner.runs.folders: run folders appear complete or not at all."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from planner.runs.folders import run_folder, write_json

PREVIOUS_RUN = '{"outputs": ["old.txt"]}'  # the run.json by which Maillage knows a folder it wrote


def test_success_replaces_the_previous_folder(tmp_path):
    """A completed run replaces the old folder in one rename and leaves no temporary folder."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    (out / "run.json").write_text(PREVIOUS_RUN)
    with run_folder(out) as folder:
        (folder / "new.txt").write_text("new")
        assert not (out / "new.txt").exists()  # invisible until complete
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert [p.name for p in out.iterdir()] == ["new.txt"]


def test_failure_leaves_the_previous_folder(tmp_path):
    """An exception inside the run removes the partial folder and keeps the previous one."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    (out / "run.json").write_text(PREVIOUS_RUN)
    with pytest.raises(RuntimeError), run_folder(out) as folder:
        (folder / "half.txt").write_text("half")
        raise RuntimeError("solver crashed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert (out / "old.txt").read_text() == "old"


def test_killed_run_leaves_the_previous_folder(tmp_path):
    """SIGKILL halfway through a run: the previous output is intact and no partial output is visible."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    (out / "run.json").write_text(PREVIOUS_RUN)
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from planner.runs.folders import run_folder
        with run_folder(Path({str(out)!r})) as folder:
            (folder / "half.txt").write_text("half")
            print("writing", flush=True)
            time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "writing"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    assert (out / "old.txt").read_text() == "old" and not (out / "half.txt").exists()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "run"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".run.part-")  # hidden, never taken for a result
    with run_folder(out) as folder:  # the next run clears what the killed one abandoned
        (folder / "new.txt").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_json_has_no_nan_or_infinity(tmp_path):
    """NaN and inf become null, numpy numbers plain numbers, paths text: any JSON reader accepts it."""
    path = tmp_path / "x.json"
    write_json(path, {"a": math.nan, "b": np.float32(np.inf), "c": np.int64(3), "d": Path("x"), "e": {30: 1.5}})
    assert json.loads(path.read_text()) == {"a": None, "b": None, "c": 3, "d": "x", "e": {"30": 1.5}}
    assert "NaN" not in path.read_text()
