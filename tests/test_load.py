"""Load, scaled down for CI: the Streamlit app serves concurrent browser sessions while one runs a scenario.

The same driver as ``bench/load_app.py`` (whose 20-session figures are in ``bench/RESULTS.md``),
with 4 sessions: one plans the bus rounds, three open the coverage page and change the target.
Needs ``/usr/bin/chromium`` and playwright, like ``tests/test_browser.py``; never skipped.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _load_bench():
    """Import bench/load_app.py (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_load_app", ROOT / "bench" / "load_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


load_app = _load_bench()


def test_concurrent_sessions_while_a_scenario_runs(tmp_path: Path) -> None:
    """4 sessions at once, one running the rounds: every step of every session completes, none errors."""
    if not Path(load_app.CHROMIUM).exists():
        pytest.fail(f"{load_app.CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    with load_app.heavy_lock():  # not while tests/test_guard_rails.py measures solve times
        server, url = load_app.start_app(tmp_path / "server.log")
        try:
            report = load_app.run_load(url, sessions=4, rounds=2, solve_s=5, server_pid=server.pid)
        finally:
            load_app.stop_app(server)
    assert report.errors == [], "\n".join(report.errors)
    assert report.steps["open coverage page, map drawn"]["n"] == 3
    assert report.steps["change target, headline updated"]["n"] == 6
    assert report.steps["run the bus rounds scenario"]["n"] == 1 and report.scenario_run_s is not None
