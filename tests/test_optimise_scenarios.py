"""Scenario-level optimisation: reforms move results in the expected direction, the allocation LP
keeps its rules, baselines are feasible and no better than the optimum, the CLI reports honestly."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocsim.cli import main
from allocsim.experiments.run import build_inputs, loop_seed
from allocsim.optimise import OptimiseResult, optimise_scenario
from allocsim.optimise.allocation import allocation_inputs, solve_allocation
from allocsim.optimise.solve import SolveOptions
from allocsim.scenario import load_scenario
from tests.conftest import SCENARIOS, write


@cache
def optimised(name: str) -> OptimiseResult:
    """A shipped scenario on a smaller catalogue (about 1,300 candidates instead of 4,200): the
    directions tested here do not depend on scale, and the full-size baseline runs once below."""
    sc = load_scenario(SCENARIOS / f"{name}.toml")
    sc = sc.model_copy(update={"catalogue": sc.catalogue.model_copy(
        update={"projects_per_province": 12, "projects_per_cluster": 10})})
    geo, table = build_inputs(sc)
    return optimise_scenario(sc, geo, table, loop_seed(sc.seed))


def aligned_share(res: OptimiseResult) -> float:
    d, x = res.portfolio.data, res.portfolio.x
    return float((d.total_cost * d.aligned) @ x / (d.total_cost @ x))


def test_baseline_is_solved_optimally_and_baselines_are_feasible() -> None:
    r = optimised("baseline")
    assert r.portfolio.status.optimal and r.allocation.status.optimal
    b = r.baselines.set_index("rule")
    assert set(b.index) >= {"optimal", "per_capita", "plan_score", "greedy", "equal_shares"}
    assert (b["rule_violations"] == 0).all()
    # no rule beats the optimum by more than the optimum's own MIP gap
    assert (b["total_benefit"] <= b.loc["optimal", "total_benefit"] * (1 + r.portfolio.status.mip_gap)).all()


@pytest.mark.parametrize("reform", ["reform_multi_year_projects", "reform_matching_fund", "reform_allocation_by_need"])
def test_relaxing_reforms_raise_benefit(reform: str) -> None:
    base, ref = optimised("baseline"), optimised(reform)
    gap = base.portfolio.status.mip_gap
    assert ref.portfolio.total_benefit >= base.portfolio.total_benefit * (1 - gap)
    assert ref.portfolio.total_benefit > base.portfolio.total_benefit  # strictly, on this catalogue


def test_area_based_budgeting_raises_alignment() -> None:
    base, ref = optimised("baseline"), optimised("reform_area_based_budgeting")
    assert aligned_share(ref) > aligned_share(base)
    d = ref.portfolio.data
    assert not ((d.channel == "ministry") & ~d.aligned & (ref.portfolio.x > 0)).any()


def test_funded_portfolio_respects_every_rule_row() -> None:
    r = optimised("baseline")
    for name, fam in r.portfolio.model.families.items():
        assert fam.violation(r.portfolio.x).max(initial=0) == 0, name


def test_allocation_lp_conserves_envelopes_and_respects_floors() -> None:
    sc = load_scenario(SCENARIOS / "baseline.toml")
    geo, table = build_inputs(sc)
    inp = allocation_inputs(geo, table, sc.allocation)
    res = solve_allocation(inp, SolveOptions())
    t = res.table
    assert res.status.optimal
    by_src = t[t["level"] == "province"].groupby("source")["amount_mthb"].sum()
    for src, env in sc.allocation.envelope_mthb.items():
        assert by_src.get(src, 0.0) <= env * (1 + 1e-9)
    assert t.loc[t["level"] == "cluster", "amount_mthb"].sum() <= sc.allocation.cluster_envelope_mthb * (1 + 1e-9)
    per_prov = t[t["level"] == "province"].groupby("area")["amount_mthb"].sum()
    floor = pd.Series(sc.allocation.floor_thb_per_capita * inp.population / 1e6, index=inp.provinces)
    assert (per_prov.reindex(inp.provinces, fill_value=0) >= floor - 1e-6).all()
    # cluster money only on cluster projects of that cluster and strategy
    p = table.projects
    for _, row in t[t["level"] == "cluster"].iterrows():
        assert ((p["channel"] == "cluster") & (p["cluster"] == row["area"]) & (p["strategy"] == row["strategy"])).any()


def test_allocation_infeasible_floors_are_explained() -> None:
    sc = load_scenario(SCENARIOS / "baseline.toml")
    geo, table = build_inputs(sc)
    cfg = sc.allocation.model_copy(update={"floor_thb_per_capita": 5000.0})  # above absorption 3000
    res = solve_allocation(allocation_inputs(geo, table, cfg), SolveOptions())
    assert res.status.status == "infeasible" and res.total_benefit is None
    assert res.conflicts and any("per-capita floor" in c or "absorption capacity" in c for c in res.conflicts)


def test_run_writes_optimisation_tables(tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert main(["run", str(SCENARIOS / "baseline.toml"), "--out", str(out)]) == 0
    for f in ("allocation.csv", "portfolio.csv", "baselines.csv", "solver.json"):
        assert (out / f).exists(), f
    solver = json.loads((out / "solver.json").read_text())
    # the baseline's deliberate default (README "Solver defaults": measured time to gap)
    assert solver["portfolio"]["status"] == "optimal" and solver["portfolio"]["mip_gap"] == 0.005
    # the reference of every "share of optimum" is reported with its own status and gap
    base = pd.read_csv(out / "baselines.csv")
    assert solver["reference"]["status"] == base["reference_status"].iloc[0] == "optimal"
    assert solver["reference"]["objective"] == pytest.approx(base["total_benefit"].iloc[0], rel=1e-9)
    port = pd.read_csv(out / "portfolio.csv")
    assert port["benefit"][port["selected"]].sum() == pytest.approx(solver["portfolio"]["objective"], rel=1e-6)
    m = json.loads((out / "manifest.json").read_text())
    assert m["solver"]["portfolio"]["status"] == "optimal"


def test_pareto_points_from_scenario(scenario_dir: Path, tmp_path: Path) -> None:
    write(scenario_dir / "p.toml", 'extends = "baseline.toml"\nname = "p"\n[catalogue]\nprojects_per_province = 4\n'
          '[objective]\npareto_points = 4\n[levers]\nallocation_rule = "optimal"\n[simulation]\nyears = 1\n')
    assert main(["optimise", str(scenario_dir / "p.toml"), "--out", str(tmp_path / "o")]) == 0
    f = pd.read_csv(tmp_path / "o" / "pareto.csv")
    # at most 4 points: duplicates and dominated points are dropped (one point when the benefit
    # optimum is also the max-min); kept points trade benefit for equity strictly
    assert 1 <= len(f) <= 4 and (np.diff(f["total_benefit"]) < 0).all()
    assert (np.diff(f["min_per_capita_benefit"]) > 0).all() and set(f["status"]) == {"optimal"}


def test_select_cli_json_contract(tmp_path: Path, capsys) -> None:
    p = write(tmp_path / "p.csv", "project_id,benefit,cost:b,cost:y2027\nA,2.5,3,1\nB,1.25,2,1\nC,3,4,1\n")
    r = write(tmp_path / "r.csv", "resource,capacity\nb,6.5\ny2027,5\n")
    assert main(["select", str(p), str(r), "--json", "--out", str(tmp_path / "o")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"status", "objective", "bound", "gap", "selected", "solve_seconds"} <= set(out)
    assert out["status"] == "optimal" and sorted(out["selected"]) == ["B", "C"] and out["objective"] == 4.25
    assert (tmp_path / "o" / "portfolio.csv").exists()


def test_select_cli_infeasible_and_bad_input(tmp_path: Path, capsys) -> None:
    p = write(tmp_path / "p.csv", "project_id,benefit,cost:b,committed\nA,1,5,1\nB,1,5,1\n")
    r = write(tmp_path / "r.csv", "resource,capacity\nb,6\n")
    assert main(["select", str(p), str(r), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "infeasible" and out["selected"] == [] and "capacity" in out["conflicts"][0]
    bad = write(tmp_path / "bad.csv", "project_id,benefit,cost:zz\nA,x,1\n")
    assert main(["select", str(bad), str(r)]) == 2
    err = capsys.readouterr().err
    assert "row 2.benefit" in err and "unknown resource 'zz'" in err
