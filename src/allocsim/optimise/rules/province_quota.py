"""Province quotas from a formula allocation rule (the ``levers.allocation_rule`` lever).

When the scenario allocates provincial budgets by a formula — plan-quality score (today's
practice, `003` §5.3.2), population, or need — each province may only spend its quota of every
budget resource: Σ_p share_pi · cost_pr · x_p <= quota_ir. With ``allocation_rule = "optimal"``
there are no quotas and the optimiser allocates nationally.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.rules.base import RuleRows, mthb

#: Not a scenario switch: set by the allocation-rule lever.
SWITCHABLE = False


def rows(data: PortfolioData, params: RuleParams) -> RuleRows | None:
    q = params.quota
    if q is None:
        return None
    res = [k for k in range(len(data.resources)) if np.isfinite(q[:, k]).all()]  # inf = no quota
    blocks, rhs, labels = [], [], []
    share_t = data.share.T.tocsr()  # (I, n)
    for k in res:
        col = data.cost[:, k].toarray().ravel()
        A = (share_t @ sp.diags(col)).tocsr()
        touched = np.flatnonzero(np.diff(A.indptr) > 0)
        blocks.append(A[touched])
        rhs.append(q[touched, k])
        labels.extend((int(i), k) for i in touched)
    if not labels:
        return None

    def describe(r: int, amount: float) -> str:
        i, k = labels[r]
        quota = q[i, k]
        return (f"province quota ({params.quota_rule}): {data.name(i)} needs {mthb(quota + amount)} of "
                f"{data.resources[k]}, its quota is {mthb(quota)}")

    cap = np.concatenate(rhs)
    return RuleRows("province_quota", sp.vstack(blocks).tocsr(), "<=", cap, describe,
                    scale=1.0 / (1.0 + cap))
