"""One run's headline numbers: what replicates, comparisons and sweeps aggregate.

Which metrics there are, and how each reduces a run's fiscal years to one number, is read from the
metric catalogue (:mod:`allocsim.metrics`): means over the simulated years for flows, the final
year for stocks (unmet need, satisfaction), pooled ratios, and budget-weighted province-year means
for disbursement rates. Province metrics likewise, per province, for the per-province breakdown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocsim.metrics import METRICS, Metric, headline

NATIONAL_MEAN = tuple(m.name for m in headline() if m.aggregation == "year_mean")
NATIONAL_FINAL = tuple(m.name for m in headline() if m.aggregation == "final_year")
PROVINCE_METRICS = tuple(m.name for m in headline() if m.by_province)
#: Metrics where lower is better (for reading comparisons; the tables show signed differences).
LOWER_IS_BETTER = frozenset(m.name for m in METRICS.values() if m.better == "lower")


def _clean(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _national(m: Metric, nat: pd.DataFrame, years: pd.DataFrame) -> float:
    """One run's headline value of ``m``, by the catalogue's aggregation."""
    if m.aggregation == "year_mean":
        return nat[m.name].mean()
    if m.aggregation == "final_year":
        return nat[m.name].iloc[-1]
    if m.aggregation == "pooled_ratio":
        num, den = m.ratio_of or ("", "")
        return nat[num].sum() / max(nat[den].sum(), 1.0)
    if m.aggregation == "province_year_mean":
        return years[m.name].mean()
    if m.aggregation == "budget_weighted":
        w = years["allocated_thb"].astype(float)
        return float((years[m.name] * w).sum() / w.sum()) if w.sum() > 0 else np.nan
    raise ValueError(f"metric {m.name}: aggregation {m.aggregation!r} gives no headline number")


def run_metrics(tables: dict[str, pd.DataFrame]) -> dict:
    """{"national": {metric: value}, "provinces": {metric: {iso: value}}} from simulation tables."""
    nat = tables["sim_national"]
    years = tables["sim_years"]
    out = {m.name: _clean(_national(m, nat, years)) for m in headline()}
    prov = years.groupby("province")[list(PROVINCE_METRICS)].mean()
    last = years[years["fiscal_year"] == years["fiscal_year"].max()].set_index("province")
    for m in NATIONAL_FINAL:
        if m in PROVINCE_METRICS:
            prov[m] = last[m]
    provinces = {m: {k: _clean(v) for k, v in prov[m].items()} for m in PROVINCE_METRICS}
    return {"national": out, "provinces": provinces}
