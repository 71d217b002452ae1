"""Each portfolio rule on a tiny model where it binds; optimum vs brute force and scipy.milp."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from allocsim.data.projects import validate_tables
from allocsim.optimise import RuleParams, SolveOptions, build_data, select_portfolio

EXACT = SolveOptions(mip_gap=0.0, time_limit_s=30.0)


def table(rows: list[dict], resources: dict[str, float]):
    df = pd.DataFrame(rows).astype(object).fillna("").astype(str)
    res = pd.DataFrame({"resource": list(resources), "capacity": [str(v) for v in resources.values()]})
    return validate_tables(df, res, projects_file="p.csv", resources_file="r.csv")


def solve(rows, resources, **params):
    t = table(rows, resources)
    return select_portfolio(build_data(t), RuleParams(**params), options=EXACT)


def test_capacity_binds() -> None:
    rows = [{"project_id": "A", "benefit": 10, "cost:b": 6}, {"project_id": "B", "benefit": 7, "cost:b": 5},
            {"project_id": "C", "benefit": 6, "cost:b": 4}]
    r = solve(rows, {"b": 10})
    assert r.status.optimal and sorted(r.selected) == ["A", "C"] and r.total_benefit == 16
    assert sorted(solve(rows, {"b": 10}, capacity=False).selected) == ["A", "B", "C"]


def test_duplicates_fund_one_copy() -> None:
    rows = [{"project_id": p, "benefit": b, "cost:b": 1, "duplicate_group": "g"} for p, b in (("A", 5), ("B", 4))]
    assert solve(rows, {"b": 10}).selected == ["A"]
    assert sorted(solve(rows, {"b": 10}, duplicates=False).selected) == ["A", "B"]


def test_follow_on_needs_its_predecessor() -> None:
    rows = [{"project_id": "A", "benefit": 1, "cost:b": 5}, {"project_id": "B", "benefit": 9, "cost:b": 5, "requires": "A"},
            {"project_id": "C", "benefit": 5, "cost:b": 5}]
    # B alone is best but needs A; A+B (10) beats B+C (14) only when the rule is on
    assert sorted(solve(rows, {"b": 10}).selected) == ["A", "B"]
    assert sorted(solve(rows, {"b": 10}, follow_on=False).selected) == ["B", "C"]


def test_matching_capacity_and_uptake() -> None:
    rows = [{"project_id": "A", "benefit": 10, "cost:b": 10, "province": "TH-55", "min_local_share": 0.5},
            {"project_id": "B", "benefit": 8, "cost:b": 8, "province": "TH-55", "min_local_share": 0.5},
            {"project_id": "C", "benefit": 1, "cost:b": 1, "province": "TH-50"}]
    res = {"b": 100, "local:TH-55": 8}
    assert sorted(solve(rows, res).selected) == ["A", "C"]                       # A+B need 9 > 8
    assert sorted(solve(rows, res, matching_uptake=0.5).selected) == ["B", "C"]  # only 4 usable: A needs 5
    assert sorted(solve(rows, res, matching=False).selected) == ["A", "B", "C"]


def test_alignment_share_per_province() -> None:
    rows = [{"project_id": "U", "benefit": 10, "cost:b": 10, "province": "TH-50", "aligned": 0},
            {"project_id": "V", "benefit": 3, "cost:b": 3, "province": "TH-50", "aligned": 1}]
    assert sorted(solve(rows, {"b": 100}).selected) == ["U", "V"]
    # 3 / 13 < 0.5, so with the rule U cannot be funded
    assert solve(rows, {"b": 100}, alignment_threshold=0.5).selected == ["V"]


def test_alignment_national_row_covers_projects_without_a_province() -> None:
    rows = [{"project_id": "U", "benefit": 10, "cost:b": 10, "aligned": 0},                  # no province
            {"project_id": "V", "benefit": 3, "cost:b": 3, "province": "TH-50", "aligned": 1}]
    assert sorted(solve(rows, {"b": 100}).selected) == ["U", "V"]
    # nationally 3 / 13 < 0.5 aligned: U escapes every province row but not the national one
    r = solve(rows, {"b": 100}, alignment_threshold=0.5)
    assert r.selected == ["V"] and r.model.families["alignment"].size == 2
    # 3 / 6 >= 0.5 once U is small enough
    rows[0].update({"cost:b": 3, "benefit": 1})
    assert sorted(solve(rows, {"b": 100}, alignment_threshold=0.5).selected) == ["U", "V"]


def test_alignment_national_row_left_out_when_implied() -> None:
    rows = [{"project_id": "U", "benefit": 10, "cost:b": 10, "province": "TH-57", "aligned": 0},
            {"project_id": "V", "benefit": 3, "cost:b": 3, "province": "TH-50", "aligned": 1},
            {"project_id": "W", "benefit": 3, "cost:b": 4, "partners": "TH-50 TH-57", "aligned": 1}]
    t = table(rows, {"b": 100})
    from allocsim.optimise.rules import alignment

    fam = alignment.rows(build_data(t), RuleParams(alignment_threshold=0.5))
    assert fam.size == 2  # one row per province; their sum is the national row


def test_cluster_projects_need_two_partners() -> None:
    rows = [{"project_id": "J", "benefit": 5, "cost:b": 1, "partners": "TH-50", "channel": "cluster"},
            {"project_id": "K", "benefit": 5, "cost:b": 1, "partners": "TH-50 TH-57", "channel": "cluster"}]
    assert solve(rows, {"b": 10}).selected == ["K"]
    assert sorted(solve(rows, {"b": 10}, cluster_partners=False).selected) == ["J", "K"]


def test_levers_multi_year_and_area_based() -> None:
    rows = [{"project_id": "M", "benefit": 5, "cost:y2027": 1, "cost:y2028": 1},
            {"project_id": "S", "benefit": 1, "cost:y2027": 1, "channel": "ministry", "aligned": 0}]
    caps = {"y2027": 10, "y2028": 10}
    assert solve(rows, caps, multi_year_allowed=False).selected == ["S"]
    assert solve(rows, caps, area_based_budgeting=True).selected == ["M"]
    assert sorted(solve(rows, caps).selected) == ["M", "S"]


def test_committed_projects_are_funded() -> None:
    rows = [{"project_id": "A", "benefit": 1, "cost:b": 5, "committed": 1}, {"project_id": "B", "benefit": 9, "cost:b": 5}]
    assert sorted(solve(rows, {"b": 10}).selected) == ["A", "B"]
    assert solve(rows, {"b": 5}).selected == ["A"]
    assert solve(rows, {"b": 5}, committed=False).selected == ["B"]


def test_province_quota_rule() -> None:
    rows = [{"project_id": "A", "benefit": 10, "cost:b": 6, "province": "TH-50"},
            {"project_id": "B", "benefit": 1, "cost:b": 4, "province": "TH-57"}]
    t = table(rows, {"b": 10})
    data = build_data(t)
    quota = np.array([[5.0], [5.0]])  # provinces TH-50, TH-57 get 5 each
    assert select_portfolio(data, RuleParams(quota=quota, quota_rule="per_capita"), options=EXACT).selected == ["B"]
    assert sorted(select_portfolio(data, RuleParams(), options=EXACT).selected) == ["A", "B"]


# ---- optimum against independent methods -------------------------------------------------

def feasible(recs: list[dict], caps: dict, chosen: set[str], theta: float, uptake: float) -> bool:
    """Independent plain-Python reading of the rules (no shared code with the model)."""
    sel = [r for r in recs if r["project_id"] in chosen]
    for res, cap in caps.items():
        if res.startswith("local:"):
            need = sum(float(r["total_cost"]) * float(r["min_local_share"]) for r in sel if r["province"] == res[6:])
            if need > uptake * cap + 1e-9:
                return False
        elif sum(float(r[f"cost:{res}"]) for r in sel) > cap + 1e-9:
            return False
    groups = [r["duplicate_group"] for r in sel if r["duplicate_group"]]
    if len(groups) != len(set(groups)):
        return False
    if any(r["requires"] and r["requires"] not in chosen for r in sel):
        return False
    for prov in {r["province"] for r in sel}:
        total = sum(float(r["total_cost"]) * ((r["aligned"] == "True") - theta) for r in sel if r["province"] == prov)
        if total < -1e-9:
            return False
    return True


def random_instance(rng: np.random.Generator, n: int) -> tuple[list[dict], dict]:
    provs = ["TH-50", "TH-57"]
    rows = []
    for j in range(n):
        rows.append({"project_id": f"P{j}", "benefit": round(float(rng.uniform(1, 20)), 2),
                     "cost:a": round(float(rng.uniform(1, 10)), 2), "cost:b": round(float(rng.uniform(0, 6)), 2),
                     "province": provs[j % 2], "min_local_share": round(float(rng.choice([0, 0.2, 0.4])), 2),
                     "aligned": int(rng.random() < 0.6),
                     "duplicate_group": f"g{j // 3}" if j % 4 == 0 and j > 0 else "",
                     "requires": f"P{j - 1}" if j % 5 == 4 else ""})
    rows[1]["duplicate_group"] = rows[4]["duplicate_group"] = "gx"
    caps = {"a": 25.0, "b": 12.0, "local:TH-50": 4.0, "local:TH-57": 3.0}
    return rows, caps


@pytest.mark.parametrize("seed", range(6))
def test_optimum_equals_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows, caps = random_instance(rng, 11)
    theta, uptake = 0.4, 0.8
    res = solve(rows, caps, alignment_threshold=theta, matching_uptake=uptake)
    recs = table(rows, caps).projects.astype(str).to_dict("records")
    best, best_set = 0.0, set()
    ids = [r["project_id"] for r in recs]
    benefit = {r["project_id"]: float(r["benefit"]) for r in recs}
    for k in range(len(ids) + 1):
        for combo in itertools.combinations(ids, k):
            s = set(combo)
            b = sum(benefit[i] for i in s)
            if b > best + 1e-9 and feasible(recs, caps, s, theta, uptake):
                best, best_set = b, s
    assert res.status.optimal
    assert res.total_benefit == pytest.approx(best, abs=1e-6)
    assert feasible(recs, caps, set(res.selected), theta, uptake)
    assert best_set  # the instance is not trivial


def test_optimum_equals_scipy_milp_on_a_larger_instance() -> None:
    rng = np.random.default_rng(42)
    n = 120
    b = rng.uniform(1, 50, n).round(3)
    C = rng.uniform(0, 10, (n, 3)).round(3)
    caps = {"r0": 150.0, "r1": 120.0, "r2": 90.0}
    groups = [f"g{j // 2}" if j < 40 else "" for j in range(n)]
    rows = [{"project_id": f"P{j}", "benefit": b[j], "cost:r0": C[j, 0], "cost:r1": C[j, 1], "cost:r2": C[j, 2],
             "duplicate_group": groups[j]} for j in range(n)]
    res = solve(rows, caps)
    # independent formulation for scipy
    A = [C[:, 0], C[:, 1], C[:, 2]] + [np.array([1.0 if groups[j] == f"g{k}" else 0.0 for j in range(n)]) for k in range(20)]
    ub = [150, 120, 90] + [1] * 20
    ref = milp(-b, constraints=LinearConstraint(np.array(A), -np.inf, ub), integrality=np.ones(n),
               bounds=Bounds(0, 1), options={"mip_rel_gap": 0})
    assert ref.success
    assert res.total_benefit == pytest.approx(-ref.fun, rel=1e-7)


def test_time_limited_solve_is_labelled_not_optimal() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    cost = rng.integers(20, 120, size=(n, 8)).astype(float)
    benefit = (cost.sum(axis=1) * rng.uniform(0.9, 1.1, n)).round(2)
    df = pd.DataFrame({"project_id": [f"P{j}" for j in range(n)], "benefit": benefit}
                      | {f"cost:r{k}": cost[:, k] for k in range(8)}).astype(str)
    res_t = pd.DataFrame({"resource": [f"r{k}" for k in range(8)], "capacity": [str(cost[:, k].sum() / 3) for k in range(8)]})
    t = validate_tables(df, res_t, projects_file="p", resources_file="r")
    r = select_portfolio(build_data(t), RuleParams(), options=SolveOptions(mip_gap=0.0, time_limit_s=0.5))
    assert r.status.status in ("time_limit", "time_limit_no_solution")
    assert not r.status.optimal
    if r.status.has_solution:
        assert r.status.gap is not None and r.status.gap > 0
        assert "NOT OPTIMAL" in r.status.label()
        assert r.as_json()["optimal"] is False


def test_pareto_frontier_is_monotone_on_one_model() -> None:
    rng = np.random.default_rng(3)
    provs = ["TH-50", "TH-57", "TH-55", "TH-10"]
    rows = [{"project_id": f"P{j}", "benefit": round(float(rng.uniform(1, 30)), 2), "cost:b": round(float(rng.uniform(1, 10)), 2),
             "province": provs[j % 4]} for j in range(40)]
    data = build_data(table(rows, {"b": 60}))
    res = select_portfolio(data, RuleParams(), options=EXACT, pareto_points=6)
    f = res.pareto
    assert 3 <= len(f) <= 6 and (f["status"] == "optimal").all()
    assert (np.diff(f["total_benefit"]) < 0).all()                # benefit falls as equity rises
    assert (np.diff(f["min_per_capita_benefit"]) > 0).all()
    assert (f["min_per_capita_benefit"] >= f["epsilon_min_per_capita"] * (1 - 1e-6) - 1e-6).all()
    assert f["total_benefit"].iloc[0] == pytest.approx(res.total_benefit)
    # the grid starts at the benefit optimum's own minimum, not at 0
    assert f["epsilon_min_per_capita"].iloc[0] == pytest.approx(res.min_per_capita)
    eq = select_portfolio(data, RuleParams(), objective="equity", options=EXACT)
    assert f["min_per_capita_benefit"].iloc[-1] == pytest.approx(eq.min_per_capita)
    # the same HiGHS model served every point: the z bound is back to free afterwards
    assert res.model._z == (-np.inf, np.inf)


def test_infeasible_rules_are_explained_in_policy_words(tmp_path: Path) -> None:
    rows = [{"project_id": "A", "benefit": 1, "cost:b": 6, "province": "TH-55", "min_local_share": 0.5, "committed": 1},
            {"project_id": "B", "benefit": 1, "cost:b": 5, "province": "TH-55", "min_local_share": 0.5, "committed": 1}]
    r = solve(rows, {"b": 20, "local:TH-55": 4})
    assert r.status.status == "infeasible" and r.x is None
    # the cheapest repair breaks the matching-fund row; the conflict also names both commitments
    assert r.diagnosis is not None and r.diagnosis.conflicts["rule"].tolist() == ["matching"]
    assert r.diagnosis.rules == ["committed", "matching"]
    msgs = r.diagnosis.messages()
    assert any("matching funds" in m and "5.5 M THB" in m and "4.0 M THB" in m for m in msgs)
    assert "committed project A cannot be funded" in msgs[0] and "project B" in msgs[0]
    r2 = solve(rows, {"b": 8})
    assert r2.diagnosis.conflicts["rule"].tolist() == ["capacity"]
    assert r2.diagnosis.rules == ["capacity", "committed"]
    assert any("needs 11.0, capacity is 8.0" in m for m in r2.diagnosis.messages())


def test_equity_objective_raises_the_minimum() -> None:
    rows = [{"project_id": f"P{j}", "benefit": b, "cost:b": 1, "province": p}
            for j, (b, p) in enumerate([(10, "TH-50"), (9, "TH-50"), (1, "TH-57"), (1, "TH-57")])]
    data = build_data(table(rows, {"b": 2}))
    rb = select_portfolio(data, RuleParams(), options=EXACT)
    re_ = select_portfolio(data, RuleParams(), objective="equity", options=EXACT)
    assert sorted(rb.selected) == ["P0", "P1"]
    assert rb.min_per_capita == 0 and re_.min_per_capita > 0
    assert re_.total_benefit < rb.total_benefit
    assert replace(RuleParams(), capacity=False).switched_on()[0] == "duplicates"
