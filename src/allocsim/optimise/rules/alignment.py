"""Strategy alignment (DOMAIN.md §4): in each province, the share of funded cost that serves the
provincial plan is at least ``alignment_threshold``:  sum (aligned - θ) · cost · x >= 0.

A national row, the same reading over ALL projects (the share of funded cost nationally that is
aligned is at least θ), covers projects without a province, which the province rows cannot see.
When every project with a non-zero coefficient splits fully over provinces (shares summing to 1),
the national row is the sum of the province rows and is left out as redundant.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.rules.base import RuleRows, mthb

#: A scenario's ``[rules] alignment = false`` (and ``allocsim select --without alignment``) switches this
#: rule off; ``RuleParams.alignment`` carries the switch.
SWITCHABLE = True


def rows(data: PortfolioData, params: RuleParams) -> RuleRows | None:
    theta = params.alignment_threshold
    if not params.alignment or theta <= 0:
        return None
    coef = (data.aligned.astype(float) - theta) * data.total_cost
    A = (sp.diags(coef) @ data.share).T.tocsr()  # (I, n)
    keep = np.flatnonzero(np.asarray(abs(A).sum(axis=1)).ravel() > 0)
    covered = np.asarray(data.share.sum(axis=1)).ravel()
    national = bool(np.any((coef != 0) & (np.abs(covered - 1.0) > 1e-12)))
    blocks = [A[keep]] + ([sp.csr_matrix(coef[None, :])] if national else [])

    def describe(r: int, amount: float) -> str:
        extra = amount / (1 - theta) if theta < 1 else amount  # aligned money needed to comply
        where = "nationally (all projects, with or without a province)" if r == len(keep) \
            else f"in {data.name(keep[r])}"
        return (f"strategy alignment: {where} funded projects need {mthb(extra)} more "
                f"aligned spending to reach the {theta:.0%} share the plan requires")

    return RuleRows("alignment", sp.vstack(blocks, format="csr"), ">=",
                    np.zeros(len(keep) + national), describe)
