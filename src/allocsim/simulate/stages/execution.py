"""Projects execute: procurement ends, requests are decided, money is paid, changes and duplicate
discoveries happen. Vectorised over the project book (projects are arrays, not agents)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from allocsim.simulate import book as B
from allocsim.simulate.draws import project_uniforms

if TYPE_CHECKING:
    from allocsim.simulate.model import BudgetModel


def start_works(m: BudgetModel, d1: float) -> None:
    """Procurement finished: execution starts (each tranche runs within its fiscal year)."""
    bk, sim = m.book, m.scenario.simulation
    go = np.flatnonzero((bk["state"] == B.PROCUREMENT) & (bk["start_day"] < d1))
    rush = year_end_contracts(m, d1)  # use it or lose it: contracts rushed before the year ends
    if len(rush):
        bk["start_day"][rush] = np.maximum(d1 - m.calendar.step_days,
                                           np.nan_to_num(bk["funded_day"][rush], nan=0.0))
        bk["rushed"][rush] = True
        go = np.union1d(go, rush)
    if len(go):
        lo_w, hi_w = sim.execution_weeks
        weeks = lo_w + bk["u_weeks"][go] * (hi_w - lo_w)
        bk["weeks"][go] = weeks
        bk["rate"][go] = np.ceil(bk["alloc"][go] / weeks).astype(np.int64)
        bk["state"][go] = B.EXECUTING


def apply_decisions(m: BudgetModel, d1: float) -> None:
    """Pending requests decided this week: the hold ends; a cancellation releases the rest of
    the project's allocation (it lapses this year)."""
    bk = m.book
    decided = np.flatnonzero((bk["pending"] > 0) & (bk["hold_until"] < d1))
    if len(decided):
        bk["pending"][decided] = 0
        bk["hold_days"][decided] += bk["hold_until"][decided] - bk["request_day"][decided]
        bk["n_decided"][decided] += 1
        m.recorder.decided(decided)
        cancel = decided[bk["cancel"][decided]]
        bk["state"][cancel] = B.CANCELLED
        m.released += np.bincount(m.holders(cancel), weights=bk.remaining()[cancel],
                                  minlength=len(m.released)).astype(np.int64)


def disburse(m: BudgetModel, d0: float, d1: float) -> None:
    """Running projects not on hold pay their weekly rate (pro rata in their first week); in the
    last weeks of the fiscal year money that would lapse is paid faster (``year_end_pace``)."""
    bk = m.book
    st = bk["state"]
    run = np.flatnonzero((st == B.EXECUTING) & (bk["pending"] == 0))
    if len(run):
        begin = np.maximum(d0, np.nan_to_num(bk["start_day"][run], nan=d0))
        frac = np.clip((d1 - begin) / m.calendar.step_days, 0.0, 1.0)
        before = bk.remaining()[run]
        normal = np.minimum(before, np.ceil(bk["rate"][run] * frac).astype(np.int64))
        pace = year_end_pace(m, run, d0)
        pay = normal if pace is None else \
            np.minimum(before, np.ceil(bk["rate"][run] * frac * pace).astype(np.int64))
        bk["disb"][run] += pay
        bk["disb_year"][run] += pay
        # a rushed contract's whole spending is rushed; otherwise what the faster pace added
        bk["rush_year"][run] += np.where(bk["rushed"][run], pay, pay - normal)
        first = run[np.isnan(bk["first_disb"][run]) & (pay > 0)]
        bk["first_disb"][first] = np.maximum(d0, bk["start_day"][first])
        done = bk.remaining()[run] == 0
        # the day the last baht was due at the weekly rate (within this week)
        end = begin[done] + before[done] / np.maximum(bk["rate"][run[done]], 1) * m.calendar.step_days
        bk["done_day"][run[done]] = np.minimum(end, d1)
        st[run[done]] = B.DONE


def lapse_risk(m: BudgetModel, rows: np.ndarray) -> np.ndarray:
    """Whether each running project's unpaid money lapses at this year's end (True) or carries
    over: the year-end rules of ``stages/ledger.py`` — a committed multi-year project carries
    over (unless it is a provincial/cluster plan project without the multi-year reform), and so
    does a signed contract under the contract carry-over rule (``ledger.contract_carries``)."""
    from allocsim.simulate.calendar import YEAR_DAYS
    from allocsim.simulate.stages.ledger import contract_carries
    from allocsim.simulate.world import PLAN_CHANNELS

    bk = m.book
    plan = np.isin(bk["channel"][rows], [B.CHANNELS.index(c) for c in PLAN_CHANNELS])
    carries = (bk["years"][rows] > 1) & ~bk["cancel"][rows] & (m.levers.multi_year | ~plan)
    return ~(carries | contract_carries(m, rows, (m.year + 1) * YEAR_DAYS))


