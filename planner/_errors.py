"""The project's exceptions: bad input, infeasible plans. Both subclass built-ins."""

from __future__ import annotations

from dataclasses import dataclass, field

from optimize._errors import InfeasibleError

__all__ = ["InfeasibleError", "InputError", "Problem"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an input: where (row, feature, key) and what."""

    where: str
    problem: str


@dataclass
class InputError(ValueError):
    """An input file or parameter is wrong; the message says where and how to fix it."""

    source: str
    problems: list[Problem] = field(default_factory=list)
    hint: str = ""

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @classmethod
    def one(cls, source: str, where: str, problem: str, hint: str = "") -> InputError:
        return cls(source, [Problem(where, problem)], hint)

    @property
    def message(self) -> str:
        def line(p: Problem) -> str:
            return f"{p.where}: {p.problem}" if p.where else p.problem

        if len(self.problems) == 1:
            lines = [f"{self.source}, {line(self.problems[0])}"]
        else:
            lines = [f"{self.source}: {len(self.problems)} problems"]
            lines += [f"  - {line(p)}" for p in self.problems[:10]]
            if len(self.problems) > 10:
                lines.append(f"  ... and {len(self.problems) - 10} more")
        if self.hint:
            lines.append(f"Hint: {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message
