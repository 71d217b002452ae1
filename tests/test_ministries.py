"""Issue 12 wave 2 (m1): ministries that differ, the notification deadline, escalation outcomes
and procurement capacity that scales with staff once. Each test compares against a hand oracle
or a paired run on the same seed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from allocsim.data.catalogue import MINISTRIES, CatalogueParams, generate_catalogue
from allocsim.data.geography import load_geography
from allocsim.scenario import load_scenario
from allocsim.simulate import book as B
from allocsim.simulate.model import BudgetModel, ministry_attributes
from allocsim.simulate.queues import ApprovalQueue

BASE = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml")
N_PROV = 76  # provinces of the 2017 cluster map (Bangkok is in no cluster)


def test_ministry_weights_and_compliance_decide_who_proposes_and_alignment() -> None:
    """Count oracle on the generator: weight on one ministry only → every ministry-channel
    proposal is that ministry's; its compliance 0 → every one unaligned, 1 → every one aligned
    (including duplicate copies sent through the ministry channel)."""
    geo = load_geography("2017")
    params = CatalogueParams(projects_per_province=6, duplicate_rate=0.5)
    w = np.zeros(len(MINISTRIES))
    w[2] = 1.0  # Transport
    for comp, expect in ((0.0, False), (1.0, True)):
        c = np.full(len(MINISTRIES), 1.0 - comp)  # every other ministry does the opposite
        c[2] = comp
        p = generate_catalogue(geo, params, np.random.default_rng(4), ministry_weights=w,
                               ministry_compliance=c).projects
        mins = p[p["channel"] == "ministry"]
        assert len(mins) > 50
        assert (mins["agency"] == MINISTRIES[2]).all()
        assert (mins["aligned"] == expect).all()


def test_ministry_attributes_drawn_once_and_overridable() -> None:
    """Ministries differ (drawn from the scenario's spreads on their own stream: same seed, same
    ministries), budget weights sum to 1, and a per-ministry override replaces only that
    ministry's value (the draws of the others are unchanged: common random numbers)."""
    a = ministry_attributes(BASE, np.random.default_rng(1))
    b = ministry_attributes(BASE, np.random.default_rng(1))
    assert a == b
    assert math.isclose(sum(v["budget_weight"] for v in a.values()), 1.0)
    assert len({round(v["compliance"], 6) for v in a.values()}) > 1  # they differ
    sc = BASE.updated({"simulation.ministries": {"Labour": {"compliance": 0.0}}})
    c = ministry_attributes(sc, np.random.default_rng(1))
    assert c["Labour"]["compliance"] == 0.0
    assert {k: v for k, v in c.items() if k != "Labour"} == {k: v for k, v in a.items() if k != "Labour"}
    with pytest.raises(ValueError, match="unknown ministry"):
        BASE.updated({"simulation.ministries": {"Defence": {"compliance": 0.0}}})


def test_noncompliant_ministry_rejected_under_area_based_budgeting() -> None:
    """A ministry with compliance 0 makes only unaligned proposals; with area-based budgeting
    every one of them is rejected by rule (count oracle: rejected-by-rule = unaligned ministry
    proposals), while without it some of them are funded."""
    sc = BASE.updated({"simulation.ministries": {"Interior": {"compliance": 0.0}}})
    k = MINISTRIES.index("Interior")
    out = {}
    for abb in (True, False):
        m = BudgetModel(sc, seed=3, years=1, citizens_per_province=10, area_based_budgeting=abb)
        m.run()
        bk = m.book
        mine = np.flatnonzero((bk["ministry"] == k) & (bk["channel"] == B.CHANNELS.index("ministry")))
        assert len(mine) > 20 and not bk["aligned"][mine].any()
        unaligned = (bk["channel"] == B.CHANNELS.index("ministry")) & ~bk["aligned"] & ~bk["committed"]
        out[abb] = (bk["state"][mine], int(unaligned.sum()), int((bk["state"] == B.REJECTED_RULE).sum()))
    states, unaligned, rejected = out[True]
    assert (states == B.REJECTED_RULE).all()
    assert rejected == unaligned
    states, _, rejected = out[False]
    assert rejected == 0 and np.isin(states, (B.PROCUREMENT, B.EXECUTING, B.DONE, B.LAPSED,
                                              B.CANCELLED)).any()


