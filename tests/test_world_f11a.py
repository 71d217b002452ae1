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
