"""Committed projects (``committed`` = 1, e.g. later years of a multi-year project) must be funded.
This is the rule that makes a portfolio infeasible when commitments exceed what other rules allow."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.rules.base import RuleRows

#: A scenario's ``[rules] committed = false`` (and ``allocsim select --without committed``) switches this
#: rule off; ``RuleParams.committed`` carries the switch.
SWITCHABLE = True


def rows(data: PortfolioData, params: RuleParams) -> RuleRows | None:
    must = np.flatnonzero(data.committed)
    if not params.committed or len(must) == 0:
        return None
    A = sp.csr_matrix((np.ones(len(must)), (np.arange(len(must)), must)), shape=(len(must), data.n))

    def describe(r: int, amount: float) -> str:
        return f"commitments: committed project {data.ids[must[r]]} cannot be funded"

    return RuleRows("committed", A, ">=", np.ones(len(must)), describe)