def test_construction_bias_enters_the_province_ranking() -> None:
    """Paired on one seed under a ranking rule (not the optimiser's selection): a ministry that
    pushes construction hard gets at least as much of its construction money funded as when it
    does not push at all, and strictly more somewhere."""
    funded = {}
    for bias in (0.0, 5.0):
        sc = BASE.updated({"simulation.ministries": {"Transport": {"construction_bias": bias}}})
        m = BudgetModel(sc, seed=2, years=1, citizens_per_province=10)
        m.run()
        bk = m.book
        rows = (bk["ministry"] == MINISTRIES.index("Transport")) & bk["construction"]
        funded[bias] = int(bk["alloc"][rows].sum())
    assert funded[5.0] > funded[0.0], funded


def _only_interior(days: float) -> object:
    """A scenario where only Interior proposes (every ministry proposal, all 76 provinces) at a
    throughput that makes its notification day ``days`` (ceil(76 / (76 / (days - 0.5))))."""
    w = {n: {"budget_weight": 0.0} for n in MINISTRIES if n != "Interior"}
    w["Interior"] = {"budget_weight": 1.0, "notify_per_day": N_PROV / (days - 0.5)}
    return BASE.updated({"simulation.ministries": w,
                         # heavy planning work: every province needs more than 90 days
                         "simulation.plan_proposals_per_staff_day": 0.01})


@pytest.mark.parametrize("notified", [45, 15])
def test_late_notification_eats_into_the_planning_window(notified: int) -> None:
    """Hand oracle (`000` Del-3: notify by day 30, plan 60 days later = day 90): a ministry that
    notifies on day 45 leaves provinces 45 days (not 60) and is counted late; one that notifies on
    day 15 leaves 75 and is not. With more work than that, a plan takes exactly the window, and a
    proposal cut from it waits resubmission_days more."""
    m = BudgetModel(_only_interior(notified), seed=1, years=1, citizens_per_province=10)
    m.run()
    sim = m.scenario.simulation
    t = m.tables()
    p = t["sim_projects"]
    assert (p["notification_days"] == notified).all()
    window = 30 + 60 - notified
    plan = m.book["plan_day"][m.book["year"] == 0] - notified
    assert set(np.unique(plan)) == {window, window + sim.resubmission_days}
    assert int(t["sim_national"]["late_notifications"].iloc[0]) == (1 if notified > 30 else 0)


def test_notification_day_follows_each_ministry_workload() -> None:
    """Independent count from the book: a ministry's day is ceil(provinces it proposes in ÷ its
    throughput), and a province hears on the latest day of the ministries proposing in it."""
    m = BudgetModel(BASE, seed=4, years=1, citizens_per_province=10)
    m.run()
    bk = m.book
    rows = np.flatnonzero((bk["year"] == 0) & (bk["ministry"] >= 0))
    where: dict[int, set[int]] = {}
    for j in rows:
        where.setdefault(int(bk["ministry"][j]), set()).add(int(bk["province"][j]))
    day = {k: math.ceil(len(v) / m.ministries[k].notify_per_day) for k, v in where.items()}
    assert len(set(day.values())) > 1  # ministries differ
    for i in range(m.n_provinces):
        expect = max([d for k, d in day.items() if i in where[k]], default=0)
        mine = bk["notify_day"][(bk["year"] == 0) & (bk["province"] == i)]
        assert (mine == expect).all(), (i, expect, np.unique(mine))


def _run_to_first_report(p: float) -> tuple[BudgetModel, np.ndarray]:
    sc = BASE.updated({"simulation.escalation_resolve_probability": p})
    m = BudgetModel(sc, seed=5, years=1, citizens_per_province=10)
    while not m.bureau.log:
        m.step()
    return m, m.book["hold_until"].copy()


