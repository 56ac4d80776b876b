"""Vehicle-routing engines on the Solomon VRPTW instances: Maillage, PyVRP, OR-Tools and VROOM in one run.

All solvers get the same instance data, the same wall-clock limit per instance, one
thread each, and run one after another (never concurrently) so that timings are comparable.

Conventions (identical for the three solvers):

* Objective: total travelled distance only (no fixed vehicle cost); the fleet is the instance's
  ``NUMBER`` of vehicles (25), each with the instance's capacity. Results are compared with the
  *distance-only* best-known solutions (``BKS.json`` keys ``"<name>_distance"``, two-decimal
  unrounded Euclidean distances, from VROOM-Project/vroom-scripts), not with the hierarchical
  "fewest vehicles first" ones.
* Integer scaling: solvers work on integers scaled by ``SCALE = 1000``. Arc *distances* (the
  cost) are ``round(1000 * euclid)`` (PyVRP's ``round_func="exact"`` convention); arc *travel
  times* are ``ceil(1000 * euclid)``, and time windows and service times are multiplied by 1000
  (they are integers in the files). Rounding travel times up means any schedule a solver finds
  is also feasible with unrounded travel times. PyVRP's ``"dimacs"`` convention (x10 and
  truncate) is *not* used: its truncated distances are not comparable with the float BKS.
* Time windows bound the start of service; the vehicle must be back at the depot by the
  depot's due date; waiting is allowed.
* The distance reported is recomputed here from the returned routes with unrounded float
  Euclidean distances, and every solution goes through an independent checker (each customer
  exactly once, capacity, time windows, depot return, fleet size). An infeasible or missing
  solution is reported as such, never as a number.

Solvers: Maillage's engine ``optimize.vrp.solve(problem, time_limit_s=t, seed=...)`` (PyVRP's
iterated local search with default parameters behind Maillage's own problem types: the same
algorithm as the "pyvrp" peer, so any difference between the two columns is run-to-run noise and
the model build); PyVRP ``solve(data, stop=MaxRuntime(t), seed=...)``; OR-Tools routing with
PATH_CHEAPEST_ARC then GUIDED_LOCAL_SEARCH, a time and a capacity dimension, ``time_limit``
(the routing solver is single-threaded and has no seed); VROOM (``pyvroom``) exploration level 5,
``nb_threads=1``, ``timeout=t`` (VROOM stops earlier when its search is exhausted, its own
runtime is reported).

Usage (from the repository root)::

    .venv/bin/python bench/vrptw.py --instances C101,R101 --time-limit 2
    .venv/bin/python bench/vrptw.py --instances all --time-limit 10 --out bench/results/vrptw.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
DATA_DIR = BENCHMARKS / "solomon_vrptw"
SCALE = 1000
SOLVERS = ("maillage", "pyvrp", "ortools", "vroom")
# Not in the default set: OR-Tools with PARALLEL_CHEAPEST_INSERTION as first-solution strategy, a
# supplementary run for the instances where PATH_CHEAPEST_ARC finds no first solution in time.
EXTRA_SOLVERS = ("ortools_pci",)
FAMILIES = ("C1", "C2", "R1", "R2", "RC1", "RC2")
EPS = 1e-6  # tolerance of the float feasibility checker (time units)


@dataclass(frozen=True)
class Instance:
    """A Solomon VRPTW instance; index 0 of every array is the depot."""

    name: str
    num_vehicles: int
    capacity: int
    x: np.ndarray
    y: np.ndarray
    demand: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray

    @property
    def num_nodes(self) -> int:
        """Depot plus customers."""
        return len(self.x)

    @property
    def family(self) -> str:
        """Solomon family: C1, C2, R1, R2, RC1 or RC2."""
        return family_of(self.name)


@dataclass
class SolverRun:
    """What one solver returned on one instance (routes are lists of customer indices 1..n)."""

    solver: str
    routes: list[list[int]] | None
    runtime: float
    status: str = "ok"
    own_cost: float | None = None  # the solver's own objective, unscaled, when it reports one
    cpu: float = 0.0  # process CPU seconds (all threads) spent in the call


@dataclass
class Row:
    """One line of the result table and CSV."""

    instance: str
    family: str
    solver: str
    status: str
    feasible: bool
    vehicles: int | None
    distance: float | None
    bks: float
    gap_pct: float | None
    time_s: float
    cpu_s: float
    own_cost: float | None
    time_limit: float
    issues: str = ""
    routes: list[list[int]] | None = field(default=None, repr=False)


def family_of(name: str) -> str:
    """Family of an instance name, e.g. ``RC205`` -> ``RC2``."""
    letters = name.rstrip("0123456789")
    return letters + name[len(letters)]


def parse_solomon(path: Path) -> Instance:
    """Read a Solomon text file (header, VEHICLE block, CUSTOMER table)."""
    lines = [ln.split() for ln in path.read_text().splitlines()]
    lines = [ln for ln in lines if ln]
    name = lines[0][0]
    num_vehicles = capacity = 0
    rows: list[list[float]] = []
    for i, tokens in enumerate(lines):
        if tokens[0] == "VEHICLE":
            num_vehicles, capacity = int(lines[i + 2][0]), int(lines[i + 2][1])
        if tokens[0].isdigit() and len(tokens) == 7:
            rows.append([float(t) for t in tokens])
    table = np.array(rows)
    if not (table[:, 0] == np.arange(len(table))).all():
        raise ValueError(f"{path}: customer numbers are not 0..n in order")
    return Instance(
        name=name,
        num_vehicles=num_vehicles,
        capacity=capacity,
        x=table[:, 1],
        y=table[:, 2],
        demand=table[:, 3].astype(np.int64),
        ready=table[:, 4].astype(np.int64),
        due=table[:, 5].astype(np.int64),
        service=table[:, 6].astype(np.int64),
    )


def load_bks(path: Path = DATA_DIR / "BKS.json") -> dict[str, float]:
    """Distance-only best-known costs by instance name (``"<name>_distance"`` keys)."""
    raw = json.loads(path.read_text())
    suffix = "_distance"
    return {k[: -len(suffix)]: float(v["best_known_cost"]) for k, v in raw.items() if k.endswith(suffix)}


def euclidean(inst: Instance) -> np.ndarray:
    """Unrounded float Euclidean distance matrix."""
    return np.hypot(inst.x[:, None] - inst.x[None, :], inst.y[:, None] - inst.y[None, :])


def scaled_matrices(inst: Instance) -> tuple[np.ndarray, np.ndarray]:
    """Integer (distance = round(1000 d), travel time = ceil(1000 d)) matrices."""
    d = euclidean(inst) * SCALE
    return np.round(d).astype(np.int64), np.ceil(d).astype(np.int64)


# --------------------------------------------------------------------------- checking


def route_distance(inst: Instance, routes: Sequence[Sequence[int]]) -> float:
    """Total unrounded Euclidean length of depot-to-depot routes."""
    dist = euclidean(inst)
    total = 0.0
    for route in routes:
        path = [0, *route, 0]
        total += float(sum(dist[a, b] for a, b in pairwise(path)))
    return total


def check_solution(inst: Instance, routes: Sequence[Sequence[int]]) -> list[str]:
    """Independent feasibility check with float travel times; returns the list of violations."""
    issues: list[str] = []
    dist = euclidean(inst)
    used = [r for r in routes if r]
    if len(used) > inst.num_vehicles:
        issues.append(f"{len(used)} routes > {inst.num_vehicles} vehicles")
    seen = [c for r in used for c in r]
    expected = set(range(1, inst.num_nodes))
    missing = expected - set(seen)
    if missing:
        issues.append(f"{len(missing)} customers not visited")
    if len(seen) != len(set(seen)) or not set(seen) <= expected:
        issues.append("customer visited twice or unknown node")
    for k, route in enumerate(used):
        if int(inst.demand[list(route)].sum()) > inst.capacity:
            issues.append(f"route {k}: load over capacity")
        t, prev = float(inst.ready[0]), 0
        for c in route:
            t = max(t + dist[prev, c], float(inst.ready[c]))
            if t > inst.due[c] + EPS:
                issues.append(f"route {k}: customer {c} served at {t:.3f} > due {inst.due[c]}")
            t += float(inst.service[c])
            prev = c
        t += dist[prev, 0]
        if t > inst.due[0] + EPS:
            issues.append(f"route {k}: back at depot at {t:.3f} > {inst.due[0]}")
    return issues


# --------------------------------------------------------------------------- solvers


def solve_pyvrp(inst: Instance, time_limit: float, seed: int) -> SolverRun:
    """PyVRP's iterated local search for ``time_limit`` seconds."""
    from pyvrp import Client, Depot, Location, ProblemData, VehicleType, solve
    from pyvrp.stop import MaxRuntime

    start = time.perf_counter()
    dist, dur = scaled_matrices(inst)
    n = inst.num_nodes
    data = ProblemData(
        locations=[Location(x=float(inst.x[i]), y=float(inst.y[i])) for i in range(n)],
        depots=[Depot(0, tw_early=int(inst.ready[0]) * SCALE, tw_late=int(inst.due[0]) * SCALE)],
        clients=[
            Client(
                location=i,
                delivery=[int(inst.demand[i])],
                service_duration=int(inst.service[i]) * SCALE,
                tw_early=int(inst.ready[i]) * SCALE,
                tw_late=int(inst.due[i]) * SCALE,
            )
            for i in range(1, n)
        ],
        vehicle_types=[
            VehicleType(
                num_available=inst.num_vehicles,
                capacity=[inst.capacity],
                tw_early=int(inst.ready[0]) * SCALE,
                tw_late=int(inst.due[0]) * SCALE,
            )
        ],
        # pyvrp's stub says ndarray[int, ...] where it means an integer matrix
        distance_matrices=[dist],  # type: ignore[list-item]
        duration_matrices=[dur],  # type: ignore[list-item]
    )
    result = solve(data, stop=MaxRuntime(time_limit), seed=seed, collect_stats=False)
    runtime = time.perf_counter() - start
    if not result.is_feasible():
        return SolverRun("pyvrp", None, runtime, "no feasible solution")
    # Clients are numbered 0..n-2 in PyVRP; their location index (1..n-1) is the Solomon number.
    routes = [[data.client(a.idx).location for a in route if a.is_client()] for route in result.best.routes()]
    return SolverRun("pyvrp", routes, runtime, "ok", result.cost() / SCALE)


