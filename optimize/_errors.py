"""The optimisers' exceptions, said in plain words: a bad instance, or a plan that cannot satisfy its constraints."""

from __future__ import annotations


class ProblemError(ValueError):
    """An instance is malformed; ``problems`` lists every problem found, not only the first."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Invalid instance:\n" + "\n".join(f"  - {p}" for p in problems))


class InfeasibleError(ValueError):
    """A plan cannot satisfy its constraints; ``conflicts`` lists them in plain words."""

    def __init__(self, conflicts: list[str]) -> None:
        self.conflicts = conflicts
        super().__init__("No feasible plan:\n" + "\n".join(f"  - {c}" for c in conflicts))
