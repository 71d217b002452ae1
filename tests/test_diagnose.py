"""Infeasibility diagnosis: the irreducible conflict, unit-free blame, and the LP IIS helper.

The oracle is brute force: every binary portfolio of a small catalogue is checked against the rule
rows as the rule modules state them (unnormalised, no solver), so "infeasible" and "removing this
member makes it feasible" are decided independently of the code under test.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from allocsim.data.projects import validate_tables
from allocsim.optimise import RuleParams, SolveOptions, build_data
from allocsim.optimise.diagnose import explain_infeasibility, lp_iis, stack_rules
from allocsim.optimise.problem import PortfolioData
from allocsim.optimise.rules import RULES

EXACT = SolveOptions(mip_gap=0.0, time_limit_s=30.0)
RULE_WORDS = {"capacity": "resource capacity", "committed": "commitments", "matching": "matching funds",
              "alignment": "strategy alignment", "duplicates": "duplicates", "follow_on": "follow-on",
              "eligibility": "eligibility", "cluster_partners": "cluster partners",
              "province_quota": "province quota"}
MONEY_RULES = ["capacity", "matching", "alignment", "province_quota"]


def table(rows: list[dict], resources: dict[str, float]):
    df = pd.DataFrame(rows).astype(object).fillna("").astype(str)
    res = pd.DataFrame({"resource": list(resources), "capacity": [str(v) for v in resources.values()]})
    return validate_tables(df, res, projects_file="p.csv", resources_file="r.csv")


def all_rows(data: PortfolioData, params: RuleParams) -> list[tuple[str, int, np.ndarray, str, float]]:
    """Every rule row as (rule, row, coefficients, sense, rhs), straight from the rule modules."""
    out = []
    for name, fn in RULES.items():
        fam = fn(data, params)
        if fam is None:
            continue
        dense = fam.A.toarray()
        out += [(name, r, dense[r], fam.sense, float(fam.rhs[r])) for r in range(fam.size)]
    return out


def brute_feasible(data: PortfolioData, rows: list[tuple]) -> bool:
    """Is there a binary x satisfying all ``rows``? (exhaustive; n <= 12)"""
    X = np.array(list(itertools.product([0.0, 1.0], repeat=data.n)))
    ok = np.ones(len(X), bool)
    for _, _, a, sense, rhs in rows:
        lhs = X @ a
        tol = 1e-9 * max(1.0, abs(rhs))
        ok &= lhs <= rhs + tol if sense == "<=" else lhs >= rhs - tol
    return bool(ok.any())


def iis_rows(d, rows: list[tuple], conflict: int) -> list[tuple]:
    grp = d.iis[d.iis["conflict"] == conflict]
    members = set(zip(grp["rule"], grp["row"], strict=True))
    return [r for r in rows if (r[0], r[1]) in members]


def random_catalogue(rng: np.random.Generator, n: int = 9) -> tuple[list[dict], dict]:
    provs = ["TH-50", "TH-57"]
    recs = []
    for j in range(n):
        recs.append({"project_id": f"P{j}", "benefit": round(float(rng.uniform(1, 20)), 2),
                     "cost:a": round(float(rng.uniform(1, 10)), 2),
                     "cost:b": round(float(rng.uniform(0, 6)), 2),
                     "province": provs[j % 2], "min_local_share": float(rng.choice([0, 0.2, 0.4])),
                     "aligned": int(rng.random() < 0.5),
                     "committed": int(rng.random() < 0.35),
                     "duplicate_group": "g1" if j in (1, 4) else ("g2" if j in (2, 6) else ""),
                     "requires": f"P{j - 1}" if j % 4 == 3 else ""})
    caps = {"a": round(float(rng.uniform(8, 25)), 1), "b": round(float(rng.uniform(4, 12)), 1),
            "local:TH-50": round(float(rng.uniform(1, 5)), 1),
            "local:TH-57": round(float(rng.uniform(1, 5)), 1)}
    return recs, caps


def infeasible_instances(count: int) -> list[tuple[PortfolioData, RuleParams]]:
    """Seeded random catalogues that brute force says are infeasible."""
    out, seed = [], 0
    while len(out) < count:
        rng = np.random.default_rng(seed)
        seed += 1
        recs, caps = random_catalogue(rng)
        data = build_data(table(recs, caps))
        params = RuleParams(alignment_threshold=float(rng.choice([0.0, 0.4, 0.6])))
        if not brute_feasible(data, all_rows(data, params)):
            out.append((data, params))
    return out


INSTANCES = infeasible_instances(8)


@pytest.mark.parametrize("lp_seed", [True, False])
@pytest.mark.parametrize("k", range(len(INSTANCES)))
def test_iis_is_infeasible_and_irreducible(k: int, lp_seed: bool) -> None:
    data, params = INSTANCES[k]
    rows = all_rows(data, params)
    d = explain_infeasibility(data, params, EXACT, lp_seed=lp_seed)
    assert d.iis_irreducible and len(d.iis) > 0
    conflicts = sorted(set(d.iis["conflict"]))
    assert conflicts == list(range(len(conflicts)))
    for c in conflicts:
        members = iis_rows(d, rows, c)
        assert len(members) == (d.iis["conflict"] == c).sum()
        # all members together: no binary portfolio satisfies them
        assert not brute_feasible(data, members)
        # remove any one member: some binary portfolio satisfies the rest
        for drop in range(len(members)):
            assert brute_feasible(data, members[:drop] + members[drop + 1:]), (c, members[drop][:2])
    # the conflicts are disjoint, and what is left once they are set aside holds together
    # (or the cap on the number of conflicts was reached)
    keys = list(zip(d.iis["rule"], d.iis["row"], strict=True))
    assert len(keys) == len(set(keys))
    if len(conflicts) < 5:
        assert brute_feasible(data, [r for r in rows if (r[0], r[1]) not in set(keys)])
    # every rule of every conflict is named in policy words
    text = "\n".join(d.messages())
    for rule, msg in zip(d.iis["rule"], d.iis["message"], strict=True):
        assert msg.startswith(RULE_WORDS[rule]) and msg in text
    assert set(d.iis["rule"]) <= set(d.rules)


def alignment_knapsack() -> tuple[PortfolioData, RuleParams]:
    """Infeasible only because projects are all-or-nothing: the LP relaxation is feasible.

    U (unaligned, committed, cost 4) needs 2 of aligned money's surplus at θ = 0.5; A1 (aligned,
    cost 6) alone would give 3, but the budget (9) leaves only 5 for it. A fractional 5/6 of A1
    would do; a whole A1 does not fit.
    """
    recs = [{"project_id": "U", "benefit": 1, "cost:b": 4, "province": "TH-50", "aligned": 0, "committed": 1},
            {"project_id": "A1", "benefit": 1, "cost:b": 6, "province": "TH-50", "aligned": 1},
            {"project_id": "Z", "benefit": 1, "cost:b": 2, "province": "TH-57", "aligned": 1}]
    return build_data(table(recs, {"b": 9})), RuleParams(alignment_threshold=0.5)


def test_integer_only_conflict_names_every_rule() -> None:
    data, params = alignment_knapsack()
    rows = all_rows(data, params)
    assert not brute_feasible(data, rows)
    d = explain_infeasibility(data, params, EXACT)
    # by hand: the commitment, the budget and Chiang Mai's alignment share are the conflict
    assert sorted(zip(d.iis["rule"], d.iis["row"], strict=True)) == [
        ("alignment", 0), ("capacity", 0), ("committed", 0)]
    assert d.iis_irreducible
    line = d.messages()[0]  # one line names the whole conflict
    assert line.startswith("these rules cannot all hold together")
    assert "resource capacity: b needs 10.0, capacity is 9.0" in line
    assert "committed project U cannot be funded" in line
    assert "strategy alignment: in TH-50" in line


def rescale(data: PortfolioData, f: float) -> PortfolioData:
    """The same catalogue with every money amount multiplied by f (costs, capacities, local
    capacities); benefits and counts unchanged."""
    return replace(data, cost=(data.cost * f).tocsr(), total_cost=data.total_cost * f,
                   capacity=data.capacity * f, local_capacity=data.local_capacity * f)


def blamed(d) -> tuple[list, list]:
    return (sorted(zip(d.conflicts["rule"], d.conflicts["row"], strict=True)),
            sorted(zip(d.iis["conflict"], d.iis["rule"], d.iis["row"], strict=True)))


def test_rescaling_money_does_not_change_the_blame() -> None:
    # a commitment of 0.5 against a budget of 0.1: breaking the budget costs 0.4 of money. With the
    # old penalty slack / (1 + capacity) the budget was blamed in M THB (0.36 < 1) but the
    # commitment in thousand THB (400 / 101 > 1). Unit-free, the budget is blamed in both.
    recs = [{"project_id": "A", "benefit": 1, "cost:b": 0.5, "committed": 1},
            {"project_id": "B", "benefit": 1, "cost:b": 0.05}]
    data = build_data(table(recs, {"b": 0.1}))
    for f in (1.0, 1000.0):
        d = explain_infeasibility(rescale(data, f), RuleParams(), EXACT)
        assert d.conflicts["rule"].tolist() == ["capacity"]
        assert d.conflicts["amount"].iloc[0] == pytest.approx(0.4 * f)
        assert sorted(d.iis["rule"]) == ["capacity", "committed"]


@pytest.mark.parametrize("k", range(len(INSTANCES)))
def test_rescaling_money_gives_the_same_diagnosis_on_random_catalogues(k: int) -> None:
    data, params = INSTANCES[k]
    base = explain_infeasibility(data, params, EXACT)
    big = explain_infeasibility(rescale(data, 1000.0), params, EXACT)
    assert blamed(big) == blamed(base)
    a, b = base.conflicts.sort_values(["rule", "row"]), big.conflicts.sort_values(["rule", "row"])
    factor = np.where(a["rule"].isin(MONEY_RULES), 1000.0, 1.0)  # counts stay counts
    np.testing.assert_allclose(b["amount"].to_numpy(), factor * a["amount"].to_numpy(), rtol=1e-6)


def test_quota_is_money_too() -> None:
    recs = [{"project_id": "A", "benefit": 1, "cost:b": 6, "province": "TH-50", "committed": 1},
            {"project_id": "B", "benefit": 1, "cost:b": 4, "province": "TH-57"}]
    data = build_data(table(recs, {"b": 10}))
    quota = np.array([[5.0], [5.0]])
    d1 = explain_infeasibility(data, RuleParams(quota=quota, quota_rule="per_capita"), EXACT)
    d2 = explain_infeasibility(rescale(data, 1000.0),
                               RuleParams(quota=quota * 1000, quota_rule="per_capita"), EXACT)
    assert blamed(d1) == blamed(d2)
    assert sorted(d1.iis["rule"]) == ["committed", "province_quota"]
    assert "its quota is 5.0 M THB" in "\n".join(d1.messages())


def test_normalised_rows_are_unit_free() -> None:
    data, params = INSTANCES[0]
    a, b = stack_rules(data, params), stack_rules(rescale(data, 1000.0), params)
    assert (a.A != b.A).nnz == 0
    np.testing.assert_array_equal(a.lower, b.lower)
    np.testing.assert_array_equal(a.upper, b.upper)


def test_feasible_rules_give_no_conflict() -> None:
    recs = [{"project_id": "A", "benefit": 1, "cost:b": 1, "committed": 1}]
    d = explain_infeasibility(build_data(table(recs, {"b": 5})), RuleParams(), EXACT)
    assert len(d.conflicts) == 0 and len(d.iis) == 0 and d.messages() == []


# ---- the LP helper ----------------------------------------------------------------------------

def tiny_lp() -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    # x0 + x1 >= 3, x0 <= 1, x1 <= 1, x0 - x2 <= 5, x >= 0: rows 0-2 conflict, row 3 does not
    A = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [0, 1, 0], [1, 0, -1.0]]))
    return A, np.array([3, -np.inf, -np.inf, -np.inf]), np.array([np.inf, 1, 1, 5])


def lp_feasible(A: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray, rows: list[int]) -> bool:
    """scipy's linprog as the independent check (rows as <= pairs)."""
    Ar = A[rows].toarray()
    ub_A = np.vstack([Ar[np.isfinite(hi[rows])], -Ar[np.isfinite(lo[rows])]])
    ub_b = np.r_[hi[rows][np.isfinite(hi[rows])], -lo[rows][np.isfinite(lo[rows])]]
    res = linprog(np.zeros(A.shape[1]), A_ub=ub_A if len(ub_b) else None,
                  b_ub=ub_b if len(ub_b) else None, bounds=[(0, None)] * A.shape[1], method="highs")
    return res.status == 0


