"""The routing engine (optimize/vrp.py) on tiny instances whose optimum is known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from optimize._errors import ProblemError
from optimize._solver import Status
from optimize.vrp import VrpClient, VrpProblem, VrpRoute, VrpVehicleType, solve

# Locations on a line at 0 (depot), 1, 2, 3, 10: distance = |a - b| (also the travel time).
POS = np.array([0, 1, 2, 3, 10])
LINE = np.abs(POS[:, None] - POS[None, :]).astype(np.int64)


def _problem(clients: list[VrpClient], vehicles: list[VrpVehicleType] | None = None, groups=()) -> VrpProblem:
    """A problem on the line with one vehicle from location 0 unless told otherwise."""
    return VrpProblem(LINE, LINE, tuple(clients), tuple(vehicles or [VrpVehicleType(depot=0)]), tuple(groups))


def _visited(result) -> list[int]:
    """Client indices in visiting order over all routes."""
    return [c for r in result.routes for c in r.clients]


def test_one_vehicle_goes_out_and_back() -> None:
    """Three clients at 1, 2, 3 on a line: one route of length 6, every client once."""
    result = solve(_problem([VrpClient(1), VrpClient(2), VrpClient(3)]), time_limit_s=1, seed=1)
    assert result.status == Status.FEASIBLE and result.feasible
    assert result.distance == 6 and result.cost == 6
    assert sorted(_visited(result)) == [0, 1, 2]


def test_capacity_splits_the_routes() -> None:
    """Demands of 2 with capacity 3: two vehicles, 2 + 6 = 8 is the best split."""
    clients = [VrpClient(1, demand=2), VrpClient(3, demand=2)]
    result = solve(_problem(clients, [VrpVehicleType(depot=0, count=2, capacity=3)]), time_limit_s=1, seed=1)
    assert result.feasible
    assert len(result.routes) == 2 and result.distance == 8


def test_time_windows_force_the_order() -> None:
    """The far client must be served first (window [0, 10]), so the near ones are on the way back."""
    clients = [VrpClient(1, tw_early=15), VrpClient(4, tw_late=10)]
    result = solve(_problem(clients), time_limit_s=1, seed=1)
    assert result.feasible
    assert _visited(result) == [1, 0] and result.distance == 20


@pytest.mark.filterwarnings("ignore::pyvrp.exceptions.PenaltyBoundWarning")
def test_shift_end_makes_it_infeasible() -> None:
    """A client 10 away cannot be served by a vehicle back by time 15: no feasible solution."""
    result = solve(_problem([VrpClient(4)], [VrpVehicleType(depot=0, shift_end=15)]), time_limit_s=0.5, seed=1)
    assert result.status == Status.UNKNOWN and not result.feasible


def test_optional_clients_are_worth_their_prize() -> None:
    """A client 10 away costs 20 of driving: skipped for a prize of 5, served for a prize of 50."""
    cheap = solve(_problem([VrpClient(1), VrpClient(4, required=False, prize=5)]), time_limit_s=1, seed=1)
    assert _visited(cheap) == [0] and cheap.distance == 2 and cheap.cost == 2 + 5
    dear = solve(_problem([VrpClient(1), VrpClient(4, required=False, prize=50)]), time_limit_s=1, seed=1)
    assert sorted(_visited(dear)) == [0, 1] and dear.distance == 20


def test_group_visits_exactly_one_alternative() -> None:
    """The same stop offered at 3 or at 10: exactly one is visited, the near one."""
    clients = [VrpClient(1), VrpClient(3, required=False), VrpClient(4, required=False)]
    result = solve(_problem(clients, groups=[(1, 2)]), time_limit_s=1, seed=1)
    assert result.feasible and sorted(_visited(result)) == [0, 1] and result.distance == 6


def test_vehicle_types_and_depots() -> None:
    """A depot at 10 serves the client at 10 for free; the one at 0 serves the others."""
    vehicles = [VrpVehicleType(depot=0), VrpVehicleType(depot=4)]
    clients = [VrpClient(1), VrpClient(4), VrpClient(4)]
    result = solve(_problem(clients, vehicles), time_limit_s=1, seed=1)
    assert result.feasible and result.distance == 2
    assert {r.vehicle_type for r in result.routes if 1 in r.clients} == {1}


def test_warm_start_and_determinism() -> None:
    """An iteration budget makes two runs identical; a warm start is accepted and never worsened."""
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, size=(31, 2))
    gaps = xy[:, None, :] - xy[None, :, :]
    dist = np.round(np.asarray(np.hypot(gaps[..., 0], gaps[..., 1]))).astype(np.int64)
    problem = VrpProblem(
        dist, dist, tuple(VrpClient(i, demand=1) for i in range(1, 31)), (VrpVehicleType(0, count=4, capacity=10),)
    )
    runs = [solve(problem, time_limit_s=60, seed=3, max_iterations=300) for _ in range(2)]
    assert runs[0].routes == runs[1].routes and runs[0].distance == runs[1].distance
    assert runs[0].iterations == 300
    warm = solve(problem, time_limit_s=60, seed=4, max_iterations=1, initial=runs[0].routes)
    assert warm.distance <= runs[0].distance
    naive = [VrpRoute(0, tuple(range(k, k + 10))) for k in (0, 10, 20)]
    assert solve(problem, time_limit_s=60, seed=4, max_iterations=1, initial=naive).feasible


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: _problem([VrpClient(9)]), "outside the matrices"),
        (lambda: _problem([VrpClient(1)], groups=[(0,)]), "must exist and not be required"),
        (lambda: VrpProblem(LINE, LINE[:3], (VrpClient(1),), (VrpVehicleType(0),)), "must be 5 x 5"),
        (lambda: VrpProblem(LINE, LINE, (VrpClient(1),), ()), "no vehicle type"),
    ],
)
def test_bad_input_is_refused(build, message: str) -> None:
    """Inconsistent problems are refused when built (ProblemError, a ValueError) with a short exact message."""
    with pytest.raises(ProblemError, match=message):
        build()


def test_every_problem_is_listed_at_once() -> None:
    """A problem with three faults names all three."""
    with pytest.raises(ProblemError) as caught:
        VrpProblem(LINE, LINE[:3], (VrpClient(9),), ())
    assert len(caught.value.problems) == 3
