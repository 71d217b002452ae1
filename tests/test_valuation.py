"""Resource values of the MILP against brute force: the re-solve value equals the change of the
true optimum, and the LP relaxation bounds the MILP."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from allocsim.data.projects import load_project_table
from allocsim.optimise import RuleParams, SolveOptions, build_data, select_portfolio
from allocsim.optimise.valuation import lp_relaxation, resource_values
from tests.test_alternatives import feasible, instance

OPT = SolveOptions(mip_gap=0.0, time_limit_s=30)


def brute_optimum(data, params) -> float:  # noqa: ANN001
    X = np.array(list(itertools.product([0, 1], repeat=data.n)), dtype=float)
    ok = np.array([feasible(data, params, x) for x in X])
    return float((X @ data.benefit)[ok].max())


@pytest.mark.parametrize("seed", [0, 5])
def test_resource_values_match_brute_force_re_solves(tmp_path: Path, seed: int) -> None:
    p, r = instance(tmp_path, seed)
    data = build_data(load_project_table(p, r))
    params = RuleParams()
    res = select_portfolio(data, params, options=OPT)
    v = resource_values(res.model, OPT, res.x, step_share=0.2).set_index("resource")
    bound, _ = lp_relaxation(res.model, OPT)
    assert bound >= res.total_benefit - 1e-9
    for k, name in enumerate(data.resources):
        step = v.loc[name, "step"]
        bigger = data.__class__(**{**data.__dict__, "capacity": data.capacity + np.eye(len(data.resources))[k] * step})
        gain = brute_optimum(bigger, params) - res.total_benefit
        assert v.loc[name, "benefit_gain"] == pytest.approx(gain, abs=1e-6)
        assert v.loc[name, "value_per_unit"] == pytest.approx(gain / step, abs=1e-6)
