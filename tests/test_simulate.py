"""Validity of the budget-cycle simulation: conservation, queue theory, lever directions,
reproducibility, Mesa integration."""

from __future__ import annotations

import random
from functools import cache

import mesa
import numpy as np
import pandas as pd
import pytest

from allocsim.scenario import load_scenario
from allocsim.simulate import BudgetModel, InvariantError
from allocsim.simulate import book as B
from allocsim.simulate.queues import ApprovalQueue
from tests.conftest import SCENARIOS

BASE = load_scenario(SCENARIOS / "baseline.toml")
SEEDS = range(4)


@cache
def national(seed: int, **levers) -> pd.DataFrame:
    m = BudgetModel(BASE, seed=seed, years=2, citizens_per_province=60, **levers)
    m.run()
    t = m.tables()
    nat = t["sim_national"].copy()
    nat["alignment_share"] = t["sim_years"].groupby("fiscal_year")["alignment_share"].mean().to_numpy()
    return nat


@pytest.mark.parametrize("levers", [{}, {"multi_year_projects": True}, {"delegated_changes": True, "single_gateway": True}])
def test_money_is_conserved_to_the_baht(levers: dict) -> None:
    m = BudgetModel(BASE, seed=3, years=3, citizens_per_province=30, **levers)
    m.run()
    led = m.tables()["sim_ledger"]
    for col in ("allocated_thb", "disbursed_thb", "carried_over_thb", "lapsed_thb"):
        assert led[col].dtype == np.int64
    assert (led["allocated_thb"] == led["disbursed_thb"] + led["carried_over_thb"] + led["unfunded_thb"]
            + led["lapsed_thb"]).all()
    assert (led[["disbursed_thb", "carried_over_thb", "lapsed_thb"]] >= 0).all().all()
    if levers.get("multi_year_projects"):
        assert led["carried_over_thb"].sum() > 0  # commitments really carried over
        # what one year carries out, the next year brings in as allocation
    book = m.book
    assert (book["disb"] <= book["alloc"]).all()
    # the per-step table carries the year's lapse on the closing step, matching the ledger
    steps, years = m.tables()["sim_steps"], m.tables()["sim_years"]
    closing = steps[steps["day"] == steps["day"].max()]
    assert closing["lapsed_thb"].sum() == pytest.approx(float(years["lapsed_thb"].sum()))
    assert (steps.loc[steps["day"] < steps["day"].max(), "lapsed_thb"] == 0).all()


def test_conservation_check_can_fail() -> None:
    m = BudgetModel(BASE, seed=1, years=1, citizens_per_province=10)
    while not m.calendar.is_year_end(m.t):
        m.step()
    m.budget_left[0] += 1  # one baht appears from nowhere
    with pytest.raises(InvariantError, match="money not conserved"):
        m.step()


def test_single_server_queue_matches_mm1_theory() -> None:
    rng = np.random.default_rng(7)
    lam, mu = 0.5, 1.0
    q = ApprovalQueue("test", 1, 1 / mu, rng)
    for a in np.cumsum(rng.exponential(1 / lam, 300_000)):
        q.submit(float(a))
    theory = (lam / mu) / (mu - lam)  # Wq = rho / (mu - lambda)
    assert q.mean_wait == pytest.approx(theory, rel=0.05)


def test_queue_refuses_time_travel() -> None:
    q = ApprovalQueue("t", 1, 1.0, np.random.default_rng(0))
    q.submit(5.0)
    with pytest.raises(ValueError):
        q.submit(4.0)
    assert q.submit(4.0, clamp=True) >= 5.0


@pytest.mark.parametrize("seed", SEEDS)
def test_gateway_with_perfect_data_sharing_approves_no_duplicates(seed: int) -> None:
    nat = national(seed, single_gateway=True, data_sharing=1.0)
    assert nat["duplicates_approved"].sum() == 0
    assert nat["wasted_on_duplicates_thb"].sum() == 0


def paired_ci(metric: str, levers: dict, base: dict | None = None) -> tuple[float, float]:
    """95 % confidence interval of the mean paired difference (reform − base) of a run's
    metric over SEEDS: each seed runs both scenarios on the same random numbers."""
    from scipy import stats

    d = np.array([national(s, **levers)[metric].mean() - national(s, **(base or {}))[metric].mean()
                  for s in SEEDS])
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return float(d.mean() - half), float(d.mean() + half)


def test_duplication_rises_as_data_sharing_falls() -> None:
    """Paired over seeds: each step down in data sharing (with the gateway) raises duplicates
    approved, with the confidence interval of the paired difference above zero."""
    for hi, lo in ((1.0, 0.6), (0.6, 0.2)):
        low, _ = paired_ci("duplicates_approved", {"single_gateway": True, "data_sharing": lo},
                           {"single_gateway": True, "data_sharing": hi})
        assert low > 0, (hi, lo, low)


