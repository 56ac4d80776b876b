"""What every optimisation model shares: solve status, the result header, integer scaling."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from ortools.sat.python import cp_model

from optimize._errors import ProblemError

# OR-Tools CP-SAT works on integers: money in cents, times in whole minutes, distances in metres.
CENTS_PER_EURO = 100


class Status(StrEnum):
    """How far a solve got: proven optimal, feasible with a bound, infeasible, or no answer in time."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SolveInfo:
    """Status, objective, best bound (same units as the objective), wall time and the seed used."""

    status: Status
    objective: float
    bound: float
    time_s: float
    seed: int

    @property
    def gap(self) -> float:
        """Relative gap between the objective and the bound (0 when proven optimal)."""
        if self.status == Status.OPTIMAL:
            return 0.0
        return abs(self.bound - self.objective) / max(abs(self.bound), 1e-9)


def check_limit(time_limit_s: float) -> None:
    """Refuse a time limit that is not a positive number of seconds (0, negative, NaN, inf)."""
    if not (isinstance(time_limit_s, int | float) and math.isfinite(time_limit_s) and time_limit_s > 0):
        raise ProblemError([f"time_limit_s must be a positive, finite number of seconds, not {time_limit_s!r}"])


def to_cents(euros: float) -> int:
    """Euros rounded to whole cents, the one money scaling used in the integer models."""
    return round(euros * CENTS_PER_EURO)


def cp_sat(time_limit_s: float, seed: int, workers: int = 2, *, wall_limit_s: float | None = None) -> cp_model.CpSolver:
    """A CP-SAT solver whose results depend only on the model, the seed and the limit.

    The work limit is CP-SAT's deterministic time (about a second of work each) and parallel
    workers interleave deterministically; a wall-clock limit (``wall_limit_s``, default the same
    seconds) guards against a much slower machine, and only when it ends the search can a result
    differ between runs.
    """
    solver = cp_model.CpSolver()
    solver.parameters.max_deterministic_time = time_limit_s
    solver.parameters.max_time_in_seconds = time_limit_s if wall_limit_s is None else wall_limit_s
    solver.parameters.random_seed = seed
    solver.parameters.num_workers = workers
    solver.parameters.interleave_search = True
    solver.parameters.catch_sigint_signal = False  # Ctrl-C cancels the run (optimize._cancel), not just the search
    return solver


def stopped_by_wall_clock(solver: cp_model.CpSolver) -> bool:
    """True when the wall-clock guard, not the deterministic work limit, ended the search."""
    params = solver.parameters
    return (
        solver.wall_time >= params.max_time_in_seconds * 0.99
        and solver.deterministic_time < params.max_deterministic_time
    )
