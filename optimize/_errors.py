"""The optimisers' one exception: a plan that cannot satisfy its constraints, said in plain words."""

from __future__ import annotations


class InfeasibleError(ValueError):
    """A plan cannot satisfy its constraints; ``conflicts`` lists them in plain words."""

    def __init__(self, conflicts: list[str]) -> None:
        self.conflicts = conflicts
        super().__init__("No feasible plan:\n" + "\n".join(f"  - {c}" for c in conflicts))
