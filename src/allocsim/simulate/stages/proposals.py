"""Year start: carry-over, the year's plan and proposals, notification and action-plan timing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from allocsim.data.projects import COST_PREFIX
from allocsim.simulate import book as B
from allocsim.simulate.calendar import YEAR_DAYS
from allocsim.simulate.draws import PROJECT_DRAWS, project_uniforms
from allocsim.simulate.stages import adaptation
from allocsim.simulate.world import YearPlan, to_thb

if TYPE_CHECKING:
    from allocsim.simulate.model import BudgetModel


def open_year(m: BudgetModel) -> None:
    """Day 0 (Budget Act): commitments carry in, provinces set their plan targets, queues start
    fresh, the world plans the year (allocation + selection), its proposals enter the book, the
    ministries notify the governors and each province schedules its action plan."""
    y, bk = m.year, m.book
    active = np.flatnonzero(np.isin(bk["state"], B.ACTIVE))
    m.carry_in[:] = np.bincount(m.holders(active), weights=bk.remaining()[active],
                                minlength=len(m.carry_in)).astype(np.int64)
    bk["disb_year"][:] = 0
    bk["rush_year"][:] = 0
    m.released[:] = 0
    first_new = len(bk)
    provinces = m.agents_by_type[m.province_class]
    # the plan: each province's most voiced needs (plan achievement is measured against it)
    m.plan = np.argsort(-m.citizens.voiced_need(), axis=1)[:, :m.scenario.simulation.plan_size]
    provinces.do("new_year", float(y * YEAR_DAYS))
    m.bureau.new_year(float(y * YEAR_DAYS))
    m.central_pending = [x for x in m.central_pending if bk["state"][x[1]] in B.ACTIVE]
    adaptation.learn(m)  # last year's lessons: multi-channel propensity, plan quality
    plan = m.world.plan_year(y)
    m.plans.append(plan)
    book_rows(m, plan, y)
    new = np.arange(first_new, len(bk))
    m.budget_new[:] = plan.money_thb
    m.budget_left[:] = m.budget_new
    # committed tranches (multi-year reform) are funded first: their money is set aside now
    com = new[bk["committed"][new]]
    m.budget_left -= np.bincount(m.holders(com), weights=bk["cost"][com],
                                 minlength=m.n_holders).astype(np.int64)
    m.cofund_left[:] = m.local_cofunding_thb()
    # timing: ministries notify (their throughput), provinces plan within the deadline
    notify = notify_days(m, new)
    bk["notify_day"][new] = notify[bk["province"][new]]
    counts = np.bincount(bk["province"][new], minlength=m.n_provinces)
    provinces.do("schedule_plan", new, counts, notify, float(y * YEAR_DAYS))
    m.recorder.start_year(y, notify)


def notify_days(m: BudgetModel, new: np.ndarray) -> np.ndarray:
    """Each province's notification day: the latest of the ministries proposing in it this year
    (a ministry's workload is the provinces it proposes in, ``Ministry.notify_day``); a province
    no ministry proposes in is notified on day 0. Ministries past ``notify_deadline_days`` are
    late (counted per year by the recorder)."""
    bk, nm = m.book, len(m.ministries)
    mrows = new[bk["ministry"][new] >= 0]
    present = np.zeros((nm, m.n_provinces), bool)
    present[bk["ministry"][mrows], bk["province"][mrows]] = True
    for k, mn in enumerate(m.ministries):
        mn.provinces_to_notify = int(present[k].sum())
    days = np.array(m.agents_by_type[m.ministry_class].map("notify_day"), float)
    order = [m.ministries.index(a) for a in m.agents_by_type[m.ministry_class]]
    mday = np.zeros(nm)
    mday[order] = days
    m.ministry_notify = mday
    return np.max(np.where(present, mday[:, None], 0.0), axis=0, initial=0.0)


def book_rows(m: BudgetModel, plan: YearPlan, y: int) -> np.ndarray:
    """Append the year's candidate table to the book: the same ids, baht and benefit the
    optimiser read (money at the rounding rule of ``world.py``)."""
    p = plan.table.projects
    n = len(p)
    ch = np.array([B.CHANNELS.index(c) if c in B.CHANNELS else 0 for c in p["channel"]], np.int64)
    src = [B.SOURCES[c] if c < m.n_sources else "cluster_budget" for c in ch]
    costs = {s: p[COST_PREFIX + s].to_numpy(float) if COST_PREFIX + s in p else np.zeros(n)
             for s in set(src)}
    cost = np.array([costs[s][k] for k, s in enumerate(src)])
    pidx = {c: i for i, c in enumerate(m.iso)}
    cidx = {c: k for k, c in enumerate(m.cluster_ids)}
    sidx = {s: k for k, s in enumerate(m.strategies)}
    prov = np.array([pidx.get(c, -1) for c in p["province"]], np.int64)  # a year may be empty
    if (prov < 0).any():
        bad = p["project_id"][prov < 0].iloc[0]
        raise ValueError(f"project {bad}: province {p['province'][prov < 0].iloc[0]!r} is not simulated "
                         f"(valid: the {m.n_provinces} provinces of a cluster)")
    clu = np.array([cidx.get(c, -1) for c in p["cluster"]], np.int64)
    clu = np.where(clu >= 0, clu, m.cluster_of[prov])
    strat = np.array([sidx.get(s, 0) for s in p["strategy"]], np.int64)
    mnames = {mn.name: k for k, mn in enumerate(m.ministries)}
    ministry = np.array([mnames.get(a, -1) for a in p["agency"]], np.int64) if "agency" in p else np.full(n, -1)
    ministry = np.where(ch == B.CHANNELS.index("ministry"), np.maximum(ministry, 0), -1)
    groups = p["duplicate_group"].fillna("").astype(str).to_numpy()
    gid = np.full(n, -1, np.int64)
    copy = np.zeros(n, bool)
    has = groups != ""
    if has.any():
        codes = pd.factorize(groups[has])[0]
        base = int(m.book["group"].max(initial=-1)) + 1
        gid[has] = base + codes
        seen: set[int] = set()
        # the first proposal of an idea is the original; when the optimiser's selection is
        # executed, only selected proposals count: an unselected original makes no copy of
        # the one the optimiser chose (it is a copy only if another member is selected too)
        cand = has if plan.selected is None else has & plan.selected
        for k in np.flatnonzero(cand):
            copy[k] = gid[k] in seen
            seen.add(int(gid[k]))
    share = p["min_local_share"].to_numpy(float)
    cols = {"year": np.full(n, y), "province": prov, "cluster": clu, "strategy": strat,
            "channel": ch, "ministry": ministry, "cost": to_thb(cost),
            "potential": p["benefit"].to_numpy(float) * 1e6,
            "construction": p["construction"].to_numpy(bool),
            "problem": p["problem"].to_numpy(bool) if "problem" in p else np.ones(n, bool),
            "aligned": p["aligned"].to_numpy(bool), "group": gid, "copy": copy,
            "years": p["tranches"].to_numpy(int) if "tranches" in p else np.ones(n, int),
            "cofund_share": np.divide(share, 1 - share, out=np.zeros(n), where=share < 1),
            "committed": p["committed"].to_numpy(bool) if "committed" in p else np.zeros(n, bool),
            "selected": np.zeros(n, bool) if plan.selected is None else plan.selected,
            "state": np.full(n, B.PROPOSED)}
    # per-project random numbers keyed by (project id, fiscal year), one word per process: one
    # project more or less (a continuation tranche, a rejected copy) leaves every other
    # project's draws unchanged (common random numbers in every year, not only the first)
    ids = p["project_id"].astype(str).tolist()
    u = project_uniforms(m.seed, ids, m.scenario.first_fiscal_year + y, PROJECT_DRAWS)
    ex = -np.log1p(-u)  # unit exponentials by inversion
    cols |= {"u_screen": u[:, 0], "e_proc": ex[:, 1], "u_weeks": u[:, 2], "e_change": ex[:, 3],
             "e_dup": ex[:, 4], "u_request": u[:, 5], "u_plan": u[:, 6], "u_escalate": u[:, 7],
             "n_change": np.zeros(n, np.int64)}
    m.project_ids.extend(ids)
    return m.book.append(cols)
