"""Local governments in the simulation: real per-province counts by type (both modes), per-body
capacities drawn reproducibly whose expectation is the aggregated capacity, one interface."""

from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import allocsim.data
from allocsim.scenario import load_scenario
from allocsim.scenario.schema import Scenario
from allocsim.simulate import BudgetModel
from allocsim.simulate.agents import LocalGovernment
from allocsim.simulate.local_governments import build_local_governments
from tests.conftest import SCENARIOS

BASE = load_scenario(SCENARIOS / "baseline.toml")
TABLE = Path(allocsim.data.__file__).parent / "reference" / "thailand_local_government_by_province.csv"
# the table's count columns that are types (the totals columns are sums of these)
TYPES = ["pao", "municipality_city", "municipality_town", "municipality_subdistrict", "sao", "special_form"]


def oracle() -> dict[tuple[str, str], int]:
    """(iso_code, type) -> bodies, read straight from the CSV with the csv module."""
    with TABLE.open(encoding="utf-8", newline="") as f:
        return {(r["iso_code"], t): int(r[t]) for r in csv.DictReader(f) for t in TYPES}


def model(mode: str, seed: int = 1, years: int = 1, **sim: object) -> BudgetModel:
    sc = BASE.updated({"simulation.local_government_agents": mode,
                       **{f"simulation.{k}": v for k, v in sim.items()}})
    return BudgetModel(sc, seed=seed, years=years, citizens_per_province=20)


def simulated_counts(m: BudgetModel) -> dict[tuple[str, str], int]:
    got: Counter[tuple[str, str]] = Counter()
    for lg in m.local_governments:
        got[(m.iso[lg.province], lg.kind)] += lg.bodies
    return dict(got)


@pytest.mark.parametrize("mode", ["aggregated", "per_body"])
def test_per_province_counts_equal_the_reference_table(mode: str) -> None:
    m = model(mode)
    want = {k: v for k, v in oracle().items() if v > 0}
    assert simulated_counts(m) == want
    assert sum(want.values()) == 7_841  # SOURCES.md §6.3; Bangkok's BMA is not in the table
    assert "TH-10" not in m.iso  # Bangkok is not simulated, so neither is the BMA
    if mode == "per_body":
        assert len(m.local_governments) == 7_841
        assert all(lg.bodies == 1 for lg in m.local_governments)
    else:  # one agent per (province, type) present
        keys = [(lg.province, lg.kind) for lg in m.local_governments]
        assert len(keys) == len(set(keys)) == len(want)


def expected_capacity(sc: Scenario, kind: str, bodies: int) -> float:
    """Mean of a sum of `bodies` lognormal(log median, sigma) capacities."""
    med, sig = sc.simulation.lg_capacity_median_mthb[kind], sc.simulation.lg_capacity_sigma[kind]
    return bodies * med * float(np.exp(sig**2 / 2))


def test_aggregated_capacity_is_count_times_lognormal_mean() -> None:
    m = model("aggregated")
    for lg in m.local_governments:
        assert lg.capacity_mthb == pytest.approx(expected_capacity(BASE, lg.kind, lg.bodies), rel=1e-12)


def test_per_body_capacities_are_reproducible_from_the_seed_and_leave_other_draws_alone() -> None:
    np.random.seed(7)
    random.seed(7)
    before = (np.random.get_state()[1].copy(), random.getstate())
    a, b, c = model("per_body", seed=5), model("per_body", seed=5), model("per_body", seed=6)
    assert np.array_equal(a.lg.capacity_mthb, b.lg.capacity_mthb)
    assert not np.array_equal(a.lg.capacity_mthb, c.lg.capacity_mthb)
    assert len(np.unique(a.lg.capacity_mthb)) == 7_841  # really drawn per body
    # the global RNGs were not used
    assert np.array_equal(np.random.get_state()[1], before[0]) and random.getstate() == before[1]
    # the draws come from a spawned child stream: the model's own stream is the same in both modes
    agg = model("aggregated", seed=5)
    assert np.array_equal(a.plan_score, agg.plan_score)


