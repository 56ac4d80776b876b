"""Load, scaled down for CI: the Streamlit app serves concurrent browser sessions while one runs a scenario.

The same driver as ``bench/load_app.py`` (whose 20-session figures are in ``bench/RESULTS.md``),
with 4 sessions: one plans the bus rounds, three open the coverage page and change the target.
Needs ``/usr/bin/chromium`` and playwright, like ``tests/test_browser.py``; never skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._bench import load_bench

pytestmark = pytest.mark.slow


load_app = load_bench("load_app")


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
