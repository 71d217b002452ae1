"""The shape every rule shares: sparse rows ``A x (<= or >=) rhs`` plus policy words for a breach."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp


@dataclass
class RuleRows:
    """One family of linear constraints over the project decisions.

    ``describe(row, amount)`` says in policy words what breaking row ``row`` by ``amount`` means,
    e.g. "matching funds: Nan needs 41.0 M THB local co-funding, capacity is 12.0 M".
    ``scale`` sets how a unit of slack is penalised in the elastic (diagnosis) model, so rules
    measured in money and rules measured in counts are comparable.
    """

    rule: str
    A: sp.csr_matrix
    sense: Literal["<=", ">="]
    rhs: np.ndarray
    describe: Callable[[int, float], str]
    scale: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.A = sp.csr_matrix(self.A)
        self.rhs = np.asarray(self.rhs, dtype=float)
        if self.scale is None:
            self.scale = np.ones(len(self.rhs))

    @property
    def size(self) -> int:
        return self.A.shape[0]

    def violation(self, x: np.ndarray, tol: float = 1e-6) -> np.ndarray:
        """Amount by which each row is broken by decisions ``x`` (0 where it holds)."""
        lhs = self.A @ x
        gap = lhs - self.rhs if self.sense == "<=" else self.rhs - lhs
        return np.where(gap > tol * np.maximum(1.0, np.abs(self.rhs)), gap, 0.0)


def mthb(v: float) -> str:
    """Money for people: million THB with sensible precision."""
    return f"{v:,.1f} M THB" if abs(v) >= 0.05 else f"{v * 1e6:,.0f} THB"