def test_lp_iis_on_a_hand_made_lp() -> None:
    A, lo, hi = tiny_lp()
    labels = ["demand", "cap x0", "cap x1", "link"]
    res = lp_iis(A, lo, hi, row_labels=labels)
    assert res.irreducible
    assert sorted(res.rows.tolist()) == [0, 1, 2] and sorted(res.labels) == ["cap x0", "cap x1", "demand"]
    members = res.rows.tolist()
    assert not lp_feasible(A, lo, hi, members)
    for k in members:
        assert lp_feasible(A, lo, hi, [r for r in members if r != k])


def test_lp_iis_of_a_feasible_lp_is_empty() -> None:
    A, lo, hi = tiny_lp()
    lo = lo.copy()
    lo[0] = 1.5
    res = lp_iis(A, lo, hi)
    assert res.status == "feasible" and len(res.rows) == 0


def test_lp_iis_accepts_a_loaded_highs_model() -> None:
    import highspy

    A, lo, hi = tiny_lp()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    h.addVars(3, np.zeros(3), np.full(3, inf))
    for r in range(A.shape[0]):
        row = A.getrow(r)
        h.addRow(max(lo[r], -inf), min(hi[r], inf), row.nnz, row.indices.astype(np.int32), row.data)
    res = lp_iis(h, row_labels=["demand", "cap x0", "cap x1", "link"])
    assert res.irreducible and sorted(res.rows.tolist()) == [0, 1, 2]


def test_a_timed_out_check_is_labelled_not_proven(monkeypatch) -> None:
    # a feasibility check that cannot decide (as when HiGHS hits the time limit) must never be
    # reported as a proven irreducible conflict
    import allocsim.optimise.diagnose as diag

    monkeypatch.setattr(diag, "_feasible", lambda *a, **k: "unknown")
    data, params = alignment_knapsack()
    d = explain_infeasibility(data, params, EXACT, lp_seed=False)
    assert not d.iis_irreducible
    assert "NOT proven irreducible" in d.messages()[0]
