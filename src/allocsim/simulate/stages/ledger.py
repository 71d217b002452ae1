"""Year end: unspent money lapses or carries over, the ledger must balance to the baht, spending
that reached needs relieves citizens and moves their satisfaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from allocsim.simulate import book as B
from allocsim.simulate.calendar import YEAR_DAYS
from allocsim.simulate.stages.execution import approved_duplicate
from allocsim.simulate.world import PLAN_CHANNELS, to_thb

if TYPE_CHECKING:
    from allocsim.simulate.model import BudgetModel

FUNDED_STATES = (B.PROCUREMENT, B.EXECUTING, B.DONE, B.CANCELLED)


class InvariantError(RuntimeError):
    """A conservation or plausibility invariant failed: the model is wrong, stop."""


def close_year(m: BudgetModel, year_end: float) -> None:
    """Lapse or carry over, check conservation per holder, record the year and let citizens
    receive what was delivered."""
    bk, sim, y = m.book, m.scenario.simulation, m.year
    st = bk["state"]
    # LAPSED: carried-over contract money that lapsed this year may have paid before its deadline
    touched = np.flatnonzero(np.isin(st, (*FUNDED_STATES, B.LAPSED))
                             & ((bk["year"] == y) | (bk["disb_year"] > 0) | np.isin(st, B.ACTIVE)))
    active = touched[np.isin(st[touched], B.ACTIVE)]
    carry = active[(bk["years"][active] > 1) & ~bk["cancel"][active] & (m.levers.multi_year | ~np.isin(
        bk["channel"][active], [B.CHANNELS.index(c) for c in PLAN_CHANNELS]))]  # world.py: scope
    carry = np.union1d(carry, contract_carryover(m, np.setdiff1d(active, carry), year_end))
    ends = np.setdiff1d(active, carry)
    h = m.holders
    n_h = len(m.budget_new)
    rem = bk.remaining()
    allocated = m.budget_new + m.carry_in
    disbursed = np.bincount(h(touched), weights=bk["disb_year"][touched], minlength=n_h).astype(np.int64)
    carry_out = np.bincount(h(carry), weights=rem[carry], minlength=n_h).astype(np.int64)
    # execution lapse: funded money unpaid at year end and not carried over (cancellations'
    # released money, contract carry-over past its deadline, projects still in procurement);
    # money no project was funded with (``budget_left``) is ``unfunded``, apart from it
    lapsed = m.released + np.bincount(h(ends), weights=rem[ends], minlength=n_h).astype(np.int64)
    this = np.flatnonzero(bk["year"] == y)
    won = this[np.isin(st[this], FUNDED_STATES)]
    funded = np.bincount(h(won), weights=bk["alloc"][won], minlength=n_h).astype(np.int64)
    fy = m.scenario.first_fiscal_year + y
    bad = np.flatnonzero(allocated != disbursed + carry_out + m.budget_left + lapsed)
    if len(bad):
        i = int(bad[0])
        raise InvariantError(f"money not conserved in FY{fy} for budget holder {m.holder_names[i]}: "
                             f"allocated {allocated[i]} THB != disbursed {disbursed[i]} + carried "
                             f"{carry_out[i]} + unfunded {m.budget_left[i]} + lapsed {lapsed[i]}")
    bad = np.flatnonzero(funded + m.budget_left != m.budget_new)
    if len(bad):
        i = int(bad[0])
        raise InvariantError(f"money not conserved in FY{fy} for budget holder {m.holder_names[i]}: "
                             f"allocation {m.budget_new[i]} THB != funded {funded[i]} + unfunded "
                             f"{m.budget_left[i]}")
    m.unallocated_thb = unallocated(m, fy)
    m.recorder.cluster_rows.append(cluster_flows(m, this[np.isin(st[this], FUNDED_STATES)], carry))
    m.money_rows.append((fy, m.budget_new.copy(), funded, m.budget_left.copy()))
    m.world.close_year(m.plans[-1], np.isin(st[this], FUNDED_STATES),
                       (st[this] == B.CANCELLED) | bk["cancel"][this])
    st[ends] = B.LAPSED
    bk["pending"][ends] = 0
    # outcomes: what was spent this year, how well it met needs
    eff = effective(m, touched)
    bk["effective"][touched] += eff
    before = bk["effective"].copy()
    m.world.write_down_stopped(y)  # a stopped multi-year project's partial works
    by = np.zeros((m.n_provinces, len(m.strategies)))
    np.add.at(by, (bk["province"][touched].astype(int), bk["strategy"][touched].astype(int)), eff)
    # the write-down of past years' delivered benefit is recorded in the year the project stops
    # (a correction), so the yearly tables sum to the book's delivered benefit
    written = np.bincount(bk["province"].astype(int), weights=before - bk["effective"],
                          minlength=m.n_provinces)
    need_before = m.citizens.province_need()
    relief = m.citizens.receive(by, sim.need_relief_thb_per_head, sim.need_growth)
    need_after = m.citizens.province_need()
    # plan achievement: share of each province's plan targets (its planned strategies) whose need fell
    rows = np.arange(m.n_provinces)[:, None]
    m.plan_achievement = (need_after[rows, m.plan] < need_before[rows, m.plan]).mean(axis=1)
    delay = m.recorder.province_delay(y)
    m.citizens.update_satisfaction(relief, delay, sim.satisfaction_relief, sim.satisfaction_delay_per_100_days,
                                   base=sim.satisfaction_base,
                                   pull=(sim.satisfaction_pull_participant, sim.satisfaction_pull_other))
    m.recorder.close_year(y, allocated, disbursed, carry_out, lapsed, by.sum(axis=1) - written,
                          touched)
    m.budget_left[:] = 0


def cluster_flows(m: BudgetModel, won: np.ndarray, carry: np.ndarray) -> dict[str, np.ndarray]:
    """This year's money of cluster projects by the province they are located in (int baht):
    funded (cluster money spent on the province's projects), carried in (last year's carried
    out), disbursed, carried out, and lapsed = funded + carried in − disbursed − carried out.
    ``plan_vs_delivery`` counts them with the province so that a province's funded and planned
    money (which include its cluster projects) have one basis; summed over provinces, their
    lapse is the cluster pots' execution lapse (tested against the ledger)."""
    bk, n = m.book, m.n_provinces
    clu = B.CHANNELS.index("cluster")

    def by(rows: np.ndarray, w: np.ndarray) -> np.ndarray:
        rows = rows[bk["channel"][rows] == clu]
        return np.bincount(bk["province"][rows].astype(int), weights=w[rows],
                           minlength=n).astype(np.int64)

    every = np.arange(len(bk))
    prev = m.recorder.cluster_rows
    out = {"cluster_money_thb": by(won, bk["alloc"]),
           "carried_in_thb": prev[-1]["carried_over_thb"] if prev else np.zeros(n, np.int64),
           "disbursed_thb": by(every, bk["disb_year"]),
           "carried_over_thb": by(carry, bk.remaining())}
    out["lapsed_thb"] = (out["cluster_money_thb"] + out["carried_in_thb"] - out["disbursed_thb"]
                         - out["carried_over_thb"])
    return out