# lever, value, metric, expected direction vs the baseline (the mechanism each lever documents)
LEVER_DIRECTIONS = [
    ("single_gateway", True, "duplicates_approved", "down"),
    ("data_sharing", 0.9, "duplicates_approved", "down"),
    ("staggered_calendar", True, "duplicates_approved", "down"),
    ("staggered_calendar", True, "mean_days_to_disbursement", "down"),
    ("staggered_calendar", True, "mean_planning_days", "down"),
    ("delegated_changes", True, "mean_change_approval_days", "down"),
    ("delegated_changes", True, "mean_days_on_hold", "down"),
    ("delegated_changes", True, "mean_completion_delay_days", "down"),
    ("area_based_budgeting", True, "alignment_share", "up"),
    ("matching_fund_oversight", True, "unfunded_thb", "down"),  # more co-funding: more funded
    ("personnel_delegation", True, "mean_days_to_disbursement", "down"),
    ("personnel_delegation", True, "mean_planning_days", "down"),
    ("multi_year_projects", True, "lapsed_thb", "down"),
    ("participation", 0.8, "value_for_money", "up"),
    ("participation", 0.8, "unmet_need", "down"),
    ("allocation_rule", "need", "equity_gini_per_capita_benefit", "down"),
]


@pytest.mark.parametrize(("lever", "value", "metric", "direction"), LEVER_DIRECTIONS,
                         ids=[f"{a}-{c}" for a, _, c, _ in LEVER_DIRECTIONS])
def test_each_lever_moves_its_metric(lever: str, value: object, metric: str, direction: str) -> None:
    """Paired over seeds (common random numbers): the 95 % confidence interval of the reform −
    baseline difference lies wholly on the side the lever's mechanism predicts."""
    low, high = paired_ci(metric, {lever: value})
    assert (high < 0) if direction == "down" else (low > 0), (low, high)


def test_without_changes_or_duplicates_nothing_waits_and_works_finish_on_schedule() -> None:
    """Oracle for the delay measures: with no change hazard and no duplicate discovery no
    request is ever made, so every project's days on hold are exactly 0 and a completed project
    finishes on its planned day (start + planned weeks; less than a day early from rounding the
    weekly rate up to the baht). No ministry notifies later than its workload allows."""
    import math

    sc = BASE.updated({"simulation.change_hazard_per_week": 0.0, "simulation.change_hazard_construction": 0.0,
                       "simulation.duplicate_discovery_per_week": 0.0,
                       "simulation.year_end_rush_weeks": 0})  # no year-end rush: it finishes works early
    m = BudgetModel(sc, seed=2, years=2, citizens_per_province=20)
    m.run()
    t = m.tables()
    p = t["sim_projects"][t["sim_projects"]["funded"]]
    assert (p["days_on_hold"] == 0).all() and p["change_approval_days"].isna().all()
    done = p["completion_delay_days"].dropna()
    assert len(done) > 100 and done.between(-1.0, 1e-9).all(), done.describe()
    assert (t["sim_national"]["mean_days_on_hold"] == 0).all()
    # each ministry notifies in ceil(provinces it proposes in / its throughput) days: never more
    # than the slowest ministry needs for all provinces (the exact oracle: test_ministries.py)
    slowest = min(mn.notify_per_day for mn in m.ministries)
    assert p["notification_days"].between(0, math.ceil(m.n_provinces / slowest)).all()
    sim = sc.simulation
    # the plan deadline is fixed from the legal notification deadline (day 30 + 60)
    assert p["planning_days"].between(0, sim.notify_deadline_days + sim.plan_deadline_days
                                      + sim.resubmission_days).all()


def test_delegated_approval_cuts_days_on_hold_and_approval_time_paired() -> None:
    """Issue 12 (e): delegated change approval cuts days on hold and change-approval time in
    the same seeds (paired): every seed's difference is negative and so is the CI's upper end."""
    for metric in ("mean_days_on_hold", "mean_change_approval_days"):
        d = [national(s, delegated_changes=True)[metric].mean() - national(s)[metric].mean() for s in SEEDS]
        assert max(d) < 0, (metric, d)
        assert paired_ci(metric, {"delegated_changes": True})[1] < 0


def test_high_performance_provinces_get_faster_change_approval() -> None:
    """The reform package reaches the pilot provinces only: paired over seeds, the pilots'
    mean change-approval wait falls in every seed (their ก.บ.จ. decides), while the other
    provinces, still deciding through the Budget Bureau, do not get the package."""
    pilots = ["TH-74", "TH-70", "TH-18", "TH-19", "TH-40", "TH-48"]
    sc = BASE.model_copy(update={"levers": BASE.levers.model_copy(update={"high_performance_provinces": pilots})})
    diffs = []
    for seed in SEEDS:
        mean = {}
        for name, scen in (("base", BASE), ("hpp", sc)):
            m = BudgetModel(scen, seed=seed, years=2, citizens_per_province=20)
            m.run()
            assert m.levers.delegated.sum() == (len(pilots) if name == "hpp" else 0)
            d = m.tables()["sim_change_delays"]
            mean[name] = d[d["province"].isin(pilots)]["days"].mean()
            if name == "hpp":
                assert not d.loc[~d["province"].isin(pilots), "delegated"].any()
        diffs.append(mean["hpp"] - mean["base"])
    assert max(diffs) < 0, diffs


