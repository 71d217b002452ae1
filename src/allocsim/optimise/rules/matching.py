"""Matching funds (`002` issue 7): a funded project's local co-funding is at least
``min_local_share`` × cost, and the co-funding asked of each province's local governments stays
within their fiscal capacity (``local:<ISO>`` resources). Cluster projects split it equally
among partner provinces (joint investment, `004` §1.2(2)(2.2)).

The scenario switch between voluntary and governor-supervised co-allocation acts through
``params.matching_uptake``: the share of local capacity that local executives actually commit to
provincial projects. Provinces without a ``local:`` row are not constrained.
"""

from __future__ import annotations

import numpy as np

from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.rules.base import RuleRows, mthb

#: A scenario's ``[rules] matching = false`` (and ``allocsim select --without matching``) switches this
#: rule off; ``RuleParams.matching`` carries the switch.
SWITCHABLE = True


def rows(data: PortfolioData, params: RuleParams) -> RuleRows | None:
    if not params.matching:
        return None
    need = data.local_need().T.tocsr()  # (I, n)
    asked = np.asarray(need.sum(axis=1)).ravel()
    keep = np.flatnonzero(~np.isnan(data.local_capacity) & (asked > 0))
    if len(keep) == 0:
        return None
    cap = params.matching_uptake * data.local_capacity[keep]

    def describe(r: int, amount: float) -> str:
        i = keep[r]
        return (f"matching funds: {data.name(i)} needs {mthb(cap[r] + amount)} local co-funding, "
                f"capacity is {mthb(cap[r])}")

    return RuleRows("matching", need[keep], "<=", cap, describe, scale=1.0 / (1.0 + cap))