def contract_carryover(m: BudgetModel, rows: np.ndarray, year_end: float) -> np.ndarray:
    """Today's rule for money under a signed contract (การกันเงินไว้เบิกเหลื่อมปี, Budget
    Procedure Act B.E. 2561 §43; an outside source, not in the repo's seeds): of ``rows`` (active
    projects that would otherwise lapse at ``year_end``), those whose procurement finished
    (executing) and which are not being cancelled keep their remaining money for
    ``simulation.contract_carryover_days`` more days; what is unpaid then lapses
    (``expire_carryover``). Projects still in procurement lapse. Returns the rows carried; sets
    their deadline (never extends one already set)."""
    days = m.scenario.simulation.contract_carryover_days
    bk = m.book
    go = rows[contract_carries(m, rows, year_end)]
    bk["carry_until"][go] = np.minimum(bk["carry_until"][go], year_end + days)
    return go


def contract_carries(m: BudgetModel, rows: np.ndarray, year_end: float) -> np.ndarray:
    """Which of ``rows`` keep their money past ``year_end`` under the contract carry-over rule
    (read by ``contract_carryover`` and by the year-end rush's ``execution.lapse_risk``): carry-over
    on, contract signed (executing), not being cancelled, and not already carried once to a
    deadline this year end reaches."""
    bk = m.book
    if m.scenario.simulation.contract_carryover_days <= 0:
        return np.zeros(len(rows), bool)
    return ((bk["state"][rows] == B.EXECUTING) & ~bk["cancel"][rows]
            & (bk["carry_until"][rows] > year_end))