def test_escalation_outcome_oracle() -> None:
    """Probability 1: every project escalated at the first report has its hold end at the
    earlier of the chain's decision and its normal decision, the latter read from the paired run
    with probability 0 (identical up to that report); probability 0: no hold is shortened — the
    whole year equals a run in which nothing is ever escalated."""
    m1, h1 = _run_to_first_report(1.0)
    m0, h0 = _run_to_first_report(0.0)
    day, rows, t, solved = m1.bureau.log[0]
    assert len(rows) > 5 and solved.all() and not m0.bureau.log[0][3].any()
    np.testing.assert_array_equal(m0.bureau.log[0][1], rows)
    np.testing.assert_array_equal(h1[rows], np.minimum(h0[rows], t))
    assert (h1[rows] < h0[rows]).any()  # some holds were shortened
    others = np.setdiff1d(np.arange(len(h1)), rows)
    np.testing.assert_array_equal(h1[others], h0[others])

    class NoEscalation(m0.province_class):
        def stuck_projects(self, day: float) -> np.ndarray:
            return np.zeros(0, int)

    class Quiet(BudgetModel):
        province_class = NoEscalation

    sc0 = BASE.updated({"simulation.escalation_resolve_probability": 0.0})
    a = BudgetModel(sc0, seed=5, years=1, citizens_per_province=10)
    a.run()
    b = Quiet(sc0, seed=5, years=1, citizens_per_province=10)
    b.run()
    np.testing.assert_array_equal(a.book["hold_days"], b.book["hold_days"])
    np.testing.assert_array_equal(a.book["disb"], b.book["disb"])
    na = a.tables()["sim_national"]
    assert int(na["escalations_resolved"].sum()) == 0 and int(na["escalations_failed"].sum()) > 0


def _makespan(servers: int, n: int, mean: float) -> float:
    q = ApprovalQueue("procurement", servers, mean, np.random.default_rng(0))
    return max(q.submit(0.0, mean, service=1.0) for _ in range(n))


def test_procurement_capacity_scales_with_staff_once() -> None:
    """M/M/c capacity λ_max = c·μ: doubling the officers doubles the projects procured per day,
    not quadruples it. Oracle: n projects arriving together, unit service, c officers of mean d:
    the last starts works after ceil(n / c) · d days. Then through a Province: its office takes
    the scenario's mean per project whatever its staff (servers = staff)."""
    n, d = 40, 30.0
    assert _makespan(2, n, d) == math.ceil(n / 2) * d
    assert _makespan(4, n, d) == math.ceil(n / 4) * d
    m2 = BudgetModel(BASE, seed=1, years=1, citizens_per_province=5)
    m4 = BudgetModel(BASE, seed=1, years=1, citizens_per_province=5, personnel_delegation=True)
    sim = BASE.simulation
    assert sim.staff_with_delegation == 2 * sim.province_staff  # the baseline doubles staff
    done = {}
    for key, m in (("2", m2), ("4", m4)):
        prov = m.provinces[0]
        done[key] = max(prov.procure(0.0, sim.procurement_days, 1.0) for _ in range(n))
    staff = {k: int(m.levers.staff[0]) for k, m in (("2", m2), ("4", m4))}
    assert done["2"] == math.ceil(n / staff["2"]) * sim.procurement_days
    assert done["4"] == math.ceil(n / staff["4"]) * sim.procurement_days
    throughput = {k: n / v for k, v in done.items()}
    assert math.isclose(throughput["4"] / throughput["2"], 2.0, rel_tol=0.05)


def test_procurement_mmc_throughput_doubles_with_staff() -> None:
    """Stochastic check of λ_max = c·μ: a saturated office (arrivals far faster than service)
    with c = 2 vs 4 officers of exponential service mean 30 days procures about c/30 projects a
    day — ratio ≈ 2 (within 10 %), not 4."""
    rates = {}
    for c in (2, 4):
        q = ApprovalQueue("p", c, 30.0, np.random.default_rng(7))
        finish = [q.submit(k * 0.01) for k in range(4000)]
        rates[c] = len(finish) / max(finish)
        assert math.isclose(rates[c], c / 30.0, rel_tol=0.1)
    assert 1.8 < rates[4] / rates[2] < 2.2, rates
