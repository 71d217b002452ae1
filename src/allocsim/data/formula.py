"""Today's allocation, measured instead of assumed: the implicit formula behind the real provincial
budgets, and the real shares themselves as allocation rules.

Why: the plan-score rule is an assumption (no scores are published), but the budget bills show
what Thailand actually gave each province. ``fit_formula`` estimates the simplest formula that a
budget office could be applying — a fixed base per province plus an amount per head and per km²
— by ordinary least squares (numpy's ``lstsq``) on one fiscal year, and reports coefficients, R²
and the provinces it fits worst. ``rule_shares`` gives the province shares of the rules that use
real data (``actual``: a year's real shares; ``fitted``: the fitted formula's predictions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocsim.data.budget import load_cluster_budget, load_province_budget, real_envelopes
from allocsim.data.geography import load_geography

#: The explanatory variables of the fitted formula, in coefficient order.
TERMS = ("base", "per_head", "per_km2")
#: The fiscal year (B.E.) the formula is fitted on by default (the earliest verified year, so
#: FY2569 stays out of sample for the hindcast).
FIT_YEAR = 2568


@dataclass(frozen=True)
class FittedFormula:
    """budget_i ≈ base + per_head · population_i + per_km2 · area_i (baht), fitted on ``year``."""

    year: int
    coefficients: dict[str, float]     # THB per province, THB per head, THB per km²
    r2: float
    table: pd.DataFrame                # iso_code, name_en, actual_thb, fitted_thb, residual_thb, error_pct

    def predict(self, population: np.ndarray, area_km2: np.ndarray) -> np.ndarray:
        c = self.coefficients
        return c["base"] + c["per_head"] * np.asarray(population, float) + c["per_km2"] * np.asarray(area_km2, float)

    def worst(self, k: int = 5) -> pd.DataFrame:
        """The provinces the formula fits worst (largest absolute percentage error)."""
        return self.table.reindex(self.table["error_pct"].abs().sort_values(ascending=False).index).head(k)


def _provinces() -> pd.DataFrame:
    geo = load_geography()
    return geo.provinces[geo.provinces["cluster_id"] != ""][["iso_code", "name_en", "population", "area_km2"]]


def fit_formula(year: int = FIT_YEAR) -> FittedFormula:
    """Least-squares fit of the real provincial budgets of ``year`` on a base, population and area."""
    env = real_envelopes(year)
    p = _provinces().set_index("iso_code")
    y = env.province_mthb.reindex(p.index).to_numpy(float) * 1e6
    X = np.column_stack([np.ones(len(p)), p["population"].to_numpy(float), p["area_km2"].to_numpy(float)])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    fitted = X @ coef
    r2 = 1.0 - float(((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    table = pd.DataFrame({"iso_code": p.index, "name_en": p["name_en"].to_numpy(), "actual_thb": y,
                          "fitted_thb": fitted, "residual_thb": y - fitted,
                          "error_pct": 100 * (fitted - y) / y})
    return FittedFormula(year, dict(zip(TERMS, map(float, coef), strict=True)), r2, table)


def actual_shares(year: int, iso_codes: list[str]) -> np.ndarray:
    """Each province's real share of the year's provincial total, in ``iso_codes`` order."""
    env = real_envelopes(year)
    s = env.province_mthb.reindex(iso_codes)
    if s.isna().any():
        missing = ", ".join(s.index[s.isna()])
        raise ValueError(f"no FY{year} budget for {missing}")
    v = s.to_numpy(float)
    return v / v.sum()


def actual_cluster_shares(year: int, cluster_ids: list[str]) -> np.ndarray:
    """Each cluster's real share of the year's cluster total; a cluster map that is not the
    budget bill's (2017) has no real cluster amounts, so its clusters share by population."""
    env = real_envelopes(year)
    s = env.cluster_mthb.reindex(cluster_ids)
    if s.isna().any():
        return np.full(len(cluster_ids), np.nan)
    v = s.to_numpy(float)
    return v / v.sum()


def cluster_money_weights(year: int, iso_codes: list[str], cluster_of: dict[str, str],
                          population: dict[str, float]) -> np.ndarray | None:
    """Per-province weights for the cluster budget under the ``actual`` rule: each cluster's real
    share of ``year``, split among its member provinces by population (a cluster project's money
    is shared by its partner provinces). None when the cluster map is not the budget bill's."""
    clusters = sorted({cluster_of[c] for c in iso_codes if cluster_of.get(c)})
    shares = actual_cluster_shares(year, clusters)
    if np.isnan(shares).any():
        return None
    by = dict(zip(clusters, shares, strict=True))
    cpop: dict[str, float] = {}
    for c in iso_codes:
        k = cluster_of.get(c)
        if k:
            cpop[k] = cpop.get(k, 0.0) + population[c]
    return np.array([by[cluster_of[c]] * population[c] / cpop[cluster_of[c]] if cluster_of.get(c) else 0.0
                     for c in iso_codes])


def fitted_shares(iso_codes: list[str], year: int = FIT_YEAR) -> np.ndarray:
    """The fitted formula's shares (negative predictions, if any, count as zero)."""
    f = fit_formula(year)
    p = _provinces().set_index("iso_code").reindex(iso_codes)
    v = np.maximum(f.predict(p["population"], p["area_km2"]), 0.0)
    return v / v.sum()


def yoy_changes(year: int) -> pd.DataFrame:
    """Real year-on-year changes into ``year`` for all 94 units (76 provinces + 18 clusters)."""
    rows = []
    for kind, t, key in (("province", load_province_budget(), "iso_code"),
                         ("cluster", load_cluster_budget(), "cluster_id")):
        cur = t[t["fiscal_year_be"] == year]
        for r in cur.itertuples(index=False):
            prev = float(r.previous_year_budget_thb)
            rows.append({"unit": kind, "id": getattr(r, key), "name_th": r.name_th,
                         "previous_thb": prev, "budget_thb": float(r.budget_thb),
                         "change_pct": 100 * (float(r.budget_thb) - prev) / prev})
    return pd.DataFrame(rows)


def kurtosis(x: np.ndarray) -> float:
    """Pearson's kurtosis (3 for a normal distribution; > 3 means fat tails)."""
    x = np.asarray(x, float)
    d = x - x.mean()
    return float((d ** 4).mean() / (d ** 2).mean() ** 2)
