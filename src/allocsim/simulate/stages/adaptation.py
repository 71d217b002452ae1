"""Year start, before the year is planned: agents learn from last year (issue 12, adaptation).

* **Strategic multi-channel submission** (`003` §5.2.4, §5.2.8): each province's agencies send an
  idea through several channels with a propensity that rises with their share of proposals not
  funded last year and falls with the share of their duplicate copies a gateway caught
  (``Province.adapt_submission``); the catalogue draws each province's copies with it.
* **Plan-quality feedback** (`003` §5.3.2): when the allocation rule is ``plan_score`` the scores
  are used, and fed back, so each province's plan improves (``Province.improve_plan``); under any
  other rule nobody reads them and they stay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from allocsim.simulate import book as B

if TYPE_CHECKING:
    from allocsim.simulate.model import BudgetModel

#: states of a proposal that was not funded
NOT_FUNDED = (B.REJECTED_DUPLICATE, B.REJECTED_RULE, B.UNFUNDED)


def last_year_outcomes(m: BudgetModel) -> tuple[np.ndarray, np.ndarray]:
    """Per province, from last year's new proposals (committed tranches and cluster projects left
    out: they are not a provincial agency's choice): the share not funded, and the share of its
    duplicate copies the screening caught (NaN where it proposed none: nothing learned)."""
    bk, n = m.book, m.n_provinces
    rows = np.flatnonzero((bk["year"] == m.year - 1) & ~bk["committed"]
                          & (bk["channel"] != B.CHANNELS.index("cluster")))
    prov = bk["province"][rows].astype(np.int64)
    st = bk["state"][rows]
    total = np.bincount(prov, minlength=n)
    rejected = np.bincount(prov, weights=np.isin(st, NOT_FUNDED), minlength=n)
    copies = np.bincount(prov, weights=bk["copy"][rows], minlength=n)
    caught = np.bincount(prov, weights=bk["copy"][rows] & (st == B.REJECTED_DUPLICATE), minlength=n)
    rate = np.divide(rejected, total, out=np.zeros(n), where=total > 0)
    share = np.divide(caught, copies, out=np.full(n, np.nan), where=copies > 0)
    return rate, share


def learn(m: BudgetModel) -> None:
    """From the second year on: provinces adapt their multi-channel propensity, and under the
    ``plan_score`` rule improve their plans; the scores in force are kept per year."""
    if m.year == 0:
        return
    provinces = m.agents_by_type[m.province_class]
    rate, caught = last_year_outcomes(m)
    provinces.do(lambda p: p.adapt_submission(float(rate[p.index]), float(caught[p.index])))
    m.multi_channel_history.append(m.multi_channel_propensity())
    if m.levers.allocation_rule == "plan_score":
        score = m.plan_score.copy()
        provinces.do(lambda p: score.__setitem__(p.index, p.improve_plan(float(score[p.index]))))
        m.plan_score = score
    m.plan_score_history.append(m.plan_score.copy())