def expire_carryover(m: BudgetModel, d1: float) -> None:
    """Carried-over contract money whose deadline falls before the end of this week lapses now
    (weekly steps: a project never pays after its deadline): the project stops paying and its
    remaining money is released, to be counted as lapsed at this year's close."""
    bk = m.book
    out = np.flatnonzero(np.isin(bk["state"], B.ACTIVE) & (bk["carry_until"] < d1))
    if len(out) == 0:
        return
    m.released += np.bincount(m.holders(out), weights=bk.remaining()[out],
                              minlength=len(m.released)).astype(np.int64)
    bk["state"][out] = B.LAPSED
    bk["pending"][out] = 0


def envelopes_thb(m: BudgetModel) -> np.ndarray:
    """The scenario's envelope per money source (provincial sources, then the cluster pot),
    in whole baht at the rounding rule of ``world.py``."""
    a = m.scenario.allocation
    return np.array([int(to_thb(a.envelope_mthb.get(s, 0.0))) for s in B.SOURCES]
                    + [int(to_thb(a.cluster_envelope_mthb))], np.int64)


def unallocated(m: BudgetModel, fy: int) -> int:
    """Envelope money the allocation gave to no holder this year (the allocation LP may leave
    some unassigned): it lapses at source. Checks envelope = holders' money + unallocated for
    every source, i.e. no source's holders hold more than its envelope."""
    n, k = m.n_provinces, m.n_sources * m.n_provinces
    held = np.append(m.budget_new[:k].reshape(m.n_sources, n).sum(axis=1), m.budget_new[k:].sum())
    env = envelopes_thb(m)
    names = [*B.SOURCES, "cluster_budget"]
    bad = np.flatnonzero(held > env)
    if len(bad):
        i = int(bad[0])
        raise InvariantError(f"money not conserved in FY{fy} for source {names[i]}: holders hold "
                             f"{held[i]} THB but the envelope is {env[i]} THB")
    return int((env - held).sum())


def effective(m: BudgetModel, rows: np.ndarray) -> np.ndarray:
    """Benefit that reached needs this year: spending share × potential, less for wants, for
    spending that started after the need window, and nothing for a duplicate's second copy."""
    bk, sim = m.book, m.scenario.simulation
    # rushed year-end spending (use it or lose it) delivers year_end_rush_quality per baht
    paid = bk["disb_year"][rows] - (1.0 - sim.year_end_rush_quality) * bk["rush_year"][rows]
    share = paid / np.maximum(bk["cost"][rows], 1)
    late = (bk["first_disb"][rows] - bk["year"][rows] * YEAR_DAYS) > sim.need_window_days
    dup = approved_duplicate(bk, rows)
    return (share * bk["potential"][rows] * np.where(bk["problem"][rows], 1.0, sim.want_effect)
            * np.where(late, sim.late_effect, 1.0) * np.where(dup, 0.0, 1.0))
