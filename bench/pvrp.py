"""Periodic VRP engine on the Cordeau-Gendreau-Laporte instances p01-p32 (``optimize.periodic``).

Conventions (those of ``bench/vrptw.py``): distances are unrounded Euclidean; the engine works on
integers, arc cost ``round(1000 d)`` and travel time ``ceil(1000 d)``; the cost reported is
recomputed here from the returned routes with float distances, after an independent check (every
customer visited on exactly the days of one of its allowed combinations, at most ``m`` routes a day,
capacity, route duration when the instance limits it). Gaps are ``100 * (cost - bks) / bks`` against
the best-known values of ``BKS_cordeau.csv`` (rows ``benchmark/PVRP/pNN``); the published solutions
in ``solutions/pNN.res`` (older, sometimes worse) are read and their cost recomputed as a check.

Usage (from the repository root)::

    .venv/bin/python bench/pvrp.py --instances p01,p14 --time-limit 10
    .venv/bin/python bench/pvrp.py --instances all --time-limit 60 --out bench/results/pvrp_60s.csv
    .venv/bin/python bench/pvrp.py --instances p05,p10 --heldout 7 --time-limit 60  # unseen variants

``--work N`` fixes the engine's deterministic budget (60 s of ``--time-limit`` is 1,800,000 units),
so that a loaded machine changes the wall time, not the routes.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import pairwise
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vrptw import BENCHMARKS, SCALE, euclidean, fmt

from optimize.periodic import PeriodicProblem, solve

DATA_DIR = BENCHMARKS / "pvrp_cordeau"
EPS = 1e-6
Routes = list[tuple[int, list[int]]]  # (day 0-based, customers in order)


@dataclass(frozen=True)
class PvrpInstance:
    """A Cordeau PVRP instance; index 0 is the depot, days are 0-based."""

    name: str
    num_days: int
    vehicles: int
    capacity: int
    max_duration: float | None
    x: np.ndarray
    y: np.ndarray
    service: np.ndarray
    demand: np.ndarray
    combinations: tuple[tuple[tuple[int, ...], ...], ...]

    @property
    def num_customers(self) -> int:
        """Customers, the depot excluded."""
        return len(self.x) - 1


@dataclass
class Row:
    """One line of the result table and CSV."""

    instance: str
    customers: int
    days: int
    vehicles: int
    status: str
    feasible: bool
    cost: float | None
    bks: float
    gap_pct: float | None
    published: float
    time_s: float
    cpu_s: float  # CPU time of the solve: the wall time it would take alone on a core
    iterations: int
    stopped_by: str
    time_limit: float
    seed: int
    issues: str = ""
    routes: Routes | None = field(default=None, repr=False)


def decode(mask: int, num_days: int) -> tuple[int, ...]:
    """Days (0-based) of a combination code: bit string read left to right, e.g. 10 of 5 -> (1, 3)."""
    return tuple(k for k in range(num_days) if mask >> (num_days - 1 - k) & 1)


def parse_pvrp(path: Path) -> PvrpInstance:
    """Read a Cordeau data file of type 1 (PVRP): header, one ``D Q`` line per day, then nodes."""
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    kind, m, _n, t = (int(v) for v in lines[0])
    if kind != 1:
        raise ValueError(f"{path}: type {kind} is not a PVRP")
    limits = {(float(a), int(b)) for a, b in lines[1 : 1 + t]}
    if len(limits) != 1:
        raise ValueError(f"{path}: days with different limits are not supported")
    (duration, capacity) = limits.pop()
    nodes = lines[1 + t :]
    if [int(r[0]) for r in nodes] != list(range(len(nodes))):
        raise ValueError(f"{path}: nodes are not numbered 0..n in order")
    # frequency column ignored: the combinations define the days (p11's customer 131 says f=0)
    combos = tuple(tuple(decode(int(c), t) for c in r[7 : 7 + int(r[6])]) for r in nodes)
    return PvrpInstance(
        name=path.name,
        num_days=t,
        vehicles=m,
        capacity=capacity,
        max_duration=duration or None,
        x=np.array([float(r[1]) for r in nodes]),
        y=np.array([float(r[2]) for r in nodes]),
        service=np.array([float(r[3]) for r in nodes]),
        demand=np.array([int(r[4]) for r in nodes], dtype=np.int64),
        combinations=combos,
    )


def perturb(inst: PvrpInstance, seed: int, keep: float = 0.9, jitter: float = 0.05) -> PvrpInstance:
    """A held-out instance of the same family: a random ``keep`` share of the customers, coordinates moved.

    Each coordinate moves by a normal draw of ``jitter`` times its spread; demands, services and
    allowed combinations stay with their customer. Named ``pNN-hSEED``; it has no best-known value.
    """
    rng = np.random.default_rng(seed)
    n = inst.num_customers
    kept = np.sort(rng.choice(np.arange(1, n + 1), size=max(1, round(keep * n)), replace=False))
    idx = np.concatenate(([0], kept))
    x = inst.x[idx] + np.concatenate(([0.0], rng.normal(0, jitter * inst.x.std(), len(kept))))
    y = inst.y[idx] + np.concatenate(([0.0], rng.normal(0, jitter * inst.y.std(), len(kept))))
    return replace(
        inst,
        name=f"{inst.name}-h{seed}",
        x=x,
        y=y,
        service=inst.service[idx],
        demand=inst.demand[idx],
        combinations=tuple(inst.combinations[i] for i in idx),
    )


def parse_solution(path: Path) -> tuple[float, Routes]:
    """A ``pNN.res`` file: the stated cost and routes ``day vehicle duration load 0 ... 0``."""
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    routes = [(int(r[0]) - 1, [int(c) for c in r[4:] if int(c) != 0]) for r in lines[1:]]
    return float(lines[0][0]), routes


def load_bks(path: Path = BENCHMARKS / "BKS_cordeau.csv") -> dict[str, float]:
    """Best-known PVRP costs by instance name (rows ``benchmark/PVRP/pNN``)."""
    rows = [ln.split(",") for ln in path.read_text().splitlines() if ln.startswith("benchmark/PVRP/")]
    return {r[0].rsplit("/", 1)[1]: float(r[1]) for r in rows}


def to_problem(inst: PvrpInstance) -> PeriodicProblem:
    """Integer problem: cost round(1000 d), travel time ceil(1000 d), service and duration x1000."""
    d = euclidean(inst) * SCALE  # type: ignore[arg-type]  # duck-typed: needs .x and .y
    return PeriodicProblem(
        distance=np.round(d).astype(np.int64),
        duration=np.ceil(d).astype(np.int64),
        demand=inst.demand,
        service=np.round(inst.service * SCALE).astype(np.int64),
        combinations=inst.combinations,
        num_days=inst.num_days,
        vehicles_per_day=inst.vehicles,
        capacity=inst.capacity,
        max_duration=None if inst.max_duration is None else int(inst.max_duration * SCALE),
    )


def route_cost(inst: PvrpInstance, routes: Routes) -> float:
    """Total unrounded Euclidean length of the depot-to-depot routes."""
    dist = euclidean(inst)  # type: ignore[arg-type]
    return float(sum(dist[a, b] for _, r in routes for a, b in pairwise([0, *r, 0])))


def check_solution(inst: PvrpInstance, routes: Routes) -> list[str]:
    """Independent check with float distances; returns the violations found."""
    issues: list[str] = []
    dist = euclidean(inst)  # type: ignore[arg-type]
    days: dict[int, list[int]] = {i: [] for i in range(1, inst.num_customers + 1)}
    per_day = [0] * inst.num_days
    for k, (day, route) in enumerate(routes):
        if not 0 <= day < inst.num_days:
            issues.append(f"route {k}: day {day} outside the horizon")
            continue
        per_day[day] += 1
        if len(route) != len(set(route)) or not set(route) <= days.keys():
            issues.append(f"route {k}: customer repeated or unknown")
        for i in route:
            days.setdefault(i, []).append(day)
        if int(inst.demand[route].sum()) > inst.capacity:
            issues.append(f"route {k}: load {int(inst.demand[route].sum())} > capacity {inst.capacity}")
        if inst.max_duration is not None:
            length = sum(dist[a, b] for a, b in pairwise([0, *route, 0])) + float(inst.service[route].sum())
            if length > inst.max_duration + EPS:
                issues.append(f"route {k}: duration {length:.2f} > {inst.max_duration}")
    issues += [f"day {d}: {c} routes > {inst.vehicles} vehicles" for d, c in enumerate(per_day) if c > inst.vehicles]
    for i, seen in days.items():
        allowed = {frozenset(c) for c in inst.combinations[i]}
        if len(seen) != len(set(seen)) or frozenset(seen) not in allowed:
            issues.append(f"customer {i}: days {sorted(seen)} not one allowed combination")
    return issues


def run_instance(inst: PvrpInstance, bks: float, time_limit: float, seed: int, work: float | None) -> Row:
    """Solve one instance, check the routes independently, return its row (held-out: no BKS, nan)."""
    published = parse_solution(DATA_DIR / "solutions" / f"{inst.name}.res")[0] if bks == bks else float("nan")
    cpu = time.process_time()
    result = solve(to_problem(inst), time_limit_s=time_limit, seed=seed, work=work)
    cpu = time.process_time() - cpu
    routes: Routes = [(r.day, list(r.customers)) for r in result.routes]
    issues = check_solution(inst, routes)
    feasible = result.info.status == "feasible" and not issues
    cost = route_cost(inst, routes) if feasible else None
    return Row(
        instance=inst.name,
        customers=inst.num_customers,
        days=inst.num_days,
        vehicles=inst.vehicles,
        status=str(result.info.status) if not issues else "infeasible",
        feasible=feasible,
        cost=cost,
        bks=bks,
        gap_pct=None if cost is None or bks != bks else 100.0 * (cost - bks) / bks,
        published=published,
        time_s=result.info.time_s,
        cpu_s=cpu,
        iterations=result.iterations,
        stopped_by=result.stopped_by,
        time_limit=time_limit,
        seed=seed,
        issues="; ".join(issues[:3]),
        routes=routes,
    )


def write_csv(rows: Sequence[Row], path: Path) -> None:
    """One CSV line per instance; routes as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(asdict(rows[0])) if rows else [])
        writer.writeheader()
        for r in rows:
            d = asdict(r)
            d["routes"] = json.dumps(r.routes)
            d["cost"], d["gap_pct"], d["time_s"] = fmt(r.cost), fmt(r.gap_pct), f"{r.time_s:.1f}"
            d["cpu_s"] = f"{r.cpu_s:.1f}"
            writer.writerow(d)


