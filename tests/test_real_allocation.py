"""Today's allocation measured: the 'actual' rule reproduces the real FY2569 shares in both
engines, the fitted formula is a true least-squares fit, and the hindcast's figures are pinned
(recomputed here from the raw CSV with the csv module, not with allocsim's loaders)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from allocsim.data.formula import fit_formula, kurtosis
from allocsim.experiments.hindcast import budget_changes, hindcast_table
from allocsim.optimise.baselines import formula_weights, quota_matrix
from allocsim.optimise.problem import build_data
from allocsim.scenario import load_scenario
from allocsim.simulate import BudgetModel
from tests.conftest import SCENARIOS

REF = Path(__file__).resolve().parents[1] / "src/allocsim/data/reference"


def raw_budgets(year: int) -> dict[str, float]:
    with open(REF / "thailand_province_budget.csv", encoding="utf-8") as fh:
        return {r["iso_code"]: float(r["budget_thb"]) for r in csv.DictReader(fh) if r["fiscal_year_be"] == str(year)}


def test_actual_rule_reproduces_fy2569_shares_in_the_simulation() -> None:
    sc = load_scenario(SCENARIOS / "baseline.toml")
    assert sc.levers.allocation_rule == "actual" and sc.allocation.actual_year == 2569
    sc = sc.model_copy(update={"simulation": sc.simulation.model_copy(update={"years": 1, "citizens_per_province": 10})})
    model = BudgetModel(sc, seed=3)
    model.start_year()
    prov = model.budget_new[: model.n_provinces].astype(float)
    real = raw_budgets(2569)
    expect = np.array([real[c] for c in model.iso])
    expect = expect / expect.sum()
    # budgets are whole baht (floored), so shares agree to within 1 baht per province
    assert np.abs(prov / prov.sum() - expect).max() < 2.0 / prov.sum()


def test_actual_rule_splits_the_milp_quotas_by_the_real_shares() -> None:
    from allocsim.experiments.run import build_inputs

    sc = load_scenario(SCENARIOS / "baseline.toml")
    geo, table = build_inputs(sc)
    data = build_data(table, geo)
    w = formula_weights("actual", data, np.ones(len(data.provinces)), actual_year=2569)
    real = raw_budgets(2569)
    total = sum(real.values())
    for c, wi in zip(data.provinces, w, strict=True):
        assert wi == pytest.approx(real.get(c, 0.0) / total, abs=1e-15)
    from allocsim.optimise import rule_params

    params = rule_params(sc, data, np.ones(len(data.provinces)), geo)
    assert params.quota_rule == "actual"
    q = params.quota
    k = data.resources.index("province_budget")
    for c, qi in zip(data.provinces, q[:, k], strict=True):  # every money source: the real shares
        assert qi == pytest.approx(data.capacity[k] * real.get(c, 0.0) / total, rel=1e-12, abs=1e-12)
    # the cluster budget: each cluster's real share (split among its members by population)
    kc = data.resources.index("cluster_budget")
    with open(REF / "thailand_cluster_budget.csv", encoding="utf-8") as fh:
        clu = {r["cluster_id"]: float(r["budget_thb"]) for r in csv.DictReader(fh) if r["fiscal_year_be"] == "2569"}
    member = dict(zip(geo.provinces["iso_code"], geo.provinces["cluster_id"], strict=True))
    for cid, amount in clu.items():
        got = sum(q[i, kc] for i, c in enumerate(data.provinces) if member.get(c) == cid)
        assert got == pytest.approx(data.capacity[kc] * amount / sum(clu.values()), rel=1e-9)
    assert quota_matrix(data, w)[:, k].sum() == pytest.approx(data.capacity[k])


def test_actual_rule_in_the_lp_uses_the_real_shares_as_they_are() -> None:
    from allocsim.data.formula import actual_cluster_shares
    from allocsim.experiments.run import build_inputs
    from allocsim.optimise.allocation import allocation_inputs, formula_quota

    sc = load_scenario(SCENARIOS / "baseline.toml")
    geo, table = build_inputs(sc)
    inp = allocation_inputs(geo, table, sc.allocation)
    real = raw_budgets(2569)
    shares = np.array([real[c] for c in inp.provinces]) / sum(real.values())
    q, qc = formula_quota(inp, shares, actual_cluster_shares(2569, inp.clusters))
    for r, src in enumerate(inp.sources):
        np.testing.assert_allclose(q[:, r] / inp.envelope(src), shares, rtol=1e-12)
    with open(REF / "thailand_cluster_budget.csv", encoding="utf-8") as fh:
        clu = {r["cluster_id"]: float(r["budget_thb"]) for r in csv.DictReader(fh) if r["fiscal_year_be"] == "2569"}
    expect = np.array([clu[c] for c in inp.clusters]) / sum(clu.values())
    np.testing.assert_allclose(qc / sc.allocation.cluster_envelope_mthb, expect, rtol=1e-12)


def test_fitted_formula_is_the_least_squares_fit() -> None:
    """Normal equations solved independently; R² recomputed; residuals sum to zero (intercept)."""
    f = fit_formula(2568)
    real = raw_budgets(2568)
    with open(REF / "thailand_provinces.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["iso_code"] in real]
    y = np.array([real[r["iso_code"]] for r in rows])
    X = np.array([[1.0, float(r["population"]), float(r["area_km2"])] for r in rows])
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    assert [f.coefficients[k] for k in ("base", "per_head", "per_km2")] == pytest.approx(list(beta), rel=1e-6)
    r2 = 1 - ((y - X @ beta) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert f.r2 == pytest.approx(r2, rel=1e-9)
    assert abs(f.table["residual_thb"].sum()) < 1e-3 * y.mean()
    # pinned (README): base 162.3 M THB per province, 91.0 THB per head, 764 THB per km², R² 0.743
    assert f.coefficients["base"] / 1e6 == pytest.approx(162.28, abs=0.01)
    assert f.coefficients["per_head"] == pytest.approx(91.02, abs=0.01)
    assert f.coefficients["per_km2"] == pytest.approx(764.0, abs=0.1)
    assert f.r2 == pytest.approx(0.7434, abs=1e-4)


def test_hindcast_figures_for_the_real_data_rules() -> None:
    """incremental / per capita from the raw CSV: pinned MAPE and the ranking of the real-data rules."""
    import pandas as pd

    prev, cur = raw_budgets(2568), raw_budgets(2569)
    iso = sorted(cur)
    actual = np.array([cur[c] for c in iso])
    inc = np.array([prev[c] for c in iso])
    inc = inc * actual.sum() / inc.sum()
    pred = pd.DataFrame({"actual": actual, "incremental": inc}, index=iso)
    t = hindcast_table(pred).set_index("rule")
    mape = float(np.mean(np.abs(inc - actual) / actual) * 100)
    assert t.loc["incremental", "mape_pct"] == pytest.approx(mape, rel=1e-12)
    assert mape == pytest.approx(3.741, abs=1e-3)  # README figure
    # per capita and the fitted formula, from the raw tables (README: 34.0 % and 8.7 %)
    with open(REF / "thailand_provinces.csv", encoding="utf-8") as fh:
        geo = {r["iso_code"]: (float(r["population"]), float(r["area_km2"])) for r in csv.DictReader(fh)}
    pop = np.array([geo[c][0] for c in iso])
    per_capita = actual.sum() * pop / pop.sum()
    f = fit_formula(2568)
    fit = np.array([f.predict(*geo[c]) for c in iso])
    fit = actual.sum() * fit / fit.sum()
    t = hindcast_table(pd.DataFrame({"actual": actual, "per_capita": per_capita, "fitted": fit}, index=iso))
    t = t.set_index("rule")
    assert t.loc["per_capita", "mape_pct"] == pytest.approx(33.99, abs=0.01)
    assert t.loc["fitted", "mape_pct"] == pytest.approx(8.68, abs=0.01)


def test_real_budget_changes_are_fat_tailed() -> None:
    ch, dist = budget_changes()
    assert dist["units"] == 94 and len(ch) == 94
    x = ch["change_pct"].to_numpy()
    d = x - x.mean()
    assert dist["kurtosis"] == pytest.approx((d ** 4).mean() / (d ** 2).mean() ** 2)
    assert dist["kurtosis"] == pytest.approx(5.219, abs=1e-3) and dist["kurtosis"] > 3
    assert kurtosis(np.random.default_rng(0).standard_normal(200_000)) == pytest.approx(3.0, abs=0.05)


def test_incremental_rule_follows_last_years_use() -> None:
    """Year 1: the real shares; year 2: last year's money less clawback × lapse, per province
    (recomputed here from the ledger), and the cluster pots likewise. Without institutional
    friction (threshold 0): the signal the friction mechanism works on (tests/test_patterns.py)."""
    from allocsim.experiments.loop import run_world

    sc = load_scenario(SCENARIOS / "baseline.toml")
    sc = sc.model_copy(update={
        "levers": sc.levers.model_copy(update={"allocation_rule": "incremental"}),
        "catalogue": sc.catalogue.model_copy(update={"projects_per_province": 6, "projects_per_cluster": 4}),
        "simulation": sc.simulation.model_copy(update={"years": 2, "citizens_per_province": 10,
                                                       "incremental_friction_threshold": 0.0})})
    tables, model = run_world(sc, None, 5)
    led = tables["sim_ledger"]
    fy = sorted(led["fiscal_year"].unique())
    real = raw_budgets(2569)
    y1 = led[led["fiscal_year"] == fy[0]]
    prov1 = y1[~y1["holder"].str.startswith("cluster")].assign(p=lambda d: d["holder"].str.split(":").str[0])
    prov1 = prov1[prov1["holder"].str.endswith(":province_budget")].set_index("p")["money_thb"]
    expect = np.array([real[c] for c in prov1.index])
    assert np.abs(prov1 / prov1.sum() - expect / expect.sum()).max() < 2.0 / prov1.sum()
    claw = sc.allocation.lapse_clawback
    keep = (y1["money_thb"] - claw * y1["returned_thb"]).clip(lower=0)  # unfunded + lapsed
    unit = y1["holder"].map(lambda h: h if h.startswith("cluster") else h.split(":")[0])
    w = keep.groupby(unit).sum()
    y2 = led[led["fiscal_year"] == fy[1]]
    got = y2[y2["holder"].str.endswith(":province_budget")].assign(p=lambda d: d["holder"].str.split(":").str[0])
    got = got.set_index("p")["money_thb"]
    wp = w.reindex(got.index)
    assert np.abs(got / got.sum() - wp / wp.sum()).max() < 2.0 / got.sum()
    assert (y1["returned_thb"] > 0).any()  # the clawback had something to act on


def test_simulated_changes_summary_matches_its_table() -> None:
    from allocsim.experiments.hindcast import simulated_changes

    sc = load_scenario(SCENARIOS / "baseline.toml")
    sc = sc.model_copy(update={
        "catalogue": sc.catalogue.model_copy(update={"projects_per_province": 6, "projects_per_cluster": 4}),
        "simulation": sc.simulation.model_copy(update={"citizens_per_province": 10})})
    ch, dist = simulated_changes(sc, 3)
    assert dist["units"] == 94 and dist["changes"] == len(ch) == 94 * 3
    assert dist["kurtosis"] == pytest.approx(kurtosis(ch["change_pct"].to_numpy()))
