"""Solve time and optimality gap of the rooms model as the instance grows.

Synthetic but realistic, seeded instances. The territory grows with the rooms at a constant density:
200 rooms make a rural département of 100 x 80 km with 300 communes (log-normal populations plus six
towns, per 300 communes), 500 rooms two and a half of them, 20 rooms an intercommunalité of 800 km2.
Premises sit at commune centres (town halls, former post offices, coworking spaces), 1.6 rooms each
on average (at most four), real-looking opening hours (full week, mornings
only, two or three days, one half-day), equipment (wifi 80 %, step-free 60 %, printer 40 %,
confidential 25 %), hire free in 60 % of rooms else 15-60 EUR per half-day. Providers of six services
(family benefits, job centre, bank, notary, social work needing a confidential room, health) live in
the larger communes, work 3 to 5 days, hold 2 to 8 sessions of 2 to 3 hours, drive at most 2 to 3 h a
day. Travel: crow-fly x 1.3 at 50 km/h. Grid: 10 half-day slots. Access threshold: 20 minutes.

Run: ``.venv/bin/python bench/rooms_scaling.py`` (results in bench/RESULTS_rooms.md);
``--sizes 50x200 --time-limit 30`` for one size.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import time
from importlib import metadata

import numpy as np

from optimize.rooms import Premises, Provider, Room, RoomsProblem, explain_infeasible, solve

SERVICES = {  # service: (share of inhabitants concerned, equipment needed)
    "caf": (0.10, frozenset()),
    "france_travail": (0.05, frozenset({"wifi"})),
    "banque": (0.03, frozenset()),
    "notaire": (0.01, frozenset()),
    "social": (0.04, frozenset({"confidential"})),
    "sante": (0.08, frozenset({"step_free"})),
}
EQUIPMENT = {"wifi": 0.8, "step_free": 0.6, "printer": 0.4, "confidential": 0.25}
SPEED_M_PER_MIN = 50_000 / 60 / 1.3  # crow-fly metres per minute at 50 km/h with a detour factor of 1.3
ACCESS_MIN = 20.0
ROOMS_PER_DEPARTEMENT = 200  # a territory of 100 x 80 km and 300 communes holds this many rooms
TOWNS = [12_000, 4_700, 4_200, 2_900, 2_300, 2_100]  # the largest communes of a département of 300


def _hours(rng: np.random.Generator) -> tuple[tuple[int, int, int], ...]:
    """Opening windows like French town halls and premises: full week, mornings, a few days, one half-day."""
    kind = rng.choice(4, p=[0.4, 0.2, 0.25, 0.15])
    if kind == 0:
        return tuple((d, s, e) for d in range(1, 6) for s, e in ((510, 750), (810, 1050)))
    if kind == 1:
        return tuple((d, 540, 720) for d in range(1, 6))
    if kind == 2:
        days = sorted(rng.choice(np.arange(1, 6), size=int(rng.integers(2, 4)), replace=False).tolist())
        return tuple((d, s, e) for d in days for s, e in ((510, 750), (810, 1050)))
    day = int(rng.integers(1, 6))
    return ((day, 510, 750),) if rng.random() < 0.5 else ((day, 810, 1050),)


def instance(n_providers: int, n_rooms: int, seed: int = 0) -> RoomsProblem:
    """A seeded synthetic instance with ``n_providers`` providers and ``n_rooms`` rooms."""
    rng = np.random.default_rng(seed)
    scale = n_rooms / ROOMS_PER_DEPARTEMENT
    n_zones = max(30, round(300 * scale))
    zones = rng.uniform((0, 0), (100_000 * math.sqrt(scale), 80_000 * math.sqrt(scale)), (n_zones, 2))
    population = np.exp(rng.normal(5.5, 1.0, n_zones))
    towns = TOWNS * math.ceil(scale)
    population[: min(len(towns), n_zones // 5)] = towns[: min(len(towns), n_zones // 5)]
    n_premises = math.ceil(n_rooms / 1.6)
    weight = np.sqrt(population) / np.sqrt(population).sum()
    at = rng.choice(n_zones, size=n_premises, p=weight)
    sizes = np.ones(n_premises, dtype=int)
    for q in rng.choice(n_premises, size=n_rooms - n_premises):
        sizes[q] = min(sizes[q] + 1, 4) if sizes[q] < 4 else sizes[q]
    while sizes.sum() < n_rooms:  # top up rooms lost to the 4-room cap
        sizes[np.argmin(sizes)] += 1
    homes = rng.choice(n_zones, size=n_providers, p=population / population.sum())
    points = np.vstack([zones[at] + rng.normal(0, 300, (n_premises, 2)), zones[homes]])
    time_min = np.linalg.norm(points[:, None] - points[None], axis=2) / SPEED_M_PER_MIN
    to_zones = np.linalg.norm(zones[:, None] - points[None, :n_premises], axis=2) / SPEED_M_PER_MIN
    premises = tuple(
        Premises(f"q{q}", f"Premises {q}", q, _rooms(rng, q, int(sizes[q])), _hours(rng)) for q in range(n_premises)
    )
    names = list(SERVICES)
    demand = {s: population * rate for s, (rate, _) in SERVICES.items()}
    providers = []
    for p in range(n_providers):
        service = names[p % len(names)]
        for _ in range(50):  # redraw a provider who could not hold its sessions alone
            provider = _provider(rng, p, service, n_premises + p)
            alone = RoomsProblem(premises, (provider,), time_min, demand, dict.fromkeys(SERVICES, ((),) * n_premises))
            if not explain_infeasible(alone):
                break
        providers.append(provider)
    covers = tuple(tuple(np.nonzero(to_zones[:, q] <= ACCESS_MIN)[0].tolist()) for q in range(n_premises))
    return RoomsProblem(premises, tuple(providers), time_min, demand, dict.fromkeys(SERVICES, covers))


def _provider(rng: np.random.Generator, p: int, service: str, home: int) -> Provider:
    days = sorted(rng.choice(np.arange(1, 6), size=int(rng.integers(3, 6)), replace=False).tolist())
    return Provider(
        f"p{p}",
        service,
        home,
        sessions_per_week=min(int(rng.integers(2, 9)), 2 * len(days)),
        session_min=int(rng.choice([120, 150, 180])),
        windows=tuple((d, 510, 1050) for d in days),
        needs=SERVICES[service][1],
        max_travel_min=float(rng.choice([120, 150, 180])),
        max_daily_hours=8.0,
    )


def _rooms(rng: np.random.Generator, q: int, count: int) -> tuple[Room, ...]:
    return tuple(
        Room(
            f"r{i}",
            f"Salle {i + 1}",
            int(rng.integers(2, 21)),
            frozenset(e for e, share in EQUIPMENT.items() if rng.random() < share),
            0.0 if rng.random() < 0.6 else float(rng.integers(15, 61)),
        )
        for i in range(count)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10x20,20x50,50x100,50x200,100x300,200x500")
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    versions = f"Python {platform.python_version()}, OR-Tools {metadata.version('ortools')}"
    print(f"{platform.machine()}, {os.cpu_count()} cores, {versions}")
    print(
        "| providers x rooms | seed | sessions | possible sessions | pairs ruled out | greedy start | people reached "
        "| bound | gap | status | cost stage gap | time (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes.split(","):
        n_providers, n_rooms = (int(v) for v in size.split("x"))
        for seed in (int(s) for s in args.seeds.split(",")):
            problem = instance(n_providers, n_rooms, seed)
            steps: list[str] = []
            start = time.perf_counter()
            result = solve(problem, time_limit_s=args.time_limit, seed=seed, workers=2, progress=steps.append)
            elapsed = time.perf_counter() - start
            options, ruled_out = (int(n) for n in re.findall(r"\d+", steps[0])[:2])
            greedy = float(re.findall(r"[\d,.]+", steps[1].split(":")[1])[0].replace(",", ""))
            print(
                f"| {n_providers} x {n_rooms} | {seed} | {sum(p.sessions_per_week for p in problem.providers)} | "
                f"{options:,} | {ruled_out:,} | {greedy:,.1f} | {result.info.objective:,.1f} | "
                f"{result.info.bound:,.1f} | {100 * result.info.gap:.2f} % | {result.info.status} | "
                f"{_cost_stage(result.notes)} | {elapsed:.1f} |",
                flush=True,
            )


def _cost_stage(notes: tuple[str, ...]) -> str:
    """The travel-and-hire stage's outcome: optimal, its gap to the bound, or not run."""
    note = next((n for n in notes if n.startswith("travel and hire")), "")
    if note.endswith("optimal"):
        return "optimal"
    euros = [float(v.replace(",", "")) for v in re.findall(r"([\d,]+\.\d+) EUR", note)]
    return f"{100 * (euros[0] - euros[1]) / euros[0]:.1f} %" if len(euros) == 2 else "not run"


if __name__ == "__main__":
    main()
