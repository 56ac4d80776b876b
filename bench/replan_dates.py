"""A date off re-planned on its own, on several territories: how many series and dates change.

Each case solves a scenario (the real rooms or rounds model), publishes it in a fresh SQLite file, declares
one person off on one date and re-plans (``planner.platform.replan``), then counts the series kept identical
(day, hours, place and SEQUENCE), the single dates moved or cancelled, and the people told of a change.

    .venv/bin/python bench/replan_dates.py --time-limit 10 --out /tmp/replan-dates
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import yaml
from sqlalchemy import select

from planner.platform import db, replan
from planner.platform.models import EventRecord, Person, Plan
from planner.platform.publish import latest_plan, plan_events, publish, read_run

ROOT = Path(__file__).parents[1]
ELSEWHERE = {  # the Lozère providers moved to another département: its town halls, homes in its towns
    "2B": ["2B033", "2B096", "2B042", "2B037"],  # Haute-Corse: Bastia, Corte, Calvi, Lucciana
    "59": ["59350", "59512", "59178", "59606"],  # Nord (dense): Lille, Roubaix, Douai, Valenciennes
    "971": ["97120", "97101", "97118", "97105"],  # Guadeloupe: Pointe-à-Pitre, Les Abymes, Petit-Bourg, Basse-Terre
}


def _elsewhere(code: str, out: Path) -> Path:
    """The Lozère rooms scenario moved to département ``code``: its town halls, no extra rooms, homes there."""
    scenario = yaml.safe_load((ROOT / "scenarios" / "lozere-rooms.yaml").read_text(encoding="utf-8"))
    scenario["name"] = f"rooms-{code.lower()}"
    scenario["territory"] = {"departement": code}
    scenario["rooms"]["premises"]["rooms"] = []
    homes = ELSEWHERE[code]
    for n, provider in enumerate(scenario["rooms"]["providers"]):
        provider["home"] = homes[n % len(homes)]
        provider.pop("needs", None)
        provider.pop("preferred", None)
    path = out / f"rooms-{code.lower()}.yaml"
    path.write_text(yaml.safe_dump(scenario, allow_unicode=True), encoding="utf-8")
    return path


def _solve(command: str, scenario: Path, folder: Path, limit: float) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "planner.cli", command, str(scenario), "--out", str(folder), "--time-limit", str(limit)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{command} {scenario}: {done.stdout[-2000:]}{done.stderr[-2000:]}")


def _events(session, version: int) -> dict[str, EventRecord]:  # type: ignore[no-untyped-def]
    plan = session.scalars(select(Plan).where(Plan.version == version)).one()
    return {e.uid: e for e in session.scalars(select(EventRecord).where(EventRecord.plan_id == plan.id))}


def case(name: str, command: str, scenario: Path, kind: str, ref: str, weeks: int, out: Path, limit: float) -> str:
    """One territory: solve, publish, declare ``ref`` off on the day of their first event ``weeks`` weeks
    later, re-plan; a row of the results table."""
    folder = out / name
    _solve(command, scenario, folder, limit)
    sessions = db.open_database(f"sqlite:///{out / f'{name}.sqlite3'}")
    with db.transaction(sessions) as session:
        publish(session, read_run(folder), territory=name, by="bench")
    with db.transaction(sessions) as session:
        person = session.scalars(select(Person).where(Person.kind == kind, Person.ref == ref)).one()
        plan = latest_plan(session, person.territory)
        assert plan is not None
        first = min(e.day for e in plan_events(session, plan, person))
        day = first + dt.timedelta(weeks=weeks)
        replan.declare(session, person, day, by="bench")
    began = time.perf_counter()
    with db.transaction(sessions) as session:
        done = replan.replan(session, name, out=out / f"{name}-replan", by="bench", time_limit_s=limit)
    seconds = time.perf_counter() - began
    with sessions() as session:
        before, after = _events(session, 1), _events(session, 2)
        fields = ("day", "start", "end", "location", "status", "sequence")
        same = sum(all(getattr(after[u], f) == getattr(e, f) for f in fields) for u, e in before.items())
        told = sorted(f"{p.kind} {p.ref}" for p, _, c in done.publication.people if c)
    moved = sum(d.status == "CONFIRMED" for d in done.dates)
    cancelled = len(done.dates) - moved
    levels = ", ".join(f"{k}: {v}" for k, v in done.levels.items())
    sessions.kw["bind"].dispose()
    return (
        f"| {name} | {kind} {ref} off {day} | {levels} | {same} of {len(before)} | {moved} moved, "
        f"{cancelled} cancelled | {', '.join(told)} | {seconds:.0f} s |"
    )


def main() -> None:
    """Run every case and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=10)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    limit = args.time_limit
    scenarios = ROOT / "scenarios"
    rows = [
        case("lozere-rooms", "rooms", scenarios / "lozere-rooms.yaml", "provider", "caf", 0, out, limit),
        case("lozere-rooms-msa", "rooms", scenarios / "lozere-rooms.yaml", "provider", "msa", 2, out, limit),
        case("lozere-bus", "rounds", scenarios / "lozere-bus.yaml", "crew", "bus-mende", 2, out, limit),
        case("haute-corse-rooms", "rooms", _elsewhere("2B", out), "provider", "caf", 1, out, limit),
        case("nord-rooms", "rooms", _elsewhere("59", out), "provider", "msa", 1, out, limit),
        case("guadeloupe-rooms", "rooms", _elsewhere("971", out), "provider", "assistante-sociale", 1, out, limit),
        case("hautes-alpes-bus", "rounds", scenarios / "hautes-alpes-bus.yaml", "crew", "bus-gap", 4, out, limit),
    ]
    print("| case | declared | level | series identical | that date | people told | replan |")
    print("|---|---|---|---|---|---|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