def solve_maillage(inst: Instance, time_limit: float, seed: int) -> SolverRun:
    """Maillage's routing engine (``optimize.vrp``) on the instance, same integer conventions."""
    from optimize.vrp import VrpClient, VrpProblem, VrpVehicleType
    from optimize.vrp import solve as solve_vrp

    start = time.perf_counter()
    dist, dur = scaled_matrices(inst)
    problem = VrpProblem(
        distance=dist,
        duration=dur,
        clients=tuple(
            VrpClient(
                location=i,
                demand=int(inst.demand[i]),
                service=int(inst.service[i]) * SCALE,
                tw_early=int(inst.ready[i]) * SCALE,
                tw_late=int(inst.due[i]) * SCALE,
            )
            for i in range(1, inst.num_nodes)
        ),
        vehicle_types=(
            VrpVehicleType(
                depot=0,
                count=inst.num_vehicles,
                capacity=inst.capacity,
                shift_start=int(inst.ready[0]) * SCALE,
                shift_end=int(inst.due[0]) * SCALE,
            ),
        ),
    )
    result = solve_vrp(problem, time_limit_s=time_limit - (time.perf_counter() - start), seed=seed)
    runtime = time.perf_counter() - start
    if not result.feasible:
        return SolverRun("maillage", None, runtime, f"no feasible solution ({result.status})")
    routes = [[problem.clients[c].location for c in r.clients] for r in result.routes]
    return SolverRun("maillage", routes, runtime, "ok", result.distance / SCALE)


