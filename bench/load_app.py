"""Load test of the Streamlit app: N concurrent browser sessions while one of them plans the bus rounds.

Starts ``maillage app`` on a free loopback port, opens N sessions (one headless Debian
chromium, one browser context per session, all at once), and in each session:

* session 0 opens the rounds page and runs the default scenario (``lozere-bus.yaml``, ``--solve-s``);
* every other session loads the coverage page until the Lozère map is drawn, then ``--rounds``
  times changes the access target (30 -> 20 -> 30 ...) and waits for the reclassified headline.

An error is a Streamlit exception box, an error alert, a JavaScript page error, or a step that
times out. Prints (and with ``--json`` writes) the sessions, errors, latency percentiles and the
scenario run's time::

    .venv/bin/python bench/load_app.py --sessions 20 --rounds 3 --solve-s 10 --json bench/results/load_app.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
MAP_SELECTOR = "path.leaflet-interactive"
NNBSP = "\u202f"
STEP_TIMEOUT_MS = 180_000  # one step under 20 sessions on 2 cores


@dataclass
class Session:
    """What one session did: its step latencies (seconds) and its errors."""

    number: int
    role: str
    latencies_s: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    """The whole run: sessions, errors, latency percentiles per step, the scenario run's time."""

    sessions: int
    rounds: int
    solve_s: float
    wall_s: float
    errors: list[str]
    steps: dict[str, dict[str, float]]
    scenario_run_s: float | None
    server_rss_mb: float | None
    machine: dict[str, object]


