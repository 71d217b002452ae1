"""Reviewer defects (issue 11, part A): what the optimiser wrote is what the simulation ran."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allocsim.scenario import load_scenario
from tests.conftest import SMALL, write

USER = ("project_id,benefit,cost:province_budget,province,committed\n"
        "K1,0.1,30,TH-50,1\nK2,0.1,20,TH-57,1\nK3,0.1,25,TH-50,1\n"
        "N1,9,5,TH-50,0\nN2,8,4,TH-57,0\nN3,7,6,TH-50,0\nN4,6,3,TH-57,0\n")


def user_run(scenario_dir, rule: str):  # noqa: ANN201
    from allocsim.experiments.run import run_scenario

    write(scenario_dir / "small.toml", SMALL)
    write(scenario_dir / "p.csv", USER)
    write(scenario_dir / "r.csv", "resource,capacity\nprovince_budget,1000\n")
    f = write(scenario_dir / "f.toml", 'extends = "small.toml"\nname = "f"\n[projects]\nsource = "file"\n'
              f'projects_file = "p.csv"\nresources_file = "r.csv"\n[levers]\nallocation_rule = "{rule}"\n'
              "[simulation]\nyears = 1\ncitizens_per_province = 10\n")
    return run_scenario(load_scenario(f))


@pytest.mark.parametrize("rule", ["optimal", "per_capita"])
def test_a_users_committed_projects_are_funded_and_the_run_reconciles(scenario_dir, rule) -> None:
    r = user_run(scenario_dir, rule)  # runs reconcile_engines: it stops on a mismatch
    sim = r.tables["sim_projects"].set_index("project_id")
    # the contract: committed = must be funded; a low-benefit, costly commitment is still funded
    assert sim.loc[["K1", "K2", "K3"], "committed"].all()
    assert sim.loc[["K1", "K2", "K3"], "funded"].all()
    assert (sim.loc[["K1", "K2", "K3"], "allocated_thb"] == [30_000_000, 20_000_000, 25_000_000]).all()
    assert not sim.loc[["N1", "N2", "N3", "N4"], "committed"].any()


def test_formula_rules_chain_allocation_is_the_simulations_money_and_the_headline_what_ran(
        scenario_dir, tmp_path) -> None:
    from allocsim.errors import RunError
    from allocsim.experiments.loop import run_world
    from allocsim.experiments.run import build_inputs, reconcile_engines, run_scenario
    from allocsim.experiments.seeds import loop_seed

    write(scenario_dir / "small.toml", SMALL)
    f = write(scenario_dir / "b.toml", 'extends = "small.toml"\nname = "b"\n'
              "[simulation]\nyears = 2\ncitizens_per_province = 10\n")
    sc = load_scenario(f)
    assert sc.levers.allocation_rule != "optimal"  # the baseline's formula rule
    r = run_scenario(sc, tmp_path / "out")
    sa = pd.read_csv(tmp_path / "out" / "sim_allocation.csv")
    led = r.tables["sim_ledger"]
    # the chain's written allocation is the simulation's holders' money per year, to the baht
    # (the ledger records it independently, at each year end)
    got = sa.set_index(["fiscal_year", "holder"])["amount_thb"]
    want = led.set_index(["fiscal_year", "holder"])["money_thb"].astype(np.int64)
    assert sorted(got.index) == sorted(want.index) and len(got) == 2 * r.tables["sim_ledger"]["holder"].nunique()
    assert (got.reindex(want.index) == want).all()
    # a formula rule shares the whole envelope: each source's holders sum to it exactly
    _, model = run_world(sc, build_inputs(sc)[1], loop_seed(sc.seed))
    env = model.envelopes_thb()
    for fy, d in sa.groupby("fiscal_year"):
        per = d.groupby("source", sort=False)["amount_thb"].sum()
        assert [int(per[s]) for s in per.index] == [int(e) for e in env], fy
    # one baht off in one holder's written money: the run stops naming holder and year
    bad = r.tables["sim_allocation"].copy()
    bad.loc[bad.index[3], "amount_thb"] += 1
    with pytest.raises(RunError, match=f"FY{bad['fiscal_year'].iat[3]}, holder {bad['holder'].iat[3]}"):
        reconcile_engines(r.tables | {"sim_allocation": bad}, model)
    # the headline's funded count is the simulation's, and the optimiser's tables are labelled
    sp = r.tables["sim_projects"]
    n = int((sp["funded"] & (sp["fiscal_year"] == sc.first_fiscal_year)).sum())
    head = r.summary_lines()[0]
    assert f"{n:,} projects funded" in head and f"FY{sc.first_fiscal_year}" in head
    assert any("counterfactual" in x for x in r.summary_lines())
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert f"<b>{n:,} projects were funded</b> in FY{sc.first_fiscal_year}" in html
    assert "optimal plan for the same money (counterfactual)" in html


def test_a_run_re_runs_from_its_own_inputs_projects_csv(scenario_dir, tmp_path) -> None:
    from allocsim.data.projects import COST_PREFIX
    from allocsim.experiments.run import run_scenario

    write(scenario_dir / "small.toml", SMALL)
    f = write(scenario_dir / "b.toml", 'extends = "small.toml"\nname = "b"\n[catalogue]\nmulti_year_share = 0.5\n'
              "[simulation]\nyears = 1\ncitizens_per_province = 10\n")
    a = run_scenario(load_scenario(f), scenario_dir / "a")
    inp = pd.read_csv(scenario_dir / "a" / "inputs" / "projects.csv")
    # the public contract only, with year profiles: multi-year projects stay multi-year
    assert not {"tranche", "tranches", "tranche_shares"} & set(inp.columns)
    assert not any(c.startswith("whole_thb:") for c in inp.columns)
    ycols = [c for c in inp.columns if c.startswith(COST_PREFIX + "y")]
    assert ((inp[ycols] > 0).sum(axis=1) > 1).any()
    g = write(scenario_dir / "again.toml", 'extends = "b.toml"\nname = "again"\n[projects]\nsource = "file"\n'
              'projects_file = "a/inputs/projects.csv"\n'
              'resources_file = "a/inputs/resources.csv"\n')
    b = run_scenario(load_scenario(g))
    cols = ["project_id", "fiscal_year", "tranches", "cost_thb", "funded", "allocated_thb", "disbursed_thb"]
    pa = a.tables["sim_projects"][cols].sort_values("project_id").reset_index(drop=True)
    pb = b.tables["sim_projects"][cols].sort_values("project_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(pa, pb)


def test_plan_vs_delivery_has_one_optimal_reference_for_every_rule(scenario_dir) -> None:
    from allocsim.experiments.run import run_scenario

    write(scenario_dir / "small.toml", SMALL)
    out = {}
    for rule in ("optimal", "per_capita"):
        f = write(scenario_dir / f"{rule}.toml", f'extends = "small.toml"\nname = "{rule}"\n[levers]\n'
                  f'allocation_rule = "{rule}"\n[simulation]\nyears = 1\ncitizens_per_province = 10\n')
        r = run_scenario(load_scenario(f))
        pvd, sp = r.tables["plan_vs_delivery"], r.tables["sim_projects"]
        nat = pvd[pvd["area"] == "national"].iloc[0]
        per = pvd[pvd["area"] != "national"]
        # the national reference is the provinces' sum, and the delivered share is against it
        assert per["optimal_plan_benefit_thb"].sum() == pytest.approx(nat["optimal_plan_benefit_thb"], rel=1e-12)
        assert nat["delivered_benefit_fy1_thb"] == pytest.approx(sp["delivered_benefit_thb"].sum(), rel=1e-12)
        assert nat["delivered_vs_optimal_share"] == pytest.approx(
            nat["delivered_benefit_fy1_thb"] / nat["optimal_plan_benefit_thb"])
        out[rule] = (pvd.set_index("area"), sp)
    # under the optimal rule the reference IS the plan the simulation executed (its own MILP):
    # province by province, the optimiser's benefit equals the selected projects' planned benefit
    pvd, sp = out["optimal"]
    planned = sp[sp["selected"]].groupby("province")["planned_benefit_thb"].sum()
    ref = pvd["optimal_plan_benefit_thb"].drop("national")
    assert np.allclose(ref.reindex(planned.index), planned, rtol=1e-9)
    # under a formula rule the plan is whatever got funded (planned = funded), the reference is not
    pvd, sp = out["per_capita"]
    nat = pvd.loc["national"]
    assert nat["planned_benefit_thb"] != pytest.approx(nat["optimal_plan_benefit_thb"])
