"""Near-optimal alternatives against brute force: every alternative is feasible and within the
slack, alternatives differ from the optimum, and the per-province money ranges bracket the true
range over all near-optimal portfolios (enumerated)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocsim.cli import main
from allocsim.data.projects import load_project_table
from allocsim.optimise import RuleParams, SolveOptions, build_data, select_portfolio
from allocsim.optimise.alternatives import province_money
from allocsim.optimise.rules import RULES

OPT = SolveOptions(mip_gap=0.0, time_limit_s=30)


def instance(tmp_path: Path, seed: int, n: int = 11) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    prov = rng.choice(["TH-50", "TH-57", "TH-30"], size=n)
    cost = np.round(rng.uniform(1, 10, n), 2)
    benefit = np.round(cost * rng.uniform(0.8, 1.6, n), 2)
    df = pd.DataFrame({"project_id": [f"P{i}" for i in range(n)], "benefit": benefit, "total_cost": cost,
                       "province": prov, "cost:province_budget": cost,
                       "duplicate_group": ["D1", "D1"] + [""] * (n - 2)})
    p, r = tmp_path / f"p{seed}.csv", tmp_path / f"r{seed}.csv"
    df.to_csv(p, index=False)
    r.write_text(f"resource,capacity\nprovince_budget,{0.45 * cost.sum():.2f}\n")
    return p, r


def feasible(data, params, x: np.ndarray) -> bool:  # noqa: ANN001
    for fn in RULES.values():
        fam = fn(data, params)
        if fam is not None and fam.size and fam.violation(x).max(initial=0) > 0:
            return False
    return True


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_alternatives_are_feasible_near_optimal_and_ranges_bracket_brute_force(tmp_path: Path, seed: int) -> None:
    p, r = instance(tmp_path, seed)
    data = build_data(load_project_table(p, r))
    params = RuleParams()
    slack = 0.1
    res = select_portfolio(data, params, options=OPT, alternatives=4, slack=slack)
    alt = res.alternatives
    best = res.total_benefit
    # brute force over every portfolio
    X = np.array(list(itertools.product([0, 1], repeat=data.n)), dtype=float)
    ok = np.array([feasible(data, params, x) for x in X])
    ben = X @ data.benefit
    assert best == pytest.approx(ben[ok].max())
    near = X[ok & (ben >= (1 - slack) * best - 1e-9)]
    # every alternative: feasible, within the slack
    sel = alt.portfolios.groupby("portfolio")["project_id"].apply(set)
    ids = list(data.ids)
    for k, chosen in sel.items():
        x = np.array([pid in chosen for pid in ids], dtype=float)
        assert feasible(data, params, x), k
        assert data.benefit @ x >= (1 - slack) * best - 1e-6
    s = alt.summary.set_index("portfolio")
    assert s.loc[0, "status"] == "optimum"
    if len(near) > 1:  # some other near-optimal portfolio exists: the first alternative differs
        assert s.loc[1, "jaccard_with_optimum"] < 1
    # ranges: LP bound <= true extreme over all near-optimal portfolios <= found extreme
    M = province_money(data).toarray()  # (I, n)
    money = near @ M.T  # (portfolios, I)
    for row in alt.ranges.itertuples(index=False):
        i = data.provinces.index(row.province)
        true_lo, true_hi = money[:, i].min(), money[:, i].max()
        assert row.min_bound_mthb <= true_lo + 1e-6 <= row.min_found_mthb + 2e-6
        assert row.max_found_mthb - 1e-6 <= true_hi <= row.max_bound_mthb + 1e-6
        if row.kind == "must-fund":
            assert true_lo > 0


def test_zero_slack_alternatives_keep_the_optimal_benefit(tmp_path: Path) -> None:
    p, r = instance(tmp_path, 7)
    data = build_data(load_project_table(p, r))
    res = select_portfolio(data, RuleParams(), options=OPT, alternatives=2, slack=0.0)
    s = res.alternatives.summary
    assert (s["total_benefit"].dropna() >= res.total_benefit - 1e-6).all()


def test_select_cli_writes_alternatives(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    p, r = instance(tmp_path, 3)
    out = tmp_path / "o"
    assert main(["select", str(p), str(r), "--alternatives", "3", "--slack", "0.05", "--out", str(out)]) == 0
    a = pd.read_csv(out / "alternatives.csv")
    rng = pd.read_csv(out / "alternative_ranges.csv")
    assert set(a["portfolio"]) <= {0, 1, 2, 3} and 0 in set(a["portfolio"])
    assert {"min_bound_mthb", "max_bound_mthb", "kind"} <= set(rng.columns)
    assert "alternative" in capsys.readouterr().out


def test_scenario_alternatives_surround_the_benefit_optimum(small: Path, tmp_path: Path) -> None:
    """Alternatives are near the benefit optimum under the same rules (the reference of
    baselines.csv), not near a quota-restricted portfolio."""
    f = small.parent / "alt.toml"
    f.write_text('extends = "small.toml"\nname = "alt"\n[objective]\nalternatives = 2\nslack = 0.05\n')
    out = tmp_path / "o"
    assert main(["optimise", str(f), "--out", str(out)]) == 0
    s = pd.read_csv(out / "alternatives_summary.csv")
    base = pd.read_csv(out / "baselines.csv")
    assert s["total_benefit"].iloc[0] == pytest.approx(base["total_benefit"].iloc[0], rel=1e-9)
    assert (s["total_benefit"].dropna() >= 0.95 * base["total_benefit"].iloc[0] - 1e-6).all()
