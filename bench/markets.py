"""Service markets: the joint model against planning rounds and rooms separately, then aligning them greedily.

Three plans of the same scenario are measured with the same stated model (``planner.jobs.markets``):

* **separate**: ``maillage rounds`` and ``maillage rooms`` each on their own;
* **greedy**: the separate plans, then each provider in turn re-placed once to meet the others (CP-SAT on
  that provider's sessions, everything else kept; ``optimize.markets.solve(..., greedy=True)``);
* **joint**: the markets model (every provider and truck in turn, twice, then both together).

On Lozère (``scenarios/lozere-markets.yaml``) and, with ``--departement``, on another département: the
same buses, providers and coaches, based at its first canton seats, its canton seats' town halls as
market places (each with a multipurpose hall), the rest of the Lozère scenario unchanged.

Usage (from the repository root)::

    .venv/bin/python bench/markets.py --time-limit 60
    .venv/bin/python bench/markets.py --departement 12 --time-limit 60
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optimize.markets import MarketsResult, solve
from planner.data.france import load_france
from planner.jobs.coverage import run_coverage
from planner.jobs.markets import build_problem, measure, run_markets
from planner.jobs.rooms import run_rooms
from planner.jobs.rounds import run_rounds
from planner.scenario import Scenario, load_scenario
from tests.markets_checker import check

ROOT = Path(__file__).resolve().parents[1]
LOZERE = ROOT / "scenarios" / "lozere-markets.yaml"


def scenario_for(code: str | None, folder: Path) -> Scenario:
    """The Lozère markets scenario, or the same one moved to département ``code`` (see the module docstring)."""
    if code is None:
        return load_scenario(LOZERE)
    data = yaml.safe_load(LOZERE.read_text(encoding="utf-8"))
    seats = [
        s.removeprefix("canton-") for s in load_france(departements=[code]).sites["site_id"] if s.startswith("canton-")
    ]
    data["name"] = f"markets-{code}"
    data["territory"] = {"departement": code}
    for number, vehicle in enumerate(data["rounds"]["fleet"]):
        vehicle["depot"] = seats[number % len(seats)]
    rooms = data["rooms"]
    rooms["premises"]["rooms"] = [
        {**room, "site": seats[number % len(seats)]} for number, room in enumerate(rooms["premises"]["rooms"][:8])
    ] + [
        {"site": s, "room_id": "salle-polyvalente", "name": "Salle polyvalente", "capacity": 30, "equipment": ["wifi"]}
        for s in seats
    ]
    rooms["premises"]["rooms"] = list({(r["site"], r["room_id"]): r for r in rooms["premises"]["rooms"]}.values())
    for number, provider in enumerate(rooms["providers"]):
        provider["home"] = seats[number % len(seats)]
        provider["preferred"] = []
    markets = data["markets"]
    markets["places"] = [{"site": s} for s in seats]
    for number, coach in enumerate(markets["shuttle"]["coaches"]):
        coach["depot"] = seats[number % len(seats)]
    path = folder / f"markets-{code}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_scenario(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departement", default=None)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        scenario = scenario_for(args.departement, Path(tmp)).with_solver(time_limit_s=args.time_limit, seed=args.seed)
        coverage = run_coverage(scenario)
        assert scenario.rooms is not None
        started = time.perf_counter()
        rounds = run_rounds(scenario, coverage)
        rooms = run_rooms(scenario, coverage, scenario.rooms)
        separate_s = time.perf_counter() - started
        problem, _ = build_problem(scenario, coverage, rounds, rooms)
        started = time.perf_counter()
        greedy = solve(
            problem, time_limit_s=args.time_limit, seed=args.seed, start=(rounds.result, rooms.result), greedy=True
        )
        greedy_s = time.perf_counter() - started
        started = time.perf_counter()
        joint_run = run_markets(scenario, coverage, rounds, rooms)
        joint_s = time.perf_counter() - started
        measures = joint_run.measures
        # the greedy plan measured the same way: the markets run with its result in place of the joint one
        greedy_measures = _measure(scenario, coverage, rounds, rooms, greedy)
        print(f"territory: {scenario.name}, {len(problem.places)} market places, time limit {args.time_limit:g} s")
        print(
            "plan,people_2plus,people_3plus,markets,trips_saved_week,co2_kg_saved_week,cost_eur_week,time_s,checker,"
            "ended_by,objective_eur"
        )
        rows = [
            ("separate", measures["separate"], separate_s, "-", "-", "-"),
            ("greedy", greedy_measures, separate_s + greedy_s, len(check(problem, greedy)), *_ended(greedy)),
            (
                "joint",
                measures["joint"],
                separate_s + joint_s,
                len(check(problem, joint_run.result)),
                *_ended(joint_run.result),
            ),
        ]
        for name, m, seconds, violations, ended_by, objective in rows:
            people = m["people_one_trip"]  # type: ignore[index]
            print(
                f"{name},{people['2']:.0f},{people['3+']:.0f},{m['markets']},{m['trips_saved_per_week']:.2f},"  # type: ignore[index]
                f"{m['co2_kg_saved_per_week']:.2f},{m['cost_eur_per_week']:.2f},{seconds:.1f},{violations},{ended_by},{objective}"  # type: ignore[index]
            )


def _ended(result: MarketsResult) -> tuple[str, str]:
    """What ended a markets solve and its objective (euros a week, the joint model's)."""
    return result.ended_by, f"{result.info.objective:.2f}"


def _measure(scenario: Scenario, coverage, rounds, rooms, result) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The joint plan's measures computed for another result (the greedy one), by the job's own code."""
    problem, _ = build_problem(scenario, coverage, rounds, rooms)
    assert scenario.markets is not None
    plan = (result.rounds, result.rooms)
    return dict(measure(scenario.markets, problem, coverage, (rounds, rooms), plan, result.markets)[0])


if __name__ == "__main__":
    main()