def year_end_pace(m: BudgetModel, run: np.ndarray, d0: float) -> np.ndarray | None:
    """Use it or lose it: the pace factor of each running project this week, or None outside the
    last ``simulation.year_end_rush_weeks`` of the fiscal year (each province decides for its
    projects, ``Province.year_end_pace``; cluster projects by their first partner's province)."""
    from allocsim.simulate.calendar import YEAR_DAYS

    sim = m.scenario.simulation
    weeks_left = ((m.year + 1) * YEAR_DAYS - d0) / 7
    if sim.year_end_rush_weeks == 0 or weeks_left > sim.year_end_rush_weeks:
        return None
    pace = np.ones(len(run))
    at_risk = lapse_risk(m, run)
    prov = m.book["province"][run]

    def decide(p: object) -> None:
        k = np.flatnonzero(prov == p.index)
        if len(k):
            pace[k] = p.year_end_pace(run[k], at_risk[k], weeks_left)

    m.agents_by_type[m.province_class].do(decide)
    return pace


def year_end_contracts(m: BudgetModel, d1: float) -> np.ndarray:
    """Use it or lose it for money not yet contracted: in the last ``year_end_rush_weeks`` of the
    fiscal year, projects still in procurement whose money would lapse are contracted now if
    their province so decides (``Province.year_end_contracts``). Returns their rows."""
    from allocsim.simulate.calendar import YEAR_DAYS

    bk, sim = m.book, m.scenario.simulation
    year_end = (m.year + 1) * YEAR_DAYS
    if sim.year_end_rush_weeks == 0 or (year_end - (d1 - m.calendar.step_days)) / 7 > sim.year_end_rush_weeks:
        return np.zeros(0, np.int64)
    rows = np.flatnonzero((bk["state"] == B.PROCUREMENT) & (bk["start_day"] >= d1))
    if len(rows) == 0:
        return rows
    at_risk = lapse_risk(m, rows)
    prov = bk["province"][rows]
    take = np.zeros(len(rows), bool)

    def decide(p: object) -> None:
        k = np.flatnonzero(prov == p.index)
        if len(k):
            take[k] = p.year_end_contracts(rows[k], at_risk[k], year_end)

    m.agents_by_type[m.province_class].do(decide)
    return rows[take]


def new_requests(m: BudgetModel) -> np.ndarray:
    """Projects needing a decision this week: changes, and cancellations of duplicates found
    during execution. Each project carries its own exponential clocks (drawn when proposed), so
    whether one project changes or is found never shifts another project's draws."""
    bk, sim = m.book, m.scenario.simulation
    dt = m.calendar.step_days / 7
    live = np.flatnonzero((bk["state"] == B.EXECUTING) & (bk["pending"] == 0))
    hazard = np.where(bk["construction"][live], sim.change_hazard_construction, sim.change_hazard_per_week)
    bk["clock_change"][live] += hazard * dt
    change = live[bk["clock_change"][live] >= bk["e_change"][live]]
    bk["clock_change"][change] = 0.0
    bk["n_change"][change] += 1
    for j in change:  # the next change clock: keyed by project and change count, not by order
        u = project_uniforms(m.seed, [m.project_ids[j]], m.scenario.first_fiscal_year
                             + int(bk["year"][j]), ("changes",), (int(bk["n_change"][j]),))
        bk["e_change"][j] = -np.log1p(-u[0, 0])
    dup = live[approved_duplicate(bk, live)]
    rate = sim.duplicate_discovery_per_week * (sim.discovery_base + sim.discovery_per_data_sharing
                                               * m.levers.data_sharing)
    bk["clock_dup"][dup] += rate * dt
    found = dup[bk["clock_dup"][dup] >= bk["e_dup"][dup]]
    found = np.setdiff1d(found, change)
    bk["cancel"][found] = True
    return np.concatenate([change, found])


def approved_duplicate(bk: B.Book, rows: np.ndarray) -> np.ndarray:
    """Funded copies of an idea whose group already has another funded project."""
    funded = np.isin(bk["state"], (B.PROCUREMENT, B.EXECUTING, B.DONE, B.CANCELLED)) & (bk["group"] >= 0)
    groups, counts = np.unique(bk["group"][funded], return_counts=True)
    multi = set(groups[counts > 1].tolist())
    return bk["copy"][rows] & np.array([g in multi for g in bk["group"][rows]], dtype=bool)