def test_cluster_map_changes_the_results() -> None:
    sc = BASE.model_copy(update={"geography": BASE.geography.model_copy(update={"cluster_map": "2009"})})
    m = BudgetModel(sc, seed=0, years=2, citizens_per_province=60)
    m.run()
    holders = set(m.tables()["sim_ledger"]["holder"])
    assert "cluster:central_middle_2009" in holders and "cluster:central_metro" not in holders
    assert not m.tables()["sim_national"]["disbursed_thb"].equals(national(0)["disbursed_thb"])


def test_same_seed_identical_outputs_and_no_global_rng() -> None:
    np.random.seed(123)
    random.seed(123)
    expected_np, expected_py = np.random.random(), random.random()
    np.random.seed(123)
    random.seed(123)
    t1 = BudgetModel(BASE, seed=5, years=1, citizens_per_province=20)
    t1.run()
    t2 = BudgetModel(BASE, seed=5, years=1, citizens_per_province=20)
    t2.run()
    assert np.random.random() == expected_np and random.random() == expected_py  # globals untouched
    for name, df in t1.tables().items():
        pd.testing.assert_frame_equal(df, t2.tables()[name], obj=name)
    t3 = BudgetModel(BASE, seed=6, years=1, citizens_per_province=20)
    t3.run()
    assert not t3.tables()["sim_ledger"].equals(t1.tables()["sim_ledger"])


def test_works_with_mesa_batch_run() -> None:
    results = mesa.batch_run(BudgetModel, parameters={"years": 1, "citizens_per_province": 10,
                                                      "delegated_changes": [False, True], "seed": [1]},
                             iterations=1, max_steps=60, number_processes=1, display_progress=False)
    df = pd.DataFrame(results)
    assert set(df["delegated_changes"]) == {False, True}
    assert {"disbursed_mthb", "duplicates_approved", "satisfaction"} <= set(df.columns)
    assert (df.groupby("delegated_changes")["Step"].max() < 60).all()  # the model stopped itself


def test_unknown_keyword_is_rejected() -> None:
    with pytest.raises(TypeError, match="gatway"):
        BudgetModel(BASE, gatway=True)


def test_plan_achievement_and_cascaded_cluster_targets() -> None:
    """Plan achievement is a share that differs between provinces. Cascaded targets: the target
    only judges (it does not change the run), so on the same seed a target of 0 is met by every
    province, and the share meeting
    it never rises as the target rises."""
    shares, years = [], {}
    for target in (0.0, 0.5, 0.7, 0.9, 1.0):
        sc = BASE.updated({"simulation.cluster_disbursement_target": target})
        m = BudgetModel(sc, seed=2, years=2, citizens_per_province=30)
        m.run()
        y = m.tables()["sim_years"]
        years[target] = y
        shares.append(float(y["cluster_target_met"].mean()))
    y = years[0.7]
    assert y["plan_achievement"].between(0, 1).all() and y["plan_achievement"].nunique() > 1
    assert shares[0] == 1.0
    assert all(a >= b for a, b in zip(shares, shares[1:], strict=False)) and shares[0] > shares[-1]
    pd.testing.assert_series_equal(years[0.0]["disbursed_thb"], years[1.0]["disbursed_thb"])


def test_agent_subclasses_change_behaviour_through_the_agent_sets() -> None:
    """Behaviour lives on the agents: a ministry that notifies on day 40 (not its workload's day)
    shows as 40 notification days on every project and, paired on the same seed, later first
    payments; a province that funds nothing leaves every proposal of the year unfunded."""
    from allocsim.simulate.agents import Ministry, Province

    class SlowMinistry(Ministry):
        def notify_day(self) -> int:
            return 40

    class SlowModel(BudgetModel):
        ministry_class = SlowMinistry

    class IdleProvince(Province):
        def fund(self, rows: np.ndarray, day: float) -> None:
            book = self.model.book
            book["state"][rows[book["state"][rows] == B.PROPOSED]] = B.UNFUNDED

    class IdleModel(BudgetModel):
        province_class = IdleProvince

    runs = {}
    for name, cls in (("base", BudgetModel), ("slow", SlowModel), ("idle", IdleModel)):
        m = cls(BASE, seed=3, years=1, citizens_per_province=20)
        m.run()
        runs[name] = m.tables()
    p = runs["slow"]["sim_projects"]
    assert (p["notification_days"] == 40).all()
    assert (runs["base"]["sim_projects"]["notification_days"] < 40).all()
    assert (runs["slow"]["sim_national"]["mean_days_to_disbursement"]
            > runs["base"]["sim_national"]["mean_days_to_disbursement"]).all()
    idle = runs["idle"]["sim_projects"]
    assert not idle["funded"].any() and (runs["idle"]["sim_national"]["disbursed_thb"] == 0).all()
