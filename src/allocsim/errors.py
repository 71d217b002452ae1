"""User-facing errors: the one place that formats problems for people.

Every problem caused by user input (a scenario file, a projects table, a command-line value)
is a :class:`Problem` naming the file, the field and what would be valid. Code that finds
several problems collects them all and raises one :class:`UserError`, so a user fixes a file in
one pass instead of one error at a time. The CLI prints one line per problem and exits 2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of one input."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


class UserError(Exception):
    """Bad input from the user. Carries every problem found, never a traceback for the user."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem] | Problem) -> None:
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        if not self.problems:
            raise ValueError("UserError needs at least one Problem")
        super().__init__("\n".join(str(p) for p in self.problems))


class RunError(Exception):
    """A run could not finish for a reason outside the input (disk full, a worker died, an
    internal invariant failed). Earlier results are left intact; the CLI exits 3."""

    exit_code = 3


class SolverError(Exception):
    """The solver could not be run at all (missing binary, licence, crash) — not a user error."""


def problem(file: object, field: str, message: str) -> Problem:
    """Shorthand that accepts paths or strings for ``file``."""
    return Problem(str(file), field, message)
