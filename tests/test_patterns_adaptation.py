"""Adaptation from year to year (issue 12): strategic multi-channel submission, use it or lose it,
plan-quality feedback; and the ODD's patterns (a) year-end spending surge and (b) duplicates
funded against data sharing and the gateway. Each test compares against an oracle (the update
rule computed by hand from the book, the formula allocation recomputed, the fixed-rate
generator) or a paired run on the same seeds (common random numbers)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from allocsim.data.catalogue import CatalogueParams, generate_catalogue
from allocsim.data.geography import load_geography
from allocsim.scenario import load_scenario
from allocsim.simulate import BudgetModel
from allocsim.simulate.stages.adaptation import last_year_outcomes
from tests.conftest import SCENARIOS

BASE = load_scenario(SCENARIOS / "baseline.toml")
CITIZENS = 10


def scenario(**sim: object) -> object:
    """The baseline with some [simulation] fields changed."""
    return BASE.model_copy(update={"simulation": BASE.simulation.model_copy(update=sim)})


class Recording(BudgetModel):
    """Keeps each year's learning inputs (the book's outcomes just before the agents learn)."""

    def start_year(self) -> None:
        if self.year > 0:
            self.seen = [*getattr(self, "seen", []), (self.multi_channel_propensity(), *last_year_outcomes(self))]
        super().start_year()


def copies_proposed(m: BudgetModel) -> np.ndarray:
    """Duplicate copies proposed per year (new proposals only, not committed tranches)."""
    bk = m.book
    new = ~bk["committed"] & (bk["group"] >= 0)
    first = np.zeros(len(bk), bool)
    _, idx = np.unique(bk["group"][new], return_index=True)
    first[np.flatnonzero(new)[idx]] = True
    return np.bincount(bk["year"][new & ~first].astype(int), minlength=m.calendar.year_index(m.horizon - 1) + 1)


# --- 1. strategic multi-channel submission --------------------------------------------------------
def test_per_province_propensity_equal_to_the_rate_reproduces_the_fixed_rate_generator() -> None:
    """Learning rate 0 keeps every propensity at duplicate_rate; the catalogue drawn with that
    per-province propensity is the fixed-rate catalogue, row for row (same draws)."""
    geo = load_geography("2017")
    params = CatalogueParams(projects_per_province=6, projects_per_cluster=2, duplicate_rate=0.3)
    a = generate_catalogue(geo, params, np.random.default_rng(4), 2027).projects
    b = generate_catalogue(geo, params, np.random.default_rng(4), 2027,
                           duplicate_p=np.full(len(geo.province_codes), 0.3)).projects
    pd.testing.assert_frame_equal(a, b)
    c = generate_catalogue(geo, params, np.random.default_rng(4), 2027,
                           duplicate_p=np.full(len(geo.province_codes), 0.9)).projects
    assert (c["duplicate_group"] != "").sum() > (a["duplicate_group"] != "").sum()


def test_learning_rate_zero_keeps_the_propensity() -> None:
    m = BudgetModel(scenario(multi_channel_learn_rejection=0.0, multi_channel_learn_caught=0.0),
                    seed=2, years=2, citizens_per_province=CITIZENS)
    m.run()
    for p in m.multi_channel_history:
        np.testing.assert_array_equal(p, BASE.catalogue.duplicate_rate)


@cache
def gateway_run(gateway: bool, learn: bool) -> Recording:
    rates = {} if learn else {"multi_channel_learn_rejection": 0.0, "multi_channel_learn_caught": 0.0}
    m = Recording(scenario(**rates), seed=5, years=3, citizens_per_province=CITIZENS,
                  single_gateway=gateway, data_sharing=0.9 if gateway else 0.0)
    m.run()
    return m


def test_propensity_follows_its_update_rule_from_the_book() -> None:
    """Oracle: p' = clip(p + a·r − b·c, 0, max), r and c counted from last year's book (c: the
    last caught share the province saw; a province that sent no copies remembers the one before)."""
    m = gateway_run(True, True)
    sim = m.scenario.simulation
    assert len(m.seen) == 2
    belief = np.zeros(m.n_provinces)
    rejected = caught = False
    for y, (p, r, c) in enumerate(m.seen, start=1):
        belief = np.where(np.isnan(c), belief, c)
        want = np.clip(p + sim.multi_channel_learn_rejection * r - sim.multi_channel_learn_caught * belief,
                       0.0, sim.multi_channel_propensity_max)
        np.testing.assert_allclose(m.multi_channel_history[y], want, rtol=0, atol=1e-12)
        rejected |= bool((r > 0).any())
        caught |= bool((np.nan_to_num(c) > 0).any())
    assert rejected and caught  # both forces were at work (once copies stop, none can be caught)


def test_gateway_lowers_propensity_and_copies_year_on_year() -> None:
    """With the gateway and full data sharing most copies are caught: the mean propensity falls
    every year, and fewer copies are proposed each year than in year 1 and than the same seed
    without learning (paired). Falling stops only at the lower bound 0."""
    m, fixed = gateway_run(True, True), gateway_run(True, False)
    mean = [float(p.mean()) for p in m.multi_channel_history]
    assert all(b < a or b == 0.0 for a, b in zip(mean, mean[1:], strict=False)), mean
    assert mean[1] < mean[0]
    got, ref = copies_proposed(m), copies_proposed(fixed)
    assert got[0] == ref[0]  # year 1: nothing learned yet, the same draws
    assert got[2] <= got[1] < got[0], got
    assert got[2] < ref[2]


def test_rejection_without_a_gateway_raises_propensity_and_copies() -> None:
    """No gateway, no data sharing: nothing is caught and most proposals are turned down (the
    sized catalogue asks for twice the money), so the propensity rises every year and more copies
    are proposed than with learning off (paired, same seed)."""
    m, fixed = gateway_run(False, True), gateway_run(False, False)
    assert all(float(r.mean()) > 0.3 for _, r, _ in m.seen)  # heavy rejection
    mean = [float(p.mean()) for p in m.multi_channel_history]
    assert all(b > a for a, b in zip(mean, mean[1:], strict=False)), mean
    assert copies_proposed(m)[2] > copies_proposed(fixed)[2]


# --- 3. plan-quality feedback -------------------------------------------------------------------------
@cache
def plan_run(rule: str) -> BudgetModel:
    m = BudgetModel(BASE, seed=3, years=3, citizens_per_province=CITIZENS, allocation_rule=rule)
    m.run()
    return m


def test_plan_scores_rise_with_feedback_and_move_the_plan_score_allocation() -> None:
    """Under the plan_score rule: s' = s + rate·(1 − s) each year (oracle), strictly rising below
    1; each year's provincial-budget money is ∝ population × that year's scores (the formula
    recomputed, within a baht), and the later scores change the money."""
    m = plan_run("plan_score")
    r = m.scenario.simulation.plan_feedback_rate
    h = m.plan_score_history
    assert len(h) == 3
    for a, b in zip(h, h[1:], strict=False):
        np.testing.assert_allclose(b, a + r * (1 - a), rtol=0, atol=1e-12)
        assert (b > a).all()
    n = m.n_provinces
    for y, plan in enumerate(m.plans):
        money = plan.money_thb[:n].astype(float)  # province_budget: no committed tranches today
        w = m.population * h[y]
        np.testing.assert_allclose(money, money.sum() * w / w.sum(), rtol=0, atol=1.0)
    w0 = m.population * h[0]
    last = m.plans[-1].money_thb[:n].astype(float)
    assert np.abs(last - last.sum() * w0 / w0.sum()).max() > 1e5  # the rise changed the money


def test_plan_scores_unchanged_without_feedback() -> None:
    m = plan_run("per_capita")
    for s in m.plan_score_history:
        np.testing.assert_array_equal(s, m.plan_score_history[0])


# --- 2. use it or lose it, pattern (a) --------------------------------------------------------------
def last_month_multiple(m: BudgetModel) -> float:
    """National spending in the last fiscal month (days > 365 − 30.5) ÷ the year's monthly mean."""
    s = m.tables()["sim_steps"]
    nat = s.groupby("step").agg(day=("day", "first"), cum=("disbursed_thb", "sum")).sort_index()
    weekly = np.diff(np.concatenate([[0.0], nat["cum"].to_numpy(float)]))
    return float(weekly[nat["day"].to_numpy() > 365 - 30.5].sum() / (weekly.sum() / 12))


