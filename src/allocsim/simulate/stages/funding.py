"""Provinces whose action plan is due this week screen their proposals and fund them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from allocsim.simulate import book as B

if TYPE_CHECKING:
    from allocsim.simulate.model import BudgetModel


def plan_and_fund(m: BudgetModel, d0: float, d1: float) -> None:
    """Each plan day in [d0, d1) in time order: every province screens and funds its proposals
    due that day (``Province.screen_and_fund``)."""
    bk = m.book
    due = np.flatnonzero((bk["state"] == B.PROPOSED) & (bk["plan_day"] >= d0) & (bk["plan_day"] < d1))
    if len(due) == 0:
        return
    provinces = m.agents_by_type[m.province_class]
    for day in np.unique(bk["plan_day"][due]):
        provinces.do("screen_and_fund", due[bk["plan_day"][due] == day], float(day))
