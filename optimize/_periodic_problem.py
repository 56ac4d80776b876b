"""The periodic VRP instance (re-exported by :mod:`optimize.periodic`), validated when built."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimize._errors import ProblemError


@dataclass(frozen=True)
class PeriodicProblem:
    """Integer ``distance``/``duration`` matrices over the depot (0) and customers 1..n.

    ``combinations[i]`` lists customer ``i``'s allowed day sets (days 0..num_days-1; index 0, the
    depot, has none); ``max_duration`` of ``None`` means routes of any length.
    """

    distance: np.ndarray
    duration: np.ndarray
    demand: np.ndarray
    service: np.ndarray
    combinations: tuple[tuple[tuple[int, ...], ...], ...]
    num_days: int
    vehicles_per_day: int
    capacity: int
    max_duration: int | None = None

    def __post_init__(self) -> None:
        problems = _matrix_problems(self) + _customer_problems(self)
        if self.num_days < 1:
            problems.append(f"num_days: {self.num_days}, at least 1 day is needed")
        if self.vehicles_per_day < 1:
            problems.append(f"vehicles_per_day: {self.vehicles_per_day}, at least 1 vehicle is needed")
        if self.capacity < 1:
            problems.append(f"capacity: {self.capacity}, must be positive")
        if self.max_duration is not None and self.max_duration < 1:
            problems.append(f"max_duration: {self.max_duration}, must be positive (None: no limit)")
        if problems:
            raise ProblemError(problems)

    @property
    def num_customers(self) -> int:
        """Customers, the depot excluded."""
        return len(self.combinations) - 1


def _matrix_problems(p: PeriodicProblem) -> list[str]:
    """Shapes and signs of the matrices and vectors."""
    n = len(p.combinations)
    problems = [
        f"{name}: shape {np.shape(m)}, expected ({n}, {n}) (depot and {n - 1} customers)"
        for name, m in (("distance", p.distance), ("duration", p.duration))
        if np.shape(m) != (n, n)
    ]
    problems += [
        f"{name}: length {len(v)}, expected {n}"
        for name, v in (("demand", p.demand), ("service", p.service))
        if np.shape(v) != (n,)
    ]
    problems += [
        f"{name}: negative values"
        for name, m in (
            ("distance", p.distance),
            ("duration", p.duration),
            ("demand", p.demand),
            ("service", p.service),
        )
        if np.size(m) and np.min(m) < 0
    ]
    return problems


def _customer_problems(p: PeriodicProblem) -> list[str]:
    """Each customer's combinations: at least one, days in the horizon, no repeated day; demand fits."""
    problems = [] if not p.combinations or not p.combinations[0] else ["combinations[0]: the depot has none"]
    for i, combos in enumerate(p.combinations[1:], start=1):
        if not combos:
            problems.append(f"customer {i}: no allowed combination of days")
        for c in combos:
            if not c or len(set(c)) != len(c) or any(not 0 <= d < p.num_days for d in c):
                problems.append(f"customer {i}: combination {c} must list distinct days in 0..{p.num_days - 1}")
        if np.shape(p.demand) == (len(p.combinations),) and int(p.demand[i]) > p.capacity:
            problems.append(f"customer {i}: demand {int(p.demand[i])} > vehicle capacity {p.capacity}")
    return problems
