"""Smoke test of the Solomon VRPTW engine benchmark (bench/vrptw.py): 2 instances, 2 s per solver."""

from __future__ import annotations

import pytest

from tests._bench import load_bench

vrptw = load_bench("vrptw")


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list:
    """One run of the benchmark's main on C101 and R101 with a 2 s limit per solver."""
    out = tmp_path_factory.mktemp("vrptw") / "vrptw.csv"
    result = vrptw.main(["--instances", "C101,R101", "--time-limit", "2", "--out", str(out)])
    assert out.is_file()
    return result


def _row(rows: list, instance: str, solver: str):
    """The result row of one solver on one instance."""
    (row,) = [r for r in rows if r.instance == instance and r.solver == solver]
    return row


def test_every_solver_reports_a_checked_result(rows: list) -> None:
    """Maillage, PyVRP and VROOM are feasible on both; OR-Tools is feasible or honestly reports no solution."""
    assert len(rows) == 2 * len(vrptw.SOLVERS) == 8
    for r in rows:
        if r.solver == "ortools" and r.status.startswith("no solution"):
            assert r.distance is None and r.gap_pct is None and not r.feasible
            continue
        assert r.feasible, (r.instance, r.solver, r.status, r.issues)
        assert r.distance is not None and r.gap_pct is not None
        assert r.gap_pct > -0.01, "better than the distance BKS: suspicious"
        assert r.vehicles is not None and r.vehicles <= 25


def test_maillage_engine_near_bks(rows: list) -> None:
    """Maillage's engine (optimize/vrp.py) is within 1 % of the distance-only best-known on C101 and R101."""
    for instance in ("C101", "R101"):
        r = _row(rows, instance, "maillage")
        assert r.feasible and r.gap_pct < 1.0, (instance, r.status, r.gap_pct)


def test_pyvrp_near_bks_on_c101(rows: list) -> None:
    """PyVRP is feasible and within 5 % of the distance-only best-known on C101."""
    r = _row(rows, "C101", "pyvrp")
    assert r.feasible
    assert r.gap_pct < 5.0


def test_independent_distance_matches_solver_costs(rows: list) -> None:
    """The float distance recomputed from routes equals each solver's own (x1000, rounded) cost."""
    for r in rows:
        if not r.feasible:
            continue
        arcs = sum(len(route) + 1 for route in r.routes)
        # every arc is rounded to 1/1000 in the solvers: at most 0.0005 error per arc
        assert r.own_cost == pytest.approx(r.distance, abs=0.0005 * arcs + 1e-6), (r.instance, r.solver)


def test_checker_catches_violations() -> None:
    """The independent checker flags a missing customer, an overload and a late arrival."""
    inst = vrptw.parse_solomon(vrptw.DATA_DIR / "C101.txt")
    everyone = list(range(1, inst.num_nodes))
    assert any("not visited" in s for s in vrptw.check_solution(inst, [everyone[:-1]]))
    assert any("capacity" in s for s in vrptw.check_solution(inst, [everyone]))
    singles = [[c] for c in everyone]
    assert any("routes >" in s for s in vrptw.check_solution(inst, singles))
    # C101: customer 1 is due at 967, customer 5 due at 67; serving 1 first makes 5 late
    assert any("customer 5" in s for s in vrptw.check_solution(inst, [[1, 5]] + [[c] for c in everyone[1:] if c != 5]))
