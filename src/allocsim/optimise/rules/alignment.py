"""Strategy alignment (DOMAIN.md §4): in each province, the share of funded cost that serves the
provincial plan is at least ``alignment_threshold``:  sum (aligned - θ) · cost · x >= 0."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.rules.base import RuleRows, mthb


def rows(data: PortfolioData, params: RuleParams) -> RuleRows | None:
    theta = params.alignment_threshold
    if not params.alignment or theta <= 0:
        return None
    coef = (data.aligned.astype(float) - theta) * data.total_cost
    A = (sp.diags(coef) @ data.share).T.tocsr()  # (I, n)
    keep = np.flatnonzero(np.asarray(abs(A).sum(axis=1)).ravel() > 0)

    def describe(r: int, amount: float) -> str:
        i = keep[r]
        extra = amount / (1 - theta) if theta < 1 else amount  # aligned money needed to comply
        return (f"strategy alignment: in {data.name(i)} funded projects need {mthb(extra)} more "
                f"aligned spending to reach the {theta:.0%} share the plan requires")

    return RuleRows("alignment", A[keep], ">=", np.zeros(len(keep)), describe)
