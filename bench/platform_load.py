"""Load test of `maillage serve` on this machine's loopback: pages and feeds, then a rush on one slot.

Publishes the reference Lozère plan (bus rounds and rooms, from ``tests/reference``) in a fresh database
(a SQLite file in a temporary folder, or ``--database-url``), starts a real uvicorn on 127.0.0.1 on a free
port (one process, as ``maillage serve`` runs), then:

1. ``--clients`` concurrent keep-alive connections fetch people's pages, then (a second pass) their
   calendar feeds, crews and providers in turn, back to back for ``--seconds`` each after a warm-up pass:
   latency p50, p95, max, errors. The client is ``wrk`` (C, one thread, epoll; Debian package ``wrk``),
   so that the load generator costs little of the 2 cores the server shares with it; ``--client python``
   uses one thread and one httpx connection per client instead (``--requests`` each, pages and feeds
   alternating), whose own CPU competes with the server;
2. every slot of one session's first day is booked but the last, and ``--attempts`` clients, each with its
   own form (cookie and signed token), post a booking of that last slot at the same moment: exactly one
   must get 201, every other 409 (full), none an error or no answer; the database must then hold exactly
   one appointment in that slot.

The booking rate limit is lifted for the run (all clients come from 127.0.0.1)::

    .venv/bin/python bench/platform_load.py --clients 50 --seconds 10 --attempts 100 \
        --json bench/results/platform_load.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.platform import appointments, db  # noqa: E402
from planner.platform.models import Appointment, EventRecord, Plan  # noqa: E402
from planner.platform.publish import publish, read_runs  # noqa: E402

REFERENCE = ROOT / "tests" / "reference"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _run_folder(folder: Path, part: str, table: str, name: str) -> Path:
    (folder / part).mkdir(parents=True)
    shutil.copy(REFERENCE / name / part / table, folder / part / table)
    record = {"command": ["bench"], "inputs": {}, "parameters": {"name": "Lozère", "rounds": {"horizon_weeks": 2}}}
    (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")
    return folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def _prepare(url: str, work: Path) -> tuple[list[str], int, str, str]:
    """Publish the plan; return people's links, a session's id and its last free slot (others booked)."""
    sessions = db.open_database(url)
    content = read_runs(
        [
            _run_folder(work / "bus", "rounds", "visits.csv", "lozere-bus"),
            _run_folder(work / "rooms", "rooms", "reservations.csv", "lozere-rooms"),
        ]
    )
    with db.transaction(sessions) as session:
        done = publish(session, content, territory="Lozère", by="bench")
        links = [link for person, link, _ in done.people if link and person.kind in ("crew", "provider")]
    with sessions() as session:
        event = session.scalars(
            select(EventRecord).where(EventRecord.kind == "session").order_by(EventRecord.id)
        ).first()
        assert event is not None
        plan = session.get(Plan, event.plan_id)
        assert plan is not None
        offered = [s for s in appointments.slots(session, event, plan) if s.day == event.day]
        event_id, uid = event.id, event.uid
    for slot in offered[:-1]:
        appointments.book(sessions, event_id, slot.key)
    sessions.kw["bind"].dispose()
    return links, event_id, offered[-1].key, uid


def start_service(
    url: str, extra_env: dict[str, str], *, workers: int = 1, cwd: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """A real uvicorn of ``maillage serve``'s app on the database ``url``, on a free port of 127.0.0.1, once it
    answers ``/health``; the process and its address."""
    port = _free_port()
    env = {**os.environ, "MAILLAGE_DATABASE_URL": url, **extra_env}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "--factory", "planner.platform.service:create_app"),
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-server-header"),
            *("--workers", str(workers)),
        ],
        env=env,
        cwd=cwd,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return server, base


def _server_cpu_s(pid: int) -> float:
    """CPU seconds used so far by the server and its workers (what a request costs, whatever else runs)."""
    root = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [root, *root.children(recursive=True)])


def _reads(base: str, links: list[str], clients: int, requests: int) -> dict[str, float | int]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(n: int) -> None:
        mine: list[float] = []
        failed = 0
        with httpx.Client(base_url=base, timeout=30) as http:
            barrier.wait()
            for i in range(requests):
                link = links[(n + i) % len(links)]
                path = f"/p/{link}" if i % 2 == 0 else f"/p/{link}/calendar.ics"
                began = time.perf_counter()
                try:
                    ok = http.get(path).status_code == 200
                except httpx.HTTPError:
                    ok = False
                mine.append((time.perf_counter() - began) * 1000)
                failed += not ok
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(_percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1),
        "requests_per_s": round(len(latencies) / elapsed, 1),
    }


WRK_SCRIPT = """
local paths = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("MAILLAGE %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50), latency:percentile(95), latency.max))
end
"""


def _wrk(base: str, paths: list[str], clients: int, seconds: float, work: Path) -> dict[str, float | int]:
    """``clients`` keep-alive connections of one ``wrk`` thread requesting ``paths`` in turn for ``seconds``."""
    script = work / "paths.lua"
    script.write_text(WRK_SCRIPT % ", ".join(f'"{p}"' for p in paths), encoding="utf-8")
    command = ["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "30s", "-s", str(script), base]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = re.search(r"^MAILLAGE (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk said:\n{output}")
    count, micros, errors, p50, p95, top = (int(v) for v in found.groups())
    return {
        "requests": count,
        "errors": errors,
        "p50_ms": round(p50 / 1000, 1),
        "p95_ms": round(p95 / 1000, 1),
        "max_ms": round(top / 1000, 1),
        "requests_per_s": round(count / (micros / 1e6), 1),
    }


def _measured(server: subprocess.Popen[bytes], reads: Callable[[], dict[str, float | int]]) -> dict[str, float | int]:
    """``reads()``'s figures with the server's and this process's CPU per request (wrk's own is not counted)."""
    before, client_cpu = _server_cpu_s(server.pid), time.process_time()
    found = reads()
    found["client_cpu_ms_per_request"] = round((time.process_time() - client_cpu) * 1000 / found["requests"], 2)
    found["server_cpu_ms_per_request"] = round((_server_cpu_s(server.pid) - before) * 1000 / found["requests"], 2)
    found["load_average_1min"] = round(os.getloadavg()[0], 2)
    return found


def _rush(base: str, event_id: int, slot: str, attempts: int) -> dict[str, Any]:
    codes: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(attempts)

    def attempt() -> None:
        code, failure = -1, ""
        with httpx.Client(base_url=base, timeout=60) as http:
            form = http.get(f"/rdv/s/{event_id}")
            token = CSRF.search(form.text)
            cookies = http.cookies
        # A new connection for the post, as a browser after a resident's pause: the form's keep-alive
        # connection may have been closed by the server (5 s idle) while the others fetched their forms.
        with httpx.Client(base_url=base, timeout=60, cookies=cookies) as http:
            barrier.wait()
            try:
                code = http.post(
                    f"/rdv/s/{event_id}", data={"slot": slot, "csrf": token.group(1) if token else ""}
                ).status_code
            except httpx.HTTPError as exc:
                failure = type(exc).__name__
        with lock:
            codes.append(code)
            if failure:
                failures.append(failure)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "attempts": attempts,
        "answered": sum(c != -1 for c in codes),
        "booked_201": codes.count(201),
        "full_409": codes.count(409),
        "other": sum(c not in (201, 409) for c in codes),
        "client_errors": sorted(failures),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk", help="the load generator")
    parser.add_argument("--seconds", type=float, default=10, help="length of each wrk pass")
    parser.add_argument("--requests", type=int, default=40, help="requests per client (--client python)")
    parser.add_argument("--attempts", type=int, default=100, help="concurrent bookings of the last free slot")
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary folder")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (maillage serve --workers)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.client == "wrk" and shutil.which("wrk") is None:
        parser.error("wrk is not installed: `apt-get install wrk` (Debian), or use --client python")
    with tempfile.TemporaryDirectory(prefix="maillage-load-") as temp:
        work = Path(temp)
        url = args.database_url or f"sqlite:///{work / 'load.sqlite3'}"
        links, event_id, slot, uid = _prepare(url, work)
        server, base = start_service(url, {"MAILLAGE_BOOKING_LIMIT": "1000000/60"}, workers=args.workers)
        try:
            if args.client == "wrk":
                pages = [f"/p/{link}" for link in links]
                feeds = [f"{page}/calendar.ics" for page in pages]
                _wrk(base, pages + feeds, args.clients, 2, work)  # warm-up: every page and feed rendered once
                reads = {
                    name: _measured(server, partial(_wrk, base, paths, args.clients, args.seconds, work))
                    for name, paths in (("pages", pages), ("feeds", feeds))
                }
            else:
                reads = {"mixed": _measured(server, partial(_reads, base, links, args.clients, args.requests))}
            rush = _rush(base, event_id, slot, args.attempts)
        finally:
            server.terminate()
            server.wait(timeout=30)
        sessions = db.open_database(url)
        day, start = slot.split("T")
        with sessions() as session:
            in_slot = session.scalar(
                select(func.count())
                .select_from(Appointment)
                .where(
                    Appointment.event_uid == uid,
                    Appointment.start == start,
                    Appointment.day == dt.date.fromisoformat(day),
                    Appointment.status == "BOOKED",
                )
            )
        sessions.kw["bind"].dispose()
    rush["appointments_in_slot"] = int(in_slot or 0)
    result = {
        "backend": url.split(":", 1)[0] if args.database_url else "sqlite (temporary file)",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average_1min_after": round(os.getloadavg()[0], 2),  # other work on the shared cores
        "clients": args.clients,
        "client": args.client,
        "workers": args.workers,
        "reads": reads,
        "rush": rush,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    ok = (
        all(r["errors"] == 0 for r in reads.values())
        and rush["booked_201"] == 1
        and rush["other"] == 0
        and rush["appointments_in_slot"] == 1
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
