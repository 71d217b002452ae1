"""Follow-on projects (value chains, `004` §1.2(2)): a project that ``requires`` another is funded
only together with it: x_follow <= x_required."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.rules.base import RuleRows

#: A scenario's ``[rules] follow_on = false`` (and ``allocsim select --without follow_on``) switches this
#: rule off; ``RuleParams.follow_on`` carries the switch.
SWITCHABLE = True


def rows(data: PortfolioData, params: RuleParams) -> RuleRows | None:
    follow = np.flatnonzero(data.requires >= 0)
    if not params.follow_on or len(follow) == 0:
        return None
    k = np.arange(len(follow))
    A = sp.csr_matrix((np.r_[np.ones(len(k)), -np.ones(len(k))],
                       (np.r_[k, k], np.r_[follow, data.requires[follow]])), shape=(len(k), data.n))

    def describe(r: int, amount: float) -> str:
        j = follow[r]
        return f"follow-on: {data.ids[j]} would be funded without {data.ids[data.requires[j]]}"

    return RuleRows("follow_on", A, "<=", np.zeros(len(k)), describe)