def solve_ortools(inst: Instance, time_limit: float, first: str = "PATH_CHEAPEST_ARC") -> SolverRun:
    """OR-Tools routing: ``first`` solution strategy then GUIDED_LOCAL_SEARCH until ``time_limit``."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    name = "ortools" if first == "PATH_CHEAPEST_ARC" else "ortools_pci"
    start = time.perf_counter()
    dist, dur = scaled_matrices(inst)
    n, nv = inst.num_nodes, inst.num_vehicles
    travel = dur + (inst.service * SCALE)[:, None]  # service at the origin, then the trip
    np.fill_diagonal(travel, 0)
    manager = pywrapcp.RoutingIndexManager(n, nv, 0)
    routing = pywrapcp.RoutingModel(manager)
    arc = routing.RegisterTransitMatrix(dist.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(arc)
    horizon = int(inst.due[0]) * SCALE
    time_cb = routing.RegisterTransitMatrix(travel.tolist())
    routing.AddDimension(time_cb, horizon, horizon, False, "Time")
    time_dim = routing.GetDimensionOrDie("Time")
    for node in range(1, n):
        time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(
            int(inst.ready[node]) * SCALE, int(inst.due[node]) * SCALE
        )
    for v in range(nv):
        time_dim.CumulVar(routing.Start(v)).SetRange(int(inst.ready[0]) * SCALE, horizon)
        time_dim.CumulVar(routing.End(v)).SetRange(int(inst.ready[0]) * SCALE, horizon)
    demand_cb = routing.RegisterUnaryTransitVector([int(d) for d in inst.demand])
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, [inst.capacity] * nv, True, "Capacity")

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.Value.Value(first)
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    # The limit counts from here; the model build above is included in the reported runtime.
    params.time_limit.FromMilliseconds(max(1, int(1000 * time_limit - 1000 * (time.perf_counter() - start))))
    solution = routing.SolveWithParameters(params)
    runtime = time.perf_counter() - start
    if solution is None:
        status = routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status())
        return SolverRun(name, None, runtime, f"no solution, {status}")
    routes: list[list[int]] = []
    for v in range(nv):
        index, route = solution.Value(routing.NextVar(routing.Start(v))), []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    return SolverRun(name, routes, runtime, "ok", solution.ObjectiveValue() / SCALE)


def solve_vroom(inst: Instance, time_limit: float) -> SolverRun:
    """VROOM at exploration level 5, one thread, ``timeout=time_limit``."""
    import vroom

    start = time.perf_counter()
    dist, dur = scaled_matrices(inst)
    problem = vroom.Input()
    problem.set_durations_matrix("car", dur)
    problem.set_costs_matrix("car", dist)
    depot_tw = vroom.TimeWindow(int(inst.ready[0]) * SCALE, int(inst.due[0]) * SCALE)
    problem.add_vehicle(
        [
            vroom.Vehicle(k, start=0, end=0, capacity=[inst.capacity], time_window=depot_tw)
            for k in range(inst.num_vehicles)
        ]
    )
    problem.add_job(
        [
            vroom.Job(
                i,
                location=i,
                default_service=int(inst.service[i]) * SCALE,
                delivery=[int(inst.demand[i])],
                time_windows=[vroom.TimeWindow(int(inst.ready[i]) * SCALE, int(inst.due[i]) * SCALE)],
            )
            for i in range(1, inst.num_nodes)
        ]
    )
    solution = problem.solve(exploration_level=5, nb_threads=1, timeout=timedelta(seconds=time_limit))
    runtime = time.perf_counter() - start
    frame = solution.routes
    jobs = frame[frame["type"] == "job"]
    routes = [[int(j) for j in group["id"]] for _, group in jobs.groupby("vehicle_id", sort=True)]
    summary = solution.to_dict()["summary"]
    status = "ok" if summary.get("unassigned", 0) == 0 else f"{summary['unassigned']} unassigned"
    return SolverRun("vroom", routes, runtime, status, summary["cost"] / SCALE)


def run_solver(name: str, inst: Instance, time_limit: float, seed: int) -> SolverRun:
    """Run one solver, turning any exception into an 'error' run."""
    solvers: dict[str, Callable[[], SolverRun]] = {
        "maillage": lambda: solve_maillage(inst, time_limit, seed),
        "pyvrp": lambda: solve_pyvrp(inst, time_limit, seed),
        "ortools": lambda: solve_ortools(inst, time_limit),
        "ortools_pci": lambda: solve_ortools(inst, time_limit, "PARALLEL_CHEAPEST_INSERTION"),
        "vroom": lambda: solve_vroom(inst, time_limit),
    }
    start, cpu = time.perf_counter(), time.process_time()
    try:
        run = solvers[name]()
    except Exception as exc:  # a crash is a result too, reported as such
        run = SolverRun(name, None, time.perf_counter() - start, f"error: {type(exc).__name__}: {exc}")
    run.cpu = time.process_time() - cpu
    return run


def evaluate(inst: Instance, run: SolverRun, bks: float, time_limit: float) -> Row:
    """Check a run independently and turn it into a result row."""
    row = Row(
        instance=inst.name,
        family=inst.family,
        solver=run.solver,
        status=run.status,
        feasible=False,
        vehicles=None,
        distance=None,
        bks=bks,
        gap_pct=None,
        time_s=run.runtime,
        cpu_s=run.cpu,
        own_cost=run.own_cost,
        time_limit=time_limit,
    )
    if run.routes is None:
        return row
    issues = check_solution(inst, run.routes)
    row.routes = [r for r in run.routes if r]
    row.vehicles = len(row.routes)
    row.issues = "; ".join(issues[:3]) + (f" (+{len(issues) - 3} more)" if len(issues) > 3 else "")
    if issues:
        row.status = "infeasible" if run.status == "ok" else run.status
        return row
    row.feasible = True
    row.distance = route_distance(inst, run.routes)
    row.gap_pct = 100.0 * (row.distance - bks) / bks
    return row


# --------------------------------------------------------------------------- reporting


def fmt(value: float | None, digits: int = 2) -> str:
    """Number or an em dash for missing."""
    if value is None:
        return "—"
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def instance_table(rows: Sequence[Row]) -> str:
    """Markdown table of the solvers' results on one instance."""
    out = [
        f"### {rows[0].instance} (distance BKS {rows[0].bks:.2f})",
        "",
        "| solver | vehicles | distance | gap % | time s | feasible |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        feas = "yes" if r.feasible else f"no ({r.status}{': ' + r.issues if r.issues else ''})"
        vehicles = r.vehicles if r.feasible else "—"
        out.append(f"| {r.solver} | {vehicles} | {fmt(r.distance)} | {fmt(r.gap_pct)} | {r.time_s:.1f} | {feas} |")
    return "\n".join(out)


def summary_table(rows: Sequence[Row], solvers: Sequence[str]) -> str:
    """Mean gap % per solver and family over feasible solutions, with counts of infeasible/missing."""
    fams = [f for f in FAMILIES if any(r.family == f for r in rows)]

    def cell(sel: list[Row]) -> str:
        ok = [r.gap_pct for r in sel if r.feasible and r.gap_pct is not None]
        bad = len(sel) - len(ok)
        if not sel:
            return "—"
        return (fmt(sum(ok) / len(ok)) if ok else "—") + (f" ({bad} failed)" if bad else "")

    header = "| solver | " + " | ".join(fams) + " | all | mean vehicles | mean time s |"
    lines = [header, "|---|" + "---:|" * (len(fams) + 3)]
    for s in solvers:
        mine = [r for r in rows if r.solver == s]
        per_fam = [cell([r for r in mine if r.family == f]) for f in fams]
        veh = [r.vehicles for r in mine if r.feasible and r.vehicles is not None]
        mveh = f"{sum(veh) / len(veh):.1f}" if veh else "—"
        mtime = f"{sum(r.time_s for r in mine) / len(mine):.1f}" if mine else "—"
        lines.append(f"| {s} | " + " | ".join(per_fam) + f" | {cell(mine)} | {mveh} | {mtime} |")
    # Same-subset comparison: instances where every solver is feasible.
    insts = sorted({r.instance for r in rows})
    common = [i for i in insts if all(r.feasible for r in rows if r.instance == i)]
    if len(common) < len(insts):
        lines += ["", f"Mean gap % on the {len(common)} instances where every solver is feasible:", ""]
        lines += ["| solver | mean gap % |", "|---|---:|"]
        for s in solvers:
            gaps = [r.gap_pct for r in rows if r.solver == s and r.instance in common and r.gap_pct is not None]
            lines.append(f"| {s} | {fmt(sum(gaps) / len(gaps)) if gaps else '—'} |")
    return "\n".join(lines)


def write_csv(rows: Sequence[Row], path: Path) -> None:
    """One CSV line per (instance, solver); routes as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [f for f in asdict(rows[0])] if rows else []
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=names)
        writer.writeheader()
        for r in rows:
            d = asdict(r)
            d["routes"] = json.dumps(r.routes) if r.routes is not None else ""
            for k in ("distance", "gap_pct", "own_cost"):
                d[k] = "" if d[k] is None else f"{d[k]:.4f}"
            d["time_s"], d["cpu_s"] = f"{r.time_s:.2f}", f"{r.cpu_s:.2f}"
            writer.writerow(d)


def select_instances(spec: str) -> list[str]:
    """Instance names from ``all`` or a comma-separated list."""
    available = sorted(p.stem for p in DATA_DIR.glob("*.txt"))
    if spec.strip().lower() == "all":
        return available
    names = [s.strip().upper() for s in spec.split(",") if s.strip()]
    unknown = [s for s in names if s not in available]
    if unknown:
        raise SystemExit(f"unknown instances: {unknown}")
    return names


def main(argv: Sequence[str] | None = None) -> list[Row]:
    """Run the benchmark, print the tables, write the CSV; returns the rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", default="all", help="'all' or comma-separated names, e.g. C101,R101")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per solver and instance")
    parser.add_argument(
        "--solvers",
        default=",".join(SOLVERS),
        help="comma-separated among maillage,pyvrp,ortools,vroom (and ortools_pci)",
    )
    parser.add_argument("--seed", type=int, default=1, help="Maillage and PyVRP seed (OR-Tools and VROOM have none)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/vrptw.csv"), help="CSV output")
    args = parser.parse_args(argv)
    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    if bad := [s for s in solvers if s not in SOLVERS + EXTRA_SOLVERS]:
        raise SystemExit(f"unknown solvers: {bad}")

    bks = load_bks()
    rows: list[Row] = []
    for name in select_instances(args.instances):
        inst = parse_solomon(DATA_DIR / f"{name}.txt")
        inst_rows = []
        for s in solvers:
            run = run_solver(s, inst, args.time_limit, args.seed)
            inst_rows.append(evaluate(inst, run, bks[name], args.time_limit))
        rows += inst_rows
        print(instance_table(inst_rows) + "\n", flush=True)
        write_csv(rows, args.out)  # rewritten after each instance, so a long run can be followed
    print(f"## Mean gap % to the distance-only BKS (time limit {args.time_limit:g} s per solver)\n")
    print(summary_table(rows, solvers))
    print(f"\nCSV: {args.out}", file=sys.stderr)
    return rows


if __name__ == "__main__":
    main()
