"""Duplicates: at most one project per ``duplicate_group`` (the same idea sent through several
channels, `003` §5.2.8). Funding two copies is the waste the reformers want to stop."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.rules.base import RuleRows

#: A scenario's ``[rules] duplicates = false`` (and ``allocsim select --without duplicates``) switches this
#: rule off; ``RuleParams.duplicates`` carries the switch.
SWITCHABLE = True


def rows(data: PortfolioData, params: RuleParams) -> RuleRows | None:
    if not params.duplicates or not data.groups:
        return None
    r = np.concatenate([np.full(len(g), k) for k, g in enumerate(data.groups)])
    c = np.concatenate(data.groups)
    A = sp.csr_matrix((np.ones(len(c)), (r, c)), shape=(len(data.groups), data.n))

    def describe(k: int, amount: float) -> str:
        ids = ", ".join(str(data.ids[j]) for j in data.groups[k])
        return f"duplicates: {1 + amount:.0f} copies of one project ({ids}) would be funded"

    return RuleRows("duplicates", A, "<=", np.ones(len(data.groups)), describe)
