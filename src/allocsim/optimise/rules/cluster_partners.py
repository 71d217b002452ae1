"""Cluster projects need at least ``min_cluster_partners`` member provinces of their cluster
(`001`, `004` §2.2). Which provinces are members depends on the scenario's cluster map, so a
different map can make a joint project ineligible."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.rules.base import RuleRows

#: A scenario's ``[rules] cluster_partners = false`` (and ``allocsim select --without cluster_partners``) switches this
#: rule off; ``RuleParams.cluster_partners`` carries the switch.
SWITCHABLE = True


def ineligible(data: PortfolioData, params: RuleParams) -> np.ndarray:
    return data.is_cluster_project & (data.n_partners < params.min_cluster_partners)


def rows(data: PortfolioData, params: RuleParams) -> RuleRows | None:
    if not params.cluster_partners:
        return None
    bad = np.flatnonzero(ineligible(data, params))
    if len(bad) == 0:
        return None
    A = sp.csr_matrix((np.ones(len(bad)), (np.arange(len(bad)), bad)), shape=(len(bad), data.n))

    def describe(r: int, amount: float) -> str:
        j = bad[r]
        return (f"cluster partners: {data.ids[j]} has {data.n_partners[j]} member province(s) of "
                f"its cluster, at least {params.min_cluster_partners} are required")

    return RuleRows("cluster_partners", A, "<=", np.zeros(len(bad)), describe)
