"""A hindcast: from FY2568's real allocation, how well does each allocation rule predict FY2569?

Why: allocsim compares allocation rules; a committee should know which of them resembles what
Thailand actually does. Every rule is given the real FY2569 provincial total and predicts its split
across the 76 provinces; the error against the real FY2569 budgets is the mean absolute
percentage error (MAPE) and the rank correlation (Spearman). Rules:

* ``incremental`` — last year's amounts scaled to the new total (real data only);
* ``per_capita`` — population shares (real data only);
* ``fitted`` — the formula base + per head + per km² fitted on FY2568 (real data only);
* ``plan_score`` — population × the scenario's **illustrative** plan scores;
* ``need`` — the candidate projects' benefit (the scenario's **illustrative** catalogue);
* ``optimal`` — the allocation LP's province-budget amounts with the real FY2569 total as that
  envelope (illustrative catalogue).

It also describes the real year-on-year changes of all 94 units (provinces and clusters): the
kurtosis (fat tails, as Jones & Baumgartner found for public budgets) and the largest moves.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from allocsim.data.budget import real_envelopes
from allocsim.data.formula import fitted_shares, kurtosis, yoy_changes
from allocsim.optimise import OptimiseResult
from allocsim.optimise.allocation import solve_allocation
from allocsim.optimise.baselines import formula_weights
from allocsim.optimise.solve import SolveOptions
from allocsim.scenario.schema import Scenario

FROM_YEAR, TO_YEAR = 2568, 2569
#: rules whose prediction uses only real data (the others rest on illustrative inputs)
REAL_ONLY = ("incremental", "per_capita", "fitted")


def predictions(sc: Scenario, opt: OptimiseResult) -> pd.DataFrame:
    """One column per rule: predicted FY2569 budget (THB) per province, plus ``actual``."""
    inp = opt.inputs
    assert inp is not None and opt.scores is not None
    iso = inp.provinces
    prev = real_envelopes(FROM_YEAR).province_mthb.reindex(iso).to_numpy(float) * 1e6
    actual = real_envelopes(TO_YEAR).province_mthb.reindex(iso).to_numpy(float) * 1e6
    total = actual.sum()
    data = inp.data
    cols = [data.provinces.index(c) for c in iso]

    def split(w: np.ndarray) -> np.ndarray:
        w = np.asarray(w, float)
        return total * w / w.sum()

    pred = {"actual": actual, "incremental": split(prev), "per_capita": split(inp.population),
            "fitted": split(fitted_shares(iso, FROM_YEAR)),
            "plan_score": split(formula_weights("plan_score", data, opt.scores)[cols]),
            "need": split(formula_weights("need", data, opt.scores)[cols])}
    cfg = sc.allocation.model_copy(update={"envelope_mthb": {**sc.allocation.envelope_mthb,
                                                             "province_budget": total / 1e6}})
    options = SolveOptions(sc.solver.mip_gap, sc.solver.time_limit_s, sc.solver.threads)
    lp = solve_allocation(replace(inp, config=cfg), options)
    if lp.total_benefit is not None:
        t = lp.table[(lp.table["level"] == "province") & (lp.table["source"] == "province_budget")]
        money = t.groupby("area")["amount_mthb"].sum().reindex(iso, fill_value=0.0).to_numpy(float)
        if money.sum() > 0:
            pred["optimal"] = split(money)
    return pd.DataFrame(pred, index=pd.Index(iso, name="iso_code"))


def hindcast_table(pred: pd.DataFrame) -> pd.DataFrame:
    """Error of each rule against the real FY2569 budgets (best rule first)."""
    actual = pred["actual"]
    rows = []
    for rule in [c for c in pred.columns if c != "actual"]:
        p = pred[rule]
        pct = 100 * (p - actual).abs() / actual
        rows.append({"rule": rule, "mape_pct": float(pct.mean()),
                     "spearman": float(p.rank().corr(actual.rank())),
                     "median_ape_pct": float(pct.median()), "max_ape_pct": float(pct.max()),
                     "worst_province": str(pct.idxmax()),
                     "inputs": "real data only" if rule in REAL_ONLY else "illustrative inputs"})
    return pd.DataFrame(rows).sort_values("mape_pct", ignore_index=True)


def budget_changes() -> tuple[pd.DataFrame, dict[str, float]]:
    """Real FY2568→FY2569 changes of all 94 units and their distribution's summary."""
    ch = yoy_changes(TO_YEAR).sort_values("change_pct", ignore_index=True)
    x = ch["change_pct"].to_numpy(float)
    return ch, {"units": len(x), "mean_pct": float(x.mean()), "sd_pct": float(x.std()),
                "kurtosis": kurtosis(x), "min_pct": float(x.min()), "max_pct": float(x.max())}


#: simulated years for the incremental-rule distribution (three year-on-year transitions)
SIMULATED_YEARS = 4


def simulated_changes(sc: Scenario, seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """Year-on-year changes of every province's and cluster's money when the simulation runs the
    ``incremental`` rule (last year's money less a share of its lapse) for ``SIMULATED_YEARS``
    years on this scenario, to set next to the real distribution."""
    from allocsim.experiments.loop import run_world

    inc = sc.model_copy(update={
        "levers": sc.levers.model_copy(update={"allocation_rule": "incremental"}),
        "simulation": sc.simulation.model_copy(update={"years": SIMULATED_YEARS})})
    tables, _model = run_world(inc, None, seed)
    led = tables["sim_ledger"]
    unit = led["holder"].map(lambda h: h if h.startswith("cluster") else h.split(":")[0])
    money = led.assign(unit=unit).groupby(["unit", "fiscal_year"])["money_thb"].sum().unstack()
    ch = (money.pct_change(axis=1) * 100).iloc[:, 1:].stack().rename("change_pct").reset_index()
    x = ch["change_pct"].to_numpy(float)
    return ch, {"units": int(money.shape[0]), "changes": len(x), "mean_pct": float(x.mean()),
                "sd_pct": float(x.std()), "kurtosis": kurtosis(x), "min_pct": float(x.min()),
                "max_pct": float(x.max())}


__all__ = ["budget_changes", "hindcast_table", "predictions", "simulated_changes"]
