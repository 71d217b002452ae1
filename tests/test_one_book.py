"""Issue 11, one world: the plan scores, the user's project book and the want/problem flag are the
same objects in both engines, and ``allocsim select --out`` writes through the API."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allocsim.scenario import load_scenario
from tests.conftest import SMALL, write


def test_plan_scores_are_one_array_in_both_engines_and_the_plan_score_rule_uses_it(scenario_dir) -> None:
    from allocsim.experiments.run import run_scenario
    from allocsim.experiments.seeds import loop_seed
    from allocsim.simulate import BudgetModel
    from allocsim.simulate.world import apportion, to_thb

    write(scenario_dir / "small.toml", SMALL)
    f = write(scenario_dir / "ps.toml", 'extends = "small.toml"\nname = "ps"\n[levers]\n'
              'allocation_rule = "plan_score"\n[simulation]\ncitizens_per_province = 10\n')
    sc = load_scenario(f)
    r = run_scenario(sc)
    scores = r.tables["plan_scores"].set_index("province")["plan_score"]
    model = BudgetModel(sc, seed=loop_seed(sc.seed))  # the run's simulation, same seed
    sim = pd.Series(model.plan_score, index=model.iso)
    assert len(sim) > 70
    assert np.array_equal(scores.reindex(sim.index).to_numpy(), sim.to_numpy())  # same numbers, exactly
    lo, hi = sc.allocation.plan_score_range
    assert ((scores >= lo) & (scores < hi)).all() and scores.std() > 0

    # the optimiser's plan_score quotas: population × these scores (oracle from the written table)
    opt = r.optimisation
    data, q = opt.portfolio.data, opt.params.quota
    assert opt.params.quota_rule == "plan_score"
    k = data.resources.index("province_budget")
    has = np.asarray(data.share.sum(axis=0)).ravel() > 0
    w = np.where(has, data.population * scores.reindex(list(data.provinces)).to_numpy(), 0.0)
    assert np.allclose(q[:, k], w / w.sum() * data.capacity[k], rtol=1e-12)

    # the simulation's money under plan_score: the envelope apportioned by population × scores
    model.run()
    n = model.n_provinces
    env = int(to_thb(sc.allocation.envelope_mthb["province_budget"]))
    want = apportion(env, model.population * scores.reindex(model.iso).to_numpy())
    assert np.array_equal(model.plans[0].money_thb[:n], want)


def test_plan_scores_depend_on_the_seed_and_province_not_on_order() -> None:
    from allocsim.data.scores import plan_scores

    a = plan_scores(["TH-10", "TH-50", "TH-57"], 7)
    b = plan_scores(["TH-57", "TH-50"], 7)
    assert a[2] == b[0] and a[1] == b[1]
    assert not np.array_equal(a, plan_scores(["TH-10", "TH-50", "TH-57"], 8))
    c = plan_scores(["TH-10", "TH-50", "TH-57"], 7, (2.0, 4.0))
    assert np.allclose(c, 2.0 + 2.0 * (a - 0.5) / 0.5)  # the range is a plain affine map