SEEDS_A = range(6)


@cache
def year_one(seed: int, speedup: float | None = None, quality: float | None = None, **levers: object) -> BudgetModel:
    # pattern (a) is about year-end lapse: contracted money does not carry over here (the
    # shipped contract carry-over, `contract_carryover_days`, weakens the rush like multi-year)
    upd = {k: v for k, v in (("year_end_rush_speedup", speedup), ("year_end_rush_quality", quality))
           if v is not None} | {"contract_carryover_days": 0}
    m = BudgetModel(scenario(**upd), seed=seed, years=1, citizens_per_province=CITIZENS, **levers)
    m.run()
    return m


def paired_ci(diff: list[float]) -> tuple[float, float]:
    d = np.asarray(diff)
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return float(d.mean() - half), float(d.mean() + half)


def test_pattern_a_year_end_surge_and_multi_year_commitments_weaken_it() -> None:
    """Pattern (a), n = 6 seeds, one year each. With year-end lapse the last fiscal month's
    spending is > 1.0 × the monthly mean on average (measured 0.96–1.30 per seed, mean 1.14;
    without the rush about 0.6, so the paired rise's 95 % CI must lie above 0.3); under
    multi-year commitments less money is at risk and the multiple is lower (paired 95 % CI of
    the difference above zero). The issue's 1.5 is not reached: the rest of the money that lapses
    is held by pending change requests, which cannot pay (see ODD §7.15)."""
    lapse = [last_month_multiple(year_one(s)) for s in SEEDS_A]
    off = [last_month_multiple(year_one(s, speedup=1.0)) for s in SEEDS_A]
    multi = [last_month_multiple(year_one(s, multi_year_projects=True)) for s in SEEDS_A]
    assert np.mean(lapse) > 1.0, lapse
    assert paired_ci([a - b for a, b in zip(lapse, off, strict=True)])[0] > 0.3, (lapse, off)
    lo, _ = paired_ci([a - b for a, b in zip(lapse, multi, strict=True)])
    print("pattern (a) multiples: lapse", np.round(lapse, 3), "no rush", np.round(off, 3),
          "multi-year", np.round(multi, 3))
    assert lo > 0, (lapse, multi)


