"""The allocation LP against oracles it did not compute: an independent per-cell evaluator,
hand-solved cases, a second formulation in scipy's linprog, re-solves for the shadow prices, the
MILP on the same money, and properties (more money never lowers the optimum)."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from allocsim.data.catalogue import CatalogueParams, generate_catalogue
from allocsim.data.geography import load_geography
from allocsim.data.projects import load_project_table
from allocsim.optimise import lp_quota, scenario_capacities, select_portfolio
from allocsim.optimise.allocation import (
    STAGE_TOLERANCE,
    allocation_iis,
    allocation_inputs,
    build_allocation,
    evaluate_rules,
    solve_allocation,
)
from allocsim.optimise.problem import RuleParams, build_data
from allocsim.optimise.solve import SolveOptions
from allocsim.scenario.schema import AllocationConfig, Scenario

OPT = SolveOptions(mip_gap=1e-6, time_limit_s=60)
NO_RULES = RuleParams(capacity=False, duplicates=False, follow_on=False, matching=False,
                      alignment=False, cluster_partners=False, committed=False)
LOOSE = dict(floor_thb_per_capita=0.0, ceiling_share=1.0, absorption_thb_per_capita=1e6)


@cache
def catalogue(seed: int = 7, ppp: int = 6, ppc: int = 2):
    geo = load_geography()
    table = generate_catalogue(geo, CatalogueParams(projects_per_province=ppp, projects_per_cluster=ppc),
                               np.random.default_rng(seed), 2027)
    return geo, table


def config(**kw: object) -> AllocationConfig:
    base = {"envelope_mthb": {"province_budget": 2000.0, "ministry_budget": 2500.0,
                              "local_grant": 1200.0, "private": 600.0},
            "cluster_envelope_mthb": 300.0, "floor_thb_per_capita": 20.0,
            "absorption_thb_per_capita": 1000.0, "ceiling_share": 0.2}
    return AllocationConfig(**(base | kw))


def test_no_money_means_no_benefit() -> None:
    """The old LP linked money <= benefit segments, so benefit filled with no money at all."""
    geo, table = catalogue()
    cfg = config(envelope_mthb={s: 0.0 for s in ("province_budget", "ministry_budget", "local_grant", "private")},
                 cluster_envelope_mthb=0.0, floor_thb_per_capita=0.0)
    res = solve_allocation(allocation_inputs(geo, table, cfg, NO_RULES), OPT)
    assert res.status.optimal
    assert res.total_benefit == pytest.approx(0.0, abs=1e-9)
    assert res.table["amount_mthb"].sum() == pytest.approx(0.0, abs=1e-9)


def _cell_evaluator(table: pd.DataFrame, projects: pd.DataFrame) -> float:
    """Independent oracle: in each province × strategy × source (or cluster × strategy) cell, the
    best benefit the allocated money can buy is the fractional knapsack over the cell's own
    candidates, best benefit/cost first."""
    total = 0.0
    single = projects[projects["channel"] != "cluster"]
    clus = projects[projects["channel"] == "cluster"]
    for row in table.itertuples(index=False):
        if row.strategy == "unassigned":
            continue
        if row.level == "province":
            cell = single[(single["province"] == row.area) & (single["strategy"] == row.strategy)]
        else:
            cell = clus[(clus["cluster"] == row.area) & (clus["strategy"] == row.strategy)]
        cost = cell[f"cost:{row.source}"].to_numpy(float)
        ben = cell["benefit"].to_numpy(float)[cost > 0]
        cost = cost[cost > 0]
        left = row.amount_mthb
        for j in np.argsort(-ben / cost, kind="stable"):
            take = min(left, cost[j])
            total += ben[j] * take / cost[j]
            left -= take
        assert left <= 1e-6 * max(1.0, row.amount_mthb), "money allocated to a cell beyond its projects"
    return total


@pytest.mark.parametrize("seed", [7, 8])
def test_benefit_equals_independent_cell_evaluation(seed: int) -> None:
    geo, table = catalogue(seed)
    res = solve_allocation(allocation_inputs(geo, table, config(), NO_RULES), OPT)
    assert res.status.optimal
    assert res.total_benefit > 0
    assert _cell_evaluator(res.table, table.projects) == pytest.approx(res.total_benefit, rel=1e-7)


def test_sources_fund_only_their_own_projects_and_provinces_mix_sources() -> None:
    geo, table = catalogue()
    res = solve_allocation(allocation_inputs(geo, table, config(), NO_RULES), OPT)
    t = res.table[(res.table["level"] == "province") & (res.table["strategy"] != "unassigned")]
    p = table.projects
    channel_of = {"province_budget": "province", "ministry_budget": "ministry",
                  "local_grant": "local_grant", "private": "private"}
    for row in t.itertuples(index=False):
        cell = p[(p["province"] == row.area) & (p["strategy"] == row.strategy)
                 & (p["channel"] == channel_of[row.source])]
        assert len(cell), f"{row.source} money in {row.area}/{row.strategy} without a project of that channel"
    sources = t.groupby("area")["source"].nunique()
    assert (sources >= 2).mean() > 0.5  # money from several sources per province where rules allow


def test_money_rules_hold() -> None:
    geo, table = catalogue()
    cfg = config()
    inp = allocation_inputs(geo, table, cfg)
    res = solve_allocation(inp, OPT)
    t = res.table
    prov = t[t["level"] == "province"]
    for src, env in cfg.envelope_mthb.items():
        assert prov.loc[prov["source"] == src, "amount_mthb"].sum() <= env * (1 + 1e-9) + 1e-9
        per = prov[prov["source"] == src].groupby("area")["amount_mthb"].sum()
        assert (per <= cfg.ceiling_share * env * (1 + 1e-9) + 1e-9).all()
    assert t.loc[t["level"] == "cluster", "amount_mthb"].sum() <= cfg.cluster_envelope_mthb * (1 + 1e-9)
    per_prov = prov.groupby("area")["amount_mthb"].sum().reindex(inp.provinces, fill_value=0.0)
    assert (per_prov.to_numpy() >= inp.floor_mthb - 1e-6).all()
    # absorption: province money + its part of cluster projects
    share = inp.share()
    k = inp.data.resources.index("cluster_budget")
    cl = share.T @ (inp.data.cost[:, k].toarray().ravel() * res.y)
    assert (per_prov.to_numpy() + cl <= inp.absorption_mthb * (1 + 1e-9) + 1e-9).all()


@settings(max_examples=15)
@given(st.lists(st.floats(1.0, 3.0), min_size=5, max_size=5), st.integers(0, 3))
def test_more_money_never_lowers_the_optimum(factors: list[float], seed: int) -> None:
    geo, table = catalogue(seed)
    cfg = config()
    base = solve_allocation(allocation_inputs(geo, table, cfg), OPT)
    env = {s: v * f for (s, v), f in zip(cfg.envelope_mthb.items(), factors, strict=False)}
    more = config(envelope_mthb=env, cluster_envelope_mthb=cfg.cluster_envelope_mthb * factors[4])
    res = solve_allocation(allocation_inputs(geo, table, more), OPT)
    assert res.total_benefit >= base.total_benefit * (1 - 1e-9)


def test_halving_every_envelope_lowers_the_baseline_optimum() -> None:
    from allocsim.experiments.run import build_inputs
    from allocsim.scenario import load_scenario
    from tests.conftest import SCENARIOS

    sc = load_scenario(SCENARIOS / "baseline.toml")
    geo, table = build_inputs(sc)
    full = solve_allocation(allocation_inputs(geo, table, sc.allocation), OPT)
    half_cfg = sc.allocation.model_copy(update={
        "envelope_mthb": {k: v / 2 for k, v in sc.allocation.envelope_mthb.items()},
        "cluster_envelope_mthb": sc.allocation.cluster_envelope_mthb / 2})
    half = solve_allocation(allocation_inputs(geo, table, half_cfg), OPT)
    assert half.total_benefit < 0.9 * full.total_benefit
    # and the baseline spends its binding envelopes in full (benefit is positive there)
    prov = full.table[full.table["level"] == "province"].groupby("source")["amount_mthb"].sum()
    assert prov["province_budget"] == pytest.approx(sc.allocation.envelope_mthb["province_budget"], rel=1e-6)


@settings(max_examples=10)
@given(st.integers(0, 50))
def test_lp_bounds_the_milp_on_the_same_money(seed: int) -> None:
    """The LP is the continuous relaxation of selection: with the MILP's source capacities equal
    to the envelopes (and floors, ceilings, absorption slack) LP optimum >= MILP optimum."""
    geo, table = catalogue(seed, ppp=3, ppc=1)
    cfg = config(**LOOSE)
    sc = Scenario(name="t", allocation=cfg)
    data = scenario_capacities(sc, build_data(table, geo))
    params = RuleParams(alignment_threshold=0.5, matching_uptake=0.6)
    lp = solve_allocation(allocation_inputs(geo, table, cfg, params, data=data), OPT)
    milp = select_portfolio(data, params, options=OPT)
    assert lp.status.optimal and milp.status.has_solution
    assert lp.total_benefit >= milp.total_benefit - 1e-6 * max(1.0, lp.total_benefit)


def test_milp_within_the_lps_own_allocation_never_beats_it() -> None:
    """The yearly chain: the LP's allocation becomes the MILP's province quotas (floors, ceilings
    and absorption all active); selection within that money cannot beat the LP."""
    geo, table = catalogue(3, ppp=4, ppc=2)
    cfg = config()
    sc = Scenario(name="t", allocation=cfg)
    data = scenario_capacities(sc, build_data(table, geo))
    params = RuleParams(alignment_threshold=0.5, matching_uptake=0.6)
    inp = allocation_inputs(geo, table, cfg, params, data=data)
    lp = solve_allocation(inp, OPT)
    milp = select_portfolio(data, replace(params, quota=lp_quota(inp, lp), quota_rule="allocation LP"),
                            options=OPT)
    assert milp.status.has_solution
    assert milp.total_benefit <= lp.total_benefit * (1 + 1e-9)
    assert milp.total_benefit > 0.5 * lp.total_benefit  # and the chain is not vacuous


def _two_province_table(tmp_path, geo):  # noqa: ANN001, ANN202
    rows = pd.DataFrame({
        "project_id": ["A1", "A2", "B1"], "benefit": [1e6, 1e6, 10.0], "total_cost": [1.0, 1.0, 1.0],
        "province": ["TH-50", "TH-50", "TH-57"], "strategy": ["security"] * 3,
        "channel": ["province"] * 3, "cost:province_budget": [1.0, 1.0, 1.0]})
    (tmp_path / "p.csv").write_text(rows.to_csv(index=False))
    (tmp_path / "r.csv").write_text("resource,capacity\nprovince_budget,2\n")
    return load_project_table(tmp_path / "p.csv", tmp_path / "r.csv", geography=geo)


def test_equity_is_max_min_in_the_two_province_case(tmp_path) -> None:  # noqa: ANN001
    """Two 1,000,000-benefit projects in one province, one 10-benefit project in another, room
    for two: max-min funds the small one (the old weighted sum funded the two big ones)."""
    geo = load_geography()
    table = _two_province_table(tmp_path, geo)
    cfg = config(envelope_mthb={"province_budget": 2.0}, cluster_envelope_mthb=0.0, **LOOSE)
    inp = allocation_inputs(geo, table, cfg, NO_RULES)
    eq = solve_allocation(inp, OPT, objective="equity")
    assert eq.status.optimal
    y = dict(zip(inp.data.ids, eq.y, strict=True))
    tol = STAGE_TOLERANCE  # the second stage holds the minimum within this relative tolerance
    assert y["B1"] == pytest.approx(1.0, rel=2 * tol)
    assert eq.total_benefit == pytest.approx(1e6 + 10.0, rel=2 * tol)  # most benefit holding the min
    ben = solve_allocation(inp, OPT, objective="benefit")
    assert ben.total_benefit == pytest.approx(2e6) and ben.min_per_capita == pytest.approx(0.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_max_min_matches_a_second_formulation(seed: int) -> None:
    """The max-min value equals an independent linprog formulation built from the raw projects."""
    geo, table = catalogue(seed, ppp=3, ppc=0)
    cfg = config(**LOOSE)
    inp = allocation_inputs(geo, table, cfg, NO_RULES)
    eq = solve_allocation(inp, OPT, objective="equity")
    p = table.projects
    pop = geo.provinces.set_index("iso_code")["population"]
    provs = sorted(set(p["province"]))
    n = len(p)
    # variables: y (n), t ; maximise t
    c = np.r_[np.zeros(n), -1.0]
    A, b = [], []
    for src, env in cfg.envelope_mthb.items():
        A.append(np.r_[p[f"cost:{src}"].to_numpy(float), 0.0])
        b.append(env)
    for prov in provs:
        row = np.where(p["province"] == prov, -p["benefit"].to_numpy(float) * 1e6 / pop[prov], 0.0)
        A.append(np.r_[row, 1.0])
        b.append(0.0)
    ref = linprog(c, A_ub=np.array(A), b_ub=np.array(b), bounds=[(0, 1)] * n + [(0, None)], method="highs")
    assert ref.status == 0
    assert eq.min_per_capita == pytest.approx(-ref.fun, rel=2 * STAGE_TOLERANCE)
    assert eq.stages[0].objective == pytest.approx(-ref.fun, rel=1e-7)  # the max-min stage itself


def test_shortfall_minimises_the_largest_gap(tmp_path) -> None:  # noqa: ANN001
    geo = load_geography()
    table = _two_province_table(tmp_path, geo)
    pop_b = float(geo.provinces.set_index("iso_code").loc["TH-57", "population"])
    target = 10 * 1e6 / pop_b  # B reaches the target exactly when B1 is funded
    cfg = config(envelope_mthb={"province_budget": 2.0}, cluster_envelope_mthb=0.0, **LOOSE)
    res = solve_allocation(allocation_inputs(geo, table, cfg, NO_RULES), OPT, objective="shortfall",
                           need_target=target)
    y = dict(zip(table.projects["project_id"], res.y, strict=True))
    assert y["B1"] == pytest.approx(1.0, rel=1e-5) and res.total_benefit == pytest.approx(1e6 + 10, rel=1e-5)


def _value(geo, table, cfg) -> float:  # noqa: ANN001
    return solve_allocation(allocation_inputs(geo, table, cfg), OPT).total_benefit


def test_shadow_prices_are_what_one_more_million_buys() -> None:
    """Each envelope's dual is a supergradient of the optimal value (concave in the limit):
    v(E + d) <= v(E) + dual * d for d = ±1, ±5, and equals the one-sided slope for tiny d when
    the envelope binds."""
    geo, table = catalogue(5)
    cfg = config()
    res = solve_allocation(allocation_inputs(geo, table, cfg), OPT)
    v0 = res.total_benefit
    env = res.duals[res.duals["rule"] == "envelope"].set_index("source")
    checked = 0
    for src, row in env.iterrows():
        lam = row["benefit_per_extra_mthb"]
        for d in (-5.0, -1.0, 1.0, 5.0):
            e = dict(cfg.envelope_mthb)
            e[src] = e[src] + d
            v = _value(geo, table, config(envelope_mthb=e))
            assert v <= v0 + lam * d + 1e-6 * max(1.0, v0), (src, d)
        if row["binding"] and lam > 0:
            e = dict(cfg.envelope_mthb)
            e[src] = e[src] - 1e-3
            slope = (v0 - _value(geo, table, config(envelope_mthb=e))) / 1e-3
            assert slope == pytest.approx(lam, rel=1e-3)
            checked += 1
    assert checked >= 1, "no binding envelope: the test instance is too loose"


def test_infeasible_allocation_reports_an_irreducible_set_in_policy_words() -> None:
    geo, table = catalogue()
    cfg = config(floor_thb_per_capita=5000.0)  # floors far above every envelope
    inp = allocation_inputs(geo, table, cfg)
    res = solve_allocation(inp, OPT)
    assert res.status.status == "infeasible" and res.total_benefit is None
    assert any("per-capita floor" in c for c in res.conflicts)
    assert any("envelope" in c or "ceiling" in c or "absorption" in c for c in res.conflicts)
    am = build_allocation(inp)
    iis = allocation_iis(am, OPT)
    assert len(iis) >= 2
    from allocsim.optimise.allocation import _highs

    members = [am.offsets[name] + r for name, r in iis]

    def status(rows: list[int]) -> str:
        h = _highs(am, OPT)
        off = np.setdiff1d(np.arange(am.A.shape[0]), rows).astype(np.int32)
        h.changeRowsBounds(len(off), off, np.full(len(off), -np.inf), np.full(len(off), np.inf))
        h.run()
        return h.getModelStatus().name

    assert status(members) == "kInfeasible"  # the subset alone conflicts
    for row in members:  # and removing any one member resolves it
        assert status([m for m in members if m != row]) == "kOptimal", row


def test_formula_allocations_never_beat_the_optimum() -> None:
    geo, table = catalogue(4)
    inp = allocation_inputs(geo, table, config())
    opt = solve_allocation(inp, OPT)
    rng = np.random.default_rng(0)
    weights = {"per_capita": inp.population, "random": rng.uniform(0, 1, len(inp.provinces)),
               "skewed": inp.population ** 2}
    t = evaluate_rules(inp, OPT, weights, opt).set_index("rule")
    assert (t.loc[["per_capita", "random", "skewed"], "status"] == "optimal").all()
    assert (t["share_of_optimum"] <= 1 + 1e-9).all()
    assert (t.loc[["per_capita", "random", "skewed"], "share_of_optimum"] < 1).all()


def test_readme_formulation_lists_every_rule() -> None:
    """The one-page formulation in the README names every LP and MILP rule the code builds."""
    from pathlib import Path

    from allocsim.optimise.allocation import ALLOCATION_RULES
    from allocsim.optimise.rules import RULES

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    page = text[text.index("### The formulation on one page"):text.index("## Simulation")]
    for name in [*ALLOCATION_RULES, *RULES]:
        assert f"| {name}" in page, name