def main(argv: Sequence[str] | None = None) -> list[Row]:
    """Run the benchmark, print one line per instance and the mean gap, write the CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", default="all", help="'all' or comma-separated names, e.g. p01,p14")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per instance")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=float, default=None, help="work units replacing the time-based budget")
    parser.add_argument("--heldout", type=int, default=None, help="solve held-out variants (perturb with this seed)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/pvrp.csv"), help="CSV output")
    args = parser.parse_args(argv)
    available = sorted(p.name for p in (DATA_DIR / "instances").iterdir())
    names = available if args.instances == "all" else [s.strip().lower() for s in args.instances.split(",")]
    if unknown := [n for n in names if n not in available]:
        raise SystemExit(f"unknown instances: {unknown}")
    bks = load_bks()
    rows: list[Row] = []
    print("| instance | n | days | m | cost | BKS | gap % | time s | CPU s | iterations | status |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in names:
        inst = parse_pvrp(DATA_DIR / "instances" / name)
        if args.heldout is not None:
            inst = perturb(inst, args.heldout)
        r = run_instance(
            inst, bks[name] if args.heldout is None else float("nan"), args.time_limit, args.seed, args.work
        )
        rows.append(r)
        print(
            f"| {r.instance} | {r.customers} | {r.days} | {r.vehicles} | {fmt(r.cost)} | {fmt(r.bks)} "
            f"| {fmt(r.gap_pct)} | {r.time_s:.1f} | {r.cpu_s:.1f} | {r.iterations} "
            f"| {r.status} ({r.stopped_by}) {r.issues} |",
            flush=True,
        )
        write_csv(rows, args.out)
    gaps = [r.gap_pct for r in rows if r.gap_pct is not None]
    failed = sum(not r.feasible for r in rows)
    mean = fmt(sum(gaps) / len(gaps)) if gaps else "—"
    print(f"\nMean gap over {len(gaps)} feasible instances with a best-known value: {mean} % ({failed} infeasible)")
    print(f"CSV: {args.out}", file=sys.stderr)
    return rows


if __name__ == "__main__":
    main()