def test_rushed_spending_delivers_less_benefit() -> None:
    """Same seed, rushed-spending quality 1 vs 0.5: payments are identical; a project whose whole
    year's spending was a rushed contract delivers exactly half the benefit; none delivers more."""
    good, poor = year_one(1, quality=1.0), year_one(1, quality=0.5)
    np.testing.assert_array_equal(good.book["disb"], poor.book["disb"])
    bk = poor.book
    full = np.flatnonzero(bk["rushed"] & (bk["disb_year"] > 0) & (bk["rush_year"] == bk["disb_year"])
                          & (good.book["effective"] > 0))
    assert len(full) > 0
    np.testing.assert_allclose(bk["effective"][full], 0.5 * good.book["effective"][full], rtol=1e-12)
    assert (bk["effective"] <= good.book["effective"] + 1e-6).all()
    assert bk["rush_year"].sum() > 0


# --- 4. pattern (b) -----------------------------------------------------------------------------------
SEEDS_B = range(4)
SHARING = (0.1, 0.4, 0.7, 1.0)


@cache
def duplicates_funded(seed: int, sharing: float, gateway: bool) -> int:
    m = BudgetModel(BASE, seed=seed, years=1, citizens_per_province=CITIZENS,
                    data_sharing=sharing, single_gateway=gateway)
    m.run()
    return int(m.tables()["plan_vs_delivery"].iloc[0]["duplicates_funded"])


@pytest.mark.parametrize("gateway", [False, True])
def test_pattern_b_duplicates_funded_fall_with_data_sharing(gateway: bool) -> None:
    """Pattern (b), n = 4 seeds (common random numbers: the same proposals and screening draws
    at every level), one year. Mean duplicates funded fall strictly at each step of data sharing
    0.1 → 0.4 → 0.7 → 1.0, and no seed's count rises by more than 2 from one level to the next
    (funding freed by a caught copy may fund another copy)."""
    d = np.array([[duplicates_funded(s, x, gateway) for x in SHARING] for s in SEEDS_B])
    means = d.mean(axis=0)
    assert all(b < a for a, b in zip(means, means[1:], strict=False)), d
    assert (np.diff(d, axis=1) <= 2).all(), d


def test_pattern_b_the_gateway_cuts_duplicates_funded() -> None:
    """At each level of data sharing, the gateway (full detection power instead of
    ``detection_without_gateway`` of it) funds fewer duplicates on average over the same seeds."""
    on = np.array([[duplicates_funded(s, x, True) for x in SHARING] for s in SEEDS_B])
    off = np.array([[duplicates_funded(s, x, False) for x in SHARING] for s in SEEDS_B])
    assert (on.mean(axis=0) < off.mean(axis=0)).all(), (on, off)
    assert (on.sum(axis=1) < off.sum(axis=1)).all(), (on, off)  # every seed, summed over levels
