"""What every optimisation model shares: solve status, the result header, integer scaling."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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


def to_cents(euros: float) -> int:
    """Euros rounded to whole cents, the one money scaling used in the integer models."""
    return round(euros * CENTS_PER_EURO)
