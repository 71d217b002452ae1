"""The portfolio MILP on highspy: true max-min and shortfall against brute force, the Pareto
frontier, honest time-limited references, the greedy warm start and the exact decomposition."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from allocsim.data.projects import validate_tables
from allocsim.optimise import RuleParams, SolveOptions, build_data, select_portfolio
from allocsim.optimise.baselines import compare_to_optimum, greedy, greedy_rows
from allocsim.optimise.decompose import find_blocks
from allocsim.optimise.portfolio import assemble

EXACT = SolveOptions(mip_gap=0.0, time_limit_s=30.0)
PROVS = ["TH-50", "TH-57", "TH-55"]


def table(rows: list[dict], resources: dict[str, float]):
    df = pd.DataFrame(rows).astype(object).fillna("").astype(str)
    res = pd.DataFrame({"resource": list(resources), "capacity": [str(v) for v in resources.values()]})
    return validate_tables(df, res, projects_file="p.csv", resources_file="r.csv")


def random_rows(rng: np.random.Generator, n: int) -> tuple[list[dict], dict]:
    rows = [{"project_id": f"P{j}", "benefit": round(float(rng.uniform(1, 30)), 2),
             "cost:b": round(float(rng.uniform(1, 10)), 2), "province": PROVS[int(rng.integers(3))]}
            for j in range(n)]
    return rows, {"b": round(float(rng.uniform(12, 30)), 2)}


def brute(rows: list[dict], cap: float) -> list[tuple[float, np.ndarray, set[str]]]:
    """Every feasible subset (capacity only): (benefit, per-province benefit, ids). Independent
    of the model: plain sums over the rows (populations are 1 without geography)."""
    provs = sorted({r["province"] for r in rows})
    out = []
    for k in range(len(rows) + 1):
        for combo in itertools.combinations(rows, k):
            if sum(float(r["cost:b"]) for r in combo) <= cap + 1e-9:
                pb = np.array([sum(float(r["benefit"]) for r in combo if r["province"] == p) for p in provs])
                out.append((sum(float(r["benefit"]) for r in combo), pb, {r["project_id"] for r in combo}))
    return out


def lexicographic(cands: list[tuple[float, np.ndarray, set[str]]], score) -> tuple[float, float]:
    """Best first-stage score, then the best benefit among subsets that reach it."""
    best = max(score(pb) for _, pb, _ in cands)
    return best, max(b for b, pb, _ in cands if score(pb) >= best - 1e-9 * max(1.0, abs(best)))


def test_two_big_projects_and_one_small_is_max_min() -> None:
    """The issue's case: a weighted sum funds both 1,000,000 projects (minimum 0); max-min must
    fund one big and the small one (minimum 10), and the benefit stage must then prefer the big
    one over nothing."""
    rows = [{"project_id": "A", "benefit": 1_000_000, "cost:b": 1, "province": "TH-50"},
            {"project_id": "B", "benefit": 1_000_000, "cost:b": 1, "province": "TH-50"},
            {"project_id": "C", "benefit": 10, "cost:b": 1, "province": "TH-57"}]
    data = build_data(table(rows, {"b": 2}))
    r = select_portfolio(data, RuleParams(), objective="equity", options=EXACT)
    assert r.status.optimal and r.min_per_capita == 10
    assert "C" in r.selected and len(r.selected) == 2 and r.total_benefit == 1_000_010
    assert [s.status for s in r.stages] == ["optimal", "optimal"]
    assert sorted(select_portfolio(data, RuleParams(), options=EXACT).selected) == ["A", "B"]


@pytest.mark.parametrize("seed", range(8))
def test_max_min_equals_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows, caps = random_rows(rng, 9)
    data = build_data(table(rows, caps))
    r = select_portfolio(data, RuleParams(), objective="equity", options=EXACT)
    z, b = lexicographic(brute(rows, caps["b"]), lambda pb: pb.min())
    assert r.status.optimal
    assert r.min_per_capita == pytest.approx(z, abs=1e-6)
    # the second stage holds the max-min and then takes the most benefit among those portfolios
    assert r.total_benefit == pytest.approx(b, abs=1e-6)
    assert r.stages[1].note.startswith("equity stage 2")


@pytest.mark.parametrize("seed", range(6))
def test_shortfall_equals_brute_force(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    rows, caps = random_rows(rng, 9)
    target = float(rng.uniform(5, 40))
    data = build_data(table(rows, caps))
    r = select_portfolio(data, RuleParams(), objective="shortfall", need_target=target, options=EXACT)
    neg_short, b = lexicographic(brute(rows, caps["b"]), lambda pb: min(0.0, (pb - target).min()))
    assert r.status.optimal
    assert r.max_shortfall == pytest.approx(-neg_short, abs=1e-6)
    assert r.total_benefit == pytest.approx(b, abs=1e-6)


def test_shortfall_needs_a_target() -> None:
    rows, caps = random_rows(np.random.default_rng(0), 4)
    with pytest.raises(ValueError, match="need_target"):
        select_portfolio(build_data(table(rows, caps)), RuleParams(), objective="shortfall")


def test_frontier_is_the_brute_force_pareto_set() -> None:
    lengths = [check_frontier(seed) for seed in range(6)]
    assert max(lengths) >= 3  # the seeds include real trade-offs, not only single points


def check_frontier(seed: int) -> int:
    rng = np.random.default_rng(200 + seed)
    rows, caps = random_rows(rng, 10)
    data = build_data(table(rows, caps))
    res = select_portfolio(data, RuleParams(), options=EXACT, pareto_points=7)
    f = res.pareto
    cands = [(b, pb.min()) for b, pb, _ in brute(rows, caps["b"])]
    z = f["min_per_capita_benefit"].to_numpy()
    b = f["total_benefit"].to_numpy()
    assert 1 <= len(f) <= 7 and (f["status"] == "optimal").all() and f["gap"].notna().all()
    assert (np.diff(z) > 0).all() and (np.diff(b) < 0).all()     # strictly up in equity, down in benefit
    for bi, zi in zip(b, z, strict=True):                          # no feasible portfolio dominates a point
        assert not any(cb >= bi - 1e-9 and cz >= zi - 1e-9 and (cb > bi + 1e-9 or cz > zi + 1e-9)
                       for cb, cz in cands)
    assert b[0] == pytest.approx(max(c[0] for c in cands))        # ends: benefit optimum ...
    assert z[-1] == pytest.approx(max(c[1] for c in cands))       # ... and the max-min
    # the same HiGHS model is left with the run's own objective (benefit) afterwards
    assert res.model._cost[: data.n] == pytest.approx(data.benefit)
    return len(f)


def hard_instance(n: int = 3000):
    rng = np.random.default_rng(0)
    cost = rng.integers(20, 120, size=(n, 8)).astype(float)
    benefit = (cost.sum(axis=1) * rng.uniform(0.9, 1.1, n)).round(2)
    df = pd.DataFrame({"project_id": [f"P{j}" for j in range(n)], "benefit": benefit}
                      | {f"cost:r{k}": cost[:, k] for k in range(8)}).astype(str)
    res = pd.DataFrame({"resource": [f"r{k}" for k in range(8)],
                        "capacity": [str(cost[:, k].sum() / 3) for k in range(8)]})
    return build_data(validate_tables(df, res, projects_file="p", resources_file="r"))


def test_time_limited_reference_is_labelled_in_the_baselines_table() -> None:
    data = hard_instance()
    # long enough for HiGHS to have a dual bound even on a loaded machine, far too short for gap 0
    ref = select_portfolio(data, RuleParams(), options=SolveOptions(mip_gap=0.0, time_limit_s=3.0))
    assert ref.status.bound is not None
    assert ref.status.status == "time_limit" and not ref.status.optimal
    assert "NOT OPTIMAL" in ref.status.label()
    t = compare_to_optimum(data, RuleParams(), {"greedy": greedy(data, RuleParams())}, ref.x,
                           ref.model.min_per_capita, reference=ref.status)
    assert (t["reference_status"] == "time_limit").all()
    assert "optimal" not in set(t["rule"]) and t["rule"][0].startswith("best found (NOT OPTIMAL")
    assert t["reference_label"][0].startswith("NOT OPTIMAL")
    # the bound is at least the best found, so a share of the bound is never larger
    assert (t["share_of_bound"] <= t["share_of_optimum"] + 1e-12).all()
    assert t["reference_gap"][0] == pytest.approx((ref.status.bound - ref.status.objective) / ref.status.objective,
                                                  rel=1e-3)


def test_warm_start_returns_at_least_the_greedy_portfolio() -> None:
    data = hard_instance()
    g = float(data.benefit @ greedy(data, RuleParams()))
    r = select_portfolio(data, RuleParams(), options=SolveOptions(mip_gap=0.0, time_limit_s=1e-3))
    assert r.status.has_solution and not r.status.optimal
    assert r.start_benefit == pytest.approx(g)
    assert r.total_benefit >= g - 1e-6
    assert "NOT OPTIMAL" in r.status.label()
    if r.status.bound is None:  # HiGHS stopped before any bound: no gap is claimed
        assert r.status.gap is None and "no bound" in r.status.label()
    else:
        assert r.status.gap == pytest.approx((r.status.bound - r.total_benefit) / r.total_benefit, rel=1e-6)
    for fam in r.model.families.values():
        assert fam.violation(r.x).max(initial=0) == 0


def test_fast_greedy_equals_the_baseline_greedy() -> None:
    from tests.test_optimise_rules import random_instance
    from tests.test_optimise_rules import table as rules_table

    for seed in range(5):
        rows, caps = random_instance(np.random.default_rng(seed), 40)
        rows[3]["committed"] = 1
        data = build_data(rules_table(rows, caps))
        params = RuleParams(alignment_threshold=0.3, matching_uptake=0.7)
        lp = assemble(data, params)
        e0 = lp.equity_rows[0]
        fast = greedy_rows(data, lp.A[:e0, : data.n], lp.row_lower[:e0], lp.row_upper[:e0])
        assert (fast == greedy(data, params)).all()


def block_instance(seed: int, with_joint: bool = False):
    """Provinces with their own projects and local caps; every resource split into quotas."""
    rng = np.random.default_rng(seed)
    rows = []
    for j in range(36):
        rows.append({"project_id": f"P{j}", "benefit": round(float(rng.uniform(1, 30)), 2),
                     "cost:b": round(float(rng.uniform(1, 10)), 2), "province": PROVS[j % 3],
                     "min_local_share": 0.2, "duplicate_group": f"g{j // 6}-{j % 3}" if j % 2 else ""})
    if with_joint:
        rows.append({"project_id": "J", "benefit": 40, "cost:b": 5, "province": "TH-50",
                     "partners": "TH-50 TH-57"})
    data = build_data(table(rows, {"b": 60, "local:TH-50": 6, "local:TH-57": 5, "local:TH-55": 4}))
    quota = np.array([[25.0], [20.0], [15.0]])  # sums to the national 60: capacity row implied
    return data, RuleParams(quota=quota, quota_rule="per_capita")


@pytest.mark.parametrize("seed", range(2))
def test_decomposition_matches_the_single_milp(seed: int) -> None:
    data, params = block_instance(seed)
    mono = select_portfolio(data, params, options=EXACT)
    dec = select_portfolio(data, params, options=EXACT, decompose=True, workers=2)
    assert dec.decomposition["used"] and dec.decomposition["exact"] and dec.decomposition["blocks"] == 3
    assert "capacity of b" in dec.decomposition["message"]
    assert dec.status.optimal and dec.total_benefit == pytest.approx(mono.total_benefit, abs=1e-6)
    for fam in mono.model.families.values():
        assert fam.violation(dec.x).max(initial=0) == 0


def test_decomposition_is_refused_when_a_row_couples_blocks() -> None:
    data, params = block_instance(0, with_joint=True)
    assert find_blocks(data, params, assemble(data, params)).count == 2  # the joint project links two
    over = replace(params, quota=np.array([[30.0], [30.0], [30.0]]))      # quotas exceed capacity
    assert find_blocks(data, over, assemble(data, over)).count == 1
    r = select_portfolio(data, over, options=EXACT, decompose=True)
    assert not r.decomposition["used"] and "not decomposed" in r.decomposition["message"]
    assert r.status.optimal
    eq = select_portfolio(data, params, objective="equity", options=EXACT, decompose=True)
    assert not eq.decomposition["used"] and "equity" in eq.decomposition["message"]


# ---- allocsim select: exit codes ------------------------------------------------------------

def write_tables(folder, data) -> tuple[str, str]:
    cost = data.cost.toarray()
    df = pd.DataFrame({"project_id": data.ids, "benefit": data.benefit}
                      | {f"cost:{r}": cost[:, k] for k, r in enumerate(data.resources)})
    p, r = folder / "p.csv", folder / "r.csv"
    df.to_csv(p, index=False)
    pd.DataFrame({"resource": data.resources, "capacity": data.capacity}).to_csv(r, index=False)
    return str(p), str(r)


def test_select_exit_codes(tmp_path, capsys) -> None:
    import json

    from allocsim.cli import build_parser, main

    p, r = write_tables(tmp_path, hard_instance())
    # 0: a solution, optimal or labelled not optimal (time limit with the greedy start)
    assert main(["select", p, r, "--json", "--time-limit", "0.001", "--gap", "0"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "time_limit" and out["optimal"] is False and "NOT OPTIMAL" in out["label"]
    assert out["total_benefit"] >= out["warm_start_benefit"] - 1e-6
    # 4: time limit reached without any solution (no warm start, limit too short for HiGHS)
    assert main(["select", p, r, "--json", "--time-limit", "0.0001", "--no-warm-start"]) == 4
    assert json.loads(capsys.readouterr().out)["status"] == "time_limit_no_solution"
    # 1: rules conflict
    (tmp_path / "c.csv").write_text("project_id,benefit,cost:b,committed\nA,1,5,1\nB,1,5,1\n")
    (tmp_path / "cr.csv").write_text("resource,capacity\nb,6\n")
    assert main(["select", str(tmp_path / "c.csv"), str(tmp_path / "cr.csv")]) == 1
    said = capsys.readouterr().out
    assert "conflict:" in said and "resource capacity" in said and "commitments" in said  # every side
    # 2: bad input, named
    assert main(["select", str(tmp_path / "c.csv"), str(tmp_path / "cr.csv"), "--objective", "shortfall"]) == 2
    assert "--need-target" in capsys.readouterr().err
    (tmp_path / "bad.csv").write_text("project_id,benefit,cost:b\nA,x,5\n")
    assert main(["select", str(tmp_path / "bad.csv"), str(tmp_path / "cr.csv")]) == 2
    epilog = build_parser()._subparsers._group_actions[0].choices["select"].format_help()
    assert all(f"  {c}  " in epilog for c in "0124")


def test_select_equity_and_shortfall_cli(tmp_path, capsys) -> None:
    import json

    from allocsim.cli import main

    (tmp_path / "p.csv").write_text("project_id,benefit,cost:b,province\nA,1000000,1,TH-50\n"
                                    "B,1000000,1,TH-50\nC,10,1,TH-57\n")
    (tmp_path / "r.csv").write_text("resource,capacity\nb,2\n")
    args = ["select", str(tmp_path / "p.csv"), str(tmp_path / "r.csv"), "--json"]
    assert main([*args, "--objective", "equity"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "C" in out["selected"] and out["min_per_capita"] == 10 and len(out["stages"]) == 2
    assert main([*args, "--objective", "shortfall", "--need-target", "50"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "C" in out["selected"] and out["max_shortfall"] == 40


def test_highs_holds_exactly_the_assembled_matrix() -> None:
    """The benchmark's direct reference passes assemble()'s matrix; select must solve that same
    model (same rows, columns and order), or the two would follow different B&B paths."""
    from tests.test_optimise_rules import random_instance
    from tests.test_optimise_rules import table as rules_table

    rows, caps = random_instance(np.random.default_rng(7), 30)
    data = build_data(rules_table(rows, caps))
    params = RuleParams(alignment_threshold=0.3)
    r = select_portfolio(data, params, options=EXACT)
    lp, got = assemble(data, params), r.model.highs.getLp()
    assert (got.num_col_, got.num_row_) == (data.n + 1, lp.A.shape[0])
    A = got.a_matrix_
    assert np.array_equal(A.start_, lp.A.indptr) and np.array_equal(A.index_, lp.A.indices)
    assert np.array_equal(A.value_, lp.A.data)
    assert np.array_equal(got.row_lower_, lp.row_lower) and np.array_equal(got.row_upper_, lp.row_upper)
    from allocsim.optimise.rules import RULES

    assert list(lp.families) == [n for n in RULES if n in lp.families] and len(lp.families) >= 4
