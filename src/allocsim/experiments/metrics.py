"""One run's headline numbers: what replicates, comparisons and sweeps aggregate.

National metrics are means over the simulated fiscal years (unmet need and satisfaction: the
final year). Province metrics likewise, per province, for the per-province breakdown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NATIONAL_MEAN = ("disbursed_thb", "lapsed_thb", "effective_benefit_thb", "value_for_money",
                 "duplicates_approved", "duplicate_money_thb", "wasted_on_duplicates_thb",
                 "mean_days_to_disbursement", "mean_change_approval_days", "escalations",
                 "equity_gini_per_capita_benefit", "plan_achievement", "cluster_targets_met_share")
NATIONAL_FINAL = ("unmet_need", "satisfaction")
PROVINCE_METRICS = ("duplicates_approved", "mean_days_to_disbursement", "lapsed_thb",
                    "effective_benefit_thb", "unmet_need", "satisfaction")
#: Metrics where lower is better (for reading comparisons; the tables show signed differences).
LOWER_IS_BETTER = {"lapsed_thb", "lapse_rate", "duplicates_approved", "duplicate_money_thb",
                   "wasted_on_duplicates_thb", "mean_days_to_disbursement", "mean_change_approval_days",
                   "escalations", "equity_gini_per_capita_benefit", "unmet_need"}


def _clean(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def run_metrics(tables: dict[str, pd.DataFrame]) -> dict:
    """{"national": {metric: value}, "provinces": {metric: {iso: value}}} from simulation tables."""
    nat = tables["sim_national"]
    years = tables["sim_years"]
    out = {m: _clean(nat[m].mean()) for m in NATIONAL_MEAN}
    out |= {m: _clean(nat[m].iloc[-1]) for m in NATIONAL_FINAL}
    out["lapse_rate"] = _clean(nat["lapsed_thb"].sum() / max(nat["allocated_thb"].sum(), 1.0))
    out["alignment_share"] = _clean(years["alignment_share"].mean())
    pvd = tables.get("plan_vs_delivery")
    if pvd is not None and (pvd["area"] == "national").any():  # one world: the plan vs what arrived
        g = pvd[pvd["area"] == "national"].iloc[0]
        out["plan_delivered_share"] = _clean(g["delivered_share"])
        out["plan_disbursed_share"] = _clean(g["disbursed_thb"] / g["planned_thb"] if g["planned_thb"] else np.nan)
    w = years["allocated_thb"].astype(float)
    for q in (1, 2, 3, 4):  # national: provinces weighted by their budgets, mean over years
        col = f"q{q}_disbursement_rate"
        out[col] = _clean(float((years[col] * w).sum() / w.sum()) if w.sum() > 0 else np.nan)
    prov = years.groupby("province")[list(PROVINCE_METRICS)].mean()
    last = years[years["fiscal_year"] == years["fiscal_year"].max()].set_index("province")
    for m in NATIONAL_FINAL:
        prov[m] = last[m]
    provinces = {m: {k: _clean(v) for k, v in prov[m].items()} for m in PROVINCE_METRICS}
    return {"national": out, "provinces": provinces}