def test_per_body_sums_average_to_the_aggregated_capacity_over_seeds() -> None:
    """Over N seeds, each province's mean per-body sum is within 4 standard errors of the
    aggregated capacity (SE from the lognormal variance m² e^{σ²}(e^{σ²} − 1) per body).
    Using the median as the mean (a 9–20 % bias here) would miss by far more than 4 SE."""
    sim = BASE.simulation.model_copy(update={"local_government_agents": "per_body"})
    o = oracle()
    iso = sorted({k[0] for k in o})
    counts = np.array([[o[(p, t)] for t in TYPES] for p in iso])
    med = np.array([sim.lg_capacity_median_mthb[t] for t in TYPES])
    sig = np.array([sim.lg_capacity_sigma[t] for t in TYPES])
    agg = (counts * med * np.exp(sig**2 / 2)).sum(axis=1)
    var = (counts * med**2 * np.exp(sig**2) * (np.exp(sig**2) - 1)).sum(axis=1)
    n = 400
    sums = np.array([build_local_governments(counts, sim, np.random.default_rng(s)).province_capacity_mthb(len(iso))
                     for s in range(n)])
    se = np.sqrt(var / n)
    z = (sums.mean(axis=0) - agg) / se
    assert np.abs(z).max() < 4.0
    nat = sums.sum(axis=1)
    assert abs(nat.mean() - agg.sum()) < 4.0 * np.sqrt(var.sum() / n)
    # and the aggregated mode's table is exactly `agg`
    agg_sim = sim.model_copy(update={"local_government_agents": "aggregated"})
    assert np.allclose(build_local_governments(counts, agg_sim).province_capacity_mthb(len(iso)), agg)


def test_zero_sigma_makes_both_modes_identical() -> None:
    flat = {t: 0.0 for t in TYPES}
    a, b = model("aggregated", lg_capacity_sigma=flat), model("per_body", lg_capacity_sigma=flat)
    assert np.allclose(a.local_cofunding_thb(), b.local_cofunding_thb(), rtol=1e-12)


@pytest.mark.parametrize("mode", ["aggregated", "per_body"])
def test_vectorised_province_cofunding_equals_the_agent_by_agent_sum(mode: str) -> None:
    m = model(mode)
    loop = np.zeros(m.n_provinces)
    for lg in m.local_governments:
        loop[lg.province] += lg.cofunding_capacity_thb()
    assert np.allclose(m.local_cofunding_thb(), loop, rtol=1e-12)
    assert m.local_cofunding_thb().min() > 0

    class Broke(LocalGovernment):
        def cofunding_capacity_thb(self) -> float:
            return 0.0

    class BrokeModel(BudgetModel):
        local_government_class = Broke

    sub = BrokeModel(m.scenario, seed=1, years=1, citizens_per_province=20)
    assert not sub.local_cofunding_thb().any()  # a researcher's override is honoured


def test_whole_model_runs_in_per_body_mode() -> None:
    m = model("per_body", seed=3, years=2)
    m.run()  # checks conservation every year end and plausibility at the end
    t = m.tables()
    led = t["sim_ledger"]
    assert (led["allocated_thb"] == led["disbursed_thb"] + led["carried_over_thb"] + led["unfunded_thb"]
            + led["lapsed_thb"]).all()
    assert len(t["sim_years"]) == 2 * m.n_provinces
    # year-end outcomes include the closing week: a province meets its cluster's target exactly
    # when the closing step's disbursement rate reaches it (this seed has provinces that cross
    # the target in the last week of a year)
    steps = t["sim_steps"]
    closing = steps[steps.groupby("fiscal_year")["step"].transform("max") == steps["step"]]
    both = t["sim_years"].merge(closing[["fiscal_year", "province", "disbursement_rate"]],
                                on=["fiscal_year", "province"])
    target = m.scenario.simulation.cluster_disbursement_target
    assert (both["cluster_target_met"] == (both["disbursement_rate"] >= target)).all()
    used = m.local_cofunding_thb() - m.cofund_left
    assert (m.cofund_left >= -1e-6).all()  # co-funding never exceeds what local governments offer
    assert used.sum() > 0  # and it was really drawn on


def test_bad_local_government_parameters_name_the_field_and_valid_values() -> None:
    with pytest.raises(ValueError, match="unknown local-government type.*bma.*valid: pao"):
        BASE.updated({"simulation.lg_capacity_median_mthb": {"bma": 1.0}})
    with pytest.raises(ValueError, match="sao = 5.0: must be a number in \\[0, 3\\]"):
        BASE.updated({"simulation.lg_capacity_sigma": {"sao": 5.0}})
    with pytest.raises(ValueError, match="aggregated.*per_body"):
        BASE.updated({"simulation.local_government_agents": "each"})
    part = BASE.updated({"simulation.lg_capacity_median_mthb": {"sao": 0.2}}).simulation
    assert part.lg_capacity_median_mthb["sao"] == 0.2
    assert part.lg_capacity_median_mthb["pao"] == BASE.simulation.lg_capacity_median_mthb["pao"]