@contextlib.contextmanager
def heavy_lock() -> Iterator[None]:
    """Hold the lock that keeps this suite's two CPU-heavy timing tests (load, guard rails) from overlapping."""
    path = Path(tempfile.gettempdir()) / "maillage-heavy-tests.lock"
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def start_app(log: Path, timeout_s: float = 60) -> tuple[subprocess.Popen[bytes], str]:
    """``maillage app`` on a free loopback port; returns the process and its URL once healthy."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).with_name("maillage")), "app", "--port", str(port)]
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    started = time.perf_counter()
    while not _healthy(url):
        if server.poll() is not None or time.perf_counter() - started > timeout_s:
            stop_app(server)
            raise RuntimeError(f"streamlit did not start:\n{log.read_text()}")
        time.sleep(0.05)
    return server, url


def stop_app(server: subprocess.Popen[bytes]) -> None:
    """Stop the server (terminate, then kill after 10 s)."""
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):  # peak resident set size
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 2)


async def _check_page(page: Any, session: Session, step: str) -> None:
    """Record Streamlit exceptions and error alerts shown in the page."""
    for test_id in ("stException", "stAlertContentError"):
        boxes = page.get_by_test_id(test_id)
        if await boxes.count():
            session.errors.append(f"session {session.number}, {step}: {test_id}: {await boxes.first.inner_text()}")


async def _timed(session: Session, step: str, work: Any) -> None:
    started = time.perf_counter()
    try:
        await work
    except Exception as exc:  # a timeout or a missing element is a failed step, recorded, not raised
        session.errors.append(f"session {session.number}, {step}: {type(exc).__name__}: {str(exc)[:300]}")
        return
    session.latencies_s.setdefault(step, []).append(time.perf_counter() - started)


async def _coverage_session(browser: Any, url: str, session: Session, rounds: int) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1280, "height": 1100})
    page = await context.new_page()
    page.on("pageerror", lambda exc: session.errors.append(f"session {session.number}: page error {exc}"))
    map_path = page.frame_locator('[data-testid="stIFrame"]').first.locator(MAP_SELECTOR).first

    async def open_page() -> None:
        await page.goto(url, timeout=STEP_TIMEOUT_MS)
        await map_path.wait_for(state="attached", timeout=STEP_TIMEOUT_MS)

    await _timed(session, "open coverage page, map drawn", open_page())
    await _check_page(page, session, "open")
    for turn in range(rounds):
        target, beyond, count = (20, "Au-delà de 20 min", "51") if turn % 2 == 0 else (30, "Au-delà de 30 min", "13")

        async def change_target(target: int = target, beyond: str = beyond, count: str = count) -> None:
            field_ = page.get_by_label("Objectif (min)", exact=True)
            await field_.fill(str(target))
            await field_.press("Enter")
            label = page.get_by_test_id("stMetricLabel").get_by_text(beyond, exact=True)
            value = page.get_by_test_id("stMetric").filter(has=label).get_by_test_id("stMetricValue")
            await expect(value).to_have_text(count.replace(" ", NNBSP), timeout=STEP_TIMEOUT_MS)

        await _timed(session, "change target, headline updated", change_target())
        await _check_page(page, session, f"target {target}")
    await context.close()


async def _rounds_session(browser: Any, url: str, session: Session, solve_s: float) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1280, "height": 1100})
    page = await context.new_page()
    page.on("pageerror", lambda exc: session.errors.append(f"session {session.number}: page error {exc}"))

    async def run() -> None:
        await page.goto(url, timeout=STEP_TIMEOUT_MS)
        await page.get_by_test_id("stSidebar").get_by_text("Tournées", exact=True).click(timeout=STEP_TIMEOUT_MS)
        combo = page.get_by_role("combobox", name="Scénario")
        await expect(combo).to_have_value("lozere-bus.yaml", timeout=STEP_TIMEOUT_MS)
        limit = page.get_by_label("Temps de calcul maximal (s)", exact=True)
        await limit.fill(str(int(solve_s)))
        await limit.press("Enter")
        await page.get_by_role("button", name="Lancer").click(timeout=STEP_TIMEOUT_MS)
        label = page.get_by_test_id("stMetricLabel").get_by_text("km par semaine")
        await label.wait_for(timeout=STEP_TIMEOUT_MS + int(solve_s * 1000))

    await _timed(session, "run the bus rounds scenario", run())
    await _check_page(page, session, "rounds run")
    await context.close()


async def _load(url: str, sessions: int, rounds: int, solve_s: float) -> list[Session]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        people = [Session(0, "rounds")] + [Session(i, "coverage") for i in range(1, sessions)]
        work = [_rounds_session(browser, url, people[0], solve_s)]
        work += [_coverage_session(browser, url, s, rounds) for s in people[1:]]
        await asyncio.gather(*work)
        await browser.close()
    return people


def run_load(url: str, *, sessions: int, rounds: int, solve_s: float, server_pid: int | None = None) -> LoadReport:
    """Drive ``sessions`` concurrent sessions against the app at ``url``; the report of what happened."""
    started = time.perf_counter()
    people = asyncio.run(_load(url, sessions, rounds, solve_s))
    wall = time.perf_counter() - started
    steps: dict[str, list[float]] = {}
    for person in people:
        for step, values in person.latencies_s.items():
            steps.setdefault(step, []).extend(values)
    run = people[0].latencies_s.get("run the bus rounds scenario")
    return LoadReport(
        sessions=sessions,
        rounds=rounds,
        solve_s=solve_s,
        wall_s=round(wall, 1),
        errors=[e for p in people for e in p.errors],
        steps={
            step: {"n": len(v), "p50_s": _percentile(v, 50), "p95_s": _percentile(v, 95), "max_s": round(max(v), 2)}
            for step, v in steps.items()
        },
        scenario_run_s=round(run[0], 1) if run else None,
        server_rss_mb=_rss_mb(server_pid) if server_pid else None,
        machine={"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    )


def main() -> None:
    """Command line: start the app, drive it, print and optionally write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="target changes per coverage session")
    parser.add_argument("--solve-s", type=float, default=10.0, help="time limit of the scenario run")
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / "maillage-load-app.log"
    server, url = start_app(log)
    try:
        report = run_load(url, sessions=args.sessions, rounds=args.rounds, solve_s=args.solve_s, server_pid=server.pid)
    finally:
        stop_app(server)
    text = json.dumps(asdict(report), indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    sys.exit(1 if report.errors else 0)


if __name__ == "__main__":
    main()
