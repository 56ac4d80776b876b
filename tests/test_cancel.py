"""Cancelling a run stops its solver: each engine, given a long time limit, ends soon after the cancel.

Each solve runs as a ``BackgroundJob`` (what the app does); the test cancels it once it is solving
and checks that the job ends within a few seconds with ``Cancelled``, long before its limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from optimize import siting
from optimize._cancel import Cancelled, cancellable, check, stopping
from optimize.rounds import RoundsProblem, Stop, Vehicle
from optimize.rounds import solve as solve_rounds
from optimize.vrp import VrpClient, VrpProblem, VrpVehicleType
from optimize.vrp import solve as solve_vrp
from planner.app.background import BackgroundJob

LIMIT_S = 120.0  # far beyond what the test waits: only the cancel can end these solves in time
SOLVING_S = 1.5  # let each solve get going before the cancel
ENDED_WITHIN_S = 5.0  # from the cancel to the job's end, on a loaded 2-core machine


def _rounds() -> object:
    n = 150  # every stop at one point: a huge set of truck-days, a long enumeration then CP-SAT
    zeros = np.zeros((n + 2, n + 2))
    problem = RoundsProblem(
        tuple(Stop(f"s{i}", f"S{i}", i, 60) for i in range(n)),
        tuple(Vehicle(f"v{k}", n + k) for k in range(2)),
        zeros,
        zeros,
        tuple((i,) for i in range(n)),
        np.full(n, 100.0),
        max_stops_per_day=6,
    )
    return solve_rounds(problem, time_limit_s=LIMIT_S, seed=0)


def _siting() -> object:
    rng = np.random.default_rng(7)
    problem = siting.SitingProblem(rng.uniform(0, 90, (3000, 600)), rng.uniform(0, 500, 3000))
    return siting.solve(siting.PCenter(problem, 25), time_limit_s=LIMIT_S, seed=0)


def _vrp() -> object:
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 1000, (201, 2))
    dist = np.rint(np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    clients = tuple(VrpClient(i, demand=1) for i in range(1, 201))
    problem = VrpProblem(dist, dist, clients, (VrpVehicleType(depot=0, count=20, capacity=12),))
    return solve_vrp(problem, time_limit_s=LIMIT_S, seed=1)


SOLVES: dict[str, Callable[[], object]] = {
    "rounds (enumeration, CP-SAT)": _rounds,
    "siting p-center (SCIP)": _siting,
    "routing (PyVRP)": _vrp,
}


@pytest.mark.parametrize("name", SOLVES)
def test_cancel_stops_the_solve(name: str) -> None:
    """The job ends with ``Cancelled`` a few seconds after the cancel, not at its time limit."""
    job = BackgroundJob(lambda _progress: SOLVES[name]())
    assert not job.wait(SOLVING_S), f"{name} ended before the cancel: the test needs a longer solve"
    cancelled_at = time.perf_counter()
    assert job.cancel()
    ended_in = time.perf_counter() - cancelled_at
    assert job.wait(0), f"{name} still runs {ended_in:.1f} s after the cancel"
    assert ended_in < ENDED_WITHIN_S, f"{name} took {ended_in:.1f} s to stop"
    with pytest.raises(Cancelled):
        job.result()


def test_progress_messages_reach_the_caller_and_a_cancel_stops_at_the_next_one() -> None:
    """Messages posted by the job are read in order; after a cancel, the next progress call ends the job."""
    posted = threading.Event()
    release = threading.Event()

    def work(progress: Callable[[str], None]) -> str:
        progress("territory")
        progress("coverage")
        posted.set()
        release.wait(10)
        progress("rounds")  # raises Cancelled: the job was cancelled meanwhile
        return "finished"

    job = BackgroundJob(work)
    assert posted.wait(10)
    assert job.messages() == ["territory", "coverage"]
    canceller = threading.Thread(target=job.cancel)
    canceller.start()
    time.sleep(0.2)
    release.set()
    canceller.join(10)
    assert job.messages() == [] and job.cancelled_after_s is not None
    with pytest.raises(Cancelled):
        job.result()


def test_a_job_that_ends_keeps_its_result_and_cannot_be_cancelled() -> None:
    """A finished job returns its value; cancel afterwards is a no-op."""
    job = BackgroundJob(lambda progress: 42)
    assert job.wait(10)
    assert not job.cancel() and job.cancelled_after_s is None
    assert job.result() == 42


def test_errors_of_the_job_are_raised_to_the_caller() -> None:
    """The job's own exception comes back from ``result``."""

    def work(_progress: Callable[[str], None]) -> None:
        raise ValueError("bad input")

    job = BackgroundJob(work)
    assert job.wait(10)
    with pytest.raises(ValueError, match="bad input"):
        job.result()


def test_outside_a_cancellable_run_nothing_is_watched() -> None:
    """Command-line runs have no cancel flag: ``stopping`` and ``check`` do nothing."""
    stopped: list[bool] = []
    with stopping(lambda: stopped.append(True)):
        check()
    assert stopped == []


def test_a_cancel_before_the_solve_refuses_to_start_it() -> None:
    """A run cancelled between two solves does not start the next one."""
    event = threading.Event()
    event.set()
    started: list[bool] = []
    with cancellable(event), pytest.raises(Cancelled), stopping(lambda: None):
        started.append(True)
    assert started == []
