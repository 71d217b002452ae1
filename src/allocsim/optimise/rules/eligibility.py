"""Eligibility set by reform levers (each a documented mechanism of DOMAIN.md §7):

* multi-year projects (`003` §5.2.11): while multi-year commitments are not allowed, a project whose
  cost spans more than one fiscal-year resource cannot be funded;
* area-based budgeting (`002` issue 6): function-budget (ministry) projects must serve the
  provincial plan to be funded.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.rules.base import RuleRows

#: Not a scenario switch: set by the multi-year and area-based-budgeting levers.
SWITCHABLE = False


def reasons(data: PortfolioData, params: RuleParams) -> dict[str, np.ndarray]:
    out = {}
    if not params.multi_year_allowed:
        out["multi-year commitments are not allowed"] = data.multi_year
    if params.area_based_budgeting:
        out["area-based budgeting funds only ministry projects aligned with the provincial plan"] = (
            (data.channel == "ministry") & ~data.aligned)
    return out


def rows(data: PortfolioData, params: RuleParams) -> RuleRows | None:
    why = reasons(data, params)
    if not why:
        return None
    mask = np.zeros(data.n, bool)
    label = np.empty(data.n, dtype=object)
    for text, m in why.items():
        label[m & ~mask] = text
        mask |= m
    bad = np.flatnonzero(mask)
    if len(bad) == 0:
        return None
    A = sp.csr_matrix((np.ones(len(bad)), (np.arange(len(bad)), bad)), shape=(len(bad), data.n))

    def describe(r: int, amount: float) -> str:
        return f"eligibility: {data.ids[bad[r]]} cannot be funded ({label[bad[r]]})"

    return RuleRows("eligibility", A, "<=", np.zeros(len(bad)), describe)
